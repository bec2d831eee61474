"""What the case page's people section reads of one case's parties, as statements compiled once per worker
(``common.prepared_objects``): the parties with their people and identifiers, the keyed hashes of those people,
the other people of the organization who share one, and the other cases those people are in. The case's people
are a subquery of each statement, so its SQL is the same whatever their number."""

from cocdesk.common.prepared import PreparedQuery
from cocdesk.common.prepared_objects import PreparedObjects, set_prefetched
from cocdesk.sanctions.models import Decision

from ..models import CaseParty, Identifier


def _people_of(case_id):
    return CaseParty.objects.filter(case_id=case_id).values("person_id")


_parties = PreparedObjects(
    lambda case_id: CaseParty.objects.filter(case_id=case_id).select_related("person").order_by("pk"), int
)
_identifiers = PreparedObjects(lambda case_id: Identifier.objects.filter(party__case_id=case_id).order_by("pk"), int)
_own_digests = PreparedQuery(
    lambda case_id: Identifier.objects.filter(person_id__in=_people_of(case_id)).values_list("person_id", "digest"),
    int,
)
_shared_digests = PreparedQuery(
    lambda case_id, organization_id: (
        Identifier.objects.filter(
            organization_id=organization_id,
            digest__in=Identifier.objects.filter(person_id__in=_people_of(case_id)).values("digest"),
        )
        .exclude(person_id__in=_people_of(case_id))
        .values_list("person_id", "digest")
    ),
    int,
    int,
)
_party_cases = PreparedQuery(
    lambda case_id: (
        CaseParty.objects.filter(person_id__in=_people_of(case_id))
        .exclude(case_id=case_id)
        .values_list("person_id", "case_id")
    ),
    int,
)
_subject_cases = PreparedQuery(
    lambda case_id: (
        Decision.subjects.through.objects.filter(person_id__in=_people_of(case_id))
        .exclude(decision__case_id=case_id)
        .values_list("person_id", "decision__case_id")
    ),
    int,
)


def parties_of(case):
    """The case's parties in order, each with its person and ``party.identifiers.all()`` loaded. Two queries."""
    parties = _parties.objects(case.pk)
    if not parties:
        return []
    by_party = {party.pk: [] for party in parties}
    for identifier in _identifiers.objects(case.pk):
        by_party[identifier.party_id].append(identifier)
    for party in parties:
        party.case = case
        set_prefetched(party, "identifiers", by_party[party.pk])
    return parties


def own_digests(case):
    """{person id: {keyed hash}} of the case's people."""
    found = {}
    for person_id, digest in _own_digests.rows(case.pk):
        found.setdefault(person_id, set()).add(digest)
    return found


def shared_digests(case):
    """[(person id, keyed hash)]: the organization's other people with a keyed hash one of the case's people has."""
    return _shared_digests.rows(case.pk, case.organization_id)


def other_cases_of_own_people(case):
    """{person id: {case id}}: the other cases the case's people are parties in or decisions' subjects of, as
    ``patterns.involvement`` gives them. Two queries."""
    found = {}
    for person_id, case_id in [*_party_cases.rows(case.pk), *_subject_cases.rows(case.pk)]:
        found.setdefault(person_id, set()).add(case_id)
    return found
