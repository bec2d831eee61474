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
PER_PERSON = 25
CHUNK_PEOPLE = 800  # identifiers are written 20,000 at a time, whole people per chunk
TARGET_MS = 10.0
INDEX = "identifier_match"
BLOCK_START, BLOCK_END = "<!-- bench-identifiers -->", "<!-- /bench-identifiers -->"


def _words(text):
    return text.split()


FIRST = _words(
    "Alex Amira Ben Carla Chen Dana Diego Elena Emeka Fatima Grace Hana Hugo Ines Ivan Jana Jonas Kai Kemal Lea "
    "Liam Lucia Mads Maya Mei Mila Nadia Noah Olga Omar Paula Priya Rafael Rosa Sami Sara Sofia Tariq Tomas Yuki"
)
LAST = _words(
    "Abe Bauer Costa Dubois Eriksen Fischer Garcia Haddad Ito Jansen Kowalski Lopez Meyer Nakamura Novak Okafor "
    "Petrov Quinn Rossi Santos Schmidt Silva Tanaka Torres Usman Vargas Weber Xu Yilmaz Zhang"
)
NICK = _words("Ace Bea Cap Doc Fox Jay Kit Max Neo Pip Ray Sky Tex Viv Zed")
ADJECTIVE = _words("Blue Bright Clear Deep Fair First Grand Green Happy High Kind Little Lucky Main New North Open")
NOUN = _words("Bridge Cloud Data Field Forge Harbor Labs Leaf Logic Orbit Peak River Rock Signal Stone Tree Wave")
SUFFIX = ["Inc.", "Ltd", "GmbH", "LLC", "B.V."]


