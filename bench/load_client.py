"""The load generator of bench/load.py: reporters as asyncio tasks speaking HTTP/1.0 over loopback (one connection
per request, as a sync gunicorn worker closes each one anyway), and the CPU time of a process tree from /proc."""

from __future__ import annotations

import asyncio
import itertools
import math
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

REQUEST_TIMEOUT = 60.0
HOST = "127.0.0.1"
TICKS = os.sysconf("SC_CLK_TCK")

_HIDDEN = re.compile(rb'<input type="hidden" name="(csrfmiddlewaretoken|submission_token)" value="([^"]+)"')
_RECEIPT = re.compile(rb'<dd id="receipt" class="receipt">([A-Z0-9-]{20,})</dd>')
_CSRF_COOKIE = re.compile(r"csrftoken=([^;]+)")


class Refused(Exception):
    """An answer a reporter would not count as success: a wrong status, or a page without what it must carry."""


async def http(port, method, path, *, headers=(), body=b""):
    """(status, headers as (name, value) pairs, body, seconds) of one request on a new connection."""
    start = time.perf_counter()
    reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), REQUEST_TIMEOUT)
    try:
        lines = [f"{method} {path} HTTP/1.0", f"Host: {HOST}:{port}", *(f"{k}: {v}" for k, v in headers)]
        if body:
            lines += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), REQUEST_TIMEOUT)
    finally:
        writer.close()
    seconds = time.perf_counter() - start
    head, _sep, content = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise Refused(f"no HTTP answer ({len(raw)} bytes)")
    pairs = [tuple(part.strip() for part in line.split(":", 1)) for line in header_lines if ":" in line]
    return int(parts[1]), pairs, content, seconds


def report_fields(answers, space_ids):
    """The POST body a browser sends for ``answers`` (bench/run_benchmarks.py's answers_for) on the public form."""
    fields = []
    for name, value in answers.items():
        if name == "space":
            fields.append((name, space_ids.get(value, "")))
        elif name == "excluded_members":
            fields += [(name, member) for member in value]
        elif isinstance(value, bool):
            if value:
                fields.append((name, "on"))
        else:
            fields.append((name, value))
    return fields


@dataclass
class Level:
    """What one level of concurrency measured."""

    clients: int
    wanted: int
    received: int = 0
    errors: dict = field(default_factory=dict)
    get_seconds: list = field(default_factory=list)
    post_seconds: list = field(default_factory=list)
    round_seconds: list = field(default_factory=list)
    wall: float = 0.0
    server_cpu: float = 0.0
    database_cpu: float = 0.0
    client_cpu: float = 0.0
    connections_opened: int | None = None
    load: float = 0.0

    def note_error(self, reason):
        self.errors[reason] = self.errors.get(reason, 0) + 1

    @property
    def error_count(self):
        return sum(self.errors.values())

    @property
    def rate(self):
        return self.received / self.wall if self.wall else 0.0

    def cpu_ms(self, seconds):
        return seconds * 1000 / self.received if self.received else math.nan


def percentile(samples, fraction):
    """Nearest rank, in milliseconds."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)] * 1000


async def _reporter(port, path, next_answers, level):
    for answers in iter(next_answers, None):
        started = time.perf_counter()
        try:
            status, headers, page, seconds = await http(port, "GET", path)
            if status != 200:
                raise Refused(f"form GET {status}")
            level.get_seconds.append(seconds)
            tokens = dict(_HIDDEN.findall(page))
            cookie = next(
                (
                    found.group(1)
                    for k, v in headers
                    if k.lower() == "set-cookie"
                    for found in [_CSRF_COOKIE.match(v)]
                    if found
                ),
                None,
            )
            if cookie is None or b"csrfmiddlewaretoken" not in tokens or b"submission_token" not in tokens:
                raise Refused("form without its tokens")
            fields = [(key.decode(), value.decode()) for key, value in tokens.items()] + answers
            status, _headers, page, seconds = await http(
                port, "POST", path, headers=[("Cookie", f"csrftoken={cookie}")], body=urlencode(fields).encode()
            )
            if status != 200:
                raise Refused(f"report POST {status}")
            if not _RECEIPT.search(page):
                raise Refused("confirmation without a receipt")
            level.post_seconds.append(seconds)
            level.round_seconds.append(time.perf_counter() - started)
            level.received += 1
        except Refused as refused:
            level.note_error(str(refused))
        except (OSError, TimeoutError) as failed:
            level.note_error(type(failed).__name__)


def run_reporters(port, path, answer_list, clients):
    """``clients`` reporters take the answers in turn until every one was sent once: GET the form, POST it."""
    level = Level(clients=clients, wanted=len(answer_list))
    pending = iter(answer_list)

    def next_answers():
        return next(pending, None)

    async def main():
        await asyncio.gather(*(_reporter(port, path, next_answers, level) for _ in range(clients)))

    start = time.perf_counter()
    asyncio.run(main())
    level.wall = time.perf_counter() - start
    return level


def run_not_found(port, requests, clients):
    """(requests answered 404 per second, Level) for ``requests`` GETs of a page that does not exist."""
    level = Level(clients=clients, wanted=requests)
    counter = itertools.count()

    async def asker():
        while next(counter) < requests:
            try:
                status, _headers, _body, seconds = await http(port, "GET", "/no-such-page/")
            except (OSError, TimeoutError) as failed:
                level.note_error(type(failed).__name__)
                continue
            if status == 404:
                level.received += 1
                level.get_seconds.append(seconds)
            else:
                level.note_error(f"404 page answered {status}")

    async def main():
        await asyncio.gather(*(asker() for _ in range(clients)))

    start = time.perf_counter()
    asyncio.run(main())
    level.wall = time.perf_counter() - start
    return level


# --- CPU time from /proc -------------------------------------------------------------------------------------------


def _stat(pid):
    """(ppid, utime + stime, cutime + cstime) in seconds, or None once the process is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS, (int(fields[13]) + int(fields[14])) / TICKS


def children(pid):
    found = Path(f"/proc/{pid}/task/{pid}/children")
    if found.exists():
        try:
            return [int(child) for child in found.read_text().split()]
        except OSError:
            return []
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat and stat[0] == pid:
                pids.append(int(entry.name))
    return pids


def tree_cpu(pid):
    """CPU seconds of a parent and its children so far: the parent's own time, what its reaped children used
    (cutime, cstime) and the running children's own. Differences of two readings give the CPU used in between,
    whether the children in between lived on or ended."""
    stat = _stat(pid)
    if stat is None:
        return 0.0
    total = stat[1] + stat[2]
    for child in children(pid):
        child_stat = _stat(child)
        if child_stat is not None:
            total += child_stat[1]
    return total


def parent_of(pid):
    stat = _stat(pid)
    return stat[0] if stat else None
