"""The outputs of a transparency report: the public page with its SVG charts and tables, the Markdown export and
the PDF, from figures of the shape drafting produces (a small count already the words "fewer than 3")."""

import re

import pypdfium2
import pytest
from django.utils import timezone

from cocdesk.transparency import charts
from cocdesk.transparency.enums import ReportState
from cocdesk.transparency.models import TransparencyReport
from tests.factories import OrganizationFactory, member
from tests.team import log_in

pytestmark = pytest.mark.django_db

FEWER = "fewer than 3"


def sample_figures():
    """Figures as drafting writes them, with withheld counts in every list and a timing it could not say."""
    return {
        "threshold": 3,
        "period": {"label": "PyNorth 2026 (June 2026)"},
        "totals": {"reports": 47, "cases": 42, "people_reported": 31},
        "by_category": [
            {"label": "Harassment", "count": 17},
            {"label": "Unwelcome comments", "count": 11},
            {"label": "Intimidation", "count": 9},
            {"label": "Other", "count": 5},
        ],
        "by_finding": [
            {"label": "A violation of the Code of Conduct", "count": 29},
            {"label": "Not a violation", "count": 8},
            {"label": "Out of scope", "count": FEWER},
            {"label": "Not enough information", "count": FEWER},
        ],
        "by_action": [
            {"label": "Verbal warning", "count": 14},
            {"label": "Removed from the event", "count": 6},
            {"label": "Banned", "count": FEWER},
        ],
        "appeals": [{"label": "Upheld", "count": FEWER}, {"label": "Overturned", "count": FEWER}],
        "timing": {
            "acknowledgement": {"median_hours": 5.2, "p90_hours": 20.1},
            "follow_up": {"median_days": None, "p90_days": None},
            "promises_kept": {"acknowledged_in_time": 40, "followed_up_in_time": 37, "of": 42},
        },
    }


def sample_lines():
    return [
        {"text": "Harassment: a violation of the Code of Conduct; verbal warning", "month": "June 2026"},
        {"text": "Intimidation: not a violation; no action", "month": "June 2026"},
    ]


def make_report(organization, state=ReportState.PUBLISHED, **extra):
    fields = {
        "title": "PyNorth 2026 transparency report",
        "period_start": "2026-06-01",
        "period_end": "2026-06-30",
        "state": state,
        "figures": sample_figures(),
        "lines": sample_lines(),
        "narrative": "Thank you to everyone who reported.\n\nWe answered most reports within a day.",
        "published_at": timezone.now() if state == ReportState.PUBLISHED else None,
    }
    fields.update(extra)
    return TransparencyReport.objects.create(organization=organization, **fields)


def page_url(report, suffix=""):
    return f"/o/{report.organization.slug}/transparency/{report.pk}/{suffix}"


# --- what the public reads -----------------------------------------------------------------------------------------


def pdf_text(content):
    document = pypdfium2.PdfDocument(content)
    try:
        return "\n".join(document[index].get_textpage().get_text_range() for index in range(len(document)))
    finally:
        document.close()


def first_page_image(content):
    document = pypdfium2.PdfDocument(content)
    try:
        return document[0].render(scale=1.5).to_pil()
    finally:
        document.close()


def withheld_counts_shown_as_numbers(text):
    """Every number that stands where a withheld count stood: the labels of withheld rows followed by a digit."""
    figures = sample_figures()
    withheld = [
        row["label"]
        for key in ("by_category", "by_finding", "by_action", "appeals")
        for row in figures[key]
        if row["count"] == FEWER
    ]
    return [label for label in withheld if re.search(re.escape(label) + r"\W{0,40}\d", text)]


