"""What the team reads on a case, and its messages to reporters."""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cocdesk.common import audit
from cocdesk.notify.domain import notify_reporter
from cocdesk.notify.models import Notification
from cocdesk.orgs.rules import can

from ..enums import CaseState, Channel, MessageDirection, MessageKind
from ..forms import ReportForm
from ..models import Case, Message, Report
from . import case_reads, reporter_mail
from . import content as sealed
from .deadlines import update_due
from .email_intake import describe_attachments
from .workflow import require

# Messages that count as the procedures' follow-up within a week: they restart the update clock.
FOLLOW_UP_KINDS = {MessageKind.UPDATE, MessageKind.OUTCOME}


def case_reports(case):
    """The reports of a case and of the duplicates merged into it."""
    # The cases first, by their own indexes: an OR across the join would read every report.
    cases = Case.objects.filter(Q(pk=case.pk) | Q(merged_into_id=case.pk)).values("pk")
    return Report.objects.filter(case_id__in=cases).select_related("case", "receipt").order_by("received_at", "pk")


def read_case(case, *, reader):
    """Decrypts every report, message, note and immediate action the members the rules allowed may read, and
    audits the read. A fixed number of queries, whatever the number of reports and messages."""
    reports = []
    loaded = case_reads.reports_with_messages(case)
    deliveries = mail_deliveries([message for report in loaded for message in report.messages.all()])
    for report in loaded:
        reports.append(
            {
                "report": report,
                "sections": ReportForm.describe(sealed.report_content(report)),
                "attachments": describe_attachments(report),
                "messages": [
                    {"message": message, "body": sealed.message_body(message), "delivery": deliveries.get(message.pk)}
                    for message in report.messages.all()
                ],
            }
        )
    notes = [
        {"note": note, "body": sealed.unseal(case, "note", note.sealed_body)["body"]}
        for note in case_reads.notes_of(case)
    ]
    actions = [
        {
            "action": action,
            "description": sealed.unseal(case, "immediate-action", action.sealed_description)["description"],
        }
        for action in case_reads.immediate_actions_of(case)
    ]
    triage = sealed.unseal(case, "triage", case.sealed_triage) if case.sealed_triage else None
    audit.record("case.opened", actor=reader, case=case)
    return {"reports": reports, "notes": notes, "immediate_actions": actions, "triage": triage}


DELIVERY_WORDS = {
    Notification.State.PENDING: "waiting to be sent",
    Notification.State.SENT: "delivered to the mail server",
    Notification.State.CANCELLED: "not sent",
    Notification.State.BOUNCED: "bounced: the address does not take mail",
}


def mail_deliveries(messages):
    """{message id: what became of its mail, in words} for messages that went to the reporter by email."""
    by_mail = [message.pk for message in messages if message.channel == Channel.EMAIL]
    if not by_mail:
        return {}
    states = Notification.objects.filter(team_message_id__in=by_mail).values_list("team_message_id", "state")
    return {message_id: DELIVERY_WORDS.get(state, state) for message_id, state in states}


@transaction.atomic
def message_reporter(case, report, *, author, body, kind=MessageKind.OTHER):
    """Writes to the reporter of one report. Any message acknowledges the report; an update or the outcome
    restarts the 7-day clock. A reporter who wrote by email gets the message by mail, threaded on their own; a
    reporter who left an email on the web form is told a message waits, without its content."""
    require(author, "cases.message_reporter", case)
    now = timezone.now()
    by_mail = reporter_mail.takes_mail(report)
    message = Message.objects.create(
        case=report.case,
        report=report,
        direction=MessageDirection.TO_REPORTER,
        kind=kind,
        author=author,
        created_at=now,
        channel=Channel.EMAIL if by_mail else Channel.WEB,
        sealed_body=sealed.seal(report.case, "message", {"body": body}),
    )
    changed = ["updated_at"]
    if case.acknowledged_at is None:
        case.acknowledged_at = now
        changed.append("acknowledged_at")
        if case.state == CaseState.NEW:
            case.state = CaseState.ACKNOWLEDGED
            changed.append("state")
    if kind in FOLLOW_UP_KINDS:
        case.last_update_at, case.update_due = now, update_due(case.organization, now)
        changed += ["last_update_at", "update_due"]
    case.save(update_fields=changed)
    audit.record("message.to_reporter", actor=author, case=case, message=message.pk, kind=kind, channel=message.channel)
    if by_mail:
        reporter_mail.send_team_message(message)
    elif reporter_mail.reporter_address(report):
        notify_reporter(report, organization=case.organization)
    return message


def case_team_panel(case, *, viewer):
    """Recusals, fallback state and (for leads) the audit trail shown beside a case."""
    from ..forms import RecuseMemberForm, ReinstateForm

    is_lead = can(viewer, "cases.manage_recusals", case)
    recusals = case_reads.active_recusals(case)
    panel = {
        "recusals": recusals,
        "under_fallback": case.under_fallback,
        "can_manage_recusals": is_lead,
        "audit_trail": None,
    }
    if is_lead:
        panel["recuse_form"] = RecuseMemberForm(case=case, recused=[recusal.membership_id for recusal in recusals])
        panel["reinstate_form"] = ReinstateForm()
    if can(viewer, "cases.read_audit_trail", case):
        panel["audit_trail"] = case_reads.audit_trail_of(case)
    return panel
