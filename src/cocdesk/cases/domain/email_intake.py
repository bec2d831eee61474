"""Mail in: a report that arrives by email becomes a case, a reply becomes a message on its report.

``take_in(raw, organization_slug=...)`` handles one RFC 822 message (the ``intake_mail`` pipe command and the
``fetch_mail`` IMAP command both call it) and returns what became of it:

- a **new report** through ``intake.submit_report`` (channel email): the subject and the text are the
  description, the sender (From:) is the reporter's contact. Incident fields stay empty; the received time is
  when the mail arrived here.
- a **reply** (a Message from the reporter) when In-Reply-To/References name the Message-ID of a reporter notice
  we sent for a report, or when the subject carries a case reference and the sender is that report's reporter.
- a **duplicate** (nothing stored) when a mail with the same Message-ID was already taken in for the
  organization: only a SHA-256 digest of the Message-ID is stored, never the header itself.
- **set aside** (``SetAsideMail``, the raw bytes sealed under their own data key) when the mail is malformed,
  too large, automatic (Auto-Submitted, delivery reports), addressed to an unknown organization, or answers a
  notice of another organization; one WARNING line on ``cocdesk.intake`` says why, without addresses, subjects
  or content. Nothing that arrives is dropped.

Attachments are kept as ``Attachment`` rows sealed with the case's data key: name and type with
``content.seal(case, "attachment-meta", ...)``, the bytes with AES-GCM bound to the attachment's row.

The receipt that ``submit_report`` returns is discarded on purpose: mail leaves the system in clear (and the
mail queue stores what it sends), so a receipt can never be emailed. A reporter by email follows up by replying
to the team's notices, which thread back into their case as shown above.
"""

import hashlib
import logging
import re
from dataclasses import dataclass

from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone

from cocdesk.common import audit, crypto
from cocdesk.notify.models import Notification
from cocdesk.orgs.models import ConflictContact, Membership, Organization
from cocdesk.people.normalise import member_phrases, mentions, words

from ..enums import Channel, MessageDirection
from ..models import Attachment, Case, Message, Report, SetAsideMail
from . import alerts, reporter_mail
from . import content as sealed
from .email_parse import MAX_ATTACHMENT_BYTES, MAX_MESSAGE_BYTES, UnusableMail, bounce_of, parse_mail
from .intake import AlreadySubmitted, submit_report
from .references import REFERENCE_ALPHABET, submission_digest
from .reporter import tell_team_reporter_wrote
from .set_aside import keep_aside

__all__ = ["MAX_ATTACHMENT_BYTES", "MAX_MESSAGE_BYTES", "Outcome", "take_in"]

logger = logging.getLogger("cocdesk.intake")

NO_TEXT = "(The mail had no text; see its attachments.)"
_SYMBOL = f"[{REFERENCE_ALPHABET}]"
REFERENCE_IN_SUBJECT = re.compile(rf"(?<![A-Z0-9])({_SYMBOL}{{4}}-{_SYMBOL}{{4}}-{_SYMBOL}{{4}})(?![A-Z0-9])")


@dataclass
class Outcome:
    kind: str  # "report", "reply", "duplicate", "bounce" or "set_aside"
    case: Case | None = None
    report: Report | None = None
    message: Message | None = None
    set_aside: SetAsideMail | None = None
    attachments: int = 0

    @property
    def summary(self):
        """One line for a command's output: ids and counts, nothing from the mail."""
        if self.kind == "set_aside":
            return f"set aside (id {self.set_aside.pk}): {self.set_aside.reason}"
        if self.kind == "duplicate":
            return "already taken in; nothing stored"
        if self.kind == "bounce":
            return f"a bounce: the reporter's address of report id {self.report.pk} is marked undeliverable"
        what = "new report" if self.kind == "report" else "reply from the reporter"
        return f"stored as a {what} (report id {self.report.pk}, {self.attachments} attachment(s))"


def set_aside(raw, organization, reason):
    return Outcome("set_aside", set_aside=keep_aside(raw, organization, reason))


def take_in(raw, *, organization_slug):
    """Stores one incoming mail. Returns an Outcome; raises only when nothing could be stored at all (a
    database error), so the caller leaves the mail where it is and it is tried again."""
    raw = bytes(raw)
    organization = Organization.objects.filter(slug=organization_slug).first()
    if organization is None:
        return set_aside(raw, None, "unknown organization")
    returned = bounce_of(raw)
    if returned is not None and returned.failed:
        with transaction.atomic():
            reports = reporter_mail.mark_bounced(returned.message_ids, returned.recipients)
        if reports:
            logger.info("bounce of a mail to %s reporter(s); their address is marked undeliverable", len(reports))
            return Outcome("bounce", case=reports[0].case, report=reports[0])
    try:
        mail = parse_mail(raw)
    except UnusableMail as unusable:
        return set_aside(raw, organization, unusable.reason)
    digest = source_digest(mail.message_id, raw)
    try:
        with transaction.atomic():
            outcome = _store(organization, mail, digest)
    except DatabaseError:
        raise
    except UnusableMail as unusable:
        return set_aside(raw, organization, unusable.reason)
    except Exception as error:  # a mail we cannot file is kept aside rather than lost or retried forever
        return set_aside(raw, organization, f"could not be stored ({type(error).__name__})")
    if outcome.kind == "duplicate":
        logger.info("mail already taken in (report id %s); nothing stored", outcome.report.pk)
    else:
        logger.info("mail %s", outcome.summary)
    return outcome


