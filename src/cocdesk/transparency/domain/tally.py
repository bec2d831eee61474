"""One pass over a report's cases: everything a draft counts, read in a fixed number of queries.

The cases are read once, as plain numbers and labels (no model instances, nothing sealed), and counted here: a
grouped count in SQLite sorts its rows in a temporary file once the period's cases outgrow its small page cache,
which costs more than counting the same rows in Python, and the medians need every wait anyway. The tables that hang
off the cases (follow-up messages, parties, decisions, sanctions, appeals) are read by the organization or the
period, through their own indexes, and matched to the period's cases by id: joining them to the cases would make the
database look up each of the period's cases once more.
"""

from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import partial
from itertools import chain, repeat
from operator import itemgetter

from django.db import connections
from django.db.models import Case as Choose
from django.db.models import F, FloatField, Func, IntegerField, Value, When
from django.db.models.functions import Coalesce

from cocdesk.cases.domain.team import FOLLOW_UP_KINDS
from cocdesk.cases.enums import CaseState, MessageDirection
from cocdesk.cases.models import Case, Message, Report
from cocdesk.people.enums import PartyRole
from cocdesk.people.models import CaseParty
from cocdesk.sanctions.enums import SanctionState
from cocdesk.sanctions.models import Appeal, Decision, Sanction

from .statistics import Timing


class EpochSeconds(Func):
    """A moment as seconds since 1970 (UTC), a float the database computes: rows carry numbers, not datetimes."""

    output_field = FloatField()
    arity = 1

    def as_sqlite(self, compiler, connection, **extra):
        # Django stores UTC moments as text, which julianday reads to the millisecond; rounded back to whole
        # milliseconds (210866760000000 is 1970-01-01 in them) the seconds are exact: a case received at midnight
        # on the first of a month is never a hair before it.
        return self.as_sql(
            compiler,
            connection,
            template="((ROUND(julianday(%(expressions)s) * 86400000.0) - 210866760000000.0) / 1000.0)",
        )

    def as_postgresql(self, compiler, connection, **extra):
        # date_part gives a double precision directly; EXTRACT computes a numeric, several times slower per row.
        return self.as_sql(compiler, connection, template="date_part('epoch', %(expressions)s)")


class Unindexed(Func):
    """``+column``: the column's value, which SQLite does not look up through an index (its documented way to steer
    its planner); used on integer columns."""

    template = "+%(expressions)s"
    output_field = IntegerField()


# Reading the table through costs SQLite about a fifth of looking each case up through an index, one by one.
TABLE_ORDER_SHARE = 0.2


def prefers_table_order(organization, since, until):
    """Whether SQLite reads a report's cases faster by going through the whole table than through the
    organization's index: when the organization's cases received from ``since`` to before ``until`` are more than
    a fifth of every case stored. SQLite has no statistics to tell this itself (Django never runs ANALYZE);
    PostgreSQL has. Both counts are read from indexes alone."""
    if connections[Case.objects.db].vendor != "sqlite":
        return False
    period = Case.objects.filter(organization=organization, received_at__gte=since, received_at__lt=until)
    return period.count() > TABLE_ORDER_SHARE * Case.objects.count()


def plain_rows(queryset):
    """The rows of a ``values_list`` queryset, as a list, as the database driver returns them. What is read here is
    numbers and labels that need no conversion, and Django's conversion of each value of 100,000 rows costs more
    than reading them."""
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@dataclass
class Tally:
    """What a draft counts of its cases (merged duplicates only lend their reports)."""

    cases: int = 0
    reports: int = 0
    categories: Counter = field(default_factory=Counter)  # category value ("" uncategorised) -> cases
    findings: Counter = field(default_factory=Counter)  # violation value -> cases (a finding recorded)
    actions: Counter = field(default_factory=Counter)  # sanction kind -> sanctions
    appeals: Counter = field(default_factory=Counter)  # appeal state -> appeals
    people_reported: int = 0
    acknowledged_in_time: int = 0
    acknowledgement: Timing = field(default_factory=Timing)
    follow_up: Timing = field(default_factory=Timing)
    # (month index, category, violation, sorted sanction kinds) -> cases: what each case's prefilled line is made of.
    line_keys: Counter = field(default_factory=Counter)


def _case_rows(cases):
    """(pk, state, category, violation, received, seconds to acknowledgement or None, acknowledged in time as 1 or
    0) of each case, the moment of receipt as epoch seconds."""
    in_time = Choose(When(acknowledged_at__lte=F("acknowledge_due"), then=Value(1)), default=Value(0))
    return cases.order_by().values_list(
        "pk",
        "state",
        "category",
        "violation",
        EpochSeconds("received_at"),
        EpochSeconds("acknowledged_at") - EpochSeconds("received_at"),
        in_time,
    )


