"""Measures of a set of cases, computed in the database: counts per month and per state, the time to acknowledgement
and to the reporter's follow-up, and the promises kept. Transparency drafts use them over a period's cases; the team's
statistics page over the cases the viewing member may see (``Case.objects.visible_to``), in a fixed number of
queries whatever the number of cases."""

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise

from django.db.models import Count, F, FloatField, Func, Min, Q
from django.utils import timezone

from cocdesk.cases.domain.team import FOLLOW_UP_KINDS
from cocdesk.cases.enums import OPEN_STATES, CaseState, MessageDirection
from cocdesk.cases.models import Case, Message

HOUR = 3600
DAY = 24 * HOUR
STATISTICS_MONTHS = 12


class SecondsBetween(Func):
    """``later - earlier`` in seconds, as a float the database computes (no timedelta per row in Python)."""

    output_field = FloatField()
    arity = 2

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="((julianday(%(expressions)s)) * 86400.0)", arg_joiner=") - julianday("
        )

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="CAST(EXTRACT(EPOCH FROM (%(expressions)s)) AS double precision)",
            arg_joiner=" - ",
        )


def month_starts(first, last):
    """The aware starts of the months from ``first``'s to the one after ``last``'s (dates or datetimes), in the
    site's time zone: boundaries the database compares its indexed column against, with no per-row function."""
    starts, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        starts.append(timezone.make_aware(datetime(year, month, 1)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    starts.append(timezone.make_aware(datetime(year, month, 1)))
    return starts


def percentile(sorted_values, fraction):
    """The nearest-rank percentile of an ascending list (the median is the mean of the two middle values)."""
    if not sorted_values:
        return None
    if fraction == 0.5:
        middle = len(sorted_values) // 2
        if len(sorted_values) % 2:
            return sorted_values[middle]
        return (sorted_values[middle - 1] + sorted_values[middle]) / 2
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def _rounded(value, unit):
    return None if value is None else round(value / unit, 1)


@dataclass
class Timing:
    """Median and 90th percentile of waits, in ``unit`` seconds; None when fewer than ``enough`` cases say."""

    waits: list = field(default_factory=list)

    def summary(self, unit, enough=1):
        waits = sorted(self.waits)
        if len(waits) < max(1, enough):
            return None, None
        return _rounded(percentile(waits, 0.5), unit), _rounded(percentile(waits, 0.9), unit)


def acknowledgement_waits(cases):
    """Seconds from receipt to acknowledgement of each acknowledged case."""
    waits = cases.filter(acknowledged_at__isnull=False).annotate(
        wait=SecondsBetween(F("acknowledged_at"), F("received_at"))
    )
    return Timing([max(0.0, wait) for wait in waits.order_by().values_list("wait", flat=True)])


def follow_up_waits(cases):
    """Seconds from receipt to the first follow-up to the reporter (an update or the outcome) of each case that
    had one: grouped from the messages' side, one row per case."""
    follow_ups = Message.objects.filter(
        case__in=cases, direction=MessageDirection.TO_REPORTER, kind__in=sorted(FOLLOW_UP_KINDS)
    )
    waits = (
        follow_ups.order_by()
        .values("case_id", "case__received_at")
        .annotate(wait=SecondsBetween(Min("created_at"), F("case__received_at")))
    )
    return Timing([max(0.0, wait) for wait in waits.values_list("wait", flat=True)])


def promises_kept(cases, organization, follow_up=None):
    """{"cases", "acknowledged_in_time", "followed_up_in_time"}: acknowledged by the case's own deadline (the
    organization's window, the urgent one for urgent cases), followed up within ``update_within_days``."""
    counted = cases.order_by().aggregate(
        cases=Count("pk"), acknowledged_in_time=Count("pk", filter=Q(acknowledged_at__lte=F("acknowledge_due")))
    )
    follow_up = follow_up if follow_up is not None else follow_up_waits(cases)
    window = organization.update_within_days * DAY
    counted["followed_up_in_time"] = sum(1 for wait in follow_up.waits if wait <= window)
    return counted


@dataclass
class TeamStatistics:
    months: list  # [(label "June 2026", count)]
    open_by_state: list  # [(state label, count)]
    promises: dict
    acknowledgement: tuple  # (median hours, p90 hours)
    follow_up: tuple  # (median days, p90 days)
    since: object


def month_label(moment):
    return moment.strftime("%B %Y")


def team_statistics(user, organization, *, now):
    """The team's own view of its work over the last twelve months, counting only the cases ``user`` may see."""
    visible = Case.objects.visible_to(user).filter(organization=organization, is_erased=False)
    visible = visible.exclude(state=CaseState.MERGED)
    local_now = timezone.localtime(now)
    since = (local_now - timedelta(days=31 * (STATISTICS_MONTHS - 1))).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    recent = visible.filter(received_at__gte=since)
    starts = month_starts(since, local_now)
    per_month = recent.order_by().aggregate(
        **{
            f"month_{index}": Count("pk", filter=Q(received_at__gte=start, received_at__lt=end))
            for index, (start, end) in enumerate(pairwise(starts))
        }
    )
    months = [(month_label(start), per_month[f"month_{index}"]) for index, start in enumerate(starts[:-1])]
    open_states = [*OPEN_STATES, CaseState.DECIDED]
    states = dict(
        visible.filter(state__in=open_states)
        .order_by()
        .values("state")
        .annotate(count=Count("pk"))
        .values_list("state", "count")
    )
    follow_up = follow_up_waits(recent)
    return TeamStatistics(
        months=months,
        open_by_state=[(CaseState(state).label, states.get(state, 0)) for state in open_states],
        promises=promises_kept(recent, organization, follow_up),
        acknowledgement=acknowledgement_waits(recent).summary(HOUR),
        follow_up=follow_up.summary(DAY),
        since=since,
    )
