"""A transparency report's way to the public, through the domain functions and the desk pages: words that match the
period's cases are refused before they are stored (and kept in the form), the drafter never reviews, only an admin
publishes, and publishing checks once more."""

import re
from html import unescape

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.html import strip_tags

from cocdesk.cases.domain.recusal import recuse
from cocdesk.cases.enums import RecusalReason, RecusalSource
from cocdesk.common.models import AuditEvent
from cocdesk.people.domain.registry import add_identifiers
from cocdesk.people.enums import IdentifierKind
from cocdesk.sanctions.models import Decision
from cocdesk.transparency.domain import review
from cocdesk.transparency.domain.drafts import draft_report
from cocdesk.transparency.enums import ReportState
from cocdesk.transparency.models import TransparencyReport
from tests.factories import OrganizationFactory, member
from tests.team import log_in
from tests.transparency.conference import BADGE, NICKNAME, build_conference

pytestmark = pytest.mark.django_db
NARRATIVE = "Thank you to everyone who reported. Most reports were answered within a day."


@pytest.fixture
def conference():
    world = build_conference()
    world.report = draft_report(
        world.organization,
        by=world.lead.user,
        title="PyNorth 2026 transparency report",
        space=world.space,
        period_start=world.start,
        period_end=world.end,
    )
    return world


def page_text(response):
    return re.sub(r"\s+", " ", unescape(strip_tags(response.content.decode()))).strip()


def url(world, suffix=""):
    return f"/desk/orgs/{world.organization.slug}/transparency/{world.report.pk}/{suffix}"


def texts(report):
    return [line["text"] for line in report.lines]


def fresh(report):
    return TransparencyReport.objects.get(pk=report.pk)


def test_the_whole_way_to_publication(conference):
    report = review.update_draft(
        conference.report,
        by=conference.lead.user,
        title="PyNorth 2026: what the team handled",
        narrative=NARRATIVE,
        lines=texts(conference.report),
    )
    report = review.submit_for_review(report, by=conference.lead.user)
    assert report.state == ReportState.IN_REVIEW

    with pytest.raises(PermissionDenied):
        review.review_report(report, by=conference.lead.user, approve=True)
    report = review.review_report(report, by=conference.responder.user, approve=True)
    assert (report.state, report.reviewed_by) == (ReportState.APPROVED, conference.responder.user)

    with pytest.raises(PermissionDenied):
        review.publish_report(report, by=conference.lead.user)
    report = review.publish_report(report, by=conference.admin.user)
    assert report.state == ReportState.PUBLISHED and report.published_by == conference.admin.user

    actions = list(
        AuditEvent.objects.filter(organization=conference.organization, action__startswith="transparency.")
        .exclude(action="transparency.identifying_check")
        .values_list("action", flat=True)
        .order_by("pk")
    )
    assert actions == [
        "transparency.drafted",
        "transparency.edited",
        "transparency.submitted",
        "transparency.approved",
        "transparency.published",
    ]
    for event in AuditEvent.objects.filter(action__startswith="transparency."):
        assert NARRATIVE not in str(event.detail)


@pytest.mark.parametrize(
    "typed", [f"Harassment by {NICKNAME}", f"A ban for badge {BADGE}", "he spilled purple paint across the stage"]
)
def test_a_line_with_an_identifying_detail_is_refused_and_not_stored(conference, typed):
    lines = texts(conference.report)
    lines[3] = typed
    with pytest.raises(review.IdentifyingDetailsFound) as refused:
        review.update_draft(conference.report, by=conference.lead.user, title="T", narrative="", lines=lines)
    assert {hit.where for hit in refused.value.hits} == {"line 4"}
    assert texts(fresh(conference.report)) == texts(conference.report)
    assert fresh(conference.report).title == "PyNorth 2026 transparency report"


def test_a_recused_member_may_neither_edit_nor_review(conference):
    review.submit_for_review(conference.report, by=conference.lead.user)
    recuse(conference.cases[7], conference.responder, reason=RecusalReason.FAMILY, source=RecusalSource.DECLARED)

    with pytest.raises(ValidationError):
        review.review_report(conference.report, by=conference.responder.user, approve=True)
    assert fresh(conference.report).state == ReportState.IN_REVIEW


