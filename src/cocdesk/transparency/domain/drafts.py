"""Drafting a transparency report: the figures of a space's or a period's cases, protected (``protection.py``), and
one prefilled line per case built from labels alone, never from what a report says.

The figures are counted in the database (grouped counts, the waits as numbers), so a draft over a year of a large
community costs a fixed number of queries; see bench/transparency.py."""

import calendar
from collections import defaultdict
from datetime import datetime, time, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case as Choose
from django.db.models import Count, F, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from cocdesk.cases.enums import CaseState, Finding
from cocdesk.cases.models import Case, Report
from cocdesk.common import audit
from cocdesk.orgs.access import access_for
from cocdesk.orgs.rules import can
from cocdesk.people.enums import PartyRole
from cocdesk.people.models import CaseParty
from cocdesk.sanctions.enums import AppealState, SanctionKind, SanctionState
from cocdesk.sanctions.models import Appeal, Decision, Sanction

from ..models import TransparencyReport
from . import protection
from .statistics import DAY, HOUR, acknowledgement_waits, follow_up_waits, month_starts, promises_kept

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


def scope_cases(organization, *, space, period_start, period_end):
    """Every case of the report: received in the period (whole days, the site's time zone), of the space if any.
    Merged duplicates are in it (their reports count); erased cases are not (counts leave them out)."""
    cases = Case.objects.filter(
        organization=organization,
        received_at__gte=_day_start(period_start),
        received_at__lt=_day_start(period_end + timedelta(days=1)),
        is_erased=False,
    )
    return cases.filter(space=space) if space is not None else cases


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


def _grouped(queryset, field):
    return dict(queryset.order_by().values(field).annotate(count=Count("pk")).values_list(field, "count"))


def _people_reported(counted):
    """Distinct people: the reported parties of the cases, else their decisions' subjects; a case with neither
    recorded counts as one (every report is about someone's conduct, named or not)."""
    parties = CaseParty.objects.filter(case__in=counted, role=PartyRole.REPORTED).annotate(
        who=Coalesce("person__merged_into_id", "person_id")
    )
    subjects = Decision.subjects.through.objects.filter(decision__case__in=counted, decision__is_current=True).annotate(
        case_id=F("decision__case_id"), who=Coalesce("person__merged_into_id", "person_id")
    )
    people, cases_with_people = set(), set()
    for case_id, who in [*parties.values_list("case_id", "who"), *subjects.values_list("case_id", "who")]:
        people.add(who)
        cases_with_people.add(case_id)
    return people, cases_with_people


def compute_figures(organization, *, space, period_start, period_end):
    """(figures, lines) of the report's cases, protected with the organization's threshold."""
    threshold = organization.small_count_threshold
    cases = scope_cases(organization, space=space, period_start=period_start, period_end=period_end)
    counted = cases.exclude(state=CaseState.MERGED)
    case_count = counted.count()
    report_count = Report.objects.filter(case__in=cases).count()
    people, cases_with_people = _people_reported(counted)

    categories = _grouped(counted, "category")
    if "" in categories:
        categories[UNCATEGORISED] = categories.get(UNCATEGORISED, 0) + categories.pop("")
    categories = _label_order(categories, organization.categories)
    findings = {
        Finding(value).label: count for value, count in _grouped(counted.exclude(violation=""), "violation").items()
    }
    findings = _label_order(findings, Finding.labels)
    sanctions = Sanction.objects.filter(decision__case__in=counted, decision__is_current=True).exclude(
        state=SanctionState.MODIFIED
    )
    actions = {SanctionKind(kind).label: count for kind, count in _grouped(sanctions, "kind").items()}
    actions = _label_order(actions, SanctionKind.labels)
    appeals = _grouped(Appeal.objects.filter(notice__decision__case__in=counted), "state")
    appeals = _label_order({AppealState(state).label: count for state, count in appeals.items()}, AppealState.labels)

    tables = {
        "by_category": protection.protected_rows(categories, threshold),
        "by_finding": protection.protected_rows(findings, threshold, other_label=OTHER_FINDINGS),
        "by_action": protection.protected_rows(actions, threshold, other_label=OTHER_ACTIONS),
        "appeals": protection.protected_rows(appeals, threshold, other_label=OTHER_OUTCOMES),
    }
    acknowledgement = acknowledgement_waits(counted)
    follow_up = follow_up_waits(counted)
    kept = promises_kept(counted, organization, follow_up)
    ack_median, ack_p90 = acknowledgement.summary(HOUR, enough=threshold)
    follow_median, follow_p90 = follow_up.summary(DAY, enough=threshold)
    figures = {
        "threshold": threshold,
        "period": {"label": period_label(space, period_start, period_end)},
        "totals": {
            "reports": protection.protect_count(report_count, threshold),
            "cases": protection.protect_count(case_count, threshold),
            "people_reported": protection.protect_count(len(people) + case_count - len(cases_with_people), threshold),
        },
        **{key: protection.publish(rows, threshold) for key, rows in tables.items()},
        "timing": {
            "acknowledgement": {"median_hours": ack_median, "p90_hours": ack_p90},
            "follow_up": {"median_days": follow_median, "p90_days": follow_p90},
            "promises_kept": {
                "acknowledged_in_time": protection.protect_count(kept["acknowledged_in_time"], threshold),
                "followed_up_in_time": protection.protect_count(kept["followed_up_in_time"], threshold),
                "of": protection.protect_count(case_count, threshold),
            },
        },
    }
    return figures, prefilled_lines(counted, tables, threshold, sanctions, period_start, period_end)


def _lower_first(text):
    return text[:1].lower() + text[1:]


def prefilled_lines(counted, tables, threshold, sanctions, period_start, period_end):
    """One line per case, "<category>: <finding>; <actions>", in month order: labels only, and only labels the
    figures publish as a number (a withheld one is said generically, so counting lines tells nothing more)."""
    shown = {key: protection.published_labels(rows, threshold) for key, rows in tables.items()}
    kinds = defaultdict(set)
    for case_id, kind in sanctions.values_list("decision__case_id", "kind"):
        kinds[case_id].add(SanctionKind(kind).label)
    starts = month_starts(period_start, period_end)
    # The month of each case as an index into ``starts``, by comparisons on the indexed column (no per-row function).
    month_of = Choose(
        *[When(received_at__lt=start, then=Value(index)) for index, start in enumerate(starts[1:-1])],
        default=Value(len(starts) - 2),
    )
    rows = counted.order_by().annotate(month_index=month_of)
    lines = []
    for case_id, category, violation, index in rows.values_list("pk", "category", "violation", "month_index"):
        year, month = starts[index].year, starts[index].month
        category_label = shown["by_category"].get(category or UNCATEGORISED) or WITHHELD_CATEGORY
        if violation:
            finding = shown["by_finding"].get(Finding(violation).label)
            finding = _lower_first(finding) if finding else WITHHELD_FINDING
        else:
            finding = NO_FINDING
        actions = sorted({_lower_first(shown["by_action"].get(kind) or WITHHELD_ACTION) for kind in kinds[case_id]})
        text = f"{category_label}: {finding}; {', '.join(actions) or NO_ACTION}"
        lines.append(((year, month), text))
    lines.sort()
    return [{"text": text, "month": f"{calendar.month_name[month]} {year}"} for (year, month), text in lines]


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
