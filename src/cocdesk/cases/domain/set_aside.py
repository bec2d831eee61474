"""Mail that could not become a report or a reply: kept sealed under a data key of its own (nothing that arrives
is dropped), read by the leads (audited), and marked handled."""

import logging

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import transaction
from django.utils import timezone

from cocdesk.common import audit, crypto

from ..models import SetAsideMail

logger = logging.getLogger("cocdesk.intake")

SET_ASIDE_KEY_ASSOCIATED = b"cocdesk:set-aside"
SET_ASIDE_RAW_ASSOCIATED = b"cocdesk:set-aside:raw"


def keep_aside(raw, organization, reason):
    """Seals and stores a mail with the reason it was set aside; logs one line without addresses or content."""
    raw = bytes(raw)
    data_key = AESGCM.generate_key(bit_length=256)
    key_id, wrapped = crypto.wrap_data_key(data_key, SET_ASIDE_KEY_ASSOCIATED)
    with transaction.atomic():
        mail = SetAsideMail.objects.create(
            organization=organization,
            received_at=timezone.now(),
            reason=reason[:200],
            size=len(raw),
            key_id=key_id,
            wrapped_data_key=wrapped,
            sealed_raw=crypto.seal_bytes(data_key, raw, SET_ASIDE_RAW_ASSOCIATED),
        )
        audit.record("mail.set_aside", organization=organization, set_aside=mail.pk, reason=mail.reason, size=len(raw))
    logger.warning("mail set aside (id %s): %s", mail.pk, reason)
    return mail


def set_aside_raw(mail):
    """The raw bytes of a mail set aside, decrypted (for a lead, or to take it in again once fixed)."""
    data_key = crypto.unwrap_data_key(mail.key_id, mail.wrapped_data_key, SET_ASIDE_KEY_ASSOCIATED)
    return crypto.unseal_bytes(data_key, mail.sealed_raw, SET_ASIDE_RAW_ASSOCIATED)


def read_set_aside(mail, *, by):
    audit.record("mail.set_aside_read", actor=by, organization=mail.organization, set_aside=mail.pk)
    return set_aside_raw(mail)


def mark_handled(mail, *, by):
    mail.handled_at = timezone.now()
    mail.save(update_fields=["handled_at"])
    audit.record("mail.set_aside_handled", actor=by, organization=mail.organization, set_aside=mail.pk)
    return mail
