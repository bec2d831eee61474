"""Temporary sanctions end on their own, on a controlled clock (``expiry.run(now=...)``): the leads who may see the
case hear of it ``sanction_notice_days`` before, once (a recused lead never); at its end it expires, audited per
sanction. An idle pass costs one query, and the minute clock runs it."""

from datetime import timedelta
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cocdesk.common.models import AuditEvent
from cocdesk.notify.models import Notification
from cocdesk.sanctions.domain import expiry
from cocdesk.sanctions.domain.restriction import check_restriction
from cocdesk.sanctions.enums import SanctionKind, SanctionState
from cocdesk.sanctions.models import Sanction
from tests.factories import OrganizationFactory, SpaceFactory, member
from tests.sanctions.factories_registry import decided_case, person, recused, sanction

D = timedelta(days=1)
M = timedelta(minutes=1)
DESCRIPTION = "Canary-Expiry-5c7e: he followed me to my hotel."
EMAIL = "expiring.person@example.net"


@pytest.fixture
def team_of(db):
    organization = OrganizationFactory()
    here = SpaceFactory(organization=organization, name="Here")
    elsewhere = SpaceFactory(organization=organization, name="Elsewhere")
    elsewhere_lead = member(organization, "lead", username="eli-elsewhere-lead")
    elsewhere_lead.spaces.add(elsewhere)
    here_lead = member(organization, "lead", username="hal-here-lead")
    here_lead.spaces.add(here)
    return SimpleNamespace(
        organization=organization,
        here=here,
        lead=member(organization, "lead", username="lea-lead"),
        here_lead=here_lead,
        recused_lead=member(organization, "lead", username="ros-recused-lead"),
        elsewhere_lead=elsewhere_lead,
        responder=member(organization, "responder", username="rui-responder"),
        fallback=member(organization, "fallback", username="fen-fallback"),
        staff=member(organization, "staff", username="sam-staff"),
        admin=member(organization, "admin", username="ada-admin"),
    )


def temporary_ban(team_of, ends_at):
    case, decision = decided_case(team_of.organization, space=team_of.here, description=DESCRIPTION)
    recused(case, team_of.recused_lead)
    subject = person(team_of.organization, "Expiring Person", email=EMAIL)
    made = sanction(team_of.organization, subject=subject, decision=decision, spaces=[team_of.here], ends_at=ends_at)
    return case, made


def told(made):
    notifications = Notification.objects.filter(kind=expiry.NOTICE_KIND).select_related("recipient")
    return sorted(n.recipient.username for n in notifications if n.body.find(made.person.code_name) >= 0)


def fresh(made):
    return Sanction.objects.get(pk=made.pk)


def test_the_leads_are_told_once_before_the_end_and_it_expires_at_its_end(team_of):
    ends_at = timezone.now() + 20 * D
    case, made = temporary_ban(team_of, ends_at)
    notice_at = ends_at - team_of.organization.sanction_notice_days * D

    assert expiry.run(now=notice_at - M) == {"noticed": 0, "expired": 0}
    assert told(made) == []

    assert expiry.run(now=notice_at) == {"noticed": 1, "expired": 0}
    # The leads who may see the case: not the recused one, not the one of another space, not a responder.
    assert told(made) == ["hal-here-lead", "lea-lead"]
    assert fresh(made).expiry_notice_sent_at == notice_at
    assert fresh(made).state == SanctionState.ACTIVE
    notice = AuditEvent.objects.get(action="sanction.expiry_notice")
    assert notice.case_id == case.pk and notice.detail["told"] == 2

    # Once only.
    for now in (notice_at + M, ends_at - D, ends_at - M):
        assert expiry.run(now=now) == {"noticed": 0, "expired": 0}
    assert len(told(made)) == 2

    assert expiry.run(now=ends_at) == {"noticed": 0, "expired": 1}
    ended = fresh(made)
    assert ended.state == SanctionState.EXPIRED and ended.ended_at == ends_at
    events = list(AuditEvent.objects.filter(action="sanction.expired"))
    assert len(events) == 1
    assert events[0].case_id == case.pk and events[0].detail["sanction"] == made.pk

    # Nothing more to do, ever.
    assert expiry.run(now=ends_at + 30 * D) == {"noticed": 0, "expired": 0}


