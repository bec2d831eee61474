from django.views.generic import ListView

from cocdesk.common.models import AuditEvent

from .access import OrganizationPermissionMixin


class OrganizationAuditView(OrganizationPermissionMixin, ListView):
    """The organization's whole audit trail, for its admins: who did what and when, never content."""

    organization_permission = "orgs.read_audit_log"
    template_name = "desk/org_audit.html"
    context_object_name = "events"
    paginate_by = 100

    def get_queryset(self):
        return AuditEvent.objects.filter(organization=self.organization).order_by("-id").select_related("actor")

    def get_context_data(self, **kwargs):
        return super().get_context_data(organization=self.organization, **kwargs)
