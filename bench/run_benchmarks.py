#!/usr/bin/env python3
"""Benchmarks of CoC Desk's hot paths: intake, the team queue, a case page, the deadline sweep, receipt lookup.

Usage:
    .venv/bin/python bench/run_benchmarks.py [--cases N] [--runs R] [--write]
    .venv/bin/python scripts/with_postgres.py -- .venv/bin/python bench/run_benchmarks.py --database-from-env [--write]

By default it works on a fresh SQLite file in a temporary directory (never var/), which it removes afterwards.
With --database-from-env it uses COCDESK_DATABASE_URL as given; that database must be empty. Either way the schema
is made with ``migrate`` on that database directly: Django's test-database creation is not involved.

Every figure is time.perf_counter around one call, repeated; the table gives the median and the 95th percentile
(nearest rank). With --write the database's section of docs/benchmarks.md is rewritten and the other database's
section is kept as it was.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import platform
import re
import shlex
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
SECTION_TITLES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


# --- setting Django up ---------------------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=500, help="N: reports taken in, and cases in the queue (500)")
    parser.add_argument("--runs", type=int, default=20, help="timed repetitions of each page and sweep (20)")
    parser.add_argument(
        "--due-runs",
        type=int,
        default=3,
        help="repetitions of the sweep that finds everything due; each one sends N alerts (3)",
    )
    parser.add_argument(
        "--database-from-env",
        action="store_true",
        help="use COCDESK_DATABASE_URL from the environment (an empty database) instead of a temporary SQLite file",
    )
    parser.add_argument("--write", action="store_true", help="rewrite this database's section of docs/benchmarks.md")
    args = parser.parse_args(argv)
    if args.cases < 10:
        parser.error("--cases must be at least 10")
    if args.runs < 1 or args.due_runs < 1:
        parser.error("--runs and --due-runs must be at least 1")
    return args


def configure(args):
    """Points the settings at a throwaway directory (and database) before Django reads them, then sets Django up.
    Returns the temporary directory to remove at the end."""
    if args.database_from_env and not os.environ.get("COCDESK_DATABASE_URL"):
        sys.exit("run_benchmarks: --database-from-env needs COCDESK_DATABASE_URL (see scripts/with_postgres.py)")
    scratch = tempfile.mkdtemp(prefix="cocdesk-bench-")
    if not args.database_from_env:
        os.environ["COCDESK_DATABASE_URL"] = f"sqlite:///{scratch}/bench.sqlite3"
    # The static root, a config file looked up under VAR_DIR and the keyring: all under the scratch directory.
    os.environ["COCDESK_VAR_DIR"] = scratch
    os.environ.pop("COCDESK_CONFIG", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    for path in (str(ROOT), str(ROOT / "src")):
        if path not in sys.path:
            sys.path.insert(0, path)

    import django

    try:
        django.setup()
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise

    from django.conf import settings

    # Nothing leaves the machine: notifications are only queued in the database (no worker runs), and should
    # anything send mail directly it lands in memory.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return scratch


def create_schema():
    from django.core.management import call_command
    from django.db import connection

    existing = connection.introspection.table_names()
    if existing:
        sys.exit(
            f"run_benchmarks: the database already has {len(existing)} tables; the benchmarks need an empty one "
            "(they fill it with made-up organizations and cases)."
        )
    call_command("migrate", verbosity=0, interactive=False)


# --- measuring -----------------------------------------------------------------------------------------------------


@dataclass
class Row:
    key: str
    label: str
    size: str
    samples: list = field(default_factory=list)  # seconds
    queries: str = "—"
    note: str = ""

    @property
    def runs(self):
        return len(self.samples)

    @property
    def median_ms(self):
        return statistics.median(self.samples) * 1000

    @property
    def p95_ms(self):
        ordered = sorted(self.samples)
        return ordered[max(math.ceil(0.95 * len(ordered)) - 1, 0)] * 1000


def timed(function, runs, *, before=None, warmup=1, budget=30.0, min_runs=5):
    """Seconds per call of ``function`` over ``runs`` calls, after ``warmup`` untimed ones. ``before`` runs
    untimed ahead of every call (to reset state). Once ``min_runs`` are done, it stops early when the timed calls
    have taken ``budget`` seconds, so a slow machine still finishes in a few minutes (the table shows the runs)."""
    for _ in range(warmup):
        if before:
            before()
        function()
    samples = []
    while len(samples) < runs and (len(samples) < min_runs or sum(samples) < budget):
        if before:
            before()
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return samples


def count_queries(function):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        result = function()
    return len(captured.captured_queries), result


class QueryCounter:
    """Counts the SQL statements of each call, for the intake loop (cheaper than capturing their text)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def fmt_ms(value):
    return f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 100 else f"{value:.0f}"


