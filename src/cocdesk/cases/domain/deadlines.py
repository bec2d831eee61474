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
