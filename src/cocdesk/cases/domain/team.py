"""What the team reads on a case, and its messages to reporters."""

from django.db.models import Prefetch, Q
from django.utils import timezone

from cocdesk.common import audit
from cocdesk.common.models import AuditEvent
from cocdesk.notify.domain import notify_reporter
from cocdesk.orgs.rules import can

from ..enums import CaseState, MessageDirection, MessageKind
from ..forms import ReportForm
from ..models import Message, Report
from . import content as sealed
from .deadlines import update_due
from .email_intake import describe_attachments
from .workflow import require

# Messages that count as the procedures' follow-up within a week: they restart the update clock.
FOLLOW_UP_KINDS = {MessageKind.UPDATE, MessageKind.OUTCOME}


def case_reports(case):
    """The reports of a case and of the duplicates merged into it."""
    return (
        Report.objects.filter(Q(case=case) | Q(case__merged_into=case))
        .select_related("case", "receipt")
        .order_by("received_at", "pk")
    )


def read_case(case, *, reader):
    """Decrypts every report, message, note and immediate action the members the rules allowed may read, and
    audits the read. A fixed number of queries, whatever the number of reports and messages."""
    reports = []
    loaded = case_reports(case).prefetch_related(
        Prefetch("messages", queryset=Message.objects.select_related("author").order_by("created_at", "pk")),
        "attachments",
    )
    for report in loaded:
        if report.case_id == case.pk:
            report.case = case  # one instance per case: its data key is unwrapped once
        for item in [*report.messages.all(), *report.attachments.all()]:
            item.case = report.case
        reports.append(
            {
                "report": report,
                "sections": ReportForm.describe(sealed.report_content(report)),
                "attachments": describe_attachments(report),
                "messages": [
                    {"message": message, "body": sealed.message_body(message)} for message in report.messages.all()
                ],
            }
        )
    notes = [
        {"note": note, "body": sealed.unseal(case, "note", note.sealed_body)["body"]}
        for note in case.notes.select_related("author")
    ]
    actions = [
        {
            "action": action,
            "description": sealed.unseal(case, "immediate-action", action.sealed_description)["description"],
        }
        for action in case.immediate_actions.select_related("taken_by", "reviewed_by")
    ]
    triage = sealed.unseal(case, "triage", case.sealed_triage) if case.sealed_triage else None
    audit.record("case.opened", actor=reader, case=case)
    return {"reports": reports, "notes": notes, "immediate_actions": actions, "triage": triage}


def message_reporter(case, report, *, author, body, kind=MessageKind.OTHER):
    """Writes to the reporter of one report. Any message acknowledges the report; an update or the outcome
    restarts the 7-day clock. A reporter who left an email is told a message waits, without its content."""
    require(author, "cases.message_reporter", case)
    now = timezone.now()
    message = Message.objects.create(
        case=report.case,
        report=report,
        direction=MessageDirection.TO_REPORTER,
        kind=kind,
        author=author,
        created_at=now,
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
    audit.record("message.to_reporter", actor=author, case=case, message=message.pk, kind=kind)
    if sealed.report_content(report).get("reporter_email"):
        notify_reporter(report, organization=case.organization)
    return message


def case_team_panel(case, *, viewer):
    """Recusals, fallback state and (for leads) the audit trail shown beside a case."""
    from ..forms import RecuseMemberForm, ReinstateForm

    is_lead = can(viewer, "cases.manage_recusals", case)
    panel = {
        "recusals": case.recusals.filter(is_active=True).select_related("membership"),
        "under_fallback": case.under_fallback,
        "can_manage_recusals": is_lead,
        "audit_trail": None,
    }
    if is_lead:
        panel["recuse_form"] = RecuseMemberForm(case=case)
        panel["reinstate_form"] = ReinstateForm()
    if can(viewer, "cases.read_audit_trail", case):
        panel["audit_trail"] = AuditEvent.objects.filter(case=case).order_by("-id").select_related("actor")[:200]
    return panel
