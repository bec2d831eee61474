"""What the team reads and writes on a case."""

from django.utils import timezone

from cocdesk.common import audit

from ..enums import MessageDirection
from ..forms import ReportForm
from ..models import Message
from . import content as sealed


def read_case(case, *, reader):
    """Decrypts every report and message of the case for a member the rules allowed, and audits the read."""
    reports = []
    for report in case.reports.select_related("receipt").prefetch_related("messages"):
        reports.append(
            {
                "report": report,
                "sections": ReportForm.describe(sealed.report_content(report)),
                "messages": [
                    {"message": message, "body": sealed.message_body(message)} for message in report.messages.all()
                ],
            }
        )
    audit.record("case.opened", actor=reader, case=case)
    return reports


def message_reporter(case, report, *, author, body):
    message = Message.objects.create(
        case=case,
        report=report,
        direction=MessageDirection.TO_REPORTER,
        author=author,
        created_at=timezone.now(),
        sealed_body=sealed.seal(case, "message", {"body": body}),
    )
    audit.record("message.to_reporter", actor=author, case=case, message=message.pk)
    return message


def case_team_panel(case, *, viewer):
    """Recusals, fallback state and (for leads) the audit trail shown beside a case."""
    from cocdesk.common.models import AuditEvent

    from ..forms import RecuseMemberForm, ReinstateForm
    from ..rules import is_under_fallback

    is_lead = viewer.has_perm("cases.manage_recusals", case)
    panel = {
        "recusals": case.recusals.filter(is_active=True).select_related("membership"),
        "under_fallback": is_under_fallback(case),
        "can_manage_recusals": is_lead,
        "audit_trail": None,
    }
    if is_lead:
        panel["recuse_form"] = RecuseMemberForm(case=case)
        panel["reinstate_form"] = ReinstateForm()
    if viewer.has_perm("cases.read_audit_trail", case):
        panel["audit_trail"] = AuditEvent.objects.filter(case=case).order_by("-id").select_related("actor")[:200]
    return panel