def test_sending_back_and_publishing_what_now_matches_a_case(conference):
    report = review.update_draft(
        conference.report,
        by=conference.lead.user,
        title="PyNorth 2026",
        narrative="Thanks to quokkaprime.",
        lines=texts(conference.report),
    )
    review.submit_for_review(report, by=conference.lead.user)
    report = review.review_report(report, by=conference.responder.user, approve=False)
    assert report.state == ReportState.DRAFT and report.reviewed_by is None
    review.submit_for_review(report, by=conference.lead.user)
    review.review_report(report, by=conference.responder.user, approve=True)
    # After the review the team records an identifier the narrative happens to hold: publishing refuses it.
    person = Decision.objects.get(case=conference.cases[0], is_current=True).subjects.get()
    add_identifiers(person, [(IdentifierKind.HANDLE, "quokkaprime")])

    with pytest.raises(review.IdentifyingDetailsFound):
        review.publish_report(report, by=conference.admin.user)
    report = fresh(report)
    assert report.state == ReportState.DRAFT and report.published_at is None
    assert AuditEvent.objects.filter(action="transparency.returned").count() == 1


def test_the_desk_pages(client, conference):
    log_in(client, conference.lead.user)
    listing = client.get(f"/desk/orgs/{conference.organization.slug}/transparency/")
    assert listing.status_code == 200 and "PyNorth 2026 transparency report" in page_text(listing)

    page = client.get(url(conference))
    assert page.status_code == 200
    assert "fewer than 3" in page_text(page)

    form = {"title": "PyNorth 2026", "narrative": f"We warned {NICKNAME} twice.", "then": "save"}
    form.update({f"line_{number}": text for number, text in enumerate(texts(conference.report), start=1)})
    refused = client.post(url(conference), form)
    assert refused.status_code == 200
    shown = page_text(refused)
    assert f"{NICKNAME} in the narrative" in shown
    assert f"We warned {NICKNAME} twice." in refused.content.decode()  # what was typed is still there
    assert fresh(conference.report).narrative == ""

    form.update({"narrative": NARRATIVE, "then": "submit"})
    saved = client.post(url(conference), form)
    assert saved.status_code == 302
    assert fresh(conference.report).state == ReportState.IN_REVIEW

    # The drafter may not review; a non-admin may not publish: 404, nothing changes.
    assert client.post(url(conference, "review/"), {"decision": "approve"}).status_code == 404
    log_in(client, conference.responder.user)
    assert client.post(url(conference, "review/"), {"decision": "approve"}).status_code == 302
    assert fresh(conference.report).state == ReportState.APPROVED
    assert client.post(url(conference, "publish/")).status_code == 404
    assert fresh(conference.report).state == ReportState.APPROVED

    log_in(client, conference.admin.user)
    assert client.post(url(conference, "publish/")).status_code == 302
    assert fresh(conference.report).state == ReportState.PUBLISHED


def test_new_drafts_from_the_desk(client, conference):
    log_in(client, conference.lead.user)
    new = f"/desk/orgs/{conference.organization.slug}/transparency/new/"
    typed = {"title": "Half-year", "space": "", "period_start": "2026-06-30", "period_end": "2026-06-01"}
    refused = client.post(new, typed)
    assert refused.status_code == 200 and "The period ends before it starts" in page_text(refused)
    assert 'value="Half-year"' in refused.content.decode()

    made = client.post(new, {"title": "PyNorth 2026", "space": conference.space.pk})
    assert made.status_code == 302
    assert TransparencyReport.objects.filter(title="PyNorth 2026", period_start=conference.space.starts_on).exists()

    recuse(conference.cases[2], conference.lead, reason=RecusalReason.FAMILY, source=RecusalSource.DECLARED)
    recused = client.post(new, {"title": "Again", "space": conference.space.pk})
    assert "you are recused from a case in this period" in page_text(recused).lower()
    assert conference.cases[2].reference not in page_text(recused)


def test_people_outside_the_team_get_404_and_change_nothing(client, conference):
    staff = member(conference.organization, "staff").user
    outsider = member(OrganizationFactory(), "lead").user
    for user in [staff, outsider]:
        log_in(client, user)
        assert client.get(url(conference)).status_code == 404
        assert client.post(url(conference), {"title": "x", "narrative": "y"}).status_code == 404
        assert client.post(url(conference, "submit/")).status_code == 404
        assert client.get(f"/desk/orgs/{conference.organization.slug}/transparency/").status_code == 404
    log_in(client, conference.admin.user)
    assert client.post(url(conference), {"title": "x", "narrative": "y"}).status_code == 404
    assert (
        client.post(f"/desk/orgs/{conference.organization.slug}/transparency/new/", {"title": "x"}).status_code == 404
    )
    report = fresh(conference.report)
    assert (report.title, report.narrative, report.state) == ("PyNorth 2026 transparency report", "", ReportState.DRAFT)
