"""A transparency report as the public reads it: the page's sections with their charts and tables, the Markdown
export and the PDF (WeasyPrint). All three are drawn from the report's title, narrative, lines and its ``figures``
(protected aggregates: a small count is already the words "fewer than N"), so none can show more than the others.
"""

from dataclasses import dataclass, field

from django.core.paginator import Paginator
from django.template.loader import render_to_string
from django.utils.text import slugify

from . import charts

COUNT_SECTIONS = [
    # (figures key, heading, column heading, drawn as a chart)
    ("by_category", "Cases by category", "Category", True),
    ("by_finding", "Cases by finding", "Finding", True),
    ("by_action", "Actions taken", "Action", True),
    ("appeals", "Appeals and their outcomes", "Outcome", False),
]
TOTALS = [("reports", "Reports received"), ("cases", "Cases"), ("people_reported", "People reported")]
# A draft holds one line per case: a year of a large community is tens of thousands, so pages show them in pages.
LINES_PER_PAGE = 100
LINES_PAGE_PARAMETER = "lines"


@dataclass
class CountSection:
    key: str
    title: str
    column: str
    rows: list  # [(label, count or "fewer than N")]
    chart: str = ""

    @property
    def anchor(self):
        return slugify(self.title)


@dataclass
class TimingSection:
    key: str
    title: str
    unit: str
    rows: list  # [(label, value or None)]
    promise: int | None
    chart: str = ""


@dataclass
class Presentation:
    title: str
    period: str
    narrative: str
    threshold: int
    totals: list
    counts: list = field(default_factory=list)
    timings: list = field(default_factory=list)
    promises: list = field(default_factory=list)  # [(label, count or "fewer than N", of)]
    lines: list = field(default_factory=list)  # [(month, text)]


def _pairs(rows):
    return [(row.get("label", ""), row.get("count")) for row in rows or []]


def presentation(report, *, with_charts=True):
    """What the page, the Markdown and the PDF show of ``report``."""
    figures = report.figures or {}
    organization = report.organization
    threshold = figures.get("threshold") or organization.small_count_threshold
    totals = figures.get("totals") or {}
    shown = Presentation(
        title=report.title,
        period=(figures.get("period") or {}).get("label", ""),
        narrative=report.narrative,
        threshold=threshold,
        totals=[(label, totals[key]) for key, label in TOTALS if key in totals],
        lines=[(line.get("month", ""), line.get("text", "")) for line in report.lines or [] if line.get("text")],
    )
    for key, title, column, drawn in COUNT_SECTIONS:
        section = CountSection(key=key, title=title, column=column, rows=_pairs(figures.get(key)))
        if drawn and with_charts:
            section.chart = charts.bar_chart_svg(title, section.rows, chart_id=f"chart-{key}", threshold=threshold)
        shown.counts.append(section)

    timing = figures.get("timing") or {}
    acknowledgement = timing.get("acknowledgement") or {}
    follow_up = timing.get("follow_up") or {}
    shown.timings = [
        TimingSection(
            key="acknowledgement",
            title="Time to acknowledge a report",
            unit="hours",
            rows=[
                ("Median", acknowledgement.get("median_hours")),
                ("90th percentile", acknowledgement.get("p90_hours")),
            ],
            promise=organization.acknowledge_within_hours,
        ),
        TimingSection(
            key="follow_up",
            title="Time to the reporter's follow-up",
            unit="days",
            rows=[("Median", follow_up.get("median_days")), ("90th percentile", follow_up.get("p90_days"))],
            promise=organization.update_within_days,
        ),
    ]
    if with_charts:
        for section in shown.timings:
            section.chart = charts.timing_chart_svg(
                section.title, section.rows, unit=section.unit, promise=section.promise, chart_id=f"chart-{section.key}"
            )
    kept = timing.get("promises_kept") or {}
    if kept:
        of = kept.get("of")
        shown.promises = [
            (
                f"Acknowledged within {organization.acknowledge_within_hours} hours",
                kept.get("acknowledged_in_time"),
                of,
            ),
            (
                f"Told of the outcome or the progress within {organization.update_within_days} days",
                kept.get("followed_up_in_time"),
                of,
            ),
        ]
    return shown


def lines_page(lines, number):
    """The page ``number`` (any text: a wrong one is the first or the last page) of ``lines``."""
    return Paginator(lines, LINES_PER_PAGE).get_page(number)


