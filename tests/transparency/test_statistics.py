"""The team's statistics: counted over the cases the viewing member may see (a case they are recused from is not
counted anywhere), in the same number of queries for few cases and many."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cocdesk.cases.domain.recusal import recuse
from cocdesk.cases.enums import CaseState, RecusalReason, RecusalSource
from cocdesk.cases.models import Case
from cocdesk.transparency.domain.statistics import team_statistics
from tests.factories import OrganizationFactory, member, report_case
from tests.team import log_in

pytestmark = pytest.mark.django_db
NOW = timezone.make_aware(datetime.datetime(2026, 11, 20, 12, 0))


def file_cases(organization, count, *, month, acknowledged_after_hours=None, state=CaseState.NEW):
    cases = []
    for _ in range(count):
        case, _receipt = report_case(organization)
        received = timezone.make_aware(datetime.datetime(2026, month, 5, 10, 0))
        acknowledged = (
            received + datetime.timedelta(hours=acknowledged_after_hours) if acknowledged_after_hours else None
        )
        Case.objects.filter(pk=case.pk).update(
            received_at=received,
            acknowledge_due=received + datetime.timedelta(hours=24),
            acknowledged_at=acknowledged,
            state=state,
        )
        cases.append(case)
    return cases


@pytest.fixture
def team(db):
    organization = OrganizationFactory()
    lead, responder = member(organization, "lead"), member(organization, "responder")
    file_cases(organization, 3, month=9, acknowledged_after_hours=5, state=CaseState.INVESTIGATING)
    file_cases(organization, 2, month=10, acknowledged_after_hours=30, state=CaseState.ACKNOWLEDGED)
    secret = file_cases(organization, 1, month=11, acknowledged_after_hours=1, state=CaseState.INVESTIGATING)[0]
    recuse(secret, responder, reason=RecusalReason.FAMILY, source=RecusalSource.DECLARED)
    return organization, lead, responder, secret


def test_counts_match_and_a_recused_case_is_not_counted(team):
    organization, lead, responder, _secret = team

    seen_by_lead = team_statistics(lead.user, organization, now=NOW)
    seen_by_responder = team_statistics(responder.user, organization, now=NOW)

    assert dict(seen_by_lead.months)["September 2026"] == 3
    assert dict(seen_by_lead.months)["November 2026"] == 1
    assert dict(seen_by_responder.months)["November 2026"] == 0
    assert len(seen_by_lead.months) == 12 and seen_by_lead.months[-1][0] == "November 2026"
    assert dict(seen_by_lead.open_by_state)["Investigating"] == 4
    assert dict(seen_by_responder.open_by_state)["Investigating"] == 3
    assert seen_by_lead.promises["cases"] == 6 and seen_by_responder.promises["cases"] == 5
    assert seen_by_lead.promises["acknowledged_in_time"] == 4
    assert seen_by_responder.promises["acknowledged_in_time"] == 3
    assert seen_by_lead.acknowledgement == (5.0, 30.0)
    assert seen_by_responder.acknowledgement == (5.0, 30.0)
    assert seen_by_lead.follow_up == (None, None)


def test_the_page_shows_only_what_the_member_sees_in_constant_queries(client, team):
    organization, lead, responder, _secret = team
    address = f"/desk/orgs/{organization.slug}/statistics/"
    log_in(client, responder.user)
    with CaptureQueriesContext(connection) as few:
        page = client.get(address)
    assert page.status_code == 200
    content = page.content.decode()
    assert "Cases received per month" in content and "Promises kept" in content

    file_cases(organization, 10, month=8, acknowledged_after_hours=3)
    with CaptureQueriesContext(connection) as many:
        assert client.get(address).status_code == 200
    assert len(few.captured_queries) == len(many.captured_queries)

    for user in [member(organization, "staff").user, member(organization, "admin").user]:
        log_in(client, user)
        assert client.get(address).status_code == 404
