"""The tables and the docs/benchmarks.md sections of bench/scale.py."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys

from run_benchmarks import DOC, ROOT, SECTION_TITLES, fmt_ms, machine
from scale_data import SHAPES
from scale_measure import BURST, TARGETS

BLOCK_START, BLOCK_END = "<!-- bench-scale -->", "<!-- /bench-scale -->"

INTRO = """## At scale: 1,000 to 100,000 cases

`bench/scale.py` fills a fresh database with one organization (3 spaces, a 10-member team: 3 leads, 4 responders,
staff, admin, fallback) and grows it to 1,000, 10,000 and 100,000 cases, in two shapes: 90% of the cases closed
and 10% open, then (on an emptied database) every case open. The cases are written with `bulk_create` in batches
of 2,000 but shaped as intake leaves them: each has its own data key wrapped by the keyring, one report with all
the form's answers sealed with that key, a receipt stored as a hash and a `case.received` audit event (chained);
`next_due_at` and `next_alert_at` come from `deadlines.schedule`. The closed ones were received over the past year
and carry acknowledgement, last update, decision and closing times (and `case.decided` and `case.close` events);
the open ones are acknowledged or under investigation with a last update 3.5 to 5 days old, and 1% are new,
received in the last 4 hours; 5% are urgent. A quarter of the cases are assigned to one or two handlers (with a
`case.assigned` event), 2 in 1,000 have a handler recused. Three of the cases are the case-page case: a report, two
duplicates merged into it and 10 messages, made through the domain functions. No notification rows or messages
exist for the bulk cases (delivered notices are pruned after 30 days).

```sh
make bench-scale                                                  # SQLite: rewrites the SQLite section below
.venv/bin/python scripts/with_postgres.py -- .venv/bin/python bench/scale.py --database-from-env --write
.venv/bin/python bench/scale.py --sizes 1000,10000                # a quick look, printed only
```
"""

MEANING = """### What the scale figures measure

