"""Moving a case through time for deadline tests: the domain stores what it derives, so time moves on every
stored moment at once."""

from django.db.models import F

from cocdesk.cases.domain import team as team_domain
from cocdesk.cases.enums import MessageKind
from cocdesk.cases.models import Case, Message, Report


def fresh(case):
    return Case.objects.select_related("organization").get(pk=case.pk)


def age(case, delta):
    """The case as if everything on it had happened ``delta`` earlier."""
    Case.objects.filter(pk=case.pk).update(
        received_at=F("received_at") - delta,
        acknowledge_due=F("acknowledge_due") - delta,
        acknowledged_at=F("acknowledged_at") - delta,
        update_due=F("update_due") - delta,
        last_update_at=F("last_update_at") - delta,
        decided_at=F("decided_at") - delta,
        closed_at=F("closed_at") - delta,
        next_due_at=F("next_due_at") - delta,
        next_alert_at=F("next_alert_at") - delta,
    )
    Report.objects.filter(case=case).update(received_at=F("received_at") - delta)
    Message.objects.filter(case=case).update(created_at=F("created_at") - delta)
    return fresh(case)


def acknowledge(case, by, kind=MessageKind.ACKNOWLEDGEMENT):
    team_domain.message_reporter(fresh(case), case.reports.get(), author=by.user, body="Thank you.", kind=kind)
    return fresh(case)
