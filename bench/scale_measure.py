"""The measurements of bench/scale.py at one size: pages through gunicorn, sweeps in process, and the query plans
of whatever misses its target."""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from run_benchmarks import QueryCounter, Row, count_queries, progress, timed
from scale_data import COHORT_HORIZON, census
from scale_server import Server, new_session

BURST = 1000
PAGE_BUDGET = 20.0  # seconds of timed requests per page figure, once at least MIN_RUNS are done
MIN_RUNS = 10
TARGETS = {  # figure -> (limit, unit): a figure at or above its limit misses the target
    "queue_p95": (100.0, "ms"),
    "queue_kb": (200.0, "KB"),
    "rss_mb": (150.0, "MB"),
    "case_p95": (60.0, "ms"),
    "idle_p95": (20.0, "ms"),
    "burst_p95": (5.0, "s"),
}


@dataclass
class Page:
    path: str
    row: Row
    size_bytes: int
    rows_shown: int
    queries: int


@dataclass
class Result:
    size: int
    shape: str
    cases: int
    open_cases: int
    build_seconds: float
    database_bytes: int
    load: float = 0.0  # the 1-minute load average when the measurements of this size began
    queue: Page = None
    filtered: Page = None
    case_page: Page = None
    rss: int = 0
    hwm: int = 0
    idle: Row = None
    idle_queries: int = 0
    burst: Row = None
    burst_queries: int = 0
    burst_alerts: int = 0
    burst_notices: int = 0
    plans: list = field(default_factory=list)  # (what, text)

    def figures(self):
        return {
            "queue_p95": self.queue.row.p95_ms,
            "queue_kb": self.queue.size_bytes / 1024,
            "rss_mb": self.rss / 2**20,
            "case_p95": self.case_page.row.p95_ms,
            "idle_p95": self.idle.p95_ms,
            "burst_p95": self.burst.p95_ms / 1000,
        }

    def missed(self):
        return [name for name, value in self.figures().items() if value >= TARGETS[name][0]]


def database_bytes():
    from django.conf import settings
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            return cursor.fetchone()[0]
    name = settings.DATABASES["default"]["NAME"]
    return sum(Path(f"{name}{suffix}").stat().st_size for suffix in ("", "-wal") if Path(f"{name}{suffix}").exists())


def local_client(session_key):
    """The same session in process, for counting a page's queries and capturing their SQL."""
    from django.conf import settings
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    client.cookies[settings.SESSION_COOKIE_NAME] = session_key
    return client


def filtered_path(desk):
    """The filtered queue: the third page of the closed cases when there are closed cases, otherwise the third page
    of one space's open cases."""
    if desk.shape == "all-open":
        return f"/desk/?space={desk.spaces[0].pk}&page=3"
    return "/desk/?show=closed&page=3"


def measure_pages(desk, result, scratch, runs):
    """Queue, filtered queue and case page through gunicorn; then the worker's memory."""
    session_key = new_session(desk.viewer)
    client = local_client(session_key)
    paths = [
        ("queue", "/desk/", "Team queue: GET `/desk/`"),
        ("filtered", filtered_path(desk), "Team queue, filtered"),
        ("case_page", f"/desk/cases/{desk.case_page_reference}/", "Case page: GET `/desk/cases/<ref>/`"),
    ]
    with Server(scratch, session_key) as server:
        for key, path, label in paths:
            bodies = []

            def fetch(path=path, bodies=bodies):
                status, body, _seconds = server.get(path)
                if status != 200:
                    raise RuntimeError(f"GET {path} answered {status} (is the session accepted?)")
                bodies[:] = [body]

            progress(f"  {path} through gunicorn")
            samples = timed(fetch, runs, warmup=3, budget=PAGE_BUDGET, min_runs=min(MIN_RUNS, runs))
            body = bodies[0]
            rows_shown = body.count(b'href="/desk/cases/')
            if key == "queue" and rows_shown != min(50, result.open_cases):
                raise RuntimeError(f"the queue showed {rows_shown} cases, not a page of 50 (is it the queue?)")
            queries, response = count_queries(lambda path=path: client.get(path))
            assert response.status_code == 200, response.status_code
            setattr(
                result,
                key,
                Page(path, Row(key, label, f"{result.size}", samples), len(body), rows_shown, queries),
            )
        result.rss, result.hwm = server.memory()