def progress(message):
    print(f"  {message}", file=sys.stderr, flush=True)


# --- made-up data --------------------------------------------------------------------------------------------------

STORY = (
    "During the {slot} session a person in the {place} kept interrupting speakers and made remarks about "
    "my appearance. When I asked them to stop they followed me to the {other} and said it again, louder, so "
    "that other attendees turned around. I left the room. I did not feel safe going back and missed the talk I "
    "came for. Two people saw it and one of them checked on me afterwards. "
)
SLOTS = ["morning keynote", "lightning talks", "sprint", "lunch break", "evening social", "hallway track"]
PLACES = ["front row", "hallway", "sponsor area", "registration queue", "main hall", "#general channel"]


def answers_for(index, spaces):
    """A complete report as the public form would store it; a few are urgent, half leave an email."""
    description = STORY.format(slot=SLOTS[index % 6], place=PLACES[index % 6], other=PLACES[(index + 2) % 6]) * (
        1 + index % 3
    )
    urgent = index % 20 == 7
    named = index % 5 == 0
    return {
        "reporter_name": f"Reporter {index}" if index % 2 == 0 else "",
        "reporter_email": f"reporter{index}@example.net" if index % 2 == 0 else "",
        "reporter_phone": "",
        "reporter_other_contact": f"Slack: @reporter{index}" if index % 3 == 0 else "",
        "incident_date": "2026-05-14",
        "incident_time": "10:30:00",
        "when_details": "",
        "space": spaces[index % len(spaces)].name,
        "location": PLACES[index % 6],
        "ongoing": "yes" if urgent else "no",
        "physical_danger": "no",
        "description": description,
        "public_record_url": "",
        "circumstances": "It was crowded." if index % 4 == 0 else "",
        "reported_name": f"Attendee {index % 37}" if named else "",
        "reported_nicknames": "",
        "reported_screen_names": f"Slack: @attendee{index % 37}" if named else "",
        "reported_appearance": "Tall, green hoodie" if index % 3 == 1 else "",
        "reported_badge_number": "",
        "reported_company": "",
        "reported_other": "",
        "others_involved": "Two attendees near the door saw it." if index % 2 == 1 else "",
        "safety_concerns": "",
        "law_enforcement": "undecided",
        "could_not_find_contact": False,
        "other_information": "",
        "excluded_members": [],
        "consent_share_with_other_teams": "no",
        "consent_named_publicly": "no",
    }


TEAM_ROLES = ["lead", "lead", "lead", "responder", "responder", "responder", "responder", "staff", "admin", "fallback"]


def make_team(organization, prefix):
    """A 10-member team like the demo's: 3 leads, 4 responders, staff, admin, fallback. Returns {role: [m, ...]}."""
    from tests.factories import member

    team = {}
    for number, role in enumerate(TEAM_ROLES, start=1):
        membership = member(
            organization, role, username=f"{prefix}-{role}-{number}", display_name=f"{role.title()} {number}"
        )
        team.setdefault(role, []).append(membership)
    return team


