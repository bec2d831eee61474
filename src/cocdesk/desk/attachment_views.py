"""Downloading an attachment that came with a report by email: decrypted for a member who may see the case,
always as a download (never rendered inline), and audited."""

from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from django.views.generic import View

from cocdesk.cases.domain.email_intake import attachment_content, attachment_meta
from cocdesk.cases.domain.email_parse import safe_filename
from cocdesk.cases.models import Attachment
from cocdesk.common import audit

from .views import CaseMixin


class AttachmentDownloadView(CaseMixin, View):
    permission_required = "cases.view_case"
    http_method_names = ["get"]

    def get(self, request, reference, attachment_id):
        case = self.get_object()
        if case.is_erased:
            raise Http404("Not found")
        # The attachments of the case and of the duplicates merged into it, as the case page lists them.
        attachment = get_object_or_404(
            Attachment.objects.select_related("case").filter(Q(case=case) | Q(case__merged_into=case)),
            pk=attachment_id,
        )
        if attachment.case.is_erased:
            raise Http404("Not found")
        filename = safe_filename(attachment_meta(attachment).get("filename", "")) or f"attachment-{attachment.pk}"
        content = attachment_content(attachment)
        audit.record("attachment.downloaded", actor=request.user, case=attachment.case, attachment=attachment.pk)
        response = HttpResponse(content, content_type="application/octet-stream")
        response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "no-store, private"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response