def measure_idle_sweep(result, runs):
    from django.utils import timezone

    from cocdesk.cases.domain.clock import sweep

    now = timezone.now()
    if sweep(now=now) != 0:
        raise RuntimeError("something was already due: the idle sweep would not be idle")
    result.idle_queries, _sent = count_queries(lambda: sweep(now=now))
    result.idle = Row("idle", "Deadline sweep, nothing due", f"{result.size}", timed(lambda: sweep(now=now), runs))


def burst_cohort(desk):
    """The BURST open cases whose next alert comes first (fewer when fewer are open), and the moment the last of
    them comes due: a sweep at that moment finds exactly these, each with one alert due."""
    from cocdesk.cases.models import Case

    cohort = list(
        Case.objects.filter(organization=desk.organization, next_alert_at__lte=desk.anchor + COHORT_HORIZON)
        .order_by("next_alert_at", "pk")
        .values_list("pk", "next_alert_at")[:BURST]
    )
    moment = cohort[-1][1]
    everything_due = Case.objects.filter(next_alert_at__lte=moment).count()
    if everything_due != len(cohort):
        raise RuntimeError(f"{everything_due} cases are due at the burst moment, expected {len(cohort)}")
    return cohort, moment


def measure_burst(desk, result, runs):
    """sweep(now=moment) for the cohort; before each run (untimed) the alerts, notices and tasks it made are deleted
    and the cohort's next_alert_at put back, so every run sends the same alerts. No warm-up run."""
    from django.db import connection
    from django.db.models import Max
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from cocdesk.cases.domain.clock import sweep
    from cocdesk.cases.models import Case, DeadlineAlert
    from cocdesk.notify.models import Notification

    cohort, moment = burst_cohort(desk)
    mark = {}

    def reset():
        DeadlineAlert.objects.all().delete()
        if mark:
            Notification.objects.filter(pk__gt=mark["notification"]).delete()
            DBTaskResult.objects.filter(enqueued_at__gte=mark["tasks"]).delete()
        Case.objects.bulk_update([Case(pk=pk, next_alert_at=at) for pk, at in cohort], ["next_alert_at"], 500)
        mark["notification"] = Notification.objects.aggregate(last=Max("pk"))["last"] or 0
        mark["tasks"] = timezone.now()

    sent, notices, counter = [], [], QueryCounter()

    def due_sweep():
        with connection.execute_wrapper(counter):
            sent.append(sweep(now=moment))

    def after():
        notices.append(Notification.objects.filter(pk__gt=mark["notification"]).count())

    samples = []
    for _run in range(runs):
        samples += timed(due_sweep, 1, before=reset, warmup=0, min_runs=1)
        after()
        if sum(samples) > 60:
            break
    if set(sent) != {len(cohort)}:
        raise RuntimeError(f"expected {len(cohort)} alerts per run, got {sorted(set(sent))}")
    if Case.objects.filter(organization=desk.organization, under_fallback=True).exists():
        raise RuntimeError("the burst handed cases to the fallback members: the cohort was not one alert each")
    result.burst = Row("burst", f"Deadline sweep, {len(cohort)} alerts due", f"{result.size}", samples)
    result.burst_queries = round(counter.count / len(samples))
    result.burst_alerts = len(cohort)
    result.burst_notices = max(notices)
    reset()  # the cohort waits again, for the next size
    return cohort, moment


def measure(desk, size, build_seconds, scratch, args):
    per_state, open_cases = census(desk.organization)
    result = Result(size, desk.shape, sum(per_state.values()), open_cases, build_seconds, database_bytes())
    result.load = os.getloadavg()[0]
    measure_pages(desk, result, scratch, args.runs)
    progress("  idle sweep")
    measure_idle_sweep(result, args.runs)
    progress("  burst of due alerts")
    _cohort, moment = measure_burst(desk, result, args.burst_runs)
    if args.explain or result.missed():
        progress("  query plans of what missed its target")
        result.plans = plans_for(desk, result, moment, explain_all=args.explain)
    return result


# --- query plans ---------------------------------------------------------------------------------------------------


def captured(function):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as capture:
        function()
    return [(float(query["time"]) * 1000, query["sql"]) for query in capture.captured_queries]


