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
