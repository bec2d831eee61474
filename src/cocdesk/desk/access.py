from django.contrib.auth.mixins import AccessMixin
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from cocdesk.orgs.models import Organization
from cocdesk.orgs.rules import can


class VerifiedMemberRequiredMixin(AccessMixin):
    """Every desk page needs a password login and a verified second factor; without it, no desk page is reached."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_verified():
            return redirect(f"{reverse('desk:second_factor')}?{urlencode({'next': request.get_full_path()})}")
        return super().dispatch(request, *args, **kwargs)


def safe_next(request, default="desk:queue"):
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(candidate, {request.get_host()}, request.is_secure()):
        return candidate
    return reverse(default)


class OrganizationPermissionMixin(VerifiedMemberRequiredMixin):
    """For pages about an organization as a whole (its slug in the URL): the member needs
    ``organization_permission`` from orgs/rules.py, else the page answers 404."""

    organization_permission = None

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.user.is_verified():
            self.organization = get_object_or_404(Organization, slug=kwargs["org_slug"])
            if not can(request.user, self.organization_permission, self.organization):
                raise Http404("Not found")
        return super().dispatch(request, *args, **kwargs)
