from datetime import timedelta


def acknowledge_due(organization, received_at, is_urgent):
    hours = organization.urgent_acknowledge_within_hours if is_urgent else organization.acknowledge_within_hours
    return received_at + timedelta(hours=hours)


def update_due(organization, since):
    return since + timedelta(days=organization.update_within_days)


def time_left(due, now):
    """A short human phrase for the queue: '5 h left', '2 d left', 'overdue by 3 h'."""
    seconds = (due - now).total_seconds()
    span = abs(seconds)
    if span >= 2 * 86400:
        amount = f"{int(span // 86400)} d"
    elif span >= 3600:
        amount = f"{int(span // 3600)} h"
    else:
        amount = f"{max(int(span // 60), 1)} min"
    return f"{amount} left" if seconds >= 0 else f"overdue by {amount}"


REMIND_AT_FRACTION = 0.75  # remind the team when three quarters of the time to a deadline has gone


def running_clocks(case):
    """(deadline kind, clock start, due) for each promise still running on the case."""
    from ..enums import OPEN_STATES, DeadlineKind

    if case.state not in OPEN_STATES or case.is_erased:
        return []
    clocks = []
    if case.acknowledged_at is None:
        clocks.append((DeadlineKind.ACKNOWLEDGE, case.received_at, case.acknowledge_due))
    clocks.append((DeadlineKind.UPDATE, case.last_update_at or case.received_at, case.update_due))
    return clocks


def next_due(case):
    clocks = running_clocks(case)
    return min((due, kind) for kind, _start, due in clocks) if clocks else (None, None)


def reminder_moment(start, due):
    return start + (due - start) * REMIND_AT_FRACTION


def schedule(case):
    """(next_due_at, next_alert_at) as stored on the case. The sweep first looks at a case when the earliest
    reminder of its running promises comes (a moment already past is looked at once more and found sent);
    from then on it stores the next stage itself (``next_alert_after``)."""
    clocks = running_clocks(case)
    if not clocks:
        return None, None
    return min(due for _kind, _start, due in clocks), min(reminder_moment(start, due) for _kind, start, due in clocks)


def next_alert_after(case, now):
    """The first moment after ``now`` at which a running promise of the case reaches a new alert stage."""
    escalate_after = timedelta(hours=case.organization.fallback_escalation_hours)
    moments = [
        moment
        for _kind, start, due in running_clocks(case)
        for moment in (reminder_moment(start, due), due, due + escalate_after)
        if moment > now
    ]
    return min(moments, default=None)


def stages_due(case, start, due, now):
    """The alert stages whose time has come: a reminder before the deadline, the leads when it passes, the
    fallback members when it stays missed."""
    from ..enums import AlertStage

    stages = []
    if now < due and now >= reminder_moment(start, due):
        stages.append(AlertStage.REMINDER)
    if now >= due:
        stages.append(AlertStage.ESCALATION)
    if now >= due + timedelta(hours=case.organization.fallback_escalation_hours):
        stages.append(AlertStage.FALLBACK)
    return stages
