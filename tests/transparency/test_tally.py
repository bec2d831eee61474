"""Reading a report's cases in one pass (``tally.py``): the related tables are read by organization or by period and
matched to the period's cases by id, so a case of another organization or space, even one whose id falls among the
period's, counts nowhere; a merged duplicate lends its reports only; and the number of queries does not grow with
the number of cases."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cocdesk.cases.domain import content
from cocdesk.cases.enums import CaseState, MessageDirection, MessageKind
from cocdesk.cases.models import Case, Message, Report
from cocdesk.transparency.domain.drafts import compute_figures, draft_report, scope_cases
from cocdesk.transparency.domain.statistics import month_starts
from cocdesk.transparency.domain.tally import tally_cases
from tests.factories import OrganizationFactory, SpaceFactory
from tests.transparency.conference import build_conference

pytestmark = pytest.mark.django_db


@pytest.fixture
def conference():
    return build_conference()


def figures_of(world, space=None):
    return compute_figures(world.organization, space=space, period_start=world.start, period_end=world.end)


def tally_of(world):
    cases = Case.objects.filter(organization=world.organization)
    starts = month_starts(world.start, world.end)
    since = starts[0]
    return tally_cases(world.organization, cases, since=since, month_starts=starts)


def test_drafting_costs_the_same_queries_for_5_and_for_40_cases(conference):
    def draft():
        return draft_report(
            conference.organization,
            by=conference.lead.user,
            title="PyNorth 2026",
            period_start=conference.start,
            period_end=conference.end,
        )

    with CaptureQueriesContext(connection) as forty:
        assert draft().figures["totals"]["cases"] == 40
    Case.objects.filter(pk__in=[case.pk for case in conference.cases[5:]]).update(is_erased=True)
    with CaptureQueriesContext(connection) as five:
        report = draft()
    assert report.figures["totals"]["cases"] == 5 and len(report.lines) == 5
    assert len(five.captured_queries) == len(forty.captured_queries)


def test_a_case_moved_to_another_organization_counts_nowhere_though_its_id_is_among_the_periods(conference):
    figures, lines = figures_of(conference)
    assert figures["totals"] == {"reports": 40, "cases": 40, "people_reported": 40}
    moved = conference.cases[20]  # decided, with a subject and its update message: its id is inside the range read
    Report.objects.create(case=moved, received_at=moved.received_at, channel="web", sealed_content=b"")
    Case.objects.filter(pk=moved.pk).update(organization=OrganizationFactory(name="Elsewhere"))

    figures, fewer_lines = figures_of(conference)
    assert figures["totals"] == {"reports": 39, "cases": 39, "people_reported": 39}
    assert figures["timing"]["promises_kept"]["of"] == 39
    assert len(fewer_lines) == 39
    assert sum(1 for line in lines if line not in fewer_lines) <= 1


def test_a_case_of_another_space_counts_only_in_the_period_report(conference):
    other = SpaceFactory(organization=conference.organization, name="PyNorth meetup")
    Case.objects.filter(pk=conference.cases[7].pk).update(space=other)

    space_figures, space_lines = figures_of(conference, space=conference.space)
    period_figures, period_lines = figures_of(conference)
    assert space_figures["totals"]["cases"] == 39 and space_figures["totals"]["reports"] == 39
    assert len(space_lines) == 39
    assert period_figures["totals"]["cases"] == 40 and len(period_lines) == 40


def test_a_merged_duplicate_lends_its_reports_and_is_counted_as_no_case(conference):
    Case.objects.filter(pk=conference.cases[3].pk).update(state=CaseState.MERGED)

    tally = tally_of(conference)
    assert tally.cases == 39 and tally.reports == 40
    assert sum(tally.line_keys.values()) == 39
    assert sum(tally.categories.values()) == 39


def test_a_case_is_followed_up_by_its_first_follow_up_only(conference):
    before = tally_of(conference)
    case = conference.cases[0]
    first = Message.objects.get(case=case, kind=MessageKind.UPDATE)
    Message.objects.create(
        case=case,
        report=first.report,
        direction=MessageDirection.TO_REPORTER,
        kind=MessageKind.OUTCOME,
        created_at=first.created_at + datetime.timedelta(days=30),
        sealed_body=content.seal(case, "message", {"body": "The outcome."}),
    )
    Message.objects.create(
        case=case,
        report=first.report,
        direction=MessageDirection.FROM_REPORTER,
        kind=MessageKind.OTHER,
        created_at=case.received_at + datetime.timedelta(minutes=5),
        sealed_body=content.seal(case, "message", {"body": "Thanks."}),
    )

    after = tally_of(conference)
    assert sorted(after.follow_up.waits) == sorted(before.follow_up.waits)
    assert len(after.follow_up.waits) == 40
    waits = sorted(after.acknowledgement.waits)
    assert len(waits) == 40 and waits[0] == pytest.approx(2 * 3600, abs=0.01)


def test_a_case_received_at_midnight_on_the_first_falls_into_its_own_month(conference):
    midnight = timezone.make_aware(datetime.datetime(2026, 7, 1))
    Case.objects.filter(pk=conference.cases[0].pk).update(received_at=midnight)
    Case.objects.filter(pk=conference.cases[1].pk).update(received_at=midnight - datetime.timedelta(milliseconds=1))

    _figures, lines = compute_figures(
        conference.organization,
        space=None,
        period_start=datetime.date(2026, 6, 1),
        period_end=datetime.date(2026, 7, 31),
    )
    months = [line["month"] for line in lines]
    assert months.count("July 2026") == 1 and months.count("June 2026") == 39
    assert months[-1] == "July 2026"


@pytest.mark.parametrize("with_space", [False, True])
def test_the_cases_asked_in_table_order_are_the_same_cases(conference, with_space):
    other = OrganizationFactory(name="Elsewhere")
    Case.objects.filter(pk=conference.cases[2].pk).update(organization=other)
    Case.objects.filter(pk=conference.cases[4].pk).update(is_erased=True)
    Case.objects.filter(pk=conference.cases[6].pk).update(space=SpaceFactory(organization=conference.organization))
    scope = {
        "space": conference.space if with_space else None,
        "period_start": conference.start,
        "period_end": conference.end,
    }

    by_index = scope_cases(conference.organization, **scope)
    in_table_order = scope_cases(conference.organization, **scope, in_table_order=True)
    assert sorted(in_table_order.values_list("pk", flat=True)) == sorted(by_index.values_list("pk", flat=True))
    assert by_index.count() == (37 if with_space else 38)
