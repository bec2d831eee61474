#!/usr/bin/env python3
"""How long drafting a transparency report takes over 1,000, 10,000 and 100,000 cases, and rendering it.

Usage:
    .venv/bin/python bench/transparency.py [--sizes 1000,10000,100000] [--runs 5] [--write]
    .venv/bin/python scripts/with_postgres.py -- .venv/bin/python bench/transparency.py --database-from-env [--write]

Like bench/scale.py (whose data builders it uses), it works on a fresh SQLite file in a temporary directory, or with
--database-from-env on COCDESK_DATABASE_URL (an empty database). It grows one organization to each size in turn
(90% of the cases closed, received over the past year), gives every acknowledged case its acknowledgement message
and every closed one its outcome message, then times ``draft_report`` in process: a report over the whole year (every
case) and one over the conference space (a third of them). Each drafted report is deleted before the next run. The
public page of the last draft (read back, its first page of lines) and its Markdown and PDF (with its first 100
lines) are timed too. With --write this database's part of the transparency section of docs/benchmarks.md is
rewritten.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import shlex
import shutil
import statistics
import sys
import time

from run_benchmarks import DOC, SECTION_TITLES, configure, create_schema, database_label, fmt_ms, machine, progress
from scale_data import DAY, grow, make_desk, settle
from scale_report import code_version

MAX_SIZE = 200_000
TARGET_SECONDS = 2.0
RENDERED_LINES = 100
BLOCK_START, BLOCK_END = "<!-- bench-transparency -->", "<!-- /bench-transparency -->"

INTRO = """## Transparency reports: drafting over 1,000 to 100,000 cases

`bench/transparency.py` grows one organization with the data builders of `bench/scale.py` (3 spaces, a 10-member
team; 90% of the cases closed, received over the past year, with acknowledgement, outcome and closing times, a
finding and a category; sealed reports, receipts and audit events as intake leaves them) to 1,000, 10,000 and
100,000 cases, and adds each acknowledged case's acknowledgement message and each closed case's outcome message
(sealed with the case's key). The cases carry no decisions, sanctions or appeals: those figures are counted over
empty tables. At each size it times `cocdesk.transparency.domain.drafts.draft_report` in the benchmark's own
process, by a lead recused from no case: over the whole year (every case of the organization) and over the
conference space (a third of them); each drafted report is deleted before the next run. A draft reads the period's
cases once, as numbers and labels (`transparency/domain/tally.py`), and writes one prefilled line per case.
It then times the public page of the last draft as the public view makes it: the report read from the database
(every line) and the page rendered with its charts and the first page of lines (100; the page shows the lines a
page at a time). The Markdown and the PDF (WeasyPrint) are timed with the draft's first 100 lines (a published
report of an event or a half-year holds tens).
The target is a draft under 2 s at 100,000 cases.

```sh
.venv/bin/python bench/transparency.py --write                   # SQLite: rewrites the SQLite part below
.venv/bin/python scripts/with_postgres.py -- .venv/bin/python bench/transparency.py --database-from-env --write
.venv/bin/python bench/transparency.py --sizes 1000,10000         # a quick look, printed only
```
"""

MEANING = """Each time is `time.perf_counter` around one call; the table gives the median and the slowest of the runs.
The query count is from `django.test.utils.CaptureQueriesContext` on one extra draft (BEGIN and COMMIT included).
PostgreSQL's tables get `VACUUM ANALYZE` after each load, as autovacuum would shortly after; SQLite's get no
`ANALYZE`, as in a deployment. The machine is shared (2 CPUs): the load column is the 1-minute load average when
each size was measured.
"""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="case counts, ascending (1000,10000,100000)")
    parser.add_argument("--runs", type=int, default=5, help="timed drafts of each kind per size (5)")
    parser.add_argument("--batch", type=int, default=2000, help="cases per bulk_create batch (2000)")
    parser.add_argument(
        "--database-from-env",
        action="store_true",
        help="use COCDESK_DATABASE_URL from the environment (an empty database) instead of a temporary SQLite file",
    )
    parser.add_argument("--write", action="store_true", help="rewrite this database's part of the doc's section")
    args = parser.parse_args(argv)
    try:
        args.sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    except ValueError:
        parser.error("--sizes takes whole numbers, like 1000,10000")
    if not args.sizes or args.sizes != sorted(set(args.sizes)) or args.sizes[0] < 200 or args.sizes[-1] > MAX_SIZE:
        parser.error(f"--sizes must be ascending, distinct, from 200 to {MAX_SIZE:,}")
    if not 1 <= args.runs <= 100 or not 100 <= args.batch <= 10_000:
        parser.error("--runs 1-100, --batch 100-10000")
    return args


def add_messages(desk, after_pk, *, batch=2000):
    """The acknowledgement and outcome messages of the cases made since ``after_pk``, as the team's replies would
    have left them; returns the last case's pk."""
    from django.db import transaction

    from cocdesk.cases.domain import content
    from cocdesk.cases.enums import CaseState, MessageDirection, MessageKind
    from cocdesk.cases.models import Case, Message, Report

    lead = desk.team["lead"][0].user
    cases = Case.objects.filter(organization=desk.organization, pk__gt=after_pk, acknowledged_at__isnull=False)
    last = after_pk
    pks = list(cases.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(pks), batch):
        chunk = list(Case.objects.filter(pk__in=pks[start : start + batch]).order_by("pk"))
        reports = dict(Report.objects.filter(case__in=chunk).order_by("pk").values_list("case_id", "pk"))
        messages = []
        for case in chunk:
            sent = [(MessageKind.ACKNOWLEDGEMENT, case.acknowledged_at, "Thank you for your report.")]
            if case.state == CaseState.CLOSED:
                sent.append((MessageKind.OUTCOME, case.last_update_at, "We have reached a decision."))
            for kind, at, body in sent:
                messages.append(
                    Message(
                        case=case,
                        report_id=reports[case.pk],
                        direction=MessageDirection.TO_REPORTER,
                        kind=kind,
                        author=lead,
                        created_at=at,
                        sealed_body=content.seal(case, "message", {"body": body}),
                    )
                )
        with transaction.atomic():
            Message.objects.bulk_create(messages)
        last = chunk[-1].pk
    return max(last, after_pk)