def source_digest(message_id, raw):
    """SHA-256 of the Message-ID (or of the whole mail when it has none): what Report/Message keep."""
    if message_id:
        return hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()
    return hashlib.sha256(b"raw:" + raw).hexdigest()


def _store(organization, mail, digest):
    duplicate = _already_taken_in(organization, digest)
    if duplicate is not None:
        return duplicate
    report, suggested = thread_target(organization, mail)
    if report is not None:
        return _store_reply(report, mail, digest)
    return _store_report(organization, mail, digest, suggested)


def _already_taken_in(organization, digest):
    report = Report.objects.filter(case__organization=organization, source_message_id=digest).first()
    if report is not None:
        return Outcome("duplicate", case=report.case, report=report)
    message = (
        Message.objects.filter(case__organization=organization, source_message_id=digest)
        .select_related("report", "case")
        .first()
    )
    if message is not None:
        return Outcome("duplicate", case=message.case, report=message.report, message=message)
    return None


def thread_target(organization, mail):
    """(the report this mail answers, or None for a new report; a case its subject names but whose reporter did
    not send it, for a lead to consider, or None).

    First by In-Reply-To/References against every Message-ID the case has seen: the mails we sent its reporters
    and the reporters' own mails. A reply that answers another organization's mail goes to that organization,
    never to the one whose mailbox received it. Then by a case reference in the subject, from that report's own
    reporter only: a stranger naming a reference starts a new report, and the leads of the named case are told.
    """
    report = _answered_report(mail)
    if report is not None:
        return report, None
    suggested = None
    for reference in dict.fromkeys(REFERENCE_IN_SUBJECT.findall(mail.subject.upper())):
        case = Case.objects.filter(organization=organization, reference=reference).first()
        if case is None or case.is_erased:
            continue
        case = case.merged_into or case
        reports = Report.objects.filter(Q(case=case) | Q(case__merged_into=case)).select_related("case")
        match = next(
            (
                report
                for report in reports
                if not report.case.is_erased
                and _same_address(sealed.report_content(report).get("reporter_email", ""), mail.sender_address)
            ),
            None,
        )
        audit.record("mail.reference_checked", case=case, sender_matched=match is not None)
        if match is not None:
            return match, None
        suggested = suggested or case
    return None, suggested


def _answered_report(mail):
    if not mail.thread_ids:
        return None
    candidates = {*mail.thread_ids, *(message_id.strip("<>") for message_id in mail.thread_ids)}
    digests = {source_digest(message_id, b"") for message_id in candidates}
    sent = Notification.objects.filter(report__isnull=False, message_id__in=candidates).values_list("report_id")
    own_reports = Report.objects.filter(source_message_id__in=digests).values_list("pk")
    own_messages = Message.objects.filter(
        source_message_id__in=digests, direction=MessageDirection.FROM_REPORTER
    ).values_list("report_id")
    reports = (
        Report.objects.filter(Q(pk__in=sent) | Q(pk__in=own_reports) | Q(pk__in=own_messages))
        .select_related("case__organization")
        .order_by("-received_at")
    )
    return next((report for report in reports if not report.case.is_erased), None)


def _same_address(known, sender):
    return bool(known) and known.strip().casefold() == sender.strip().casefold()


def _with_subject(mail):
    """The subject and the text; a subject alone is the whole report ("following me around hall C right now")."""
    if mail.subject and not mail.text:
        return f"Subject: {mail.subject}" + ("\n\n" + NO_TEXT if mail.attachments else "")
    text = mail.text or NO_TEXT
    return f"Subject: {mail.subject}\n\n{text}" if mail.subject else text


def members_named_in_mail(organization, mail):
    """Team members whose names, emails or handles stand anywhere in the mail (subject, text, attachment names):
    they are recused at once, pending a lead's review. The sender is not counted as named: a team member may
    report by mail too."""
    text_words = words(" ".join([mail.subject, mail.text, *(item.filename for item in mail.attachments)]))
    team = list(Membership.objects.filter(organization=organization).select_related("user"))
    for membership in team:
        membership.organization = organization  # one instance: the registry key is unwrapped once for the team
    return [
        membership
        for membership in team
        if not _same_address(membership.user.email, mail.sender_address)
        and mentions(text_words, member_phrases(membership))
    ]


