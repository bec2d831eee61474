"""A report holds one line per case, tens of thousands for a large community's year: the public page, the desk's
preview and the desk's form show them a page at a time, and saving a page changes that page's lines alone."""

import re
from html import unescape

import pytest
from django.utils import timezone
from django.utils.html import strip_tags

from cocdesk.transparency.enums import ReportState
from cocdesk.transparency.models import TransparencyReport
from cocdesk.transparency.rendering import LINES_PER_PAGE
from tests.factories import OrganizationFactory, member
from tests.team import log_in

pytestmark = pytest.mark.django_db
LINE_COUNT = 2 * LINES_PER_PAGE + 50


def numbered_lines(count=LINE_COUNT):
    return [{"text": f"Harassment: case number {number}", "month": "June 2026"} for number in range(1, count + 1)]


def make_report(organization, state, **extra):
    return TransparencyReport.objects.create(
        organization=organization,
        title="A big year",
        period_start="2026-01-01",
        period_end="2026-06-30",
        state=state,
        figures={"threshold": 3, "totals": {"cases": LINE_COUNT}},
        lines=numbered_lines(),
        published_at=timezone.now() if state == ReportState.PUBLISHED else None,
        **extra,
    )


def page_text(response):
    return re.sub(r"\s+", " ", unescape(strip_tags(response.content.decode()))).strip()


def shown_numbers(response):
    return [int(number) for number in re.findall(r"case number (\d+)<", response.content.decode())]


@pytest.fixture
def organization():
    return OrganizationFactory(name="Big Community")


def test_the_public_page_shows_the_lines_a_page_at_a_time(client, organization):
    report = make_report(organization, ReportState.PUBLISHED)
    address = f"/o/{organization.slug}/transparency/{report.pk}/"

    first = client.get(address)
    assert shown_numbers(first) == list(range(1, LINES_PER_PAGE + 1))
    assert f"Cases 1 to {LINES_PER_PAGE} of {LINE_COUNT}" in page_text(first)
    assert 'href="?lines=2#section-lines"' in first.content.decode()

    last = client.get(address, {"lines": 3})
    assert shown_numbers(last) == list(range(2 * LINES_PER_PAGE + 1, LINE_COUNT + 1))
    assert 'href="?lines=2#section-lines"' in last.content.decode()
    # A page that is not there gives the nearest one, never an error.
    assert shown_numbers(client.get(address, {"lines": "999"})) == shown_numbers(last)
    assert shown_numbers(client.get(address, {"lines": "two"})) == shown_numbers(first)


def test_a_report_of_few_cases_shows_every_line_without_pages(client, organization):
    report = make_report(organization, ReportState.PUBLISHED)
    TransparencyReport.objects.filter(pk=report.pk).update(lines=numbered_lines(12))
    page = client.get(f"/o/{organization.slug}/transparency/{report.pk}/")
    assert shown_numbers(page) == list(range(1, 13))
    assert "Pages of the cases" not in page.content.decode()


def test_the_desk_edits_one_page_of_lines_and_keeps_the_others(client, organization):
    lead = member(organization, "lead", username="big-lead")
    report = make_report(organization, ReportState.DRAFT, drafted_by=lead.user)
    log_in(client, lead.user)
    address = f"/desk/orgs/{organization.slug}/transparency/{report.pk}/"

    shown = client.get(address, {"lines": 2}).content.decode()
    names = [int(number) for number in re.findall(r'name="line_(\d+)"', shown)]
    assert names == list(range(LINES_PER_PAGE + 1, 2 * LINES_PER_PAGE + 1))
    assert f'name="line_count" value="{LINE_COUNT}"' in shown

    form = {f"line_{number}": f"Harassment: case number {number}" for number in names}
    form.update({"title": "A big year", "narrative": "", "line_count": LINE_COUNT, "then": "save"})
    form[f"line_{LINES_PER_PAGE + 5}"] = "Harassment: a violation; a verbal warning"
    saved = client.post(f"{address}?lines=2", form)
    assert saved.status_code == 302 and saved["Location"].endswith("?lines=2")

    lines = TransparencyReport.objects.get(pk=report.pk).lines
    expected = numbered_lines()
    expected[LINES_PER_PAGE + 4]["text"] = "Harassment: a violation; a verbal warning"
    assert lines == expected


def test_a_page_saved_after_the_lines_changed_is_refused_and_changes_nothing(client, organization):
    lead = member(organization, "lead", username="big-lead")
    report = make_report(organization, ReportState.DRAFT, drafted_by=lead.user)
    log_in(client, lead.user)
    form = {f"line_{number}": "Harassment" for number in range(LINES_PER_PAGE + 1, 2 * LINES_PER_PAGE + 1)}
    form.update({"title": "A big year", "narrative": "", "line_count": LINE_COUNT - 1, "then": "save"})

    refused = client.post(f"/desk/orgs/{organization.slug}/transparency/{report.pk}/?lines=2", form)
    assert refused.status_code == 200
    assert "The lines changed while you edited them" in page_text(refused)
    assert TransparencyReport.objects.get(pk=report.pk).lines == numbered_lines()
