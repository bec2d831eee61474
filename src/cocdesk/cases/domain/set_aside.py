"""Mail that could not become a report or a reply: kept sealed under a data key of its own (nothing that arrives
is dropped) and once only, counted to the organization's leads, read by them as safe text (audited), turned into
a case by a lead, or marked handled."""

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from cocdesk.common import audit, crypto
from cocdesk.notify.domain import queue
from cocdesk.notify.models import Notification
from cocdesk.orgs.models import Membership

from ..enums import Channel
from ..models import SetAsideMail
from .email_parse import (
    clean_text,
    contents_of,
    has_broken_structure,
    header_text,
    human_size,
    mail_digest,
    read_leniently,
    read_message,
)
from .intake import AlreadySubmitted, submit_report

logger = logging.getLogger("cocdesk.intake")

SET_ASIDE_KEY_ASSOCIATED = b"cocdesk:set-aside"
SET_ASIDE_RAW_ASSOCIATED = b"cocdesk:set-aside:raw"
NOTICE_KIND = "mail_set_aside"
# Leads hear of waiting mail at most once an hour per organization: a burst of spam is one notice, not fifty.
NOTICE_INTERVAL = timedelta(hours=1)
# A page shows at most this much of a mail's text; the download holds it all.
MAX_SHOWN_CHARS = 200 * 1024
SHOWN_HEADERS = ("From", "To", "Cc", "Date", "Subject")


class AlreadyHandled(Exception):
    """The mail was already handled or turned into a case; ``str()`` says so in words for the lead."""


def keep_aside(raw, organization, reason):
    """Seals and stores a mail with the reason it was set aside, and tells the leads; logs one line without
    addresses or content. The same mail again (same Message-ID, or same bytes) for the same organization
    stores nothing new: the mail kept the first time is returned."""
    raw = bytes(raw)
    digest = mail_digest(raw)
    with transaction.atomic():
        earlier = SetAsideMail.objects.filter(organization=organization, digest=digest).order_by("pk").first()
        if earlier is not None:
            logger.info("mail already set aside (id %s); nothing stored", earlier.pk)
            return earlier
        data_key = AESGCM.generate_key(bit_length=256)
        key_id, wrapped = crypto.wrap_data_key(data_key, SET_ASIDE_KEY_ASSOCIATED)
        mail = SetAsideMail.objects.create(
            organization=organization,
            received_at=timezone.now(),
            reason=reason[:200],
            size=len(raw),
            key_id=key_id,
            wrapped_data_key=wrapped,
            sealed_raw=crypto.seal_bytes(data_key, raw, SET_ASIDE_RAW_ASSOCIATED),
            digest=digest,
        )
        audit.record("mail.set_aside", organization=organization, set_aside=mail.pk, reason=mail.reason, size=len(raw))
        tell_leads_mail_waits(organization)
    logger.warning("mail set aside (id %s): %s", mail.pk, reason)
    return mail


def organization_wide_leads(organization):
    """The members who review set-aside mail (``orgs.review_set_aside_mail``): active leads of the whole
    organization; a lead of some spaces only never sees mail that may concern any space."""
    return Membership.objects.active().filter(organization=organization, is_lead=True, spaces=None)


def tell_leads_mail_waits(organization):
    """Tells each organization-wide lead how many set-aside mails await review, with a link to them; never a
    mail's subject, sender or content. While an earlier notice is unsent its count is brought up to date, and
    after one is sent no other goes out within NOTICE_INTERVAL. Returns the notifications it queued."""
    if organization is None:
        return []
    waiting = SetAsideMail.objects.filter(organization=organization, handled_at__isnull=True).count()
    subject, body = _waiting_notice(organization, waiting)
    earlier = Notification.objects.filter(organization=organization, kind=NOTICE_KIND)
    updated = earlier.filter(state=Notification.State.PENDING).update(subject=subject, body=body)
    if updated or earlier.filter(created_at__gte=timezone.now() - NOTICE_INTERVAL).exists():
        return []
    leads = organization_wide_leads(organization).select_related("user")
    return queue(
        [
            Notification(recipient=lead.user, organization=organization, kind=NOTICE_KIND, subject=subject, body=body)
            for lead in leads
        ]
    )


def _waiting_notice(organization, waiting):
    link = settings.BASE_URL + reverse("desk:set_aside", kwargs={"org_slug": organization.slug})
    count = "1 mail set aside awaits" if waiting == 1 else f"{waiting} mails set aside await"
    subject = f"[CoC Desk] Mail set aside for {organization.name} awaits review"
    body = "\n".join(
        [
            f"{count} review for {organization.name}.",
            "They reached the reporting address but could not become reports on their own; one may still be a "
            "report. Read them as safe text, turn one into a case, or mark it handled:",
            link,
            "",
            "This message holds nothing from the mails by design.",
        ]
    )
    return subject[:200], body


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


# Reading a set-aside mail in the browser: text only, whatever the bytes are.


