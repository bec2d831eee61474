"""Drafting a transparency report: the figures of a space's or a period's cases, protected (``protection.py``), and
one prefilled line per case built from labels alone, never from what a report says.

The cases are read once (``tally.py``), so a draft over a year of a large community costs a fixed number of queries
and no work per case beyond counting it; see bench/transparency.py."""

import calendar
from datetime import datetime, time, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from cocdesk.cases.enums import Finding
from cocdesk.cases.models import Case
from cocdesk.common import audit
from cocdesk.orgs.access import access_for
from cocdesk.orgs.rules import can
from cocdesk.sanctions.enums import AppealState, SanctionKind

from ..models import TransparencyReport
from . import protection
from .statistics import DAY, HOUR, month_starts
from .tally import Unindexed, prefers_table_order, tally_cases

TITLE_MAX = 200
RECUSED = "You are recused from a case in this period: ask another lead to draft or review this report."
NOT_COVERED = (
    "Your roles cover only some of the organization's spaces: draft a report for one of them, or ask a member of "
    "the whole team."
)
UNCATEGORISED = protection.OTHER
OTHER_FINDINGS, OTHER_ACTIONS, OTHER_OUTCOMES = "Other findings", "Other actions", "Other outcomes"
# What a prefilled line says for a label whose count the figures withhold: naming it would count it for the reader.
WITHHELD_CATEGORY, WITHHELD_FINDING, WITHHELD_ACTION = "Another category", "another finding", "another action"
NO_FINDING, NO_ACTION = "no finding yet", "no action"


def _day_start(day):
    return timezone.make_aware(datetime.combine(day, time.min))


def scope_cases(organization, *, space, period_start, period_end, in_table_order=False):
    """Every case of the report: received in the period (whole days, the site's time zone), of the space if any.
    Merged duplicates are in it (their reports count); erased cases are not (counts leave them out).
    ``in_table_order``: the same cases, asked so that SQLite reads the table through rather than through an index
    (see ``tally.prefers_table_order``)."""
    cases = Case.objects.filter(
        received_at__gte=_day_start(period_start),
        received_at__lt=_day_start(period_end + timedelta(days=1)),
        is_erased=False,
    )
    owners = {"organization_id": organization.pk, **({"space_id": space.pk} if space is not None else {})}
    if in_table_order:
        return cases.alias(**{f"{name}_unindexed": Unindexed(name) for name in owners}).filter(
            **{f"{name}_unindexed": value for name, value in owners.items()}
        )
    return cases.filter(**owners)


def _months(first, last):
    if (first.year, first.month) == (last.year, last.month):
        return f"{calendar.month_name[first.month]} {first.year}"
    if first.year == last.year:
        return f"{calendar.month_name[first.month]}-{calendar.month_name[last.month]} {last.year}"
    return f"{calendar.month_name[first.month]} {first.year}-{calendar.month_name[last.month]} {last.year}"


def period_label(space, period_start, period_end):
    """Dates generalised: the event and its month(s) for a space, the months of a period otherwise."""
    if space is None:
        return _months(period_start, period_end)
    first, last = space.starts_on or period_start, space.ends_on or space.starts_on or period_end
    return f"{space.name} ({_months(first, last)})"


def check_drafter(organization, user, *, space, cases):
    """Refuses a member who may not draft this report: outside the team, roles not covering its cases, or recused
    from any of them (the report covers every case of the period, and nobody counts a case hidden from them)."""
    if not can(user, "transparency.draft_report", organization):
        raise PermissionDenied
    grant = access_for(user).grant_in(organization.pk)
    if space is None and grant.space_ids is not None or space is not None and not grant.covers_space(space.pk):
        raise ValidationError(NOT_COVERED)
    recused = access_for(user).recused_case_ids
    if recused and cases.filter(pk__in=sorted(recused)).exists():
        raise ValidationError(RECUSED)


def _label_order(counts, order):
    """{label: count} in the order of ``order`` (known labels), then the others alphabetically."""
    known = [label for label in order if label in counts]
    return {label: counts[label] for label in [*known, *sorted(set(counts) - set(known))]}


def _labelled(counts, choices):
    return {choices(value).label: count for value, count in counts.items()}


