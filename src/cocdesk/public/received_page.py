"""The confirmation a reporter gets for a report sent with the web form, rendered once per organization and worker.

It reads the same for every report of an organization but for the case reference and the receipt (and the urgent
promise, when the report says someone is in danger), so it is rendered with placeholders for those two, kept in the
worker's cache under a digest of the organization's row, and each submission splices its own in, escaped as the
template would escape them. Nothing of the visitor is in the cached page: it is rendered without the request.
"""

import hashlib
import secrets

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.html import escape

TEMPLATE = "public/received.html"
CACHE_SECONDS = 60 * 60
# Unguessable per process, so no text an organization writes can be taken for a placeholder.
_REFERENCE_SLOT = f"reference{secrets.token_hex(16)}"
_RECEIPT_SLOT = f"receipt{secrets.token_hex(16)}"


def _cache_key(organization, urgent):
    row = tuple(getattr(organization, field.attname) for field in organization._meta.concrete_fields)
    digest = hashlib.sha256(repr((row, urgent)).encode()).hexdigest()
    return f"cocdesk:public-received:{organization.pk}:{digest}"


def received_response(request, organization, case, receipt):
    """The page telling the reporter their report was received, with its reference and receipt."""
    context = {"organization": organization, "case": case, "receipt": receipt}
    if settings.DEBUG or len(messages.get_messages(request)):
        # A pending message is shown once, on this page only; in development templates change under a running worker.
        return render(request, TEMPLATE, context)
    key = _cache_key(organization, case.is_urgent)
    page = cache.get(key)
    if page is None:
        stand_in = {"reference": _REFERENCE_SLOT, "is_urgent": case.is_urgent}
        page = render_to_string(TEMPLATE, {**context, "case": stand_in, "receipt": _RECEIPT_SLOT})
        cache.set(key, page, CACHE_SECONDS)
    page = page.replace(_REFERENCE_SLOT, escape(case.reference)).replace(_RECEIPT_SLOT, escape(receipt))
    return HttpResponse(page)
