#!/usr/bin/env python3
"""Intake under load: reporters sending complete reports to a real server at once, and what each costs the server.

Usage:
    .venv/bin/python bench/load.py [--clients 8,32,128] [--submissions 600] [--write]
    .venv/bin/python scripts/with_postgres.py -- .venv/bin/python bench/load.py --database-from-env [--write]

Like bench/scale.py (whose server helpers it uses) it works on a fresh SQLite file in a temporary directory, or with
--database-from-env on COCDESK_DATABASE_URL (an empty database), made with ``migrate``. It creates one organization
(2 spaces, a 10-member team) and starts gunicorn with the production configuration (deploy/gunicorn.conf.py: sync
workers, as many as docs/operations.md recommends; the production settings module, debug off, the keyring on) on
loopback. At each level of concurrency that many reporters, as asyncio tasks, each GET the public form and POST a
complete report with the tokens it carries, until the level's submissions were all sent; only a confirmation page
that carries a receipt counts. Then, in the same server, the same number of clients GET a page that does not exist.
The server's CPU time is read from /proc (the gunicorn master and its workers, and on PostgreSQL the database
server's processes) before and after each level. With --write this database's load section of docs/benchmarks.md is
rewritten.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import sys
import time

from load_client import parent_of, report_fields, run_not_found, run_reporters, tree_cpu
from load_report import TARGET_CLIENTS, section, summary_line, write_doc
from run_benchmarks import (
    ROOT,
    SECTION_TITLES,
    answers_for,
    configure,
    create_schema,
    database_label,
    make_organization,
    progress,
)
from scale_server import Server

WARM_UP = 40  # untimed submissions first: every worker loads its code and fills its caches


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="8,32,128", help="concurrent reporters per level, comma-separated")
    parser.add_argument("--submissions", type=int, default=600, help="reports sent at each level (600)")
    parser.add_argument("--not-found", type=int, default=3000, help="requests of the 404 page (3000)")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: web_workers, as deployed)")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class (sync, as deployed)")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker, for --worker-class gthread")
    parser.add_argument(
        "--database-from-env",
        action="store_true",
        help="use COCDESK_DATABASE_URL from the environment (an empty database) instead of a temporary SQLite file",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="runs of each level; the table shows the run of median CPU, and the range of all (1)",
    )
    parser.add_argument("--write", action="store_true", help="rewrite this database's load section of the doc")
    args = parser.parse_args(argv)
    try:
        args.clients = [int(n) for n in args.clients.split(",") if n.strip()]
    except ValueError:
        parser.error("--clients takes whole numbers, like 8,32,128")
    if not args.clients or not all(1 <= n <= 512 for n in args.clients):
        parser.error("--clients: 1 to 512 each")
    if not 50 <= args.submissions <= 20_000 or not 100 <= args.not_found <= 100_000:
        parser.error("--submissions 50-20000, --not-found 100-100000")
    if not 1 <= (args.workers or 1) <= 32 or not 1 <= args.threads <= 64:
        parser.error("--workers 1-32, --threads 1-64")
    if not 1 <= args.repeats <= 15:
        parser.error("--repeats 1-15")
    return args


class LoadServer(Server):
    """The production gunicorn configuration with this run's worker count and class."""

    def __init__(self, scratch, args):
        super().__init__(scratch, session_key="")
        self.gunicorn_options = (
            *("--config", str(ROOT / "deploy" / "gunicorn.conf.py")),
            *("--workers", str(args.workers)),
            *("--worker-class", args.worker_class, "--threads", str(args.threads)),
        )


def database_server_pid():
    """The PostgreSQL postmaster serving this database (the parent of our backend), or None on SQLite."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    return parent_of(backend)


def sessions_opened():
    """PostgreSQL's count of connections ever made to this database (this query's own included), or None."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        count = cursor.fetchone()[0]
    connection.close()
    return count