def make_organization(prefix):
    from tests.factories import OrganizationFactory, SpaceFactory

    organization = OrganizationFactory(name=f"Bench {prefix}", slug=f"bench-{prefix}")
    spaces = [
        SpaceFactory(organization=organization, name=f"{prefix} conference"),
        SpaceFactory(organization=organization, name=f"{prefix} chat", kind="online"),
    ]
    return organization, spaces, make_team(organization, prefix)


def fill(organization, spaces, count, *, start=0):
    from cocdesk.cases.domain.intake import submit_report

    receipts = []
    for index in range(start, start + count):
        answers = answers_for(index, spaces)
        _case, receipt = submit_report(organization=organization, answers=answers, space=spaces[index % len(spaces)])
        receipts.append(receipt)
    return receipts


def assign_some(organization, team):
    """Every fourth case gets two assignees, so the queue shows (and prefetches) some."""
    from cocdesk.cases.domain import workflow
    from cocdesk.cases.models import Case

    lead = team["lead"][0]
    pair = [team["responder"][0], team["lead"][1]]
    for number, case in enumerate(Case.objects.filter(organization=organization).order_by("pk")):
        if number % 4 == 0:
            workflow.assign(case, pair, by=lead.user)


# --- the benchmarks ------------------------------------------------------------------------------------------------


def bench_intake(n):
    """submit_report for n reports in an organization with a 10-member team, one timing per report."""
    from django.db import connection, transaction

    from cocdesk.cases.domain.intake import submit_report

    organization, spaces, team = make_organization("main")
    # Warm the code paths (keyring, templates of notifications, connection) without leaving anything behind.
    with transaction.atomic():
        for index in range(3):
            submit_report(organization=organization, answers=answers_for(index, spaces), space=spaces[0])
        transaction.set_rollback(True)

    counter = QueryCounter()
    samples, queries, receipts = [], [], []
    with connection.execute_wrapper(counter):
        for index in range(n):
            answers = answers_for(index, spaces)
            space = spaces[index % len(spaces)]
            before = counter.count
            start = time.perf_counter()
            _case, receipt = submit_report(organization=organization, answers=answers, space=space)
            samples.append(time.perf_counter() - start)
            queries.append(counter.count - before)
            receipts.append(receipt)
    total = sum(samples)
    row = Row(
        "intake",
        "Intake: `submit_report`",
        f"{n} reports, 10-member team",
        samples,
        queries=f"{statistics.median(queries):.0f} (median per report)",
        note=f"**{n / total:.0f} reports/s** ({total:.1f} s in all)",
    )
    return row, (organization, spaces, team, receipts)


