"""The team's downloads of a transparency report in any state (a draft too): the Markdown and the PDF the public
will get once it is published. For the organization's responders, leads and admins; anyone else gets 404."""

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.generic import View

from cocdesk.orgs.models import Organization
from cocdesk.orgs.rules import can
from cocdesk.transparency import rendering
from cocdesk.transparency.models import TransparencyReport

from .access import VerifiedMemberRequiredMixin


class ReportExportMixin(VerifiedMemberRequiredMixin):
    def get_report(self):
        organization = get_object_or_404(Organization, slug=self.kwargs["org_slug"])
        report = get_object_or_404(
            TransparencyReport.objects.select_related("organization"),
            organization=organization,
            pk=self.kwargs["report_id"],
        )
        if not can(self.request.user, "transparency.export_report", report):
            raise Http404("Not found")
        return report


class ReportDownloadView(ReportExportMixin, View):
    """``kind`` comes from the URL pattern: "markdown" or "pdf"."""

    kind = None

    def get(self, request, org_slug, report_id):
        content, content_type, filename = rendering.export(self.get_report(), self.kind)
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["X-Content-Type-Options"] = "nosniff"
        return response
