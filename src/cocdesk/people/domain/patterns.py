"""The scoped queries every people page reads, built on ``Case.objects.visible_to``: a member reaches a person
through the cases they may see, and a person's cases they may not see (recused, another space) are never listed,
counted or described. They are only said to exist, with the leads who may see them, where the procedures want the
member to ask (``leads_to_ask``).

Each page costs the same queries for one person, case or sanction as for fifty."""

from dataclasses import dataclass, field

from django.db.models import Count, Exists, Max, OuterRef

from cocdesk.cases.domain.audience import BatchAudience
from cocdesk.cases.models import Case
from cocdesk.orgs.rules import can
from cocdesk.sanctions.domain.history import guidelines_for
from cocdesk.sanctions.domain.queries import registry_sanctions
from cocdesk.sanctions.models import Decision

from ..models import CaseParty, Person
from . import registry

PAGE_SIZE = 50
MIN_CASES_FOR_A_PATTERN = 2


def visible_case_ids(viewer, organization):
    return Case.objects.visible_to(viewer).filter(organization=organization).values("pk")


def visible_people(viewer, organization):
    """The organization's people ``viewer`` reaches: a party or a decision's subject in a case they may see, or
    concerned by a sanction of the registry they may see. None for members who do not handle its cases."""
    if not can(viewer, "people.view_people", organization):
        return Person.objects.none()
    cases = visible_case_ids(viewer, organization)
    subjects = Decision.subjects.through.objects.filter(person_id=OuterRef("pk"), decision__case__in=cases)
    return Person.objects.filter(organization=organization, merged_into__isnull=True).filter(
        Exists(CaseParty.objects.filter(person_id=OuterRef("pk"), case__in=cases))
        | Exists(subjects)
        | Exists(registry_sanctions(viewer, organization, "all").filter(person_id=OuterRef("pk")))
    )


def involvement(people_ids, *, excluding_case=None):
    """{person id: {case id}}: the cases the people are parties in or decisions' subjects of. Two queries."""
    found = {}
    parties = CaseParty.objects.filter(person_id__in=sorted(people_ids))
    subjects = Decision.subjects.through.objects.filter(person_id__in=sorted(people_ids))
    if excluding_case is not None:
        parties = parties.exclude(case_id=excluding_case.pk)
        subjects = subjects.exclude(decision__case_id=excluding_case.pk)
    for person_id, case_id in [
        *parties.values_list("person_id", "case_id"),
        *subjects.values_list("person_id", "decision__case_id"),
    ]:
        found.setdefault(person_id, set()).add(case_id)
    return found


def hidden_involvement(viewer, people):
    """Whether any of ``people`` is a party or a decision's subject in a case ``viewer`` may not see. One query."""
    ids = sorted(person.pk for person in people)
    organization = people[0].organization
    cases = visible_case_ids(viewer, organization)
    return (
        CaseParty.objects.filter(person_id__in=ids).exclude(case__in=cases).exists()
        or Decision.subjects.through.objects.filter(person_id__in=ids).exclude(decision__case__in=cases).exists()
    )


def leads_to_ask(viewer, hidden_case_ids):
    """{case id: [lead display names]} for cases ``viewer`` may not see: the members who may lead each (as
    ``queries.members_who_may_lead`` says), in five queries whatever the number of cases."""
    if not hidden_case_ids:
        return {}
    cases = list(Case.objects.filter(pk__in=sorted(hidden_case_ids)))
    audience = BatchAudience(cases)
    return {
        case.pk: sorted(
            {membership.display_name for membership in audience.leads(case) if membership.user_id != viewer.pk}
        )
        for case in cases
    }


def leads_for(case_ids, leads_by_case):
    """The leads to ask about these cases: those who may see them all, else any who may see one. Never how many
    cases there are."""
    lists = [set(leads_by_case.get(case_id, ())) for case_id in case_ids]
    if not lists:
        return []
    common = set.intersection(*lists)
    return sorted(common or set.union(*lists))


# --- the organization's people with a pattern ----------------------------------------------------------------------


@dataclass(frozen=True)
class PeoplePage:
    rows: list
    page: int
    has_next: bool

    @property
    def has_previous(self):
        return self.page > 1


