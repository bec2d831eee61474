#!/usr/bin/env python3
"""Matching a new report's identifiers against 10,000, 100,000 and 1,000,000 stored ones: p50/p95 per report.

Usage:
    .venv/bin/python bench/identifiers.py [--sizes 10000,100000,1000000] [--reports 300] [--write]
    .venv/bin/python scripts/with_postgres.py -- .venv/bin/python bench/identifiers.py --database-from-env [--write]

Like bench/scale.py (whose set-up, report and settling helpers it uses), it works on a fresh SQLite file in a
temporary directory, or with --database-from-env on COCDESK_DATABASE_URL (an empty database), made with
``migrate``. It grows one organization's registry of people to each size in turn (25 identifiers per person: names,
emails, handles and profile URLs, badge numbers, companies), each identifier digested by
``cocdesk.people.domain.registry.digest`` and sealed with the registry key as ``add_identifiers`` does, then times
``people_matching`` for a few hundred new reports of 3 to 6 identifiers each (about half of them an existing
person's, spelled another way; the rest never seen), evaluating the list of people found. It prints the query plan
of one look-up and says whether it reads the ``identifier_match`` index. With --write this database's part of the
identifier section of docs/benchmarks.md is rewritten.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import re
import shlex
import shutil
import sys
import time

from identifiers_data import PER_PERSON, Registry, grow, new_reports
from run_benchmarks import (
    DOC,
    SECTION_TITLES,
    Row,
    configure,
    count_queries,
    create_schema,
    database_label,
    fmt_ms,
    machine,
    progress,
)
from scale_data import settle
from scale_report import code_version

MAX_SIZE = 2_000_000
TARGET_MS = 10.0
INDEX = "identifier_match"
# How the plan reaches the people the digests name: by their key, or by walking every person of the organization
# (SQLite does that when the query is ordered by the unique (organization, code_name) index).
PEOPLE_BY_KEY = re.compile(
    r"people_person USING INTEGER PRIMARY KEY"  # SQLite
    r"|people_person \S+ \(organization_id=\? AND rowid=\?\)"  # SQLite, through the organization index
    r"|people_person_pkey on people_person"  # PostgreSQL
)
BLOCK_START, BLOCK_END = "<!-- bench-identifiers -->", "<!-- /bench-identifiers -->"


def plan(organization, values):
    """The look-up's query plan, whether it reads the identifier_match index, and whether it reads the people found
    by their key."""
    from cocdesk.people.domain.registry import people_matching

    text = people_matching(organization, values).explain()
    # PostgreSQL spells out the digests: 64 hex digits each, which only make the plan hard to read.
    text = re.sub(r"[0-9a-f]{64}(,[0-9a-f]{64})*", lambda found: f"<{found.group(0).count(',') + 1} digests>", text)
    return text, INDEX in text, bool(PEOPLE_BY_KEY.search(text))


def database_megabytes():
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_database_size(current_database())")
            return cursor.fetchone()[0] / 2**20
        cursor.execute("PRAGMA page_count")
        pages = cursor.fetchone()[0]
        cursor.execute("PRAGMA page_size")
        return pages * cursor.fetchone()[0] / 2**20


def measure(registry, size, built, args):
    from cocdesk.people.domain.registry import people_matching

    organization = registry.organization
    rng = random.Random(f"reports:{size}")
    reports = new_reports(rng, len(registry.person_pks), args.reports + args.warmup)
    for _person, values in reports[: args.warmup]:
        list(people_matching(organization, values))
    row = Row(key="lookup", label="people_matching", size=f"{size:,}")
    found = people_found = 0
    for person, values in reports[args.warmup :]:
        clock = time.perf_counter()
        matched = list(people_matching(organization, values))
        row.samples.append(time.perf_counter() - clock)
        found += registry.person_pks[person] in {match.pk for match in matched}
        people_found += len(matched)
    queries, _ = count_queries(lambda: list(people_matching(organization, reports[-1][1])))
    plan_text, uses_index, people_by_key = plan(organization, reports[-1][1])
    return {
        "size": size,
        "people": len(registry.person_pks),
        "built": built,
        "megabytes": database_megabytes(),
        "row": row,
        "found": found,
        "people_found": people_found / len(reports[args.warmup :]),
        "queries": queries,
        "plan": plan_text,
        "uses_index": uses_index,
        "people_by_key": people_by_key,
        "load": os.getloadavg()[0],
    }


# --- reporting -----------------------------------------------------------------------------------------------------

INTRO = """## Matching identifiers: 10,000 to 1,000,000 in the registry

