"""What a reporter does with their receipt: open their report, read the team's messages, add information."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cocdesk.common import audit
from cocdesk.notify.domain import notify_members

from ..enums import Channel, MessageDirection, MessageKind
from ..models import Message, Receipt, Report
from . import alerts
from . import content as sealed
from .references import new_receipt, receipt_digest


def find_receipt(typed):
    """The receipt matching what the reporter typed, or None. Erased cases have no readable report."""
    receipt = Receipt.objects.select_related("report__case__organization").filter(digest=receipt_digest(typed)).first()
    if receipt is None or receipt.report.case.is_erased:
        return None
    return receipt


def open_case_for_reporter(receipt):
    """The reporter's view of their case: messages of their own report only, and an audit of the read."""
    report = receipt.report
    case = report.case.merged_into or report.case
    Receipt.objects.filter(pk=receipt.pk).update(last_used_at=timezone.now())
    audit.record("case.read_by_reporter", reporter=True, case=case)
    messages = [
        {
            "from_team": message.direction == MessageDirection.TO_REPORTER,
            "at": message.created_at,
            "body": sealed.message_body(message),
            "kind": message.kind,
        }
        for message in report.messages.all()
    ]
    return case, messages


def add_reporter_message(receipt, body):
    report = receipt.report
    case = report.case
    message = Message.objects.create(
        case=case,
        report=report,
        direction=MessageDirection.FROM_REPORTER,
        created_at=timezone.now(),
        sealed_body=sealed.seal(case, "message", {"body": body}),
    )
    audit.record("message.from_reporter", reporter=True, case=case, message=message.pk)
    tell_team_reporter_wrote(case.merged_into or case)
    return message


# How appropriate the response felt to the reporter, in their words.
FEEDBACK_RATINGS = [
    ("right", "It felt right"),
    ("too_little", "Too little"),
    ("too_much", "Too much"),
    ("not_sure", "Not sure"),
]


def outcome_given(report):
    """Whether the team sent this report's reporter the outcome: only then is their view of the response asked."""
    return report.messages.filter(direction=MessageDirection.TO_REPORTER, kind=MessageKind.OUTCOME).exists()


@transaction.atomic
def add_reporter_feedback(receipt, *, text, rating=""):
    """The reporter's view of the team's response, after the outcome; they may give it more than once. Sealed like
    their messages, and the handlers of the case are told (never what it says)."""
    report = receipt.report
    case = report.case
    text, labels = (text or "").strip(), dict(FEEDBACK_RATINGS)
    if rating and rating not in labels:
        raise ValidationError("Choose one of the answers about the response, or none.")
    if not text and not rating:
        raise ValidationError("Write what you think of the response, or choose an answer, before sending.")
    if not outcome_given(report):
        raise ValidationError("You can tell the team what you think of their response once they have sent it.")
    lines = [f"How the response felt: {labels[rating]}."] if rating else []
    body = "\n\n".join([*lines, *([text] if text else [])])
    message = Message.objects.create(
        case=case,
        report=report,
        direction=MessageDirection.FROM_REPORTER,
        kind=MessageKind.FEEDBACK,
        channel=Channel.WEB,
        created_at=timezone.now(),
        sealed_body=sealed.seal(case, "message", {"body": body, "rating": rating, "text": text}),
    )
    audit.record("message.feedback_from_reporter", reporter=True, case=case, message=message.pk)
    handled = case.merged_into or case
    notify_members(
        alerts.assignees_or_team(handled),
        case=handled,
        kind="reporter_feedback",
        subject=f"[CoC Desk] The reporter gave feedback on the response to case {handled.reference}",
        lines=[f"A reporter told the team what they think of the response to case {handled.reference}."],
    )
    return message


def tell_team_reporter_wrote(case):
    notify_members(
        alerts.assignees_or_team(case),
        case=case,
        kind="reporter_wrote",
        subject=f"[CoC Desk] The reporter wrote on case {case.reference}",
        lines=[f"A reporter added information or answered on case {case.reference}."],
    )


def claim_receipt(token):
    """Gives an email reporter a receipt for the web page, once: the link's hash must match an unexpired claim.
    Returns (case, receipt), or None. The new receipt replaces the one intake made (which nobody ever saw)."""
    from .reporter_mail import claim_digest

    with transaction.atomic():
        report = (
            Report.objects.select_for_update(of=("self",))
            .select_related("case__organization", "receipt")
            .filter(receipt_claim_digest=claim_digest(token), receipt_claim_expires_at__gt=timezone.now())
            .first()
        )
        if report is None or report.case.is_erased:
            return None
        receipt = new_receipt()
        Receipt.objects.update_or_create(report=report, defaults={"digest": receipt_digest(receipt)})
        report.receipt_claim_digest, report.receipt_claim_expires_at = "", None
        report.save(update_fields=["receipt_claim_digest", "receipt_claim_expires_at"])
        audit.record("receipt.claimed_by_mail_link", reporter=True, case=report.case, report=report.pk)
    return report.case.merged_into or report.case, receipt