def conflict_contact_of(organization, mail):
    """The organization's conflict-of-interest contact whose own intake address received this mail, if any."""
    addresses = [address.lower() for address in mail.to_addresses]
    if not addresses:
        return None
    return (
        ConflictContact.objects.filter(organization=organization, is_active=True, intake_address__in=addresses)
        .prefetch_related("hidden_from__user")
        .first()
    )


def _store_report(organization, mail, digest, suggested=None):
    contact = conflict_contact_of(organization, mail)
    answers = {"description": _with_subject(mail), "reporter_email": mail.sender_address}
    if mail.sender_name:
        answers["reporter_name"] = mail.sender_name
    try:
        # The receipt is dropped here: it may never travel by mail (see the module docstring).
        case, _receipt = submit_report(
            organization=organization,
            answers=answers,
            channel=Channel.EMAIL,
            submission_token=f"mail:{organization.pk}:{digest}",
            received_at=mail.arrived_at,
            # Writing to a contact's own address is the reporter's way of excluding those members.
            excluded_members=list(contact.hidden_from.all()) if contact else [],
            named_members=members_named_in_mail(organization, mail),
        )
    except AlreadySubmitted:
        report = Report.objects.select_related("case").get(
            submission_digest=submission_digest(f"mail:{organization.pk}:{digest}")
        )
        return Outcome("duplicate", case=report.case, report=report)
    del _receipt
    report = case.reports.get()
    report.source_message_id = digest
    report.save(update_fields=["source_message_id"])
    if mail.message_id:
        reporter_mail.keep_thread(report, mail.message_id)
    kept = keep_attachments(case, report, None, mail.attachments)
    audit.record("mail.received", reporter=True, case=case, became="report", report=report.pk, attachments=kept)
    reporter_mail.acknowledge_by_mail(report)
    if suggested is not None:
        alerts.suggest_merge(suggested, case)
    return Outcome("report", case=case, report=report, attachments=kept)


def _store_reply(report, mail, digest):
    report = Report.objects.select_for_update(of=("self",)).select_related("case").get(pk=report.pk)
    duplicate = _already_taken_in(report.case.organization, digest)
    if duplicate is not None:
        return duplicate
    case = report.case
    message = Message.objects.create(
        case=case,
        report=report,
        direction=MessageDirection.FROM_REPORTER,
        channel=Channel.EMAIL,
        source_message_id=digest,
        created_at=timezone.now(),
        sealed_body=sealed.seal(case, "message", {"body": _with_subject(mail)}),
    )
    kept = keep_attachments(case, report, message, mail.attachments)
    audit.record("message.from_reporter", reporter=True, case=case, message=message.pk, channel=Channel.EMAIL)
    audit.record("mail.received", reporter=True, case=case, became="reply", report=report.pk, attachments=kept)
    tell_team_reporter_wrote(case.merged_into or case)
    return Outcome("reply", case=case, report=report, message=message, attachments=kept)


# Attachments: sealed with the case's data key.


def keep_attachments(case, report, message, items):
    now = timezone.now()
    for item in items:
        attachment = Attachment.objects.create(
            case=case,
            report=report,
            message=message,
            size=len(item.content),
            created_at=now,
            sealed_meta=sealed.seal(
                case, "attachment-meta", {"filename": item.filename, "content_type": item.content_type}
            ),
            sealed_content=b"",
        )
        # Sealed once the row has its id, so the bytes are bound to this attachment and no other.
        attachment.sealed_content = seal_bytes(case, attachment.pk, item.content)
        attachment.save(update_fields=["sealed_content"])
    return len(items)


def _attachment_associated(case, attachment_id):
    return f"cocdesk:{case.reference}:attachment:{attachment_id}".encode()


def seal_bytes(case, attachment_id, data):
    return crypto.seal_bytes(sealed.data_key(case), data, _attachment_associated(case, attachment_id))


def unseal_bytes(case, attachment_id, sealed_bytes):
    return crypto.unseal_bytes(sealed.data_key(case), sealed_bytes, _attachment_associated(case, attachment_id))


def attachment_meta(attachment):
    """{"filename": ..., "content_type": ...} of an attachment (decrypted)."""
    return sealed.unseal(attachment.case, "attachment-meta", attachment.sealed_meta)


def attachment_content(attachment):
    return unseal_bytes(attachment.case, attachment.pk, attachment.sealed_content)


def describe_attachments(report):
    """The attachments of a report for the case page: the row with its decrypted name and type."""
    return [{"attachment": attachment, **attachment_meta(attachment)} for attachment in report.attachments.all()]
