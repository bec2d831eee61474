"""An organization admin's spaces: add, edit, archive and restore. Anyone else gets 404."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.generic import View

from cocdesk.orgs.domain import spaces as space_admin
from cocdesk.orgs.forms import SpaceForm

from .admin_views import OrganizationAdminMixin


def _details(form):
    return {field: form.cleaned_data[field] for field in space_admin.SPACE_FIELDS}


class SpacesView(OrganizationAdminMixin, View):
    """The list of spaces, with the form to add one."""

    def get(self, request, org_slug):
        return render_spaces_page(request, self.organization, SpaceForm(organization=self.organization))

    def post(self, request, org_slug):
        form = SpaceForm(request.POST, organization=self.organization)
        if form.is_valid():
            try:
                space = space_admin.add_space(self.organization, _details(form), by=request.user)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, f"{space.name} was added.")
                return redirect("desk:org_spaces", org_slug=org_slug)
        return render_spaces_page(request, self.organization, form)


class EditSpaceView(OrganizationAdminMixin, View):
    def get(self, request, org_slug, space_id):
        space = self._space(space_id)
        return render_spaces_page(
            request, self.organization, SpaceForm(organization=self.organization, space=space), space
        )

    def post(self, request, org_slug, space_id):
        space = self._space(space_id)
        form = SpaceForm(request.POST, organization=self.organization, space=space)
        if form.is_valid():
            try:
                space_admin.edit_space(space, _details(form), by=request.user)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, f"{space.name} was saved.")
                return redirect("desk:org_spaces", org_slug=org_slug)
        return render_spaces_page(request, self.organization, form, space)

    def _space(self, space_id):
        return get_object_or_404(self.organization.spaces, pk=space_id)


class ArchiveSpaceView(OrganizationAdminMixin, View):
    http_method_names = ["post"]

    def post(self, request, org_slug, space_id):
        space = get_object_or_404(self.organization.spaces, pk=space_id)
        archive = request.POST.get("action") != "restore"
        space_admin.set_archived(space, archive, by=request.user)
        if archive:
            messages.success(request, f"{space.name} is archived: its cases stay, new reports no longer offer it.")
        else:
            messages.success(request, f"{space.name} is offered on the report forms again.")
        return redirect("desk:org_spaces", org_slug=org_slug)


def render_spaces_page(request, organization, form, editing=None):
    spaces = organization.spaces.order_by("-is_active", "name")
    context = {"organization": organization, "spaces": spaces, "form": form, "editing": editing}
    return render(request, "desk/org_spaces.html", context)
