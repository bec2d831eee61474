"""The deadline sweep: run every minute or so (``manage.py sweep_deadlines --every 60``). Each reminder or
escalation is recorded once per deadline, so running it twice, or from two processes, never repeats an alert."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from cocdesk.common import audit
from cocdesk.notify.domain import notify_members

from ..enums import OPEN_STATES, AlertStage, DeadlineKind
from ..models import Case, DeadlineAlert
from . import alerts
from .deadlines import running_clocks, stages_due


def sweep(now=None):
    """Sends every reminder and escalation that has come due; returns how many were sent."""
    now = now or timezone.now()
    sent = 0
    cases = Case.objects.filter(state__in=OPEN_STATES).exclude(wrapped_data_key=None).select_related("organization")
    # One query for what was already sent, so an every-minute sweep costs nothing per case that needs nothing new.
    already_sent = set(
        DeadlineAlert.objects.filter(case__state__in=OPEN_STATES).values_list("case_id", "deadline", "due_at", "stage")
    )
    for case in cases:
        for kind, start, due in running_clocks(case):
            for stage in stages_due(case, start, due, now):
                if (case.pk, kind, due, stage) not in already_sent and _alert_once(case, kind, due, stage, now):
                    sent += 1
    return sent


def _alert_once(case, kind, due, stage, now):
    try:
        with transaction.atomic():
            _alert, created = DeadlineAlert.objects.get_or_create(
                case=case, deadline=kind, due_at=due, stage=stage, defaults={"created_at": now}
            )
            if created:
                SENDERS[stage](case, kind, due, now)
                audit.record(f"deadline.{stage}", case=case, deadline=kind, due=due.isoformat())
    except IntegrityError:
        return False
    return created


def _what(kind):
    return "acknowledge the report" if kind == DeadlineKind.ACKNOWLEDGE else "send the reporter a resolution or update"


def _remind(case, kind, due, now):
    notify_members(
        alerts.assignees_or_team(case),
        case=case,
        kind="deadline_reminder",
        subject=f"[CoC Desk] Reminder: case {case.reference} is due {due:%Y-%m-%d %H:%M %Z}",
        lines=[f"Please {_what(kind)} on case {case.reference} before {due:%Y-%m-%d %H:%M %Z}."],
    )


def _escalate(case, kind, due, now):
    notify_members(
        alerts.leads(case),
        case=case,
        kind="deadline_missed",
        subject=f"[CoC Desk] Missed deadline on case {case.reference}",
        lines=[
            f"The promise to {_what(kind)} on case {case.reference} was due {due:%Y-%m-%d %H:%M %Z} and is missed.",
            "As a lead, please make sure someone takes it now.",
        ],
    )


def _escalate_to_fallback(case, kind, due, now):
    Case.objects.filter(pk=case.pk).update(fallback_escalated_at=now)
    case.refresh_from_db(fields=["fallback_escalated_at"])
    notify_members(
        alerts.fallback_members(case),
        case=case,
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
