"""The organization admin's editor for the public page: what reporters read besides the settings."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.generic import View

from cocdesk.orgs.domain import public_page
from cocdesk.orgs.forms import PublicPageForm

from .admin_views import OrganizationAdminMixin


class PublicPageView(OrganizationAdminMixin, View):
    def get(self, request, org_slug):
        return self._render(self._form())

    def post(self, request, org_slug):
        form = self._form(request.POST)
        if form.is_valid():
            public_page.update_public_page(form, by=request.user)
            messages.success(request, "The public page was saved.")
            return redirect("desk:org_public_page", org_slug=org_slug)
        return self._render(form)

    def _form(self, data=None):
        contacts = self.organization.conflict_contacts.filter(is_active=True)
        return PublicPageForm(data, instance=self.organization, contacts=contacts)

    def _render(self, form):
        return render(self.request, "desk/org_public_page.html", {"organization": self.organization, "form": form})
