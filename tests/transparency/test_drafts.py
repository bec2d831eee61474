"""Drafting a transparency report over a generated conference of 40 cases: the figures match the data, small counts
are words, the lines are built from labels alone, and only a member who sees every case of the period may draft."""

import math
import statistics

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cocdesk.cases.domain.recusal import recuse
from cocdesk.cases.enums import RecusalReason, RecusalSource
from cocdesk.common.models import AuditEvent
from cocdesk.transparency.domain.drafts import RECUSED, draft_report
from cocdesk.transparency.enums import ReportState
from cocdesk.transparency.models import TransparencyReport
from tests.factories import SpaceFactory, member
from tests.transparency.conference import DESCRIPTIONS, NICKNAME, PHRASE, build_conference

pytestmark = pytest.mark.django_db
FEWER = "fewer than 3"


@pytest.fixture
def conference():
    return build_conference()


def draft(world, by=None, **extra):
    fields = {"title": "PyNorth 2026 transparency report", "period_start": world.start, "period_end": world.end}
    return draft_report(world.organization, by=by or world.lead.user, **{**fields, **extra})


def nearest_rank(values, fraction):
    ordered = sorted(values)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


def test_the_figures_match_the_conference(conference):
    report = draft(conference, space=conference.space)

    figures = report.figures
    assert report.state == ReportState.DRAFT and report.drafted_by == conference.lead.user
    assert figures["threshold"] == 3
    assert figures["period"] == {"label": "PyNorth 2026 (June 2026)"}
    assert figures["totals"] == {"reports": 40, "cases": 40, "people_reported": 40}
    assert figures["by_category"] == [
        {"label": "Harassment", "count": 14},
        {"label": "Unwelcome sexual attention", "count": 8},
        {"label": "Discriminatory language or jokes", "count": 6},
        {"label": "Intimidation or threats", "count": 5},
        {"label": "Stalking or following", "count": FEWER},
        {"label": "Unwanted photography or recording", "count": FEWER},
        {"label": "Disruption of talks or events", "count": 4},
    ]
    # Undetermined and out of scope have 2 each: "fewer than 3" twice with 4 between them would say 2 and 2.
    assert figures["by_finding"] == [
        {"label": "A violation of the Code of Conduct", "count": 20},
        {"label": "Not a violation", "count": 6},
        {"label": "Other findings", "count": 4},
    ]
    assert figures["by_action"] == [
        {"label": "Verbal warning", "count": 10},
        {"label": "Private reprimand", "count": 4},
        {"label": "Ban", "count": 3},
        {"label": "Expulsion from an event", "count": FEWER},
        {"label": "Presentation stopped", "count": FEWER},
    ]
    assert figures["appeals"] == [{"label": "Upheld", "count": FEWER}]

    hours = [2 + index % 30 for index in range(40)]
    days = [1 + index % 10 for index in range(40)]
    timing = figures["timing"]
    assert timing["acknowledgement"] == {
        "median_hours": round(statistics.median(hours), 1),
        "p90_hours": round(nearest_rank(hours, 0.9), 1),
    }
    assert timing["follow_up"] == {
        "median_days": round(statistics.median(days), 1),
        "p90_days": round(nearest_rank(days, 0.9), 1),
    }
    assert timing["promises_kept"] == {
        "acknowledged_in_time": sum(1 for hour in hours if hour <= 24),
        "followed_up_in_time": sum(1 for day in days if day <= 7),
        "of": 40,
    }


def test_the_lines_say_labels_and_months_only(conference):
    report = draft(conference)

    assert len(report.lines) == 40
    assert {line["month"] for line in report.lines} == {"June 2026"}
    texts = [line["text"] for line in report.lines]
    assert "Harassment: a violation of the Code of Conduct; verbal warning" in texts
    assert "Intimidation or threats: no finding yet; no action" in texts
    # Categories and actions the figures withhold are not named: counting lines would give their numbers away.
    assert not any("Stalking" in text or "photography" in text or "Expulsion" in text.capitalize() for text in texts)
    assert any(text.startswith("Another category:") for text in texts)
    assert sum("other findings" in text for text in texts) == 4
    written = " ".join(texts).casefold()
    for words in [PHRASE, NICKNAME, *DESCRIPTIONS, "main hall"]:
        assert words.casefold().rstrip(".") not in written


def test_a_period_report_covers_every_space_and_says_its_months(conference):
    other_space = SpaceFactory(organization=conference.organization, name="Meetups")
    from tests.factories import report_case

    report_case(conference.organization, space=other_space)  # received now: outside June
    report = draft(conference, period_start=conference.start.replace(month=1), period_end=conference.end)

    assert report.figures["period"] == {"label": "January-June 2026"}
    assert report.figures["totals"]["cases"] == 40
    events = AuditEvent.objects.filter(action="transparency.drafted", organization=conference.organization)
    assert [event.detail["report"] for event in events] == [report.pk]


def test_a_small_conference_says_fewer_than_three_and_no_timing(organization, space):
    lead = member(organization, "lead")
    from tests.factories import report_case

    case, _receipt = report_case(organization, space=space)
    day = case.received_at.date()
    report = draft_report(organization, by=lead.user, title="Tiny", space=space, period_start=day, period_end=day)

    figures = report.figures
    assert figures["totals"] == {"reports": FEWER, "cases": FEWER, "people_reported": FEWER}
    assert figures["by_category"] == [{"label": "Other", "count": FEWER}]
    assert figures["timing"]["acknowledgement"] == {"median_hours": None, "p90_hours": None}
    assert figures["timing"]["promises_kept"]["of"] == FEWER


def test_a_recused_member_may_not_draft(conference):
    recuse(
        conference.cases[5],
        conference.lead,
        reason=RecusalReason.CO_WORKER,
        source=RecusalSource.DECLARED,
        by=conference.lead.user,
    )

    with pytest.raises(ValidationError) as refused:
        draft(conference)

    assert refused.value.messages == [RECUSED]
    assert conference.cases[5].reference not in RECUSED
    assert not TransparencyReport.objects.exists()
    # Another lead, recused from nothing, may.
    assert draft(conference, by=conference.responder.user).figures["totals"]["cases"] == 40


def test_members_outside_the_team_or_its_scope_may_not_draft(conference):
    scoped = member(conference.organization, "lead", username="scoped-lead")
    other = SpaceFactory(organization=conference.organization, name="Other event")
    scoped.spaces.add(other)

    for user in [conference.admin.user, member(conference.organization, "staff").user]:
        with pytest.raises(PermissionDenied):
            draft(conference, by=user)
    with pytest.raises(ValidationError):
        draft(conference, by=scoped.user)
    with pytest.raises(ValidationError):
        draft(conference, by=scoped.user, space=conference.space)
    with pytest.raises(ValidationError):
        draft(conference, title="  ")
    with pytest.raises(ValidationError):
        draft(conference, period_start=conference.end, period_end=conference.start)
    assert not TransparencyReport.objects.exists()


def test_drafting_runs_the_same_queries_for_few_and_many_cases(conference):
    day = conference.cases[0].received_at.date()
    with CaptureQueriesContext(connection) as one_day:
        draft(conference, period_start=day, period_end=day)
    with CaptureQueriesContext(connection) as month:
        draft(conference)
    assert len(one_day.captured_queries) == len(month.captured_queries)