`bench/identifiers.py` grows one organization's registry of people to 10,000, 100,000 and 1,000,000 identifiers,
25 per person (400 people per 10,000): 3 names, 7 email addresses, 9 handles and profile URLs (`@name`, GitHub,
Mastodon, Discord `name#1234`, LinkedIn, X, Instagram, GitLab, YouTube), 3 badge numbers and 3 companies. Names
and companies are shared, as real ones are: at 1,000,000 identifiers (40,000 people) each full name is borne by
about 33 people and each of the 4,335 companies is named by about 28. Each identifier is digested
by `cocdesk.people.domain.registry.digest` (the keyed hash of its normalised form, with the registry key unwrapped
once) and sealed with the registry key, as `add_identifiers` leaves it; people are written with `bulk_create`,
identifiers with `executemany`, 20,000 at a time, into the table and its indexes as migrations made them. At each
size it takes a few hundred new reports of 3 to 6 identifiers, each a (kind, value) pair as `record_person` passes
them: about half of them one existing person's, spelled another way (upper case, swapped case, spaces around), the
rest never seen, and times `people_matching(organization, pairs)` evaluated to the list of people (the digests of the
report's values included). The target is a p95 under 10 ms at 1,000,000 identifiers, with a query plan that reads the
`identifier_match` index on (organization, digest).

```sh
make bench-identifiers                                            # SQLite: rewrites the SQLite part below
.venv/bin/python scripts/with_postgres.py -- .venv/bin/python bench/identifiers.py --database-from-env --write
.venv/bin/python bench/identifiers.py --sizes 10000,100000        # a quick look, printed only
```
"""

MEANING = """Each time is `time.perf_counter` around one `list(people_matching(...))` in the benchmark's own process, on
its open database connection, after a few untimed look-ups (their number is in the date line); p50 and p95 are the
median and the 95th percentile (nearest rank) of the timed reports. **found** counts the reports whose existing person
was among the people returned (every report names one); **people per report** is the mean length of the list (shared
names and companies bring others along). The query count is from `django.test.utils.CaptureQueriesContext` on one
extra look-up. **people read** says how the plan reaches the people the digests name: by their primary key, or by
walking every person of the organization (the whole registry) and keeping those in the list. The plan is
`QuerySet.explain()` (SQLite: `EXPLAIN QUERY PLAN`; PostgreSQL: `EXPLAIN`) of the last report's look-up at the largest
size. PostgreSQL's tables get `VACUUM ANALYZE` after each load, as autovacuum would shortly after; SQLite's get no
`ANALYZE`, as in a deployment. The machine is shared (2 CPUs): the load column is the 1-minute load average when each
size was measured.
"""


def table(results):
    lines = [
        "| Identifiers | people | built in s | database MB | reports | p50 ms | p95 ms | max ms | found "
        "| people per report | queries | index | people read | load (1 min) |",
        "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|---|--:|",
    ]
    for r in results:
        row = r["row"]
        lines.append(
            f"| {r['size']:,} | {r['people']:,} | {r['built']:.0f} | {r['megabytes']:.0f} | {row.runs} | "
            f"{fmt_ms(row.median_ms)} | {fmt_ms(row.p95_ms)} | {fmt_ms(max(row.samples) * 1000)} | "
            f"{r['found']}/{row.runs} | {r['people_found']:.1f} | {r['queries']} | "
            f"{INDEX if r['uses_index'] else '**none**'} | {'by key' if r['people_by_key'] else '**all**'} | "
            f"{r['load']:.1f} |"
        )
    return "\n".join(lines)


def verdict(results):
    largest = results[-1]
    p95 = largest["row"].p95_ms
    met = "met" if p95 < TARGET_MS and largest["uses_index"] else "**missed**"
    index = "reads `identifier_match`" if largest["uses_index"] else "**does not read `identifier_match`**"
    people = (
        "and the people found by their key"
        if largest["people_by_key"]
        else f"**but walks all {largest['people']:,} people of the organization** to keep those found"
    )
    return (
        f"Target at {largest['size']:,} identifiers: a p95 under {TARGET_MS:.0f} ms with an indexed plan: {met} "
        f"(p95 {fmt_ms(p95)} ms; the plan {index} {people})."
    )


def command_line(args):
    own = (".venv/bin/python bench/identifiers.py " + shlex.join(sys.argv[1:])).strip()
    if args.database_from_env and os.environ.get("COCDESK_TEST_PG_BINDIR"):
        return f".venv/bin/python scripts/with_postgres.py -- {own}"
    return own


def section(args, results, database_text, started, elapsed, skipped):
    info = machine()
    via_make = " (`make bench-identifiers`)" if os.environ.get("MAKELEVEL") and not args.database_from_env else ""
    return "\n".join(
        [
            f"Command: `{command_line(args)}`{via_make}",
            "",
            f"Machine: {info['nproc']} CPUs (nproc) · {info['cpu']} · {info['os']} · Python {info['python']} · "
            f"Django {info['django']} · database: {database_text}",
            "",
            f"Code: {code_version()}",
            "",
            f"Date: {started:%Y-%m-%d %H:%M} UTC · {args.reports} reports per size, after {args.warmup} untimed · "
            f"whole run {elapsed:.0f} s · "
            f"load average at the end {info['load']} (1, 5, 15 min)"
            + (f" · {skipped:,} identifiers left out (no digest, or one the person had)" if skipped else ""),
            "",
            table(results),
            "",
            verdict(results),
            "",
            f"Query plan at {results[-1]['size']:,} identifiers:",
            "",
            "```",
            results[-1]["plan"],
            "```",
        ]
    )


def write_doc(database, text):
    """Rewrites this database's part of the identifier section of docs/benchmarks.md, keeping everything else."""
    previous = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    parts = {}
    for key in SECTION_TITLES:
        found = re.search(
            rf"<!-- bench-identifiers:{key} -->\n(.*?)\n<!-- /bench-identifiers:{key} -->", previous, re.DOTALL
        )
        parts[key] = found.group(1) if found else "Not run yet."
    parts[database] = text
    block = [BLOCK_START, INTRO]
    for key, title in SECTION_TITLES.items():
        block.append(
            f"### {title}: identifier look-up\n\n<!-- bench-identifiers:{key} -->\n{parts[key]}\n"
            f"<!-- /bench-identifiers:{key} -->\n"
        )
    block += [MEANING, BLOCK_END]
    text = "\n".join(block)
    start, end = previous.find(BLOCK_START), previous.find(BLOCK_END)
    if start >= 0 and end > start:
        updated = previous[:start] + text + previous[end + len(BLOCK_END) :]
    else:
        updated = previous.rstrip("\n") + "\n\n" + text + "\n"
    DOC.write_text(updated)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="10000,100000,1000000", help="identifier counts, ascending (10000,100000,1000000)"
    )
    parser.add_argument("--reports", type=int, default=300, help="timed new reports per size (300)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed look-ups before them (20)")
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
        parser.error("--sizes takes whole numbers, like 10000,100000")
    if not args.sizes or args.sizes != sorted(set(args.sizes)) or args.sizes[0] < 1000 or args.sizes[-1] > MAX_SIZE:
        parser.error(f"--sizes must be ascending, distinct, from 1,000 to {MAX_SIZE:,}")
    if any(size % PER_PERSON for size in args.sizes):
        parser.error(f"--sizes must be multiples of {PER_PERSON} (identifiers per person)")
    if not 10 <= args.reports <= 10_000 or not 0 <= args.warmup <= 1000:
        parser.error("--reports 10-10000, --warmup 0-1000")
    return args


def main(argv=None):
    args = parse_args(argv)
    scratch = configure(args)
    try:
        started = datetime.datetime.now(datetime.UTC)
        clock = time.perf_counter()
        create_schema()
        database, database_text = database_label()
        print(f"identifiers: {database_text}, sizes {args.sizes}", file=sys.stderr)
        registry = Registry()
        results = []
        for size in args.sizes:
            progress(f"growing to {size:,} identifiers")
            built = time.perf_counter()
            grow(registry, size)
            settle()
            built = time.perf_counter() - built
            progress(f"{size:,} identifiers built in {built:.0f} s; looking up")
            results.append(measure(registry, size, built, args))
            print(table(results[-1:]).splitlines()[-1], flush=True)
        elapsed = time.perf_counter() - clock
        text = section(args, results, database_text, started, elapsed, registry.skipped)
        print(f"\n### {SECTION_TITLES.get(database, database)}: identifier look-up\n\n{text}\n")
        for r in results:
            print(f"Query plan at {r['size']:,} identifiers:\n{r['plan']}\n")
        if args.write:
            write_doc(database, text)
            print("identifiers: wrote docs/benchmarks.md", file=sys.stderr)
    finally:
        from django.db import connections

        connections.close_all()
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