def test_the_notice_holds_no_case_content_and_links_to_the_registry(team_of):
    ends_at = timezone.now() + 3 * D
    case, made = temporary_ban(team_of, ends_at)
    expiry.run(now=timezone.now())
    notifications = list(Notification.objects.filter(kind=expiry.NOTICE_KIND))
    assert notifications
    for notification in notifications:
        assert notification.case_id == case.pk
        text = notification.subject + notification.body
        assert DESCRIPTION not in text and EMAIL not in text and "Expiring Person" not in text
        assert case.reference not in text
        assert f"/desk/orgs/{team_of.organization.slug}/sanctions/" in notification.body
        assert made.person.code_name in notification.body


def test_each_organization_uses_its_own_notice_period(team_of):
    team_of.organization.sanction_notice_days = 2
    team_of.organization.save(update_fields=["sanction_notice_days"])
    ends_at = timezone.now() + 10 * D
    _case, made = temporary_ban(team_of, ends_at)
    assert expiry.run(now=ends_at - 7 * D) == {"noticed": 0, "expired": 0}
    assert expiry.run(now=ends_at - 2 * D) == {"noticed": 1, "expired": 0}
    assert told(made) == ["hal-here-lead", "lea-lead"]


def test_a_sanction_that_ends_before_its_notice_was_sent_simply_expires(team_of):
    ends_at = timezone.now() + D
    _case, made = temporary_ban(team_of, ends_at)
    assert expiry.run(now=ends_at + M) == {"noticed": 0, "expired": 1}
    assert fresh(made).state == SanctionState.EXPIRED


def test_permanent_overturned_and_given_once_sanctions_never_expire(team_of):
    subject = person(team_of.organization, "Someone Lasting")
    now = timezone.now()
    permanent = sanction(team_of.organization, subject=subject, permanent=True, all_spaces=True)
    overturned = sanction(
        team_of.organization, subject=subject, ends_at=now - D, state=SanctionState.OVERTURNED, spaces=[team_of.here]
    )
    warning = sanction(team_of.organization, subject=subject, kind=SanctionKind.VERBAL_WARNING)
    assert expiry.run(now=now + 400 * D) == {"noticed": 0, "expired": 0}
    assert [fresh(s).state for s in (permanent, overturned, warning)] == [
        SanctionState.ACTIVE,
        SanctionState.OVERTURNED,
        SanctionState.ACTIVE,
    ]


def test_an_expired_ban_no_longer_restricts(team_of):
    ends_at = timezone.now() + 5 * D
    _case, _made = temporary_ban(team_of, ends_at)
    assert check_restriction(team_of.organization, by=team_of.staff.user, value=EMAIL).restricted
    expiry.run(now=ends_at)
    assert not check_restriction(team_of.organization, by=team_of.staff.user, value=EMAIL).restricted


def test_many_due_sanctions_are_handled_in_one_pass_with_the_same_queries(team_of):
    def pass_queries(count):
        ends_at = timezone.now() + 3 * D
        for index in range(count):
            temporary_ban(team_of, ends_at + index * M)
        with CaptureQueriesContext(connection) as captured:
            result = expiry.run(now=timezone.now())
        assert result == {"noticed": count, "expired": 0}
        return len(captured.captured_queries)

    assert pass_queries(1) == pass_queries(4)


def test_an_idle_pass_costs_one_indexed_query(team_of):
    now = timezone.now()
    temporary_ban(team_of, now + 60 * D)  # far from its notice
    subject = person(team_of.organization, "Someone Else")
    sanction(team_of.organization, subject=subject, permanent=True, all_spaces=True)
    sanction(team_of.organization, subject=subject, ends_at=now - D, state=SanctionState.EXPIRED, all_spaces=True)
    noticed = sanction(team_of.organization, subject=subject, ends_at=now + 2 * D, all_spaces=True)
    Sanction.objects.filter(pk=noticed.pk).update(expiry_notice_sent_at=now - D)

    with CaptureQueriesContext(connection) as captured:
        assert expiry.run(now=now) == {"noticed": 0, "expired": 0}
    assert len(captured.captured_queries) == 1
    sql = captured.captured_queries[0]["sql"]
    assert "ends_at" in sql

    with connection.cursor() as cursor:
        query = expiry.due(now).values_list("pk", flat=True)[: expiry.BATCH_SIZE].query
        compiled, params = query.sql_with_params()
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + compiled, params)
            plan = " ".join(str(row) for row in cursor.fetchall())
            assert "sanction_expiry" in plan, plan


def test_the_minute_clock_runs_the_expiry_pass(team_of):
    _case, made = temporary_ban(team_of, timezone.now() - M)
    out = StringIO()
    call_command("sweep_deadlines", stdout=out)
    assert fresh(made).state == SanctionState.EXPIRED
    assert "1 expired" in out.getvalue()