def compute_figures(organization, *, space, period_start, period_end):
    """(figures, lines) of the report's cases, protected with the organization's threshold."""
    threshold = organization.small_count_threshold
    in_table_order = prefers_table_order(
        organization, _day_start(period_start), _day_start(period_end + timedelta(days=1))
    )
    cases = scope_cases(
        organization, space=space, period_start=period_start, period_end=period_end, in_table_order=in_table_order
    )
    starts = month_starts(period_start, period_end)
    tally = tally_cases(organization, cases, since=_day_start(period_start), month_starts=starts)

    categories = dict(tally.categories)
    if "" in categories:
        categories[UNCATEGORISED] = categories.get(UNCATEGORISED, 0) + categories.pop("")
    tables = {
        "by_category": protection.protected_rows(_label_order(categories, organization.categories), threshold),
        "by_finding": protection.protected_rows(
            _label_order(_labelled(tally.findings, Finding), Finding.labels), threshold, other_label=OTHER_FINDINGS
        ),
        "by_action": protection.protected_rows(
            _label_order(_labelled(tally.actions, SanctionKind), SanctionKind.labels),
            threshold,
            other_label=OTHER_ACTIONS,
        ),
        "appeals": protection.protected_rows(
            _label_order(_labelled(tally.appeals, AppealState), AppealState.labels),
            threshold,
            other_label=OTHER_OUTCOMES,
        ),
    }
    window = organization.update_within_days * DAY
    followed_up_in_time = sum(1 for wait in tally.follow_up.waits if wait <= window)
    ack_median, ack_p90 = tally.acknowledgement.summary(HOUR, enough=threshold)
    follow_median, follow_p90 = tally.follow_up.summary(DAY, enough=threshold)
    figures = {
        "threshold": threshold,
        "period": {"label": period_label(space, period_start, period_end)},
        "totals": {
            "reports": protection.protect_count(tally.reports, threshold),
            "cases": protection.protect_count(tally.cases, threshold),
            "people_reported": protection.protect_count(tally.people_reported, threshold),
        },
        **{key: protection.publish(rows, threshold) for key, rows in tables.items()},
        "timing": {
            "acknowledgement": {"median_hours": ack_median, "p90_hours": ack_p90},
            "follow_up": {"median_days": follow_median, "p90_days": follow_p90},
            "promises_kept": {
                "acknowledged_in_time": protection.protect_count(tally.acknowledged_in_time, threshold),
                "followed_up_in_time": protection.protect_count(followed_up_in_time, threshold),
                "of": protection.protect_count(tally.cases, threshold),
            },
        },
    }
    return figures, prefilled_lines(tally.line_keys, tables, threshold, starts)


def _lower_first(text):
    return text[:1].lower() + text[1:]


def prefilled_lines(line_keys, tables, threshold, starts):
    """One line per case, "<category>: <finding>; <actions>", in month order: labels only, and only labels the
    figures publish as a number (a withheld one is said generically, so counting lines tells nothing more).
    ``line_keys``: {(month index, category, violation, sanction kinds): cases}; each distinct line is written once."""
    shown = {key: protection.published_labels(rows, threshold) for key, rows in tables.items()}
    months = [f"{calendar.month_name[start.month]} {start.year}" for start in starts[:-1]]
    written = []
    for (month, category, violation, kinds), count in line_keys.items():
        category_label = shown["by_category"].get(category or UNCATEGORISED) or WITHHELD_CATEGORY
        if violation:
            finding = shown["by_finding"].get(Finding(violation).label)
            finding = _lower_first(finding) if finding else WITHHELD_FINDING
        else:
            finding = NO_FINDING
        actions = sorted(
            {_lower_first(shown["by_action"].get(SanctionKind(kind).label) or WITHHELD_ACTION) for kind in kinds}
        )
        written.append((month, f"{category_label}: {finding}; {', '.join(actions) or NO_ACTION}", count))
    written.sort()
    return [{"text": text, "month": months[month]} for month, text, count in written for _ in range(count)]


def clean_title(title):
    title = (title or "").strip()
    if not title:
        raise ValidationError("Give the report a title, such as the conference's name and year.")
    if len(title) > TITLE_MAX:
        raise ValidationError(f"Keep the title under {TITLE_MAX} characters.")
    return title


def draft_report(organization, *, by, title, space=None, period_start, period_end):
    """A new draft of the space's or the period's report, its figures counted and protected now."""
    if space is not None and space.organization_id != organization.pk:
        raise PermissionDenied
    title = clean_title(title)
    if period_start is None or period_end is None:
        raise ValidationError("Give the first and the last day of the period.")
    if period_end < period_start:
        raise ValidationError("The period ends before it starts: check the two dates.")
    cases = scope_cases(organization, space=space, period_start=period_start, period_end=period_end)
    check_drafter(organization, by, space=space, cases=cases)
    figures, lines = compute_figures(organization, space=space, period_start=period_start, period_end=period_end)
    with transaction.atomic():
        report = TransparencyReport.objects.create(
            organization=organization,
            title=title,
            space=space,
            period_start=period_start,
            period_end=period_end,
            figures=figures,
            lines=lines,
            drafted_by=by,
        )
        audit.record(
            "transparency.drafted",
            actor=by,
            organization=organization,
            report=report.pk,
            space=space.pk if space else None,
            lines=len(lines),
        )
    return report
