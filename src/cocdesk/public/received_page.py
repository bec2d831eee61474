"""The confirmation a reporter gets for a report sent with the web form, rendered once per organization and worker.

It reads the same for every report of an organization but for the case reference and the receipt (and the urgent
promise, when the report says someone is in danger), so it is rendered with placeholders for those two, kept in the
worker's memory with the organization's row it shows (``common.worker_pages``), and each submission splices its own
in, escaped as the template would escape them. Nothing of the visitor is in the kept page: it is rendered without the
request.
"""

import secrets

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.html import escape

from cocdesk.common.worker_pages import WorkerPages, organization_row

TEMPLATE = "public/received.html"
CONFIRMATIONS = WorkerPages()
# Unguessable per process, so no text an organization writes can be taken for a placeholder.
_REFERENCE_SLOT = f"reference{secrets.token_hex(16)}"
_RECEIPT_SLOT = f"receipt{secrets.token_hex(16)}"


def received_response(request, organization, case, receipt):
    """The page telling the reporter their report was received, with its reference and receipt."""
    context = {"organization": organization, "case": case, "receipt": receipt}
    if settings.DEBUG or len(messages.get_messages(request)):
        # A pending message is shown once, on this page only; in development templates change under a running worker.
        return render(request, TEMPLATE, context)
    stand_in = {"reference": _REFERENCE_SLOT, "is_urgent": case.is_urgent}
    charset = settings.DEFAULT_CHARSET
    # Kept encoded, as it is sent: the tokens are spliced into the bytes.
    page = CONFIRMATIONS.page(
        (organization.pk, case.is_urgent),
        organization_row(organization),
        lambda: render_to_string(TEMPLATE, {**context, "case": stand_in, "receipt": _RECEIPT_SLOT}).encode(charset),
    )
    page = page.replace(_REFERENCE_SLOT.encode(charset), escape(case.reference).encode(charset)).replace(
        _RECEIPT_SLOT.encode(charset), escape(receipt).encode(charset)
    )
    return HttpResponse(page)