def test_the_page_shows_each_chart_named_and_described_with_its_table(client, organization):
    report = make_report(organization)

    response = client.get(page_url(report))

    assert response.status_code == 200
    html = response.content.decode()
    for key in ("by_category", "by_finding", "by_action", "acknowledgement", "follow_up"):
        svg = re.search(rf'<svg[^>]*id="chart-{key}".*?</svg>', html, re.DOTALL)
        assert svg, f"no chart {key}"
        markup = svg.group(0)
        assert 'role="img"' in markup
        assert f'aria-labelledby="chart-{key}-title chart-{key}-desc"' in markup
        assert re.search(rf'<title id="chart-{key}-title">[^<]+</title>', markup)
        assert re.search(rf'<desc id="chart-{key}-desc">[^<]+</desc>', markup)
        assert "style=" not in markup and "<script" not in markup
    # The numbers as text too: a table for each chart, and for the totals, the appeals and the promises kept.
    assert html.count('<table class="figures">') == 8
    assert '<th scope="row">Harassment</th><td data-label="Cases">17</td>' in html
    assert "Median, 5.2 hours" not in html  # the desc says it in words: "Median: 5.2 hours"
    assert "Median: 5.2 hours; 90th percentile: 20.1 hours" in html
    assert "Thank you to everyone who reported." in html
    assert "Harassment: a violation of the Code of Conduct; verbal warning" in html


def test_a_withheld_count_is_never_drawn_or_written_as_a_number(client, organization):
    report = make_report(organization)

    html = client.get(page_url(report)).content.decode()
    markdown = client.get(page_url(report, "report.md")).content.decode()

    actions = re.search(r'<svg[^>]*id="chart-by_action".*?</svg>', html, re.DOTALL).group(0)
    # The banned row's bar is hatched (no length of its own) and labelled with the words alone.
    assert 'fill="url(#chart-by_action-hatch)"' in actions
    assert 'stroke-dasharray="4 3"' in actions
    assert ">fewer than 3</text>" in actions
    assert "Banned: fewer than 3 cases" in actions
    assert '<th scope="row">Banned</th><td data-label="Cases">fewer than 3</td>' in html
    assert "| Banned | fewer than 3 |" in markdown
    assert withheld_counts_shown_as_numbers(re.sub(r"<[^>]+>", " ", html)) == []
    assert withheld_counts_shown_as_numbers(markdown) == []


def test_bar_lengths_follow_the_counts_and_a_withheld_bar_reaches_only_the_threshold():
    svg = charts.bar_chart_svg("Cases", [{"label": "A", "count": 10}, {"label": "B", "count": 5}, ("C", FEWER)])
    widths = [float(width) for width in re.findall(r'<rect x="0" y="\d+" width="([\d.]+)" height="16"', svg)]
    assert widths[0] == pytest.approx(2 * widths[1])
    assert widths[2] == pytest.approx(widths[0] * 3 / 10)
    assert "C: fewer than 3 cases" in svg


def test_chart_text_is_escaped():
    svg = charts.bar_chart_svg('<script>alert("x")</script>', [{"label": "<b>bold</b> & co", "count": 4}])
    assert "<script>" not in svg and "<b>" not in svg
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in svg


def test_empty_figures_draw_a_chart_that_says_so():
    assert "None in this period." in charts.bar_chart_svg("Cases by action", [])
    timing = charts.timing_chart_svg("Time", [("Median", None), ("90th percentile", None)])
    assert "Not enough cases to say." in timing and 'role="img"' in timing


