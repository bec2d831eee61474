"""The tables and the docs/benchmarks.md section of bench/load.py."""

from __future__ import annotations

import os
import re
import shlex
import sys

from load_client import percentile
from run_benchmarks import DOC, SECTION_TITLES, fmt_ms, machine
from scale_report import code_version

BLOCK_START, BLOCK_END = "<!-- bench-load -->", "<!-- /bench-load -->"
TARGET_CLIENTS = 32  # the level the throughput and latency targets speak of
RATE_TARGETS = {"sqlite": 120, "postgresql": 100}  # submissions per second at TARGET_CLIENTS
P99_TARGET_MS = 300
CPU_TARGETS_MS = {"sqlite": 8.0, "postgresql": 10.0}  # per submission; PostgreSQL's includes the database's CPU

INTRO = """## Intake under load: many reporters at once

`bench/load.py` creates one organization (2 spaces, a 10-member team: 3 leads, 4 responders, staff, admin, fallback)
on a fresh database and starts gunicorn with the production configuration (`deploy/gunicorn.conf.py`: sync workers,
as many as `web_workers`, 3 by default, as docs/operations.md recommends) and the production settings (debug off, the
keyring on, every submission sealed and audited) on loopback. At each level that many reporters, asyncio tasks in
the benchmark's process, each GET the public form, then POST a complete report (every field answered as a reporter
would, the form's CSRF and submission tokens, one report in twenty urgent: it pages the leads) on a new connection
per request, until the level's submissions were all sent. Only a confirmation page carrying a receipt counts as
received; any other answer, a refused connection or a request over 60 s is an error. In the same server, after the
reporters, the same number of clients as the target level request a page that does not exist: the cheapest answer
the application gives, which shows what the server, the proxy-less loopback and the load generator cost by
themselves.

```sh
make bench-load                                                   # SQLite: rewrites the SQLite section below
.venv/bin/python scripts/with_postgres.py -- .venv/bin/python bench/load.py --database-from-env --repeats 5 --write
.venv/bin/python bench/load.py --clients 32 --submissions 300     # a quick look, printed only
```
"""

MEANING = """### What the load figures measure

**Submissions/s** is the receipts received divided by the level's wall-clock time. **POST** latencies are the
submission itself (from sending the POST to the last byte of the confirmation page: what a reporter waits for after
pressing Send), nearest-rank percentiles of the received ones; **round** is GET plus POST, as the loop of each
reporter runs them back to back (a closed loop: with N reporters and X submissions/s, a round takes N / X on
average). **Server CPU** is the user plus system time of the gunicorn master and its workers (`/proc/<pid>/stat`,
children's included) over the level, divided by the receipts; on PostgreSQL **database CPU** is the same for the
PostgreSQL server's processes (the postmaster and every backend), and **connections opened** the change of
`pg_stat_database.sessions` (a persistent connection per worker makes it 0). The **404** row gives the same server's
answers per second and CPU per answer for `GET /no-such-page/`; **ratio** is how many 404 answers cost the CPU of
one submission (a submission is two requests: the form and the report). The load generator's own CPU runs on the
same machine and is left out of the server's figures. The targets on a 2-core machine: at least 120 submissions/s
on SQLite and 100 on PostgreSQL at 32 reporters, a POST p99 under 300 ms at 32 reporters, no error at 128, and
under 8 ms of server CPU per submission (on PostgreSQL under 10 ms with the database's own). The machine is shared:
the load column gives the 1-minute load average when each level began (2 CPUs: above 2 means something else was
running too, which lowers the throughput figures far more than the CPU figures). Its speed also drifts from one
minute to the next, so each level runs several times (`--repeats`): the row is the run of median CPU, every figure
of it from that run, and the last column gives the CPU of every run, sorted.
"""


def _cpu(level):
    return level.cpu_ms(level.server_cpu), level.cpu_ms(level.database_cpu)