def drafter_for(desk):
    """A lead recused from no case: the builders recuse each handler from some cases, and drafting needs a member
    who sees every case of the period."""
    from tests.factories import member

    return member(desk.organization, "lead", username="bench-transparency-lead").user


def timed(call, runs, cleanup=None):
    samples = []
    result = None
    for _ in range(runs):
        clock = time.perf_counter()
        result = call()
        samples.append(time.perf_counter() - clock)
        if cleanup is not None:
            cleanup(result)
    return samples, result


def measure(desk, drafter, size, args):
    from django.db import connection
    from django.template.loader import render_to_string
    from django.test.utils import CaptureQueriesContext

    from cocdesk.transparency import rendering
    from cocdesk.transparency.domain.drafts import draft_report
    from cocdesk.transparency.models import TransparencyReport

    start = (desk.anchor - 366 * DAY).date()
    end = desk.anchor.date()
    conference = desk.spaces[0]

    def whole_year():
        return draft_report(
            desk.organization, by=drafter, title="The year in numbers", period_start=start, period_end=end
        )

    def conference_only():
        return draft_report(
            desk.organization,
            by=drafter,
            title=f"{conference.name} in numbers",
            space=conference,
            period_start=start,
            period_end=end,
        )

    def delete(report):
        report.delete()

    year_samples, _ = timed(whole_year, args.runs, delete)
    space_samples, _ = timed(conference_only, args.runs, delete)
    with CaptureQueriesContext(connection) as captured:
        report = whole_year()
    queries = len(captured.captured_queries)
    cases_counted = (report.figures.get("totals") or {}).get("cases")
    lines = len(report.lines)

    def public_page():
        stored = TransparencyReport.objects.select_related("organization").get(pk=report.pk)
        return render_to_string("public/transparency_report.html", rendering.html_context(stored, page=1))

    page_samples, html = timed(public_page, args.runs)
    # A published report covers an event or a half-year of tens of cases: the exports are timed with the draft's
    # first lines only (the exports hold every line).
    report.lines = report.lines[:RENDERED_LINES]
    markdown_samples, _ = timed(lambda: rendering.report_markdown(report), args.runs)
    pdf_samples, pdf = timed(lambda: rendering.report_pdf(report), max(1, min(args.runs, 3)))
    report.delete()
    return {
        "size": size,
        "year": year_samples,
        "space": space_samples,
        "queries": queries,
        "cases_counted": cases_counted,
        "lines": lines,
        "page": page_samples,
        "page_kb": len(html.encode()) / 1024,
        "markdown": markdown_samples,
        "pdf": pdf_samples,
        "pdf_kb": len(pdf) / 1024,
        "load": os.getloadavg()[0],
    }


def _ms(samples):
    return f"{fmt_ms(statistics.median(samples) * 1000)} / {fmt_ms(max(samples) * 1000)}"