def test_the_markdown_gives_the_charts_as_tables(client, organization):
    report = make_report(organization, lines=[{"text": "Other | merged: <em>no action</em>", "month": "June 2026"}])

    response = client.get(page_url(report, "report.md"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    text = response.content.decode()
    assert text.startswith("# PyNorth 2026 transparency report\n")
    assert "## Cases by category\n\n| Category | Cases |\n|---|--:|\n| Harassment | 17 |" in text
    assert "| Median | 5.2 hours |" in text
    assert "| Median | not enough cases to say |" in text
    assert "| The team's promise | 24 hours |" in text
    assert "- June 2026: Other | merged: &lt;em>no action&lt;/em>" in text
    assert "<svg" not in text


def test_the_pdf_renders_its_first_page_with_the_charts(client, organization):
    report = make_report(organization)

    response = client.get(page_url(report, "report.pdf"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    content = response.content
    assert content.startswith(b"%PDF-")
    image = first_page_image(content).convert("L")
    low, high = image.getextrema()
    assert (low, high) != (255, 255), "the first page is blank"
    # Ink covers a real share of the page (title, text and at least one chart), not a stray mark.
    histogram = image.histogram()
    inked = sum(histogram[:128]) / (image.width * image.height)
    assert inked > 0.01, f"only {inked:.2%} of the first page is inked"
    text = pdf_text(content)
    assert "PyNorth 2026 transparency report" in text
    assert "Cases by category" in text and "Harassment" in text
    assert "fewer than 3" in text
    assert withheld_counts_shown_as_numbers(text) == []


# --- who reaches what ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", [ReportState.DRAFT, ReportState.IN_REVIEW, ReportState.APPROVED])
def test_an_unpublished_report_is_not_public(client, organization, state):
    report = make_report(organization, state=state)

    for suffix in ("", "report.md", "report.pdf"):
        assert client.get(page_url(report, suffix)).status_code == 404
    listing = client.get(f"/o/{organization.slug}/transparency/")
    assert listing.status_code == 200
    assert report.title not in listing.content.decode()


def test_another_organizations_report_is_not_reached_through_this_one(client, organization):
    other = OrganizationFactory()
    report = make_report(other)

    assert client.get(f"/o/{organization.slug}/transparency/{report.pk}/").status_code == 404
    assert client.get(page_url(report)).status_code == 200


def test_the_list_links_the_published_reports_and_the_organization_page_links_the_list(client, organization):
    published = make_report(organization, title="PyNorth 2025 transparency report")
    make_report(organization, state=ReportState.DRAFT, title="PyNorth 2026 draft")

    listing = client.get(f"/o/{organization.slug}/transparency/").content.decode()
    public_page = client.get(f"/o/{organization.slug}/").content.decode()

    assert f'href="{page_url(published)}"' in listing
    assert "PyNorth 2026 draft" not in listing
    assert f'href="/o/{organization.slug}/transparency/"' in public_page


def test_the_list_runs_the_same_queries_for_one_report_and_for_several(client, organization):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_report(organization)
    with CaptureQueriesContext(connection) as one:
        client.get(f"/o/{organization.slug}/transparency/")
    for number in range(3):
        make_report(organization, title=f"Report {number}")
    with CaptureQueriesContext(connection) as several:
        listing = client.get(f"/o/{organization.slug}/transparency/")

    assert listing.content.decode().count('href="/o/') >= 4
    assert len(several.captured_queries) == len(one.captured_queries)


@pytest.mark.parametrize("role", ["responder", "lead", "admin"])
def test_the_team_downloads_a_draft(client, organization, role):
    report = make_report(organization, state=ReportState.DRAFT)
    log_in(client, member(organization, role).user)

    markdown = client.get(f"/desk/orgs/{organization.slug}/transparency/{report.pk}/export.md")
    pdf = client.get(f"/desk/orgs/{organization.slug}/transparency/{report.pk}/export.pdf")

    assert markdown.status_code == 200 and markdown.content.decode().startswith("# PyNorth 2026")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert "a draft, not yet published" in pdf_text(pdf.content)


@pytest.mark.parametrize("role", ["staff", "fallback", "outsider", "other organization's lead"])
def test_a_draft_download_is_denied_with_404_to_anyone_else(client, organization, role):
    report = make_report(organization, state=ReportState.DRAFT)
    if role == "outsider":
        from tests.factories import UserFactory

        user = UserFactory()
    elif role == "other organization's lead":
        user = member(OrganizationFactory(), "lead").user
    else:
        user = member(organization, role).user
    log_in(client, user)
    before = TransparencyReport.objects.values().get(pk=report.pk)

    for suffix in ("export.md", "export.pdf"):
        assert client.get(f"/desk/orgs/{organization.slug}/transparency/{report.pk}/{suffix}").status_code == 404
    assert TransparencyReport.objects.values().get(pk=report.pk) == before


def test_a_space_scoped_responder_downloads_only_reports_of_the_spaces_they_cover(client, organization, space):
    from tests.factories import SpaceFactory

    other_space = SpaceFactory(organization=organization)
    covered = make_report(organization, state=ReportState.DRAFT, space=space)
    uncovered = make_report(organization, state=ReportState.DRAFT, space=other_space)
    period = make_report(organization, state=ReportState.DRAFT)
    responder = member(organization, "responder")
    responder.spaces.add(space)
    log_in(client, responder.user)

    base = f"/desk/orgs/{organization.slug}/transparency"
    assert client.get(f"{base}/{covered.pk}/export.md").status_code == 200
    assert client.get(f"{base}/{uncovered.pk}/export.md").status_code == 404
    assert client.get(f"{base}/{period.pk}/export.md").status_code == 404


# --- no identifying detail reaches the outputs ---------------------------------------------------------------------

CANARIES = {
    "reporter_name": "Quillon Marchbanks",
    "reporter_email": "quillon.canary@example.net",
    "reporter_other_contact": "Slack: @quillon-canary",
    "reported_name": "Zyxwarble Thistlewood",
    "reported_nicknames": "Moonfrond",
    "reported_screen_names": "Discord: @moonfrond_canary",
    "reported_badge_number": "B-77341",
    "reported_company": "Canaryco Widgets",
    "location": "Room Q-913",
    "others_involved": "Vellamy Ortolan saw it",
}
CANARY_PHRASE = "spilled the tangerine umbrella across the velvet staircase"


def seed_canary_cases(organization, space, count=6):
    from tests.factories import report_case

    cases = []
    for number in range(count):
        answers = dict(CANARIES)
        answers["reporter_email"] = f"quillon.canary{number}@example.net"
        case, _receipt = report_case(
            organization,
            description=f"During the social they {CANARY_PHRASE} and shouted at me ({number}).",
            space=space,
            **answers,
        )
        cases.append(case)
    return cases


def canaries_in(text):
    words = [*CANARIES.values(), CANARY_PHRASE, "quillon", "zyxwarble", "moonfrond", "77341", "canaryco", "vellamy"]
    lowered = text.lower()
    return [word for word in words if word.lower() in lowered]


def outputs_of(client, report):
    html = client.get(page_url(report)).content.decode()
    markdown = client.get(page_url(report, "report.md")).content.decode()
    pdf = pdf_text(client.get(page_url(report, "report.pdf")).content)
    return {"page": html, "markdown": markdown, "pdf": pdf}


def test_the_public_outputs_read_no_case_table(client, organization, space):
    """The page and its exports are drawn from the report alone: not one query reaches a case, a report or a
    person, so nothing recorded in the cases can leak into them, whatever the figures."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    seed_canary_cases(organization, space, count=2)
    report = make_report(organization)

    with CaptureQueriesContext(connection) as captured:
        outputs = outputs_of(client, report)

    tables = " ".join(query["sql"] for query in captured.captured_queries).lower()
    for prefix in ("cases_", "people_", "sanctions_"):
        assert f'"{prefix}' not in tables, f"a public output read a {prefix} table"
    for name, text in outputs.items():
        assert canaries_in(text) == [], name


def test_a_drafted_and_published_report_holds_none_of_the_canaries(client, organization, space):
    drafts = pytest.importorskip("cocdesk.transparency.domain.drafts")
    lead = member(organization, "lead").user
    cases = seed_canary_cases(organization, space)
    first = min(case.received_at for case in cases).date()

    report = drafts.draft_report(
        organization,
        by=lead,
        title="Main conference transparency report",
        space=space,
        period_start=first,
        period_end=timezone.now().date(),
    )
    TransparencyReport.objects.filter(pk=report.pk).update(state=ReportState.PUBLISHED, published_at=timezone.now())

    outputs = outputs_of(client, report)
    assert "Main conference transparency report" in outputs["page"]
    assert "<svg" in outputs["page"]
    for name, text in outputs.items():
        assert canaries_in(text) == [], name