def summary_line(level, what="receipts"):
    server_ms, database_ms = _cpu(level)
    extra = f" + {database_ms:.1f} ms database" if level.database_cpu else ""
    samples = level.post_seconds or level.get_seconds
    return (
        f"  {level.clients:>3} clients: {level.received} {what} in {level.wall:.1f} s = {level.rate:.0f}/s, "
        f"errors {level.error_count} {level.errors or ''}, "
        f"p50/p99 {percentile(samples, 0.5):.0f}/{percentile(samples, 0.99):.0f} ms, "
        f"server CPU {server_ms:.2f} ms{extra} each"
    )


def main_table(levels, not_found, database):
    on_postgres = database == "postgresql"
    header = (
        "| Reporters at once | submissions/s | received (errors) | POST p50 / p95 / p99 ms | round p99 ms "
        "| form GET p99 ms | server CPU ms per submission |"
    )
    rule = "|--:|--:|--:|--:|--:|--:|--:|"
    if on_postgres:
        header += " database CPU ms | total CPU ms | connections opened |"
        rule += "--:|--:|--:|"
    repeated = any(len(getattr(level, "cpu_of_runs", ())) > 1 for level in levels)
    if repeated:
        header += " CPU ms of every run |"
        rule += "--:|"
    lines = [header + " load (1 min) |", rule + "--:|"]
    for level in levels:
        server_ms, database_ms = _cpu(level)
        row = (
            f"| {level.clients} | {level.rate:.0f} | {level.received} ({level.error_count}) | "
            f"{fmt_ms(percentile(level.post_seconds, 0.5))} / {fmt_ms(percentile(level.post_seconds, 0.95))} / "
            f"{fmt_ms(percentile(level.post_seconds, 0.99))} | {fmt_ms(percentile(level.round_seconds, 0.99))} | "
            f"{fmt_ms(percentile(level.get_seconds, 0.99))} | {server_ms:.2f} |"
        )
        if on_postgres:
            row += f" {database_ms:.2f} | {server_ms + database_ms:.2f} | {level.connections_opened} |"
        if repeated:
            row += " " + ", ".join(f"{total:.2f}" for total in level.cpu_of_runs) + " |"
        lines.append(row + f" {level.load:.1f} |")
    server_ms, database_ms = _cpu(not_found)
    row = (
        f"| 404 page, {not_found.clients} clients | {not_found.rate:.0f} answers/s | {not_found.received} "
        f"({not_found.error_count}) | {fmt_ms(percentile(not_found.get_seconds, 0.5))} / "
        f"{fmt_ms(percentile(not_found.get_seconds, 0.95))} / {fmt_ms(percentile(not_found.get_seconds, 0.99))} "
        f"| | | {server_ms:.2f} per answer |"
    )
    if on_postgres:
        row += f" {database_ms:.2f} | {server_ms + database_ms:.2f} | {not_found.connections_opened} |"
    if repeated:
        row += " |"
    lines.append(row + f" {not_found.load:.1f} |")
    return "\n".join(lines)


def at_clients(levels, clients):
    return next((level for level in levels if level.clients == clients), None)