def table(results):
    lines = [
        "| Cases | draft, whole year: median / max ms | draft, one space: median / max ms | queries | cases counted "
        "| lines drafted | page median / max ms (KB) | Markdown ms | PDF median / max ms (KB) | load (1 min) |",
        "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in results:
        lines.append(
            f"| {r['size']:,} | {_ms(r['year'])} | {_ms(r['space'])} | {r['queries']} | {r['cases_counted']} | "
            f"{r['lines']:,} | "
            f"{_ms(r['page'])} ({r['page_kb']:.0f}) | {fmt_ms(statistics.median(r['markdown']) * 1000)} | "
            f"{_ms(r['pdf'])} ({r['pdf_kb']:.0f}) | {r['load']:.1f} |"
        )
    return "\n".join(lines)


def verdict(results):
    largest = results[-1]
    slowest = max(largest["year"] + largest["space"])
    met = "met" if slowest < TARGET_SECONDS else "**missed**"
    return (
        f"Target at {largest['size']:,} cases: a draft under {TARGET_SECONDS:.0f} s: {met} (slowest: {slowest:.2f} s)."
    )


def command_line(args):
    own = (".venv/bin/python bench/transparency.py " + shlex.join(sys.argv[1:])).strip()
    if args.database_from_env and os.environ.get("COCDESK_TEST_PG_BINDIR"):
        return f".venv/bin/python scripts/with_postgres.py -- {own}"
    return own


def section(args, results, database_text, started, elapsed):
    info = machine()
    return "\n".join(
        [
            f"Command: `{command_line(args)}`",
            "",
            f"Machine: {info['nproc']} CPUs (nproc) · {info['cpu']} · {info['os']} · Python {info['python']} · "
            f"Django {info['django']} · database: {database_text}",
            "",
            f"Code: {code_version()}",
            "",
            f"Date: {started:%Y-%m-%d %H:%M} UTC · {args.runs} runs per draft · whole run {elapsed:.0f} s",
            "",
            table(results),
            "",
            verdict(results),
        ]
    )


def write_doc(database, text):
    """Rewrites this database's part of the transparency section of docs/benchmarks.md, keeping everything else."""
    previous = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    parts = {}
    for key in SECTION_TITLES:
        found = re.search(
            rf"<!-- bench-transparency:{key} -->\n(.*?)\n<!-- /bench-transparency:{key} -->", previous, re.DOTALL
        )
        parts[key] = found.group(1) if found else "Not run yet."
    parts[database] = text
    block = [BLOCK_START, INTRO]
    for key, title in SECTION_TITLES.items():
        block.append(
            f"### {title}: transparency report\n\n<!-- bench-transparency:{key} -->\n{parts[key]}\n"
            f"<!-- /bench-transparency:{key} -->\n"
        )
    block += [MEANING, BLOCK_END]
    text = "\n".join(block)
    start, end = previous.find(BLOCK_START), previous.find(BLOCK_END)
    if start >= 0 and end > start:
        updated = previous[:start] + text + previous[end + len(BLOCK_END) :]
    else:
        updated = previous.rstrip("\n") + "\n\n" + text + "\n"
    DOC.write_text(updated)


def main(argv=None):
    args = parse_args(argv)
    scratch = configure(args)
    try:
        try:
            from cocdesk.transparency.domain.drafts import draft_report  # noqa: F401 - checked before building
        except ImportError:
            sys.exit("transparency: cocdesk.transparency.domain.drafts.draft_report is not there yet")
        from django.utils import timezone

        started = datetime.datetime.now(datetime.UTC)
        clock = time.perf_counter()
        create_schema()
        database, database_text = database_label()
        print(f"transparency: {database_text}, sizes {args.sizes}", file=sys.stderr)
        desk = make_desk("mostly-closed", timezone.now(), prefix="transparency")
        drafter = drafter_for(desk)
        results, messaged = [], 0
        for size in args.sizes:
            progress(f"growing to {size:,} cases")
            grow(desk, size, batch=args.batch)
            messaged = add_messages(desk, messaged)
            settle()
            progress(f"{size:,} cases; drafting")
            results.append(measure(desk, drafter, size, args))
            print(table(results[-1:]).splitlines()[-1], flush=True)
        elapsed = time.perf_counter() - clock
        text = section(args, results, database_text, started, elapsed)
        print(f"\n### {SECTION_TITLES.get(database, database)}: transparency report\n\n{text}\n")
        if args.write:
            write_doc(database, text)
            print("transparency: wrote docs/benchmarks.md", file=sys.stderr)
    finally:
        from django.db import connections

        connections.close_all()
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