def bench_sweep(runs, due_runs):
    """The deadline sweep over the open cases (the N just taken in): nothing due; one alert due on every case (the
    first sweep that finds them); and the next sweep at that moment, when every alert is already recorded."""
    from django.db import connection
    from django.db.models import Max
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from cocdesk.cases.domain.clock import sweep
    from cocdesk.cases.enums import OPEN_STATES
    from cocdesk.cases.models import Case, DeadlineAlert
    from cocdesk.notify.models import Notification

    open_cases = Case.objects.filter(state__in=OPEN_STATES).count()
    rows = []

    now = timezone.now()
    assert sweep(now=now) == 0, "something was already due"
    queries, _sent = count_queries(lambda: sweep(now=now))
    rows.append(
        Row(
            "sweep_idle",
            "Deadline sweep, nothing due",
            f"{open_cases} open cases",
            timed(lambda: sweep(now=now), runs),
            queries=str(queries),
        )
    )

    # Three quarters of the 24 hours to acknowledge have gone for every case: one reminder per case, to the 7 members
    # who handle cases; the urgent cases' 2 hours are over, so theirs is one escalation, to the 3 leads.
    latest = Case.objects.aggregate(latest=Max("received_at"))["latest"]
    due_now = latest + datetime.timedelta(hours=18, minutes=1)
    mark = {}

    def reset():
        DeadlineAlert.objects.all().delete()
        if mark:
            Notification.objects.filter(pk__gt=mark["notification"]).delete()
            DBTaskResult.objects.filter(enqueued_at__gte=mark["tasks"]).delete()
        mark["notification"] = Notification.objects.aggregate(last=Max("pk"))["last"] or 0
        mark["tasks"] = timezone.now()

    # Each run sends N alerts, so there is no separate warm-up run (the sweep above and intake warmed the code) and
    # the statements are counted on the timed runs themselves.
    sent, counter = [], QueryCounter()

    def due_sweep():
        with connection.execute_wrapper(counter):
            sent.append(sweep(now=due_now))

    samples = timed(due_sweep, due_runs, before=reset, warmup=0, budget=60.0, min_runs=2)
    assert set(sent) == {open_cases}, f"expected one alert per case, got {sorted(set(sent))}"
    notifications = Notification.objects.filter(pk__gt=mark["notification"]).count()
    queries, repeat = count_queries(lambda: sweep(now=due_now))
    assert repeat == 0
    rows.append(
        Row(
            "sweep_due",
            "Deadline sweep, everything due once",
            f"{open_cases} open cases",
            samples,
            queries=f"{round(counter.count / len(samples))} (per run, counted on the timed runs)",
            note=f"{open_cases} alerts, {notifications} notices queued per run",
        )
    )
    rows.append(
        Row(
            "sweep_sent",
            "Deadline sweep, everything due and already sent",
            f"{open_cases} open cases",
            timed(lambda: sweep(now=due_now), runs),
            queries=str(queries),
        )
    )
    reset()
    return rows


def desk_client(membership):
    from django.test import Client

    from tests.team import log_in

    # "localhost" is an allowed host of the settings, so the test environment's template instrumentation (which
    # copies every template context) is not needed and not installed.
    client = Client(HTTP_HOST="localhost")
    return log_in(client, membership.user)


