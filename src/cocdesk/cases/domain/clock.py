"""The deadline sweep: run every minute or so (``manage.py sweep_deadlines --every 60``).

It reads only the cases whose next alert moment (``Case.next_alert_at``, indexed) has come, so an idle sweep costs
one query at any number of cases. Each batch of due cases is locked, its alerts, notifications and audit events
are inserted in bulk, and each case's next moment is stored, in one transaction. Every reminder or escalation is
recorded once per deadline (a unique constraint), so running it twice, or from two processes, never repeats one."""

from django.db import transaction
from django.utils import timezone

from cocdesk.common import audit
from cocdesk.notify.domain import member_notification, queue

from ..enums import AlertStage, DeadlineKind
from ..models import Case, DeadlineAlert
from .audience import BatchAudience
from .deadlines import next_alert_after, running_clocks, stages_due

BATCH_SIZE = 500
MAX_BATCHES = 400


def sweep(now=None):
    """Sends every reminder and escalation that has come due; returns how many were sent."""
    now = now or timezone.now()
    sent = 0
    for _batch in range(MAX_BATCHES):
        sent_in_batch, looked_at = _sweep_batch(now)
        sent += sent_in_batch
        if looked_at < BATCH_SIZE:
            break
    return sent


def _sweep_batch(now):
    with transaction.atomic():
        cases = list(
            Case.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(next_alert_at__lte=now)
            .select_related("organization")
            .order_by("next_alert_at", "pk")[:BATCH_SIZE]
        )
        if not cases:
            return 0, 0
        already_sent = set(
            DeadlineAlert.objects.filter(case__in=cases).values_list("case_id", "deadline", "due_at", "stage")
        )
        audience = BatchAudience(cases)
        new_alerts, notifications, events = [], [], []
        for case in cases:
            for kind, start, due in running_clocks(case):
                for stage in stages_due(case, start, due, now):
                    if (case.pk, kind, due, stage) in already_sent:
                        continue
                    new_alerts.append(DeadlineAlert(case=case, deadline=kind, due_at=due, stage=stage, created_at=now))
                    notifications += SENDERS[stage](case, kind, due, now, audience)
                    events.append(
                        {"action": f"deadline.{stage}", "case": case, "deadline": kind, "due": due.isoformat()}
                    )
            case.next_alert_at = next_alert_after(case, now)
        DeadlineAlert.objects.bulk_create(new_alerts)
        queue(notifications)
        audit.record_many(events)
        Case.objects.bulk_update(cases, ["next_alert_at"])
        handed_over = [case.pk for case in cases if case.fallback_escalated_at == now]
        if handed_over:
            Case.objects.filter(pk__in=handed_over).update(fallback_escalated_at=now, under_fallback=True)
    return len(new_alerts), len(cases)


def _what(kind):
    return "acknowledge the report" if kind == DeadlineKind.ACKNOWLEDGE else "send the reporter a resolution or update"


def _notices(memberships, case, *, kind, subject, lines):
    return [member_notification(m, case=case, kind=kind, subject=subject, lines=lines) for m in memberships]


def _remind(case, kind, due, now, audience):
    return _notices(
        audience.assignees_or_team(case),
        case,
        kind="deadline_reminder",
        subject=f"[CoC Desk] Reminder: case {case.reference} is due {due:%Y-%m-%d %H:%M %Z}",
        lines=[f"Please {_what(kind)} on case {case.reference} before {due:%Y-%m-%d %H:%M %Z}."],
    )


def _escalate(case, kind, due, now, audience):
    return _notices(
        audience.leads(case),
        case,
        kind="deadline_missed",
        subject=f"[CoC Desk] Missed deadline on case {case.reference}",
        lines=[
            f"The promise to {_what(kind)} on case {case.reference} was due {due:%Y-%m-%d %H:%M %Z} and is missed.",
            "As a lead, please make sure someone takes it now.",
        ],
    )


def _escalate_to_fallback(case, kind, due, now, audience):
    if case.fallback_escalated_at is None:
        # Stored with the batch's other changes (see _sweep_batch): the case is theirs from now on.
        case.fallback_escalated_at, case.under_fallback = now, True
    return _notices(
        audience.fallback_members(case),
        case,
        kind="fallback_escalation",
        subject=f"[CoC Desk] You are needed on case {case.reference}",
        lines=[
            f"The promise to {_what(kind)} on case {case.reference} was due {due:%Y-%m-%d %H:%M %Z} and is still "
            "missed after the leads were told.",
            "As a fallback member you now have access to this case, and this case only, to step in.",
        ],
    )


SENDERS = {
    AlertStage.REMINDER: _remind,
    AlertStage.ESCALATION: _escalate,
    AlertStage.FALLBACK: _escalate_to_fallback,
}