@dataclass
class SetAsidePreview:
    headers: list = field(default_factory=list)  # (name, decoded value) of From, To, Cc, Date, Subject
    text: str = ""  # the text parts, HTML as plain text; to be shown escaped, never as HTML
    attachments: list = field(default_factory=list)  # (file name, human size): names and sizes only
    # The mail's bytes as text, shown when they cannot be read as a mail (or its structure is broken).
    raw_text: str = ""
    truncated: bool = False  # something shown was cut at MAX_SHOWN_CHARS


def preview(mail, *, by):
    """What a lead reads of a set-aside mail; the read is audited."""
    return preview_of(read_set_aside(mail, by=by))


def preview_of(raw):
    try:
        message = read_message(raw)
        text, attachments = contents_of(message)
        broken = has_broken_structure(message)
    except Exception:  # not readable as a mail: its bytes are shown as text
        raw_text, truncated = _shown(_as_text(raw))
        return SetAsidePreview(raw_text=raw_text, truncated=truncated)
    text, text_cut = _shown(text)
    raw_text, raw_cut = _shown(_as_text(raw)) if broken else ("", False)
    return SetAsidePreview(
        headers=[(name, header_text(message, name)) for name in SHOWN_HEADERS],
        text=text,
        attachments=[(item.filename, human_size(len(item.content))) for item in attachments],
        raw_text=raw_text,
        truncated=text_cut or raw_cut,
    )


def _as_text(raw):
    return clean_text(bytes(raw[: MAX_SHOWN_CHARS * 4]).decode("utf-8", errors="replace"))


def _shown(text):
    return (text, False) if len(text) <= MAX_SHOWN_CHARS else (text[:MAX_SHOWN_CHARS], True)


# Turning a set-aside mail into a case.


def open_case_from(mail, *, by):
    """A lead's judgment that a set-aside mail is a report: files it as an email report (the subject and text,
    or the raw text when it cannot be read as a mail, as the description; the sender as the contact; its
    attachments sealed on the case) and marks the mail handled and linked to the case, in one transaction.
    The case's clocks start when the mail arrived. Raises AlreadyHandled when it was handled before."""
    # email_intake sets mail aside through this module: its attachment sealing is imported when needed.
    from . import reporter_mail
    from .email_intake import conflict_contact_of, keep_attachments, members_named_in_mail

    with transaction.atomic():
        mail = SetAsideMail.objects.select_for_update().get(pk=mail.pk)
        if mail.case_id or mail.handled_at:
            raise AlreadyHandled("This mail was already handled or turned into a case; nothing was changed.")
        if mail.organization_id is None:
            raise ValueError("a mail set aside for no organization cannot become a case")
        raw = set_aside_raw(mail)
        reading = read_leniently(raw)
        # The same protections as a mail taken in directly: a conflict contact's exclusions, named members.
        contact = conflict_contact_of(mail.organization, reading) if reading else None
        try:
            case, _receipt = submit_report(
                organization=mail.organization,
                answers=_answers(reading, raw),
                channel=Channel.EMAIL,
                filed_by=by,
                received_at=mail.received_at,
                submission_token=f"set-aside:{mail.pk}",
                excluded_members=list(contact.hidden_from.all()) if contact else [],
                named_members=members_named_in_mail(mail.organization, reading) if reading else [],
            )
        except AlreadySubmitted:
            raise AlreadyHandled("This mail was already turned into a case; nothing was changed.") from None
        del _receipt  # never shown: the reporter did not file this report through a page (see email_intake)
        report = case.reports.get()
        # The same mail arriving again is then recognised by the intake as already taken in.
        if mail.digest:
            report.source_message_id = mail.digest
            report.save(update_fields=["source_message_id"])
        attachments = keep_attachments(case, report, None, reading.attachments if reading else [])
        if reading and reading.sender_address:
            if reading.message_id:
                reporter_mail.keep_thread(report, reading.message_id)
            reporter_mail.acknowledge_by_mail(report)
        mail.handled_at = timezone.now()
        mail.case = case
        mail.save(update_fields=["handled_at", "case"])
        audit.record(
            "mail.set_aside_opened_as_case",
            actor=by,
            organization=mail.organization,
            case=case,
            set_aside=mail.pk,
            attachments=attachments,
        )
    return case


def _answers(reading, raw):
    if reading is None:
        text, cut = _shown(_as_text(raw))
        note = "\n\n(Cut here; the whole mail stays with the set-aside mail.)" if cut else ""
        return {"description": (text + note) if text.strip() else "(The mail was empty.)"}
    parts = [f"Subject: {reading.subject}" if reading.subject else "", reading.text]
    description = "\n\n".join(part for part in parts if part) or "(The mail had no subject and no text.)"
    answers = {"description": description}
    if reading.sender_address:
        answers["reporter_email"] = reading.sender_address
    if reading.sender_name:
        answers["reporter_name"] = reading.sender_name
    return answers