def shape_of(sql):
    """The statement with its literals replaced, to group the same query run with other values."""
    sql = re.sub(r"'(?:[^']|'')*'", "?", sql)
    sql = re.sub(r"\b\d+(\.\d+)?\b", "?", sql)
    return re.sub(r"\((?:\?, )+\?\)", "(…)", sql)


def explain(sql):
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            return "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        rows = cursor.fetchall()
    depth, lines = {0: -1}, []
    for node, parent, _unused, detail in rows:
        depth[node] = depth.get(parent, -1) + 1
        lines.append("  " * depth[node] + detail)
    return "\n".join(lines)


def rerun_ms(sql, repeat=3):
    """The best of ``repeat`` full runs of a statement, rows fetched: the time CaptureQueriesContext gives on SQLite
    covers only the first step of a statement, not the fetching of its rows."""
    from django.db import connection

    best = None
    with connection.cursor() as cursor:
        for _ in range(repeat):
            start = time.perf_counter()
            cursor.execute(sql)
            cursor.fetchall()
            elapsed = (time.perf_counter() - start) * 1000
            best = elapsed if best is None else min(best, elapsed)
    return best


def slowest(queries, top):
    """The ``top`` SELECT statements taking the most time (each run again in full, times the number of times the
    page ran it with any values): [(total ms, runs, ms per run, sql)], and the number of statements."""
    groups = {}
    for _ms, sql in queries:
        if sql.lstrip().upper().startswith("SELECT"):
            count, example = groups.get(shape_of(sql), (0, sql))
            groups[shape_of(sql)] = (count + 1, example)
    timed_groups = []
    for count, sql in groups.values():
        each = rerun_ms(sql)
        timed_groups.append((each * count, count, each, sql))
    return sorted(timed_groups, key=lambda group: -group[0])[:top], len(queries)


def plan_text(label, queries, top=2):
    ranked, total = slowest(queries, top)
    lines = [f"{label}: {total} statements"]
    for total_ms, count, each, sql in ranked:
        lines += [
            f"-- run {count}x by the page; {each:.1f} ms each when run again with its rows fetched "
            f"({total_ms:.1f} ms in all)",
            sql,
            "-- plan:",
            explain(sql),
            "",
        ]
    return "\n".join(lines)


def plans_for(desk, result, moment, *, explain_all=False):
    from django.utils import timezone

    from cocdesk.cases.domain.clock import sweep

    missed = set(TARGETS) if explain_all else set(result.missed())
    client = local_client(new_session(desk.viewer))
    pages = []
    if "queue_p95" in missed:
        pages.append(result.queue.path)
    if explain_all or result.filtered.row.p95_ms >= TARGETS["queue_p95"][0]:
        pages.append(result.filtered.path)
    if "case_p95" in missed:
        pages.append(result.case_page.path)
    plans = []
    for path in pages:
        client.get(path)  # warm, as the timed requests were
        plans.append((f"GET {path}", plan_text(f"GET {path}", captured(lambda path=path: client.get(path)))))
    if "idle_p95" in missed:
        now = timezone.now()
        plans.append(("idle sweep", plan_text("sweep(now=now), nothing due", captured(lambda: sweep(now=now)), top=1)))
    if "burst_p95" in missed:
        plans.append((f"burst of {result.burst_alerts} alerts", burst_plans(desk, moment)))
    return plans


def burst_plans(desk, moment):
    """One more burst, untimed, with its SQL captured; then the cohort is put back as measure_burst leaves it."""
    from django.db.models import Max
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from cocdesk.cases.domain.clock import sweep
    from cocdesk.cases.models import Case, DeadlineAlert
    from cocdesk.notify.models import Notification

    cohort, _moment = burst_cohort(desk)
    last = Notification.objects.aggregate(last=Max("pk"))["last"] or 0
    started = timezone.now()
    queries = captured(lambda: sweep(now=moment))
    text = plan_text(f"sweep(now=moment) with {len(cohort)} alerts due", queries, top=3)
    DeadlineAlert.objects.all().delete()
    Notification.objects.filter(pk__gt=last).delete()
    DBTaskResult.objects.filter(enqueued_at__gte=started).delete()
    Case.objects.bulk_update([Case(pk=pk, next_alert_at=at) for pk, at in cohort], ["next_alert_at"], 500)
    return text