def _report_count(case_ids):
    """The reports of the cases ``case_ids``, read from the reports' index on their case over the ids' range (asking
    for each case's reports would look each one up on its own)."""
    if not case_ids:
        return 0
    within = Report.objects.filter(case__gte=min(case_ids), case__lte=max(case_ids)).order_by()
    return sum(map(case_ids.__contains__, chain.from_iterable(plain_rows(within.values_list("case_id")))))


def _first_follow_ups(since):
    """{case id: epoch seconds of its first follow-up to the reporter}, over the follow-ups sent since ``since``
    (a case's follow-up comes after its receipt, so nothing of the period's cases is missed)."""
    follow_ups = Message.objects.filter(
        direction=MessageDirection.TO_REPORTER, kind__in=sorted(FOLLOW_UP_KINDS), created_at__gte=since
    )
    sent = plain_rows(follow_ups.order_by().values_list("case_id", EpochSeconds("created_at")))
    # Latest first: each case's entry is overwritten until its earliest follow-up is left.
    return dict(sorted(sent, key=itemgetter(1), reverse=True))


def _people_reported(organization, counted):
    """Distinct people: the reported parties of the cases, else their current decisions' subjects; a case with
    neither recorded counts as one (every report is about someone's conduct, named or not)."""
    who = Coalesce("person__merged_into_id", "person_id")
    parties = CaseParty.objects.filter(person__organization=organization, role=PartyRole.REPORTED)
    subjects = Decision.subjects.through.objects.filter(
        person__organization=organization, decision__is_current=True
    ).annotate(case_id=F("decision__case_id"))
    people, cases_with_people = set(), set()
    for rows in (parties, subjects):
        for case_id, person in rows.order_by().values_list("case_id", who).iterator(5000):
            if case_id in counted:
                people.add(person)
                cases_with_people.add(case_id)
    return len(people) + len(counted) - len(cases_with_people)


def _sanction_kinds(organization):
    """{case id: sorted kinds} of the sanctions of the organization's current decisions (a modified sanction was
    replaced, its replacement counts)."""
    sanctions = Sanction.objects.filter(organization=organization, decision__is_current=True).exclude(
        state=SanctionState.MODIFIED
    )
    kinds = defaultdict(list)
    for case_id, kind in sanctions.order_by().values_list("decision__case_id", "kind").iterator(5000):
        kinds[case_id].append(kind)
    return {case_id: tuple(sorted(held)) for case_id, held in kinds.items()}


def _appeals(organization, counted):
    appeals = Appeal.objects.filter(organization=organization).order_by()
    found = appeals.values_list("notice__decision__case_id", "state").iterator(5000)
    return Counter(state for case_id, state in found if case_id in counted)


def tally_cases(organization, cases, *, since, month_starts):
    """The ``Tally`` of ``cases`` (a queryset of the report's cases, merged duplicates included). ``since``: the
    period's first moment; ``month_starts``: the months' boundaries (aware datetimes) a line's month is read from."""
    tally = Tally()
    rows = plain_rows(_case_rows(cases))
    merged = CaseState.MERGED.value
    counted = [row for row in rows if row[1] != merged]
    # Column by column: the work per case is done by the interpreter's built-ins, not by a loop written here.
    pks, _states, categories, violations, received, acknowledgement, in_time = (
        zip(*counted, strict=True) if counted else ((),) * 7
    )
    boundaries = [start.timestamp() for start in month_starts[1:-1]]
    months = list(map(partial(bisect_right, boundaries), received))
    received_at = dict(zip(pks, received, strict=True))
    tally.cases, tally.acknowledged_in_time = len(counted), sum(in_time)
    tally.reports = _report_count(received_at.keys() | {row[0] for row in rows if row[1] == merged})
    tally.acknowledgement.waits = [wait if wait > 0 else 0.0 for wait in acknowledgement if wait is not None]

    line_keys = Counter(zip(months, categories, violations, repeat(()), strict=False))
    sanctioned = _sanction_kinds(organization)
    line_of = dict(zip(pks, zip(months, categories, violations, strict=True), strict=True)) if sanctioned else {}
    for case_id, held in sanctioned.items():
        if case_id in line_of:
            line_keys[(*line_of[case_id], ())] -= 1
            line_keys[(*line_of[case_id], held)] += 1
    tally.line_keys = +line_keys  # without the keys left at zero
    for (_month, category, violation, held), count in tally.line_keys.items():
        tally.categories[category] += count
        if violation:
            tally.findings[violation] += count
        for kind in held:
            tally.actions[kind] += count

    follow_ups = _first_follow_ups(since)
    waits = [sent - received_at[case_id] for case_id, sent in follow_ups.items() if case_id in received_at]
    tally.follow_up.waits = [wait if wait > 0 else 0.0 for wait in waits]
    tally.people_reported = _people_reported(organization, received_at)
    tally.appeals = _appeals(organization, received_at)
    return tally
