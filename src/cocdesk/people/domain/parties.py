"""People from reports: each person a report names (the reported person, witnesses, others involved) becomes a
person of their own with a party in the case and their identifiers, sealed, with the keyed hashes matching reads.

Nothing is linked silently here: a person who matches someone already known is suggested to the team
(``suggestions.py``), who confirm the link (a merge) or not. Intake calls ``record_parties`` inside its transaction,
in a fixed number of queries however many people and identifiers the report names."""

import re
import secrets
from dataclasses import dataclass, field

from django.db import router

from cocdesk.common.prepared import PreparedQuery
from cocdesk.common.prepared_insert import PreparedInsert

from ..enums import IdentifierKind, PartyRole
from ..models import CaseParty, Identifier, Person
from ..normalise import PHONE, guess_kind, normalise_identifier
from . import registry

# A line of "other people involved" is a person; a longer one is a story about them, not a name.
MAX_NAME_WORDS = 6
MAX_NAME_LENGTH = 80
MAX_PEOPLE_PER_REPORT = 20
MAX_IDENTIFIERS_PER_PERSON = 30
MIN_FORM_LENGTH = 3  # as intake's automatic recusal: shorter forms name half the world
_PARTS = re.compile(r"[\n,;]+")
_LINES = re.compile(r"[\n;]+")
_ROLE_LABEL = re.compile(r"^\s*(witness(?:es)?|others?|also there|involved)\s*[:\-–]\s*", re.IGNORECASE)
# Kinds a value's shape can tell in any field; a name field may hold someone's email or handle.
_SHAPED = {IdentifierKind.EMAIL, IdentifierKind.HANDLE, PHONE}


@dataclass
class Named:
    """A person as one report names them."""

    role: str
    name: str = ""
    identifiers: list = field(default_factory=list)  # (kind, value as typed)


def _parts(text):
    return [part.strip() for part in _PARTS.split(text or "") if part.strip()]


def _kind_of(value, given):
    """The field's kind, unless the value's shape says otherwise (an email typed among nicknames, a phone number
    among screen names). A long badge number looks like a phone number: in the badge field it stays a badge
    unless written as an international number."""
    guessed = guess_kind(value)
    if guessed == PHONE and given == IdentifierKind.BADGE and not value.lstrip().startswith(("+", "00", "tel:")):
        return given
    return guessed if guessed in _SHAPED and guessed != given else given


def _reported(answers):
    person = Named(role=PartyRole.REPORTED, name=(answers.get("reported_name") or "").strip())
    fields = (
        ("reported_name", IdentifierKind.NAME),
        ("reported_nicknames", IdentifierKind.NAME),
        ("reported_screen_names", IdentifierKind.HANDLE),
        ("reported_badge_number", IdentifierKind.BADGE),
        ("reported_company", IdentifierKind.COMPANY),
    )
    for name, kind in fields:
        values = [answers.get(name, "").strip()] if name in {"reported_name", "reported_badge_number"} else None
        for value in values if values is not None else _parts(answers.get(name)):
            if value:
                person.identifiers.append((_kind_of(value, kind), value))
    return person if person.identifiers else None


def _looks_like_a_name(text):
    return len(text) <= MAX_NAME_LENGTH and len(text.split()) <= MAX_NAME_WORDS and guess_kind(text) == "name"


def _others(text):
    """'Jane Roe, jane@example.org' a line: the name first, then the ways to reach or recognise them. A line that
    only describes someone ('a tall man in a red coat') names nobody the registry could match."""
    people = []
    for line in _LINES.split(text or ""):
        role = PartyRole.WITNESS if "witness" in line.casefold() else PartyRole.OTHER
        parts = _parts(_ROLE_LABEL.sub("", line))
        if not parts:
            continue
        person = Named(role=role)
        for number, part in enumerate(parts):
            kind = guess_kind(part)
            if number == 0 and _looks_like_a_name(part):
                person.name = part
                person.identifiers.append((IdentifierKind.NAME, part))
            elif kind in _SHAPED:
                person.identifiers.append((_kind_of(part, kind), part))
        if person.identifiers:
            people.append(person)
    return people


def named_people(answers):
    """Everyone a report's answers name, the reported person first; at most MAX_PEOPLE_PER_REPORT."""
    reported = _reported(answers)
    people = ([reported] if reported else []) + _others(answers.get("others_involved"))
    for person in people:
        del person.identifiers[MAX_IDENTIFIERS_PER_PERSON:]
    return people[:MAX_PEOPLE_PER_REPORT]


