"""The post-event debrief: every case of a space the reader may see, with how the team kept its promises."""

from django.db.models import OuterRef, Q, Subquery

from ..enums import OPEN_STATES, AlertStage, DeadlineKind, MessageDirection
from ..models import Case, DeadlineAlert, Message


def promise_kept(done_at, due, missed_alert):
    if missed_alert:
        return "missed"
    if done_at is None:
        return "pending"
    return "met" if done_at <= due else "missed"


def debrief_rows(space, *, reader):
    last_message = Message.objects.filter(Q(case=OuterRef("pk")) | Q(case__merged_into=OuterRef("pk"))).order_by(
        "-created_at", "-pk"
    )
    cases = (
        Case.objects.visible_to(reader)
        .filter(space=space)
        .exclude(state="merged")
        .annotate(last_message_direction=Subquery(last_message.values("direction")[:1]))
        .order_by("received_at")
        .prefetch_related("immediate_actions")
    )
    escalated = set(
        DeadlineAlert.objects.filter(case__space=space, stage=AlertStage.ESCALATION).values_list("case_id", "deadline")
    )
    rows = []
    for case in cases:
        follow_ups = []
        if case.state in OPEN_STATES:
            follow_ups.append("still open")
        if any(action.reviewed_at is None for action in case.immediate_actions.all()):
            follow_ups.append("an immediate action awaits review")
        if case.last_message_direction == MessageDirection.FROM_REPORTER:
            follow_ups.append("the reporter's last message is unanswered")
        rows.append(
            {
                "case": case,
                "acknowledgement": promise_kept(
                    case.acknowledged_at, case.acknowledge_due, (case.pk, DeadlineKind.ACKNOWLEDGE) in escalated
                ),
                "update": "missed"
                if (case.pk, DeadlineKind.UPDATE) in escalated
                else ("met" if case.last_update_at or case.decided_at else "pending"),
                "decision": case.get_violation_display() if case.decided_at else "",
                "follow_ups": follow_ups,
            }
        )
    return rows
