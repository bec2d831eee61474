"""The people of a case as a member sees them on the case page: each party with what the report gave, the other
cases of the person it is linked to, and suggestions: "possibly the same person as in N other cases".

Exact suggestions come from the keyed hashes (another person shares an identifier). Fuzzy ones ("possible",
marked as such) compare names in the clear (``people.matching``) with the people of the latest cases the member
may see. Cases the member may not see are never counted nor described: the member is told only that there are some,
and which leads to ask. A fixed number of queries, whatever the number of parties and matches."""

from dataclasses import dataclass, field

from cocdesk.cases.models import Case
from cocdesk.sanctions.domain.queries import registry_sanctions
from cocdesk.sanctions.models import Decision

from .. import matching
from ..enums import IdentifierKind
from ..models import Identifier, Person
from . import case_reads, registry
from .patterns import involvement, leads_for, leads_to_ask

# Fuzzy names are compared with the people of this many of the latest cases the member may see.
FUZZY_POOL_CASES = 200


@dataclass
class Match:
    person: object
    exact: bool
    kinds: list = field(default_factory=list)  # what matched, for an exact match ("Email address")
    cases: list = field(default_factory=list)  # visible cases
    findings: list = field(default_factory=list)
    sanctions: list = field(default_factory=list)
    has_hidden_cases: bool = False  # then only a member who may see them all may link


@dataclass
class PartyView:
    party: object
    identifiers: list
    linked_cases: list = field(default_factory=list)  # visible cases of the same person, besides this one
    has_hidden_linked_cases: bool = False
    leads_to_ask: list = field(default_factory=list)
    matches: list = field(default_factory=list)
    # Someone with matching details is in cases the member may not see: said once, with the leads to ask, never
    # who, how many or what.
    has_hidden_matches: bool = False
    leads_to_ask_about_matches: list = field(default_factory=list)

    @property
    def exact(self):
        return [match for match in self.matches if match.exact]

    @property
    def possible(self):
        return [match for match in self.matches if not match.exact]

    @property
    def suggested_cases(self):
        """How many other cases the member may see hold someone with the same identifiers."""
        return len({case.pk for match in self.exact for case in match.cases})


def case_people(case, viewer):
    """[PartyView] of ``case`` for ``viewer`` (who may see the case and handles its organization's people)."""
    parties = case_reads.parties_of(case)
    if not parties:
        return []
    organization = case.organization
    own = {party.person_id for party in parties}
    digests = case_reads.own_digests(case)
    exact = {}  # own person id -> {other person id: {kinds}}
    kinds_of = {
        identifier.digest: identifier.get_kind_display() for party in parties for identifier in party.identifiers.all()
    }
    for other_id, digest in case_reads.shared_digests(case):
        for person_id, known in digests.items():
            if digest in known:
                exact.setdefault(person_id, {}).setdefault(other_id, set()).add(kinds_of.get(digest, "Identifier"))
    views = [PartyView(party=party, identifiers=_values(organization, party)) for party in parties]
    possible = _possible(case, viewer, views, exclude=own | {o for found in exact.values() for o in found})
    others = {o for found in exact.values() for o in found} | {o for found in possible.values() for o in found}
    # The case's own people's other cases from prepared statements; the matches' (rarer) through the ORM.
    cases_of = involvement(others, excluding_case=case) if others else {}
    cases_of.update(case_reads.other_cases_of_own_people(case))
    every_case = set().union(set(), *cases_of.values())
    visible = {
        found.pk: found
        for found in Case.objects.visible_to(viewer).filter(pk__in=sorted(every_case)).order_by("received_at")
    }
    hidden = every_case - set(visible)
    leads = leads_to_ask(viewer, hidden)
    people = Person.objects.in_bulk(sorted(others))
    findings, sanctions = _history(viewer, case, others, visible)

    def described(person_id, exact_match, kinds=()):
        known = cases_of.get(person_id, set())
        match = Match(
            person=people[person_id],
            exact=exact_match,
            kinds=sorted(kinds),
            cases=[visible[pk] for pk in visible if pk in known],
            findings=findings.get(person_id, []),
            sanctions=sanctions.get(person_id, []),
        )
        match.has_hidden_cases = bool(known & hidden)
        return match

    for view in views:
        person_id = view.party.person_id
        linked = cases_of.get(person_id, set())
        view.linked_cases = [visible[pk] for pk in visible if pk in linked]
        if linked & hidden:
            view.has_hidden_linked_cases = True
            view.leads_to_ask = leads_for(linked & hidden, leads)
        matched = [described(other, True, kinds) for other, kinds in sorted(exact.get(person_id, {}).items())]
        # A fuzzy suggestion stays within what the member may see: the pool holds only cases they may see.
        matched += [described(other, False) for other in sorted(possible.get(person_id, ()))]
        # A person known only from cases the member may not see is not shown at all, not even by code name.
        view.matches = [match for match in matched if match.cases or match.findings or match.sanctions]
        hidden_matched = set().union(
            set(), *(cases_of.get(match.person.pk, set()) & hidden for match in matched if match.exact)
        )
        if hidden_matched:
            view.has_hidden_matches = True
            view.leads_to_ask_about_matches = leads_for(hidden_matched, leads)
    return views


def _values(organization, party):
    shown = []
    for identifier in party.identifiers.all():
        value = registry.unseal(organization, "identifier", bytes(identifier.sealed_value))["value"]
        if (identifier.get_kind_display(), value) not in shown:
            shown.append((identifier.get_kind_display(), value))
    return shown


def _possible(case, viewer, views, *, exclude):
    """{own person id: {other person id}} whose names are alike, among the people of the latest cases the member
    may see. One query."""
    names = {
        view.party.person_id: [value for label, value in view.identifiers if label == IdentifierKind.NAME.label]
        for view in views
    }
    if not any(names.values()):
        return {}
    recent = (
        Case.objects.visible_to(viewer)
        .filter(organization_id=case.organization_id)
        .exclude(pk=case.pk)
        .order_by("-received_at")
        .values("pk")[:FUZZY_POOL_CASES]
    )
    pool = (
        Identifier.objects.filter(kind=IdentifierKind.NAME, party__case__in=recent)
        .exclude(person_id__in=sorted(exclude))
        .values_list("person_id", "sealed_value")
    )
    found = {}
    seen = set()
    for other_id, sealed in pool:
        other_name = registry.unseal(case.organization, "identifier", bytes(sealed))["value"]
        if (other_id, other_name) in seen:
            continue
        seen.add((other_id, other_name))
        for person_id, own_names in names.items():
            if any(matching.name_similarity(own, other_name) >= matching.POSSIBLY_SAME for own in own_names):
                found.setdefault(person_id, set()).add(other_id)
    return found


def _history(viewer, case, people_ids, visible):
    """{person id: [findings]}, {person id: [sanctions]} on the cases ``viewer`` may see. Two queries."""
    findings, sanctions = {}, {}
    if not people_ids:
        return findings, sanctions
    decided = (
        Decision.objects.filter(is_current=True, case_id__in=sorted(visible))
        .filter(subjects__in=sorted(people_ids))
        .values_list("subjects", "finding", "case_id")
    )
    labels = dict(Decision._meta.get_field("finding").choices)
    for person_id, finding, case_id in decided:
        findings.setdefault(person_id, []).append({"case": visible[case_id], "finding": labels.get(finding, finding)})
    for sanction in (
        registry_sanctions(viewer, case.organization, "all")
        .filter(person_id__in=sorted(people_ids))
        .exclude(decision__case_id=case.pk)
    ):
        sanctions.setdefault(sanction.person_id, []).append(sanction)
    return findings, sanctions