def people_with_patterns(viewer, organization, page=1):
    """One page (50) of the people in more than one case ``viewer`` may see, the latest case first: two queries
    whatever the rows. Each row: the person, how many of those cases, the latest."""
    page = max(int(page or 1), 1)
    start = (page - 1) * PAGE_SIZE
    if not can(viewer, "people.view_people", organization):
        return PeoplePage(rows=[], page=page, has_next=False)
    counted = list(
        CaseParty.objects.filter(
            case__in=visible_case_ids(viewer, organization),
            person__organization=organization,
            person__merged_into__isnull=True,
        )
        .values("person_id")
        .annotate(cases=Count("case_id", distinct=True), latest=Max("case__received_at"))
        .filter(cases__gte=MIN_CASES_FOR_A_PATTERN)
        .order_by("-latest", "person_id")[start : start + PAGE_SIZE + 1]
    )
    people = Person.objects.in_bulk([row["person_id"] for row in counted])
    rows = [{"person": people[row["person_id"]], "cases": row["cases"], "latest": row["latest"]} for row in counted]
    return PeoplePage(rows=rows[:PAGE_SIZE], page=page, has_next=len(rows) > PAGE_SIZE)


# --- one person's pattern --------------------------------------------------------------------------------------------


@dataclass
class Pattern:
    person: object
    entries: list = field(default_factory=list)  # {"when", "what", "case"} oldest first
    identifiers: list = field(default_factory=list)  # (kind label, value) given in the cases the viewer may see
    guidelines: list = field(default_factory=list)
    flag_reason: str = ""
    leads_to_ask: list = field(default_factory=list)
    has_hidden_cases: bool = False


def person_pattern(viewer, person):
    """The timeline of ``person`` as ``viewer`` may see it: the cases they are named in, the findings about them,
    their warnings and sanctions, and the playbook's expulsion guidelines read against it. A fixed number of
    queries whatever the history."""
    organization = person.organization
    cases = visible_case_ids(viewer, organization)
    parties = list(
        CaseParty.objects.filter(person=person, case__in=cases)
        .select_related("case__space")
        .prefetch_related("identifiers")
        .order_by("case__received_at", "pk")
    )
    decisions = list(
        Decision.objects.filter(is_current=True, subjects=person, case__in=cases)
        .select_related("case")
        .order_by("decided_at", "pk")
    )
    sanctions = list(
        registry_sanctions(viewer, organization, "all")
        .filter(person=person)
        .select_related("decision__case")
        .prefetch_related("spaces")
    )
    pattern = Pattern(person=person)
    for party in parties:
        case = party.case
        where = f" in {case.space.name}" if case.space else ""
        pattern.entries.append(
            {"when": case.received_at, "what": f"Named as {party.get_role_display().lower()}{where}", "case": case}
        )
        for shown in _party_values(organization, party):
            if shown not in pattern.identifiers:
                pattern.identifiers.append(shown)
    for decision in decisions:
        pattern.entries.append(
            {"when": decision.decided_at, "what": f"Finding: {decision.get_finding_display()}", "case": decision.case}
        )
    for sanction in sanctions:
        what = f"{sanction.get_kind_display()} ({sanction.get_state_display().lower()})"
        case = sanction.decision.case if sanction.decision_id else None
        pattern.entries.append({"when": sanction.starts_at, "what": what, "case": case})
    pattern.entries.sort(key=lambda entry: entry["when"])
    decided = [{"case": d.case, "finding": d.get_finding_display(), "decided_at": d.decided_at} for d in decisions]
    pattern.guidelines = guidelines_for(sanctions, decided)
    if person.sealed_flag_reason:
        pattern.flag_reason = registry.unseal(organization, "flag", bytes(person.sealed_flag_reason))["reason"]
    hidden = set().union(*involvement([person.pk]).values()) - {party.case_id for party in parties}
    hidden -= set(Case.objects.visible_to(viewer).filter(pk__in=sorted(hidden)).values_list("pk", flat=True))
    if hidden:
        pattern.has_hidden_cases = True
        pattern.leads_to_ask = leads_for(hidden, leads_to_ask(viewer, hidden))
    return pattern


def _party_values(organization, party):
    shown = []
    for identifier in party.identifiers.all():
        value = registry.unseal(organization, "identifier", bytes(identifier.sealed_value))["value"]
        if (identifier.get_kind_display(), value) not in shown:
            shown.append((identifier.get_kind_display(), value))
    return shown