def html_context(report, *, with_charts=True, page=None):
    """What the templates need. ``page``: the number of the page of lines to show (a web page), or None for every
    line (the PDF)."""
    shown = presentation(report, with_charts=with_charts)
    context = {"report": report, "organization": report.organization, "shown": shown}
    if page is not None:
        context["lines_page"] = lines_page(shown.lines, page)
        context["lines_parameter"] = LINES_PAGE_PARAMETER
        shown.lines = list(context["lines_page"].object_list)
    return context


# --- Markdown ------------------------------------------------------------------------------------------------------


def _cell(value):
    """Table cells hold one line, and a ``|`` in text people wrote must not start a new cell."""
    text = "" if value is None else str(value)
    return " ".join(text.split()).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;")


def _text(value):
    # Markdown passes raw HTML through to whatever renders it: text people wrote stays text.
    return (value or "").replace("<", "&lt;")


def _table(headings, rows):
    lines = ["| " + " | ".join(headings) + " |", "|" + "|".join(["---"] + ["--:"] * (len(headings) - 1)) + "|"]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def report_markdown(report):
    """The report as Markdown: its charts given as the tables of their numbers."""
    shown = presentation(report, with_charts=False)
    parts = [f"# {_text(shown.title)}"]
    if shown.period:
        parts.append(f"Period: {_text(shown.period)}")
    parts.append(
        f"Published by {_text(report.organization.name)}. Any count under {shown.threshold} is shown as "
        f'"fewer than {shown.threshold}" so that nobody can be recognised from it.'
    )
    if shown.narrative:
        parts.append(_text(shown.narrative.strip()))
    if shown.totals:
        parts += ["## In numbers", _table(["", "Count"], shown.totals)]
    for section in shown.counts:
        if section.rows:
            parts += [f"## {section.title}", _table([section.column, "Cases"], section.rows)]
    for section in shown.timings:
        rows = [(label, charts.duration_text(value, section.unit)) for label, value in section.rows]
        rows.append(("The team's promise", charts.duration_text(section.promise, section.unit)))
        parts += [f"## {section.title}", _table(["", section.unit.capitalize()], rows)]
    if shown.promises:
        parts += ["## Promises kept", _table(["Promise", "Cases", "Of"], shown.promises)]
    if shown.lines:
        parts.append("## The cases")
        parts.append(
            "\n".join(
                f"- {_text(month)}: {_text(text)}" if month else f"- {_text(text)}" for month, text in shown.lines
            )
        )
    return "\n\n".join(parts) + "\n"


# --- PDF -----------------------------------------------------------------------------------------------------------

PDF_STYLE = """
@page { size: A4; margin: 18mm 16mm 20mm; @bottom-right { content: counter(page) " / " counter(pages);
  font-size: 9pt; color: #555; } }
body { font-family: "DejaVu Sans", Verdana, sans-serif; font-size: 10.5pt; line-height: 1.45; color: #1d1d26; }
h1 { font-size: 19pt; margin: 0 0 4pt; }
h2 { font-size: 13pt; margin: 16pt 0 6pt; break-after: avoid; }
section, figure { break-inside: avoid; }
figure { margin: 6pt 0; }
svg.chart { width: 120mm; }
table { border-collapse: collapse; width: 100%; margin: 4pt 0 8pt; }
th, td { text-align: left; padding: 3pt 6pt; border-bottom: 0.5pt solid #bbb; }
.help, .period { color: #555; }
.no-print, nav { display: none; }
"""


def report_pdf(report):
    """The report as a PDF made by WeasyPrint from the page's own sections, charts included (inline SVG)."""
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher

    html = render_to_string("public/transparency_pdf.html", html_context(report))
    # Nothing is fetched while rendering: the charts are inline and the style is given here.
    fetcher = URLFetcher(allowed_protocols=frozenset())
    return HTML(string=html, url_fetcher=fetcher).write_pdf(stylesheets=[CSS(string=PDF_STYLE, url_fetcher=fetcher)])


def download_name(report, extension):
    return f"{slugify(report.organization.slug)}-transparency-{slugify(report.title) or report.pk}.{extension}"


EXPORTS = {
    "markdown": (report_markdown, "text/markdown; charset=utf-8", "md"),
    "pdf": (report_pdf, "application/pdf", "pdf"),
}


def export(report, kind):
    """``(content, content type, file name)`` of the report as ``kind`` ("markdown" or "pdf")."""
    make, content_type, extension = EXPORTS[kind]
    return make(report), content_type, download_name(report, extension)