def _person_words(n):
    first, last = FIRST[n % len(FIRST)], LAST[n // len(FIRST) % len(LAST)]
    return {
        "First": first,
        "Last": last,
        "first": first.lower(),
        "last": last.lower(),
        "f": first[0].lower(),
        "Nick": NICK[n % len(NICK)],
        "nick": NICK[n % len(NICK)].lower(),
        "Other": LAST[n * 7 // len(NICK) % len(LAST)],
        "n": n,
        "disc": n * 37 % 10_000,
    }


def _company(index):
    return (
        f"{ADJECTIVE[index % len(ADJECTIVE)]} {NOUN[index // len(ADJECTIVE) % len(NOUN)]} "
        f"{SUFFIX[index // (len(ADJECTIVE) * len(NOUN)) % len(SUFFIX)]}"
    )


# The 25 identifiers of person n, one per slot: (kind, pattern). Names and companies are shared by many people, as
# real ones are; the others carry n, so they are the person's own (the new values of a report are drawn from those).
SLOTS = [
    ("name", "{First} {Last}"),
    ("name", "{Last}, {First} {Nick[0]}."),
    ("name", "{Nick} {Last}-{Other}"),
    ("email", "{first}.{last}{n}@gmail.com"),
    ("email", "{first}{n}@fastmail.com"),
    ("email", "{f}{last}{n}@example.org"),
    ("email", "{last}.{first}.{n}@posteo.de"),
    ("email", "{first}_{last}{n}@proton.me"),
    ("email", "{nick}{n}@outlook.com"),
    ("email", "{first}.{n}@uni-example.edu"),
    ("handle", "@{first}{last}{n}"),
    ("handle", "https://github.com/{first}-{last}{n}"),
    ("handle", "https://mastodon.social/@{nick}{n}"),
    ("handle", "{first}{n}#{disc:04d}"),
    ("handle", "https://www.linkedin.com/in/{first}-{last}-{n}"),
    ("handle", "https://x.com/{f}{last}{n}"),
    ("handle", "https://www.instagram.com/{first}.{last}.{n}/"),
    ("handle", "https://gitlab.com/{last}{n}"),
    ("handle", "https://www.youtube.com/@{nick}{last}{n}"),
    ("badge", "#{badge0:05d}"),
    ("badge", "Badge {badge1:06d}"),
    ("badge", "B-{badge2}"),
    ("company", "{company0}"),
    ("company", "{company1}"),
    ("company", "{company2}"),
]
assert len(SLOTS) == PER_PERSON
OWN_SLOTS = [slot for slot, (kind, _pattern) in enumerate(SLOTS) if kind in ("email", "handle", "badge")]
SPELLINGS = [str.upper, str.swapcase, lambda value: f"  {value}  ", lambda value: value]


def identifier(n, slot):
    """The (kind, value) of person n's identifier in this slot."""
    kind, pattern = SLOTS[slot]
    words = _person_words(n)
    for k in range(3):
        words[f"badge{k}"] = 1000 + n * 3 + k
        words[f"company{k}"] = _company(n * 3 + k)
    return kind, pattern.format(**words)


# --- building the registry -----------------------------------------------------------------------------------------


class Registry:
    """One organization's registry of people, and how far it has grown."""

    def __init__(self):
        from tests.factories import OrganizationFactory

        self.organization = OrganizationFactory(name="Bench identifiers", slug="bench-identifiers")
        self.person_pks = []
        self.filled = 0
        self.skipped = 0  # identifiers that digest to nothing or to one the person already has


def _code_name(n):
    from cocdesk.people.domain.registry import CODE_NAME_ALPHABET

    letters = []
    for _ in range(5):
        n, digit = divmod(n, len(CODE_NAME_ALPHABET))
        letters.append(CODE_NAME_ALPHABET[digit])
    return "P-" + "".join(letters)


def grow(registry, target):
    """Adds people and their identifiers until the registry holds ``target`` identifiers (a multiple of 25)."""
    from django.db import connection, transaction

    from cocdesk.people.domain.registry import digest, seal
    from cocdesk.people.models import Identifier, Person

    organization = registry.organization
    table = connection.ops.quote_name(Identifier._meta.db_table)
    columns = "organization_id, person_id, kind, digest, sealed_value"
    insert = f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s)"  # noqa: S608 - the model's own table
    while registry.filled < target:
        first = len(registry.person_pks)
        count = min(CHUNK_PEOPLE, (target - registry.filled) // PER_PERSON)
        people = [
            Person(
                organization=organization,
                code_name=_code_name(n),
                sealed_details=seal(organization, "person", {"name": identifier(n, 0)[1]}),
            )
            for n in range(first, first + count)
        ]
        rows = []
        for offset, n in enumerate(range(first, first + count)):
            seen = set()
            for slot in range(PER_PERSON):
                kind, value = identifier(n, slot)
                found = digest(organization, value)
                if not found or found in seen:
                    registry.skipped += 1
                    continue
                seen.add(found)
                rows.append((offset, kind, found, seal(organization, "identifier", {"value": value})))
        with transaction.atomic():
            Person.objects.bulk_create(people, batch_size=2000)
            params = [(organization.pk, people[offset].pk, kind, found, sealed) for offset, kind, found, sealed in rows]
            with connection.cursor() as cursor:
                cursor.executemany(insert, params)
        registry.person_pks += [person.pk for person in people]
        registry.filled += count * PER_PERSON


# --- looking up ----------------------------------------------------------------------------------------------------


def new_reports(rng, people, count):
    """``count`` reports of 3 to 6 identifiers: about half of them one existing person's (in another spelling: case,
    spaces), the rest never seen. Returns (person index or None, values) pairs."""
    reports = []
    for _ in range(count):
        size = rng.randint(3, 6)
        known = rng.choice([size // 2, (size + 1) // 2])
        person = rng.randrange(people)
        values = [rng.choice(SPELLINGS)(identifier(person, slot)[1]) for slot in rng.sample(range(PER_PERSON), known)]
        stranger = 10_000_000 + rng.randrange(10_000_000)  # far above any person made
        values += [identifier(stranger, slot)[1] for slot in rng.sample(OWN_SLOTS, size - known)]
        rng.shuffle(values)
        reports.append((person, values))
    return reports


def plan(organization, values):
    """The look-up's query plan, and whether it reads the identifier_match index."""
    from cocdesk.people.domain.registry import people_matching

    text = people_matching(organization, values).explain()
    return text, INDEX in text


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
    plan_text, uses_index = plan(organization, reports[-1][1])
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
        "load": os.getloadavg()[0],
    }


# --- reporting -----------------------------------------------------------------------------------------------------

INTRO = """## Matching identifiers: 10,000 to 1,000,000 in the registry

`bench/identifiers.py` grows one organization's registry of people to 10,000, 100,000 and 1,000,000 identifiers,
25 per person (400 people per 10,000): 3 names (shared by many people, as real names are), 7 email addresses, 9
handles and profile URLs (`@name`, GitHub, Mastodon, Discord `name#1234`, LinkedIn, X, Instagram, GitLab, YouTube),
3 badge numbers and 3 companies (each shared by up to about 25 people at 1,000,000). Each identifier is digested
by `cocdesk.people.domain.registry.digest` (the keyed hash of its normalised form, with the registry key unwrapped
once) and sealed with the registry key, as `add_identifiers` leaves it; people are written with `bulk_create`,
identifiers with `executemany`, 20,000 at a time, into the table and its indexes as migrations made them. At each
size it takes a few hundred new reports of 3 to 6 identifiers: about half of them one existing person's, spelled
another way (upper case, swapped case, spaces around), the rest never seen, and times
`people_matching(organization, values)` evaluated to the list of people (the digests of the report's values
included). The target is a p95 under 10 ms at 1,000,000 identifiers, with a query plan that reads the
`identifier_match` index on (organization, digest).

```sh
make bench-identifiers                                            # SQLite: rewrites the SQLite part below
.venv/bin/python scripts/with_postgres.py -- .venv/bin/python bench/identifiers.py --database-from-env --write
.venv/bin/python bench/identifiers.py --sizes 10000,100000        # a quick look, printed only
```
"""

MEANING = """Each time is `time.perf_counter` around one `list(people_matching(...))` in the benchmark's own process,
on its open database connection, after 20 untimed look-ups; p50 and p95 are the median and the 95th percentile
(nearest rank) of the timed reports. **found** counts the reports whose existing person was among the people
returned (every report names one); **people per report** is the mean length of the list (shared names and
companies bring others along). The query count is from `django.test.utils.CaptureQueriesContext` on one extra
look-up. The plan is `QuerySet.explain()` (SQLite: `EXPLAIN QUERY PLAN`; PostgreSQL: `EXPLAIN`) of the last
report's look-up at the largest size. PostgreSQL's tables get `VACUUM ANALYZE` after each load, as autovacuum would
shortly after; SQLite's get no `ANALYZE`, as in a deployment. The machine is shared (2 CPUs): the load column is
the 1-minute load average when each size was measured.
"""


def table(results):
    lines = [
        "| Identifiers | people | built in s | database MB | reports | p50 ms | p95 ms | max ms | found "
        "| people per report | queries | index | load (1 min) |",
        "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|",
    ]
    for r in results:
        row = r["row"]
        lines.append(
            f"| {r['size']:,} | {r['people']:,} | {r['built']:.0f} | {r['megabytes']:.0f} | {row.runs} | "
            f"{fmt_ms(row.median_ms)} | {fmt_ms(row.p95_ms)} | {fmt_ms(max(row.samples) * 1000)} | "
            f"{r['found']}/{row.runs} | {r['people_found']:.1f} | {r['queries']} | "
            f"{INDEX if r['uses_index'] else '**none**'} | {r['load']:.1f} |"
        )
    return "\n".join(lines)


def verdict(results):
    largest = results[-1]
    p95 = largest["row"].p95_ms
    met = "met" if p95 < TARGET_MS and largest["uses_index"] else "**missed**"
    index = "reads `identifier_match`" if largest["uses_index"] else "**does not read `identifier_match`**"
    return (
        f"Target at {largest['size']:,} identifiers: a p95 under {TARGET_MS:.0f} ms with an indexed plan: {met} "
        f"(p95 {fmt_ms(p95)} ms; the plan {index})."
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
            f"Date: {started:%Y-%m-%d %H:%M} UTC · {args.reports} reports per size · whole run {elapsed:.0f} s · "
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