def bench_queue(n, runs, main):
    """GET /desk/ for a responder who sees n/10 cases, then one who sees n."""
    organization, _spaces, team = main
    assign_some(organization, team)
    small_org, small_spaces, small_team = make_organization("small")
    fill(small_org, small_spaces, n // 10, start=n)
    assign_some(small_org, small_team)

    rows = []
    for label_size, membership in ((n // 10, small_team["responder"][0]), (n, team["responder"][1])):
        client = desk_client(membership)

        def page(client=client, expected=label_size):
            response = client.get("/desk/")
            assert response.status_code == 200, response.status_code
            assert response.content.count(b'href="/desk/cases/') == expected
            return response

        queries, _response = count_queries(page)
        rows.append(
            Row(
                f"queue_{label_size}",
                "Team queue: GET `/desk/`",
                f"{label_size} cases visible",
                timed(page, runs),
                queries=str(queries),
            )
        )
    return rows


def bench_case_page(runs):
    """GET /desk/cases/<ref>/ for a case holding 3 reports (2 merged duplicates) and 10 messages."""
    from cocdesk.cases.domain import reporter, workflow
    from cocdesk.cases.domain import team as team_domain
    from cocdesk.cases.domain.intake import submit_report
    from cocdesk.cases.enums import MessageKind
    from cocdesk.cases.models import Case, Message

    organization, spaces, team = make_organization("casepage")
    lead = team["lead"][0].user
    filed = []
    for index in range(3):
        case, receipt = submit_report(organization=organization, answers=answers_for(index, spaces), space=spaces[0])
        filed.append((case, case.reports.get(), reporter.find_receipt(receipt)))
    (main, main_report, main_receipt), *duplicates = filed
    for case, report, _receipt in duplicates:
        team_domain.message_reporter(
            case, report, author=lead, body="Thank you for your report.", kind="acknowledgement"
        )
        workflow.merge(Case.objects.get(pk=case.pk), into=Case.objects.get(pk=main.pk), by=lead)
    for number in range(8):
        if number % 2 == 0:
            kind = MessageKind.ACKNOWLEDGEMENT if number == 0 else MessageKind.QUESTION
            body = f"Message {number} from the team: could you tell us more about what happened next? " * 3
            team_domain.message_reporter(Case.objects.get(pk=main.pk), main_report, author=lead, body=body, kind=kind)
        else:
            reporter.add_reporter_message(main_receipt, f"Answer {number}: it was right after the break. " * 4)
    main = Case.objects.get(pk=main.pk)
    assert Message.objects.filter(case__in=[c for c, _r, _t in filed]).count() == 10
    assert len(team_domain.case_reports(main)) == 3

    client = desk_client(team["responder"][0])
    url = f"/desk/cases/{main.reference}/"

    def page():
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        return response

    queries, _response = count_queries(page)
    return Row(
        "case_page",
        "Case page: GET `/desk/cases/<ref>/`",
        "3 reports, 10 messages",
        timed(page, runs),
        queries=str(queries),
        note="responder; each opening is audited",
    )


def bench_receipt(runs, receipts):
    """POST /follow-up/ with a valid receipt (redirect to the case), and with an unknown one."""
    from django.test import Client

    from cocdesk.cases.domain.references import new_receipt
    from cocdesk.cases.models import Receipt
    from cocdesk.common.models import ThrottleCount

    receipt = receipts[len(receipts) // 2]
    stored = f"{Receipt.objects.count()} receipts stored"
    clients = []

    def fresh_client():
        clients[:] = [Client(HTTP_HOST="localhost")]

    def lookup(typed, expected):
        response = clients[0].post("/follow-up/", {"receipt": typed})
        assert response.status_code == expected, response.status_code
        return response

    rows = []
    fresh_client()
    queries, _response = count_queries(lambda: lookup(receipt, 302))
    rows.append(
        Row(
            "receipt_ok",
            "Receipt lookup: POST `/follow-up/`, valid receipt",
            stored,
            timed(lambda: lookup(receipt, 302), runs, before=fresh_client),
            queries=str(queries),
            note="redirects to the reporter's case",
        )
    )

    def unknown_attempt():
        # A new visitor each time, and no failures counted yet, so the throttle never answers instead.
        ThrottleCount.objects.all().delete()
        fresh_client()

    unknown = new_receipt()
    unknown_attempt()
    queries, _response = count_queries(lambda: lookup(unknown, 200))
    rows.append(
        Row(
            "receipt_unknown",
            "Receipt lookup: POST `/follow-up/`, unknown receipt",
            stored,
            timed(lambda: lookup(unknown, 200), runs, before=unknown_attempt),
            queries=str(queries),
            note="the form again, with an error",
        )
    )
    return rows


# --- the report ----------------------------------------------------------------------------------------------------

ROW_MEANINGS = [
    (
        "Intake",
        "one `cocdesk.cases.domain.intake.submit_report` call per report, timed one by one, into an organization "
        "with a 10-member team (3 leads, 4 responders, staff, admin, fallback): reference, data key and sealed "
        "report, hashed receipt, audit event and the queued notices to the 7 handlers (every 20th report is urgent "
        "and also pages the 3 leads); the rate is N divided by the summed times.",
    ),
    (
        "Team queue",
        "a whole `GET /desk/` (middleware, session, second-factor check, query, template) through "
        "`django.test.Client` for a responder logged in with `tests.team.log_in`, once with N/10 and once with N "
        "open cases visible (a quarter of them assigned); the two query counts should be equal, since the page "
        "must not run a query per case.",
    ),
    (
        "Case page",
        "`GET /desk/cases/<ref>/` by a responder for a case holding its own report and two merged duplicates with "
        "10 messages between team and reporters, all decrypted on each opening, which is also audited.",
    ),
    (
        "Deadline sweep, nothing due",
        "`cocdesk.cases.domain.clock.sweep(now=...)` over the N open cases just taken in, when no reminder or "
        "escalation is due: the cost of the every-minute run on a quiet day.",
    ),
    (
        "Deadline sweep, everything due once",
        "the first sweep at a moment (18 h after intake) when every case has exactly one alert due, as when a busy "
        "day's reports come due together: it records N alerts (the acknowledgement reminder to the 7 handlers; for "
        "the urgent 1 in 20, past its 2-hour promise, the escalation to the 3 leads), queues their notices and "
        "audits each; the alerts, notices and tasks are deleted, untimed, before each run, and there is no warm-up "
        "run.",
    ),
    (
        "Deadline sweep, everything due and already sent",
        "the next sweep at that same moment, which finds every alert already recorded and sends nothing.",
    ),
    (
        "Receipt lookup, valid receipt",
        "`POST /follow-up/` with a reporter's receipt from a new browser session: form, hash lookup among the N "
        "stored receipts, new session, redirect to the reporter's case page (not followed).",
    ),
    (
        "Receipt lookup, unknown receipt",
        "the same with a receipt that matches nothing, answered with the form and an error (the throttle's "
        "in-memory counter is cleared, untimed, before each attempt, so the lookup itself is what is timed).",
    ),
]


def database_label():
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        return "postgresql", f"PostgreSQL {version}"
    if connection.vendor == "sqlite":
        return "sqlite", f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=NORMAL)"
    return connection.vendor, connection.vendor


def machine():
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count()
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(errors="replace"), re.MULTILINE)
        model = found.group(1).strip() if found else ""
    import django

    return {
        "nproc": cpus,
        "cpu": model or platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "django": django.get_version(),
        "os": f"{platform.system()} {platform.release()}",
        "load": " ".join(f"{value:.1f}" for value in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a",
    }


def command_line(args):
    own = ".venv/bin/python bench/run_benchmarks.py " + shlex.join(sys.argv[1:])
    if args.database_from_env and os.environ.get("COCDESK_TEST_PG_BINDIR"):
        return f".venv/bin/python scripts/with_postgres.py -- {own.strip()}"
    return own.strip()


def markdown_table(rows):
    lines = [
        "| Benchmark | Size | Runs | Median (ms) | p95 (ms) | SQL queries | Notes |",
        "|---|---|--:|--:|--:|---|---|",
    ]
    for row in rows:
        median, p95 = fmt_ms(row.median_ms), fmt_ms(row.p95_ms)
        if row.key == "intake":
            median, p95 = f"{median} per report", f"{p95} per report"
        lines.append(f"| {row.label} | {row.size} | {row.runs} | {median} | {p95} | {row.queries} | {row.note} |")
    return "\n".join(lines)


def section(args, rows, database, started, elapsed):
    info = machine()
    return "\n".join(
        [
            f"Command: `{command_line(args)}`",
            "",
            f"Machine: {info['nproc']} CPUs (nproc) · {info['cpu']} · {info['os']} · Python {info['python']} · "
            f"Django {info['django']} · sqlite3.sqlite_version {info['sqlite']} · database: {database}",
            "",
            f"Date: {started:%Y-%m-%d %H:%M} UTC · N = {args.cases} · whole run {elapsed:.0f} s · load average at "
            f"the end {info['load']} (1, 5, 15 min)",
            "",
            markdown_table(rows),
        ]
    )


DOC_HEAD = """# Benchmarks

How fast CoC Desk's hot paths are, measured by `bench/run_benchmarks.py` on a fresh database filled with made-up
organizations, teams and reports. The sections below are written by the script (`--write`); edit the script, not
them.

```sh
make bench                                            # SQLite: rewrites the SQLite section
.venv/bin/python scripts/with_postgres.py -- .venv/bin/python bench/run_benchmarks.py --database-from-env --write
.venv/bin/python bench/run_benchmarks.py --cases 100  # a quick look, printed only
```

The SQLite run uses a temporary file (WAL, `synchronous=NORMAL`), never `var/`; the PostgreSQL run uses the
throwaway cluster of `scripts/with_postgres.py`, which runs with `fsync=off`, so neither pays for flushing to disk
as a production database would.

Each figure is `time.perf_counter()` around one call, after one untimed warm-up call (none for the sweep that sends
N alerts), repeated; the table gives the median and the 95th percentile (nearest rank: with fewer than 20 runs,
the slowest run). A benchmark stops repeating early once its timed runs have taken 30 s (60 s for the sweep that
sends N alerts), after at least 5 runs (2 for that sweep); the Runs column shows what was done. Pages are requested
through `django.test.Client`, in the same process and on an open database connection: no network, no web server,
no connection set-up per request (a production deployment with `conn_max_age=0` adds one). SQL queries are counted
with `django.test.utils.CaptureQueriesContext` on one extra, untimed call (for intake and the sweep that sends N
alerts: on the timed calls themselves, with a counting execute wrapper). The benchmarks are not tests and assert
nothing about time.

Each section gives the load average when its run ended: on a busy machine the figures are noisy, PostgreSQL's most
(each of its queries is a round trip to another process, which waits for a CPU too).
"""

DOC_MEANINGS = "## What each row measures\n\n" + "\n".join(f"- **{name}**: {text}" for name, text in ROW_MEANINGS)


def write_doc(database, text):
    previous = DOC.read_text() if DOC.exists() else ""
    sections = {}
    for key in SECTION_TITLES:
        found = re.search(rf"<!-- bench:{key} -->\n(.*?)\n<!-- /bench:{key} -->", previous, re.DOTALL)
        sections[key] = found.group(1) if found else "Not run yet."
    sections[database] = text
    parts = [DOC_HEAD]
    for key, title in SECTION_TITLES.items():
        parts.append(f"## {title}\n\n<!-- bench:{key} -->\n{sections[key]}\n<!-- /bench:{key} -->\n")
    parts.append(DOC_MEANINGS + "\n")
    # The other benchmarks (bench/scale.py, load.py, identifiers.py, transparency.py) write their own blocks after
    # these sections: each is kept as it was.
    for block in re.finditer(r"<!-- (bench-[a-z-]+) -->.*?<!-- /\1 -->\n?", previous, re.DOTALL):
        parts.append(block.group(0))
    DOC.write_text("\n".join(parts))


def main(argv=None):
    args = parse_args(argv)
    scratch = configure(args)
    try:
        started = datetime.datetime.now(datetime.UTC)
        clock = time.perf_counter()
        create_schema()
        database, database_text = database_label()
        n = args.cases
        print(f"run_benchmarks: {database_text}, N = {n}", file=sys.stderr)

        progress(f"intake of {n} reports")
        intake, (organization, spaces, team, receipts) = bench_intake(n)
        rows = [intake]
        progress("deadline sweeps")
        sweeps = bench_sweep(args.runs, args.due_runs)
        progress("team queue")
        rows += bench_queue(n, args.runs, (organization, spaces, team))
        progress("case page")
        rows.append(bench_case_page(args.runs))
        rows += sweeps
        progress("receipt lookup")
        rows += bench_receipt(args.runs, receipts)
        elapsed = time.perf_counter() - clock

        text = section(args, rows, database_text, started, elapsed)
        print(f"\n## {SECTION_TITLES.get(database, database)}\n\n{text}\n")
        if args.write:
            write_doc(database, text)
            print(f"run_benchmarks: wrote {DOC.relative_to(ROOT)}", file=sys.stderr)
    finally:
        from django.db import connections

        connections.close_all()
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
