"""The queue's counts per state, from one prepared statement, agree with counting ``visible_to`` state by state."""

import pytest
from django.utils import timezone

from cocdesk.cases.domain import queries
from cocdesk.cases.domain.queries import capped_counts
from cocdesk.cases.domain.workflow import assign
from cocdesk.cases.enums import CaseState
from cocdesk.cases.models import Case
from cocdesk.orgs.access import forget
from tests.factories import member
from tests.sight import ACCOUNTS, account_of

pytestmark = pytest.mark.django_db

FILTERS = [
    {},
    {"urgent": True},
    {"overdue": True},
    {"fallback": True},
    {"mine": True},
    {"unassigned": True},
    {"space": True, "urgent": True},
]


def _orm_counts(user, now, *, space_id=None, urgent=False, overdue=False, fallback=False, mine=False, unassigned=False):
    cases = Case.objects.visible_to(user).filter(is_erased=False)
    if space_id is not None:
        cases = cases.filter(space_id=space_id)
    if urgent:
        cases = cases.filter(is_urgent=True)
    if overdue:
        cases = cases.filter(next_due_at__lt=now)
    if fallback:
        cases = cases.filter(under_fallback=True)
    if mine:
        cases = cases.filter(assignees__user=user)
    if unassigned:
        cases = cases.filter(assignees=None)
    return {state: min(cases.filter(state=state).count(), queries.COUNT_CAP + 1) for state in CaseState.values}


@pytest.mark.parametrize("kind", ACCOUNTS)
def test_the_counts_agree_with_visible_to_under_every_filter(world, kind):
    organization, _other, keynote, _online, cases = world
    user = account_of(world, kind)
    Case.objects.filter(pk=cases["keynote"].pk).update(is_urgent=True, state=CaseState.INVESTIGATING)
    Case.objects.filter(pk=cases["no space"].pk).update(next_due_at=timezone.now() - timezone.timedelta(hours=1))
    membership = user.memberships.filter(organization=organization).first()
    if membership is not None and membership.handles_cases:
        lead = member(organization, "lead")
        seen = Case.objects.visible_to(user).filter(pk__in=[cases["online"].pk, cases["keynote"].pk]).first()
        assign(seen, [membership], by=lead.user)
    forget()
    now = timezone.now()
    for chosen in FILTERS:
        filters = {name: chosen.get(name, False) for name in ("urgent", "overdue", "fallback", "mine", "unassigned")}
        filters["space_id"] = keynote.pk if chosen.get("space") else None
        assert capped_counts(user, now=now, **filters) == _orm_counts(user, now, **filters), chosen


def test_counts_stop_just_past_the_cap(world, monkeypatch):
    organization = world[0]
    user = account_of(world, "lead")
    monkeypatch.setattr(queries, "COUNT_CAP", 2)
    Case.objects.filter(organization=organization).update(state=CaseState.NEW)
    counts = capped_counts(user, now=timezone.now())
    assert counts[CaseState.NEW] == 3 and counts[CaseState.CLOSED] == 0