The **queue** figures are a responder's `GET /desk/` (first page: 50 cases, urgent first, then by the nearest
deadline) requested over HTTP on loopback with `http.client` from a real server, `gunicorn cocdesk.wsgi:application
--workers 1` with the production settings (debug off; on SQLite a new connection per request, on PostgreSQL one
kept by the worker), after 3 untimed requests; the time runs from sending the request to the last byte of the
body, the **KB** are the body's size (1 KB = 1,024 bytes, no compression) and **RSS** is the worker's resident
memory (`VmRSS` in `/proc/<worker>/status`) after the queue, filtered queue and case page requests. The **case
page** is `GET /desk/cases/<ref>/` by the same responder, through the same server, for a case with 3 reports and 10
messages (every opening decrypts them and writes an audit event). The **idle sweep** is
`cocdesk.cases.domain.clock.sweep(now=...)` in the benchmark's own process at a moment when nothing is due (the
every-minute run on a quiet day); the **burst** is the same call at the moment the 1,000 open cases whose
reminders come first are all due (fewer when fewer cases are open: the count is in the column), each with exactly
one reminder to its assignees or the 7 handlers, queued as notifications and audited; before each of its runs the
alerts, notifications and tasks of the previous run are deleted and the cases' `next_alert_at` put back, untimed.
Every time in the main table is the 95th percentile (nearest rank) of its runs (for the burst's 3 runs: the
slowest); the query counts come from `django.test.utils.CaptureQueriesContext` on one extra call in process, with
the same session (the burst's from a counting execute wrapper on its timed runs, per run), and include the BEGIN
and COMMIT Django sends: the idle sweep's 3 are BEGIN, one indexed SELECT and COMMIT. PostgreSQL's tables get
`VACUUM ANALYZE` after each load, as autovacuum would do shortly after; SQLite's get no `ANALYZE`, as in a
deployment. The targets at 100,000 cases are a queue p95 under 100 ms, a queue page under 200 KB, a worker under
150 MB, a case page p95 under 60 ms, an idle sweep under 20 ms and a 1,000-alert burst under 5 s; each section says
which are met. The machine is shared: the load column of the details gives the 1-minute load average when each
size was measured (2 CPUs: a load above 2 means the server and the benchmark waited for a CPU).
"""


def size_label(result):
    return f"{result.size:,} ({SHAPES[result.shape]})"


def main_table(results):
    lines = [
        "| Size (cases, shape) | queue p95 ms | queue KB | RSS MB | case page p95 ms | idle sweep ms (queries) "
        f"| {BURST:,}-alert burst s (queries) |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    for r in results:
        alerts = "" if r.burst_alerts == BURST else f", {r.burst_alerts} alerts"
        lines.append(
            f"| {size_label(r)} | {fmt_ms(r.queue.row.p95_ms)} | {r.queue.size_bytes / 1024:.0f} | "
            f"{r.rss / 2**20:.0f} | {fmt_ms(r.case_page.row.p95_ms)} | {fmt_ms(r.idle.p95_ms)} ({r.idle_queries}) | "
            f"{r.burst.p95_ms / 1000:.2f} ({r.burst_queries}{alerts}) |"
        )
    return "\n".join(lines)


def details_table(results):
    lines = [
        "| Size (cases, shape) | open cases | built in s | database MB | queue median ms (runs, queries) "
        "| filtered queue | filtered p95 ms (median, KB, queries) | case page median ms (runs, queries, KB) "
        "| worker peak MB (VmHWM) | idle sweep median ms | burst median s (runs, notices per run) | load (1 min) |",
        "|---|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|",
    ]
    for r in results:
        q, f, c = r.queue, r.filtered, r.case_page
        lines.append(
            f"| {size_label(r)} | {r.open_cases:,} | {r.build_seconds:.0f} | {r.database_bytes / 2**20:.0f} | "
            f"{fmt_ms(q.row.median_ms)} ({q.row.runs}, {q.queries}) | `{f.path}` ({f.rows_shown} rows) | "
            f"{fmt_ms(f.row.p95_ms)} ({fmt_ms(f.row.median_ms)}, {f.size_bytes / 1024:.0f}, {f.queries}) | "
            f"{fmt_ms(c.row.median_ms)} ({c.row.runs}, {c.queries}, {c.size_bytes / 1024:.0f}) | "
            f"{r.hwm / 2**20:.0f} | {fmt_ms(r.idle.median_ms)} | "
            f"{r.burst.median_ms / 1000:.2f} ({r.burst.runs}, {r.burst_notices:,}) | {r.load:.1f} |"
        )
    return "\n".join(lines)


NAMES = {
    "queue_p95": "queue p95 under 100 ms",
    "queue_kb": "queue page under 200 KB",
    "rss_mb": "worker RSS under 150 MB",
    "case_p95": "case page p95 under 60 ms",
    "idle_p95": "idle sweep under 20 ms",
    "burst_p95": "1,000-alert burst under 5 s",
}


def verdicts(results):
    """Met or missed, per target, at the largest size measured (both shapes)."""
    largest = max(r.size for r in results)
    top = [r for r in results if r.size == largest]
    parts = []
    for figure, (limit, unit) in TARGETS.items():
        states = []
        for r in top:
            value = r.figures()[figure]
            shown = f"{value:.2f}" if unit == "s" else f"{value:.0f}"
            states.append(f"{'met' if value < limit else '**missed**'} ({r.shape}: {shown} {unit})")
        parts.append(f"{NAMES[figure]}: " + ", ".join(states))
    return f"Targets at {largest:,} cases: " + "; ".join(parts) + "."


def command_line(args):
    own = ".venv/bin/python bench/scale.py " + shlex.join(sys.argv[1:])
    if args.database_from_env and os.environ.get("COCDESK_TEST_PG_BINDIR"):
        return f".venv/bin/python scripts/with_postgres.py -- {own.strip()}"
    return own.strip()


def code_version():
    """The commit measured, and whether src/ had uncommitted changes (other work in progress) at the time."""

    def git(*words):
        done = subprocess.run(  # noqa: S603 - fixed arguments
            ["git", *words],  # noqa: S607 - git from PATH, as a developer runs it
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return "not a git checkout"
    dirty = git("status", "--porcelain", "--", "src")
    return f"commit {commit}" + (" with uncommitted changes in src/" if dirty else "")


def section(args, results, database, started, elapsed):
    info = machine()
    sizes = ", ".join(f"{size:,}" for size in args.sizes)
    via_make = " (`make bench-scale`)" if os.environ.get("MAKELEVEL") and not args.database_from_env else ""
    return "\n".join(
        [
            f"Command: `{command_line(args)}`{via_make}",
            "",
            f"Machine: {info['nproc']} CPUs (nproc) · {info['cpu']} · {info['os']} · Python {info['python']} · "
            f"Django {info['django']} · sqlite3.sqlite_version {info['sqlite']} · database: {database}",
            "",
            f"Code: {code_version()}",
            "",
            f"Date: {started:%Y-%m-%d %H:%M} UTC · sizes {sizes} cases · shapes: "
            + ", ".join(SHAPES[shape] for shape in args.shapes)
            + f" · {args.runs} runs per page and idle sweep (fewer once a page's runs took {20} s), "
            f"{args.burst_runs} per burst · whole run {elapsed:.0f} s · load average at the end {info['load']} "
            "(1, 5, 15 min)",
            "",
            main_table(results),
            "",
            verdicts(results),
            "",
            "Details:",
            "",
            details_table(results),
        ]
    )


def write_doc(database, text):
    """Rewrites this database's scale section of docs/benchmarks.md, keeping everything else of the file: the
    sections of bench/run_benchmarks.py and the other database's scale section."""
    previous = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    sections = {}
    for key in SECTION_TITLES:
        found = re.search(rf"<!-- bench-scale:{key} -->\n(.*?)\n<!-- /bench-scale:{key} -->", previous, re.DOTALL)
        sections[key] = found.group(1) if found else "Not run yet."
    sections[database] = text
    parts = [BLOCK_START, INTRO]
    for key, title in SECTION_TITLES.items():
        parts.append(
            f"### {title} at scale\n\n<!-- bench-scale:{key} -->\n{sections[key]}\n<!-- /bench-scale:{key} -->\n"
        )
    parts += [MEANING, BLOCK_END]
    block = "\n".join(parts)
    start, end = previous.find(BLOCK_START), previous.find(BLOCK_END)
    if start >= 0 and end > start:
        updated = previous[:start] + block + previous[end + len(BLOCK_END) :]
    else:
        updated = previous.rstrip("\n") + "\n\n" + block + "\n"
    DOC.write_text(updated)


def plans_report(results):
    lines = []
    for r in results:
        for what, text in r.plans:
            lines += [f"=== {size_label(r)}: {what} ===", text, ""]
    return "\n".join(lines)