def verdicts(levels, not_found, database):
    """Met or missed, per target, with the figure."""
    parts = []

    def judge(name, met, shown):
        parts.append(f"{name}: {'met' if met else '**missed**'} ({shown})")

    target = at_clients(levels, TARGET_CLIENTS)
    if target is not None:
        rate_target = RATE_TARGETS.get(database, 100)
        judge(
            f"at least {rate_target} submissions/s at 32 reporters", target.rate >= rate_target, f"{target.rate:.0f}/s"
        )
        p99 = percentile(target.post_seconds, 0.99)
        judge(f"POST p99 under {P99_TARGET_MS} ms at 32 reporters", p99 < P99_TARGET_MS, f"{p99:.0f} ms")
    most = at_clients(levels, 128)
    if most is not None:
        judge("no error at 128 reporters", most.error_count == 0, f"{most.error_count} errors")
    limit = CPU_TARGETS_MS.get(database, 8.0)
    worst = max(levels, key=lambda level: sum(_cpu(level)))
    server_ms, database_ms = _cpu(worst)
    if database == "postgresql":
        judge(
            f"CPU per submission under {limit:.0f} ms with the database's",
            server_ms + database_ms < limit,
            f"at worst {server_ms + database_ms:.2f} ms, {worst.clients} reporters",
        )
    else:
        judge(
            f"server CPU per submission under {limit:.0f} ms",
            server_ms < limit,
            f"at worst {server_ms:.2f} ms, {worst.clients} reporters",
        )
    per_answer = sum(_cpu(not_found))
    if per_answer and target is not None:
        ratio = sum(_cpu(target)) / per_answer
        parts.append(f"a submission costs the CPU of {ratio:.1f} 404 answers at 32 reporters")
    return "Targets: " + "; ".join(parts) + "."


def command_line(args):
    own = ".venv/bin/python bench/load.py " + shlex.join(sys.argv[1:])
    if args.database_from_env and os.environ.get("COCDESK_TEST_PG_BINDIR"):
        return f".venv/bin/python scripts/with_postgres.py -- {own.strip()}"
    return own.strip()


def section(args, levels, not_found, database_text, started, elapsed):
    info = machine()
    database = "postgresql" if database_text.startswith("PostgreSQL") else "sqlite"
    via_make = " (`make bench-load`)" if os.environ.get("MAKELEVEL") and not args.database_from_env else ""
    threads = f", {args.threads} threads each" if args.worker_class == "gthread" else ""
    repeats = f" in each of {args.repeats} runs, the table giving the run of median CPU" if args.repeats > 1 else ""
    client_ms = sum(level.client_cpu for level in levels) * 1000 / max(sum(level.received for level in levels), 1)
    return "\n".join(
        [
            f"Command: `{command_line(args)}`{via_make}",
            "",
            f"Machine: {info['nproc']} CPUs (nproc) · {info['cpu']} · {info['os']} · Python {info['python']} · "
            f"Django {info['django']} · database: {database_text}",
            "",
            f"Code: {code_version()}",
            "",
            f"Date: {started:%Y-%m-%d %H:%M} UTC · gunicorn: {args.workers} {args.worker_class} workers{threads} · "
            f"{args.submissions} submissions per level{repeats}, {args.not_found} 404 requests · "
            f"whole run {elapsed:.0f} s · "
            f"load generator {client_ms:.1f} ms CPU per submission · load average at the end {info['load']} "
            "(1, 5, 15 min)",
            "",
            main_table(levels, not_found, database),
            "",
            verdicts(levels, not_found, database),
        ]
    )


def write_doc(database, text):
    """Rewrites this database's load section of docs/benchmarks.md, keeping everything else of the file."""
    previous = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    sections = {}
    for key in SECTION_TITLES:
        found = re.search(rf"<!-- bench-load:{key} -->\n(.*?)\n<!-- /bench-load:{key} -->", previous, re.DOTALL)
        sections[key] = found.group(1) if found else "Not run yet."
    sections[database] = text
    parts = [BLOCK_START, INTRO]
    for key, title in SECTION_TITLES.items():
        parts.append(
            f"### {title} under load\n\n<!-- bench-load:{key} -->\n{sections[key]}\n<!-- /bench-load:{key} -->\n"
        )
    parts += [MEANING, BLOCK_END]
    block = "\n".join(parts)
    start, end = previous.find(BLOCK_START), previous.find(BLOCK_END)
    if start >= 0 and end > start:
        updated = previous[:start] + block + previous[end + len(BLOCK_END) :]
    else:
        updated = previous.rstrip("\n") + "\n\n" + block + "\n"
    DOC.write_text(updated)
