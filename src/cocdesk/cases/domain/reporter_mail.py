"""Mail to a reporter who wrote to us by email: they chose that channel, so the team's messages reach them as mail.

Queued notifications name the report and, for a team message, the message; they hold no copy of any text. The
mail is written when it is sent (``compose``), from the sealed case, and only the Message-ID it went out with is
kept, so the reporter's answer threads back into the case. A receipt never travels by mail: the acknowledgement
carries a one-time link to a page that shows a new receipt once; the link is made at sending time and only its
hash is kept.
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from cocdesk.common import audit
from cocdesk.notify.delivery_tasks import enqueue_notifications
from cocdesk.notify.models import Notification

from ..enums import Channel
from . import content as sealed

ACKNOWLEDGEMENT = "mail_acknowledgement"
TEAM_MESSAGE = "reporter_message"
CLAIM_LINK_VALID = timedelta(days=14)


def reporter_address(report):
    return sealed.report_content(report).get("reporter_email", "")


def takes_mail(report):
    """The reporter wrote by email, left their address, and it has not bounced."""
    return report.channel == Channel.EMAIL and report.mail_undeliverable_at is None and bool(reporter_address(report))


def keep_thread(report, message_id):
    """Seals the Message-ID of the reporter's mail on their report: every mail to them threads on it."""
    report.sealed_mail_thread = sealed.seal(report.case, "mail-thread", {"message_id": message_id})
    report.save(update_fields=["sealed_mail_thread"])


def _queue(report, *, kind, subject, team_message=None):
    notification = Notification.objects.create(
        organization_id=report.case.organization_id,
        case=report.case,
        report=report,
        team_message=team_message,
        kind=kind,
        subject=subject,
        body="",
    )
    enqueue_notifications([notification.pk])
    return notification


def subject_for(case, what):
    return f"[{case.reference}] {what}"


def acknowledge_by_mail(report):
    """The automatic acknowledgement of a report that came by email: its reference, the organization's promises
    and emergency guidance, and a link to get a receipt for the web page."""
    case = report.case
    return _queue(
        report,
        kind=ACKNOWLEDGEMENT,
        subject=subject_for(case, f"Your report to the Code of Conduct team of {case.organization.name} was received"),
    )


def send_team_message(message):
    return _queue(
        message.report,
        kind=TEAM_MESSAGE,
        subject=subject_for(
            message.case, f"A message from the Code of Conduct team of {message.case.organization.name}"
        ),
        team_message=message,
    )


def compose(notification):
    """(body, thread headers) of a mail to a reporter, written at sending time."""
    report = notification.report
    if notification.kind == ACKNOWLEDGEMENT:
        body = _acknowledgement_body(report)
    elif notification.kind == TEAM_MESSAGE:
        body = _team_message_body(notification.team_message)
    else:
        body = notification.body
    return body, thread_headers(report)


def thread_headers(report):
    if not report.sealed_mail_thread:
        return {}
    original = sealed.unseal(report.case, "mail-thread", report.sealed_mail_thread).get("message_id", "")
    return {"In-Reply-To": original, "References": original} if original else {}


def _promises(organization, case):
    hours = organization.urgent_acknowledge_within_hours if case.is_urgent else organization.acknowledge_within_hours
    return [
        f"- A member of the team will write to you within {hours} hours.",
        f"- Within {organization.update_within_days} days you will have a resolution, or an update explaining why "
        "it is not yet resolved.",
        "- Only the Code of Conduct team reads your report. If you named a team member, they do not see it.",
    ]


def _emergency(organization):
    lines = [f"If anyone is in physical danger, get help first: call {organization.emergency_number}"]
    if organization.non_emergency_number:
        lines[0] += f", or the non-emergency line {organization.non_emergency_number}"
    lines[0] += "."
    if organization.crisis_line:
        lines.append(f"Crisis line: {organization.crisis_line}.")
    if organization.emergency_guidance:
        lines.append(organization.emergency_guidance)
    return lines


def _acknowledgement_body(report):
    case, organization = report.case, report.case.organization
    return "\n".join(
        [
            f"Thank you for writing to the Code of Conduct team of {organization.name}. Your report is saved and "
            "the team has it.",
            "",
            f"Its reference is {case.reference}. Keep it in the subject when you write again: simply reply to this "
            "email.",
            "",
            "What happens next:",
            *_promises(organization, case),
            "",
            *_emergency(organization),
            "",
            "If you would rather follow your report on the web (read the team's messages and answer them there), "
            "you can get a receipt for it here. The link works once; the receipt is shown on the page and never "
            "sent by email:",
            issue_claim_link(report),
            "",
            "This email was sent automatically when your report arrived.",
        ]
    )


def _team_message_body(message):
    case = message.case
    return "\n".join(
        [
            sealed.message_body(message),
            "",
            "--",
            f"The Code of Conduct team of {case.organization.name} · case {case.reference}",
            "Reply to this email to answer; your reply reaches the team and only the team.",
        ]
    )


def claim_digest(token):
    return hashlib.sha256(f"receipt-claim:{token}".encode()).hexdigest()


def issue_claim_link(report):
    """A fresh one-time link; only its hash is stored, so a mail sent again carries a new link."""
    token = secrets.token_urlsafe(32)
    report.receipt_claim_digest = claim_digest(token)
    report.receipt_claim_expires_at = timezone.now() + CLAIM_LINK_VALID
    report.save(update_fields=["receipt_claim_digest", "receipt_claim_expires_at"])
    return settings.BASE_URL + reverse("public:claim_receipt", kwargs={"token": token})


def mark_bounced(message_ids, recipients=()):
    """A bounce came back for mail we sent: the report's address is marked undeliverable, that mail bounced,
    and the people handling the case are told (the reporter now hears from the team only on the web page).
    When the bounce names the failed addresses, the reporter's must be among them. Returns the reports."""
    from . import alerts

    candidates = {*message_ids, *(message_id.strip("<>") for message_id in message_ids)}
    bounced = list(
        Notification.objects.filter(report__isnull=False, message_id__in=candidates).select_related(
            "report__case__organization"
        )
    )
    reports = {}
    now = timezone.now()
    failed = {address.lower() for address in recipients}
    for notification in bounced:
        if failed and reporter_address(notification.report).lower() not in failed:
            continue
        notification.state = Notification.State.BOUNCED
        notification.save(update_fields=["state"])
        reports.setdefault(notification.report_id, notification.report)
    for report in reports.values():
        if report.mail_undeliverable_at is None:
            report.mail_undeliverable_at = now
            report.save(update_fields=["mail_undeliverable_at"])
            case = report.case.merged_into or report.case
            audit.record("mail.reporter_address_bounced", case=case, report=report.pk)
            alerts.tell_mail_bounced(case)
    return list(reports.values())
