#!/usr/bin/env python3
"""Does the team desk hold at 100,000 cases? The queue, a case page and the deadline sweep at 1k, 10k and 100k cases.

Usage:
    .venv/bin/python bench/scale.py [--sizes 1000,10000,100000] [--shapes mostly-closed,all-open] [--write]
    .venv/bin/python scripts/with_postgres.py -- .venv/bin/python bench/scale.py --database-from-env [--write]

Like bench/run_benchmarks.py (whose set-up, timing and report helpers it uses), it works on a fresh SQLite file in
a temporary directory, or with --database-from-env on COCDESK_DATABASE_URL (an empty database), made with
``migrate``. For each shape it grows one organization to each size in turn; at each size it starts gunicorn on that
database (one worker, production settings, loopback), times the queue, a filtered queue and a case page over HTTP,
reads the worker's RSS, stops the server and times the deadline sweep in process, idle and with a burst of due
alerts. Between shapes every table is emptied. With --write this database's scale section of docs/benchmarks.md is
rewritten. The query plans of whatever misses its target are printed at the end (--explain: of everything).
"""

from __future__ import annotations

import argparse
import datetime
import shutil
import sys
import time

from run_benchmarks import SECTION_TITLES, configure, create_schema, database_label, progress
from scale_data import SHAPES, grow, make_case_page_case, make_desk, reset_database, settle
from scale_measure import measure
from scale_report import main_table, plans_report, section, write_doc

MAX_SIZE = 200_000


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default="1000,10000,100000",
        help="case counts to grow to, ascending, comma-separated (1000,10000,100000)",
    )
    parser.add_argument(
        "--shapes",
        default=",".join(SHAPES),
        help=f"which shapes, comma-separated, of: {', '.join(SHAPES)} (both)",
    )
    parser.add_argument("--runs", type=int, default=30, help="timed requests per page, and idle sweeps (30)")
    parser.add_argument("--burst-runs", type=int, default=3, help="timed bursts of due alerts per size (3)")
    parser.add_argument("--batch", type=int, default=2000, help="cases per bulk_create batch (2000)")
    parser.add_argument(
        "--database-from-env",
        action="store_true",
        help="use COCDESK_DATABASE_URL from the environment (an empty database) instead of a temporary SQLite file",
    )
    parser.add_argument("--explain", action="store_true", help="print the query plans of every figure, met or not")
    parser.add_argument("--write", action="store_true", help="rewrite this database's scale section of the doc")
    args = parser.parse_args(argv)
    try:
        args.sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    except ValueError:
        parser.error("--sizes takes whole numbers, like 1000,10000")
    if not args.sizes or args.sizes != sorted(set(args.sizes)) or args.sizes[0] < 200 or args.sizes[-1] > MAX_SIZE:
        parser.error(f"--sizes must be ascending, distinct, from 200 to {MAX_SIZE:,}")
    args.shapes = [shape.strip() for shape in args.shapes.split(",") if shape.strip()]
    if not args.shapes or any(shape not in SHAPES for shape in args.shapes):
        parser.error(f"--shapes takes {', '.join(SHAPES)}")
    if not 1 <= args.runs <= 1000 or not 1 <= args.burst_runs <= 20 or not 100 <= args.batch <= 10_000:
        parser.error("--runs 1-1000, --burst-runs 1-20, --batch 100-10000")
    return args


def run_shape(shape, args, scratch):
    from django.utils import timezone

    results = []
    desk = make_desk(shape, timezone.now())
    make_case_page_case(desk)
    for size in args.sizes:
        progress(f"{shape}: growing to {size:,} cases")
        clock = time.perf_counter()
        grow(desk, size, batch=args.batch)
        settle()
        built = time.perf_counter() - clock
        progress(f"{shape}: {size:,} cases built in {built:.0f} s; measuring")
        result = measure(desk, size, built, scratch, args)
        results.append(result)
        print(main_table([result]).splitlines()[-1], flush=True)
    return results


def main(argv=None):
    args = parse_args(argv)
    scratch = configure(args)
    try:
        started = datetime.datetime.now(datetime.UTC)
        clock = time.perf_counter()
        create_schema()
        database, database_text = database_label()
        print(f"scale: {database_text}, sizes {args.sizes}, shapes {args.shapes}", file=sys.stderr)
        results = []
        for number, shape in enumerate(args.shapes):
            if number:
                progress("emptying the database for the next shape")
                reset_database()
            results += run_shape(shape, args, scratch)
        elapsed = time.perf_counter() - clock

        text = section(args, results, database_text, started, elapsed)
        print(f"\n### {SECTION_TITLES.get(database, database)} at scale\n\n{text}\n")
        plans = plans_report(results)
        if plans:
            print("Query plans of the figures that missed their target:\n")
            print(plans)
        if args.write:
            write_doc(database, text)
            print("scale: wrote docs/benchmarks.md", file=sys.stderr)
    finally:
        from django.db import connections

        connections.close_all()
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