def identifier_digests(organization, kind, value):
    """The digest one identifier is matched by: that of its canonical form. A handle's bare name on another
    platform is a weaker clue, left to the fuzzy measure."""
    canonical = normalise_identifier(kind, value, region=registry.phone_region(organization))
    if len(canonical) < MIN_FORM_LENGTH:
        return set()
    return {registry.digest(organization, value, kind)} - {None}


def new_code_names(organization, count):
    """``count`` code names no person of the organization has: one query, drawn again in the rare clash."""
    while True:
        drawn = {"P-" + "".join(secrets.choice(registry.CODE_NAME_ALPHABET) for _ in range(5)) for _ in range(count)}
        if len(drawn) < count:
            continue
        if not _any_taken(organization.pk, sorted(drawn)):
            return sorted(drawn)


def _any_taken(organization_id, code_names):
    """Whether a person of the organization has one of ``code_names``: a prepared query per number of names (a
    report names at most MAX_PEOPLE_PER_REPORT people), as each report asks it."""
    query = _taken_queries.get(len(code_names))
    if query is None:
        query = _taken_queries[len(code_names)] = PreparedQuery(
            lambda organization_id, *names: (
                Person.objects.filter(organization_id=organization_id, code_name__in=names)
                .order_by()
                .values_list("pk")[:1]
            ),
            int,
            *[str] * len(code_names),
        )
    return bool(query.rows(organization_id, *code_names, using=router.db_for_read(Person)))


_taken_queries = {}


def sealed_identifiers(person, party, pairs, known=()):
    """Unsaved identifiers of ``person`` as given in ``party``, one per digest not in ``known``."""
    organization = person.organization
    seen, rows = set(known), []
    for kind, value in pairs:
        sealed = None
        for found in sorted(identifier_digests(organization, kind, value) - seen):
            seen.add(found)
            sealed = sealed or registry.seal(organization, "identifier", {"value": value})
            rows.append(
                Identifier(
                    organization=organization, person=person, party=party, kind=kind, digest=found, sealed_value=sealed
                )
            )
    return rows


def record_parties(case, answers):
    """Each person the report names becomes a person of their own with a party in ``case``. Runs inside the
    caller's transaction: four queries whatever the number of people, none when the report names nobody."""
    named = named_people(answers)
    if not named:
        return []
    organization = case.organization
    people = [
        Person(
            organization=organization,
            code_name=code_name,
            sealed_details=registry.seal(organization, "person", {"name": one.name}),
        )
        for code_name, one in zip(new_code_names(organization, len(named)), named, strict=True)
    ]
    _insert_people.insert(people)
    parties = _insert_parties.insert(
        CaseParty(case=case, person=person, role=one.role) for person, one in zip(people, named, strict=True)
    )
    rows = []
    for party, one in zip(parties, named, strict=True):
        rows += sealed_identifiers(party.person, party, one.identifiers)
    _insert_identifiers.insert(rows)
    return parties


# Intake's inserts, as bulk_create makes them, with their SQL built once per worker (``common.prepared``).
_insert_people = PreparedInsert(Person)
_insert_parties = PreparedInsert(CaseParty)
_insert_identifiers = PreparedInsert(Identifier)


def party_identifiers(party):
    """What the report gave for this party, as (kind label, value), each value once."""
    shown, seen = [], set()
    for identifier in party.identifiers.all():
        value = registry.unseal(party.person.organization, "identifier", bytes(identifier.sealed_value))["value"]
        if (identifier.kind, value) not in seen:
            seen.add((identifier.kind, value))
            shown.append((identifier.get_kind_display(), value))
    return shown


def forget_case(case):
    """An erased case's parties go, with the identifiers its reports gave them; a person left with nothing else
    (no other case, decision, sanction or notice) goes too. Call inside the erasure's transaction."""
    people = set(CaseParty.objects.filter(case=case).values_list("person_id", flat=True))
    Identifier.objects.filter(party__case=case).delete()
    CaseParty.objects.filter(case=case).delete()
    if people:
        Person.objects.filter(pk__in=sorted(people)).filter(
            parties__isnull=True, identifiers__isnull=True, decisions__isnull=True, sanctions__isnull=True
        ).filter(notices__isnull=True).delete()