def measured(level_runner, server, database_pid):
    """Runs ``level_runner`` and fills in the CPU the server (and database) used meanwhile."""
    from django.db import connection

    connection.close()  # the benchmark's own connection must not hold a lock or a backend meanwhile
    opened_before = sessions_opened()
    load = os.getloadavg()[0]
    server_before = tree_cpu(server.process.pid)
    database_before = tree_cpu(database_pid) if database_pid else 0.0
    client_before = time.process_time()
    level = level_runner()
    level.client_cpu = time.process_time() - client_before
    level.server_cpu = tree_cpu(server.process.pid) - server_before
    level.database_cpu = (tree_cpu(database_pid) - database_before) if database_pid else 0.0
    level.load = load
    opened_after = sessions_opened()
    if opened_before is not None:
        # Less the connection that read the count before.
        level.connections_opened = opened_after - opened_before - 1
    return level


def median_run(runs):
    """The run of median CPU per submission (server and database), every figure of it from that one run, with the
    CPU of every run (``cpu_of_runs``): on a shared machine one run's figure can be a fifth off the next one's."""
    totals = sorted((level.cpu_ms(level.server_cpu + level.database_cpu), at) for at, level in enumerate(runs))
    level = runs[totals[(len(totals) - 1) // 2][1]]
    level.cpu_of_runs = [total for total, _at in totals]
    return level


def main(argv=None):
    args = parse_args(argv)
    scratch = configure(args)
    if args.workers is None:
        from cocdesk.settings import CONFIG

        args.workers = CONFIG["web_workers"]
    server = None
    try:
        started = datetime.datetime.now(datetime.UTC)
        clock = time.perf_counter()
        create_schema()
        database, database_text = database_label()
        organization, spaces, _team = make_organization("load")
        space_ids = {space.name: str(space.pk) for space in spaces}
        path = f"/report/{organization.slug}/"
        database_pid = database_server_pid()
        print(
            f"load: {database_text}, {args.workers} {args.worker_class} workers, clients {args.clients}",
            file=sys.stderr,
        )

        def answer_lists(count, offset):
            return [report_fields(answers_for(offset + n, spaces), space_ids) for n in range(count)]

        server = LoadServer(scratch, args)
        with server:
            progress(f"warming up with {WARM_UP} submissions")
            warm = run_reporters(server.port, path, answer_lists(WARM_UP, 0), 8)
            if warm.error_count:
                raise RuntimeError(f"the warm-up failed: {warm.errors}\n{server.log_tail()}")
            levels, sent = [], WARM_UP
            for clients in args.clients:
                runs = []
                for run in range(args.repeats):
                    progress(f"{clients} reporters at once, {args.submissions} submissions (run {run + 1})")
                    answers = answer_lists(args.submissions, sent)
                    sent += args.submissions
                    runs.append(
                        measured(
                            lambda answers=answers, clients=clients: run_reporters(server.port, path, answers, clients),
                            server,
                            database_pid,
                        )
                    )
                    print(summary_line(runs[-1]), flush=True)
                levels.append(median_run(runs))
            not_found_clients = TARGET_CLIENTS if TARGET_CLIENTS in args.clients else args.clients[0]
            progress(f"the 404 page, {args.not_found} requests from {not_found_clients} clients")
            not_found = measured(
                lambda: run_not_found(server.port, args.not_found, not_found_clients), server, database_pid
            )
            print(summary_line(not_found, what="404 pages"), flush=True)
            if any(level.error_count for level in levels) or not_found.error_count:
                print(f"load: the server's log ends with:\n{server.log_tail()}", file=sys.stderr)
        elapsed = time.perf_counter() - clock
        text = section(args, levels, not_found, database_text, started, elapsed)
        print(f"\n### {SECTION_TITLES.get(database, database)} under load\n\n{text}\n")
        if args.write:
            write_doc(database, text)
            print("load: wrote docs/benchmarks.md", file=sys.stderr)
    finally:
        from django.db import connections

        if server is not None:
            server.stop()
        connections.close_all()
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
