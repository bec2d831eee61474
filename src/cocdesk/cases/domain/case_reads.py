"""What the case page reads of one case, as statements compiled once per worker (``common.prepared_objects``): the
reports of the case and of its merged duplicates, their messages and attachments, the notes, the immediate actions
and the active recusals: six queries whatever their numbers, each the SQL the ORM's queryset would run."""

from django.db.models import Q

from cocdesk.common.models import AuditEvent
from cocdesk.common.prepared_objects import PreparedObjects, set_prefetched
from cocdesk.orgs.models import Membership

from ..models import Attachment, Case, ImmediateAction, Message, Note, Recusal, Report


def _reports_of(case_id):
    # The cases first, by their own indexes: an OR across the join would read every report.
    cases = Case.objects.filter(Q(pk=case_id) | Q(merged_into_id=case_id)).values("pk")
    return Report.objects.filter(case_id__in=cases)


_reports = PreparedObjects(
    lambda case_id: _reports_of(case_id).select_related("case", "receipt").order_by("received_at", "pk"), int
)
_messages = PreparedObjects(
    lambda case_id: (
        Message.objects.filter(report__in=_reports_of(case_id).values("pk"))
        .select_related("author")
        .order_by("created_at", "pk")
    ),
    int,
)
_attachments = PreparedObjects(
    lambda case_id: Attachment.objects.filter(report__in=_reports_of(case_id).values("pk")).order_by(
        "created_at", "pk"
    ),
    int,
)
_notes = PreparedObjects(
    lambda case_id: Note.objects.filter(case_id=case_id).select_related("author").order_by("created_at", "pk"), int
)
_actions = PreparedObjects(
    lambda case_id: (
        ImmediateAction.objects.filter(case_id=case_id)
        .select_related("taken_by", "reviewed_by")
        .order_by("taken_at", "pk")
    ),
    int,
)

_recusals = PreparedObjects(
    lambda case_id: Recusal.objects.filter(case_id=case_id, is_active=True).select_related("membership"), int
)


def reports_with_messages(case):
    """The reports of ``case`` and of the duplicates merged into it, each with its messages and attachments
    (``report.messages.all()``, ``report.attachments.all()``) and every object pointing at the same case instance:
    ``case`` itself for its own reports, so its data key is unwrapped once."""
    reports = _reports.objects(case.pk)
    cases = {case.pk: case}
    by_report = {report.pk: {"messages": [], "attachments": []} for report in reports}
    for message in _messages.objects(case.pk):
        by_report[message.report_id]["messages"].append(message)
    for attachment in _attachments.objects(case.pk):
        by_report[attachment.report_id]["attachments"].append(attachment)
    for report in reports:
        report.case = cases.setdefault(report.case_id, report.case)
        report._prefetched_objects_cache = {}
        for name, items in by_report[report.pk].items():
            for item in items:
                item.case, item.report = report.case, report
            set_prefetched(report, name, items)
    return reports


def notes_of(case):
    notes = _notes.objects(case.pk)
    for note in notes:
        note.case = case
    return notes


def immediate_actions_of(case):
    actions = _actions.objects(case.pk)
    for action in actions:
        action.case = case
    return actions


# The newest events of the case, as its page lists them for leads.
AUDIT_TRAIL_LENGTH = 200
_audit_trail = PreparedObjects(
    lambda case_id: (
        AuditEvent.objects.filter(case_id=case_id).order_by("-id").select_related("actor")[:AUDIT_TRAIL_LENGTH]
    ),
    int,
)


def audit_trail_of(case):
    events = _audit_trail.objects(case.pk)
    for event in events:
        event.case = case
    return events


# What ``case.assignees.all()`` gives, in its order.
_assignees = PreparedObjects(lambda case_id: Membership.objects.filter(assigned_cases__id=case_id), int)


def assignees_of(case):
    return _assignees.objects(case.pk)


def active_recusals(case):
    recusals = _recusals.objects(case.pk)
    for recusal in recusals:
        recusal.case = case
    return recusals
