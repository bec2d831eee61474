from django.http import Http404
from django.shortcuts import get_object_or_404
from django.views.generic import ListView

from cocdesk.common.models import AuditEvent
from cocdesk.orgs.models import Organization

from .access import VerifiedMemberRequiredMixin


class OrganizationAuditView(VerifiedMemberRequiredMixin, ListView):
    """The organization's whole audit trail, for its admins: who did what and when, never content."""

    template_name = "desk/org_audit.html"
    context_object_name = "events"
    paginate_by = 100

    def get_queryset(self):
        self.organization = get_object_or_404(Organization, slug=self.kwargs["org_slug"])
        if not self.request.user.has_perm("orgs.read_audit_log", self.organization):
            raise Http404("Not found")
        return AuditEvent.objects.filter(organization=self.organization).order_by("-id").select_related("actor")

    def get_context_data(self, **kwargs):
        return super().get_context_data(organization=self.organization, **kwargs)
