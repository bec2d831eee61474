"""A responder names someone in a case the reports did not (a witness met later, the reported person's other
handle), or adds what else a party is known by. Each is one transaction: check, save, audit (by code name only).
The new identifiers are sealed and hashed as intake's are; the page that follows shows the suggestions for that
person, and nothing is linked until a responder confirms it."""

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from cocdesk.common import audit
from cocdesk.orgs.rules import can

from ..enums import IdentifierKind, PartyRole
from ..models import CaseParty, Identifier, Person
from ..normalise import guess_kind
from . import registry
from .parties import MAX_IDENTIFIERS_PER_PERSON, identifier_digests, new_code_names, sealed_identifiers

_LINES = re.compile(r"[\n,;]+")


def identifier_pairs(text):
    """(kind, value) for each identifier of free text, one a line or comma-separated, by its shape ('Slack: @pat',
    'pat@example.org', '+44 20 7946 0958', 'Badge 42'); anything else is a name or nickname."""
    pairs = []
    for part in _LINES.split(text or ""):
        value = part.strip()
        if value:
            pairs.append((guess_kind(value), value))
    return pairs


def _check(by, case):
    if case.is_erased or not can(by, "people.name_in_case", case):
        raise PermissionDenied


def _recognisable(organization, pairs):
    return [(kind, value) for kind, value in pairs if identifier_digests(organization, kind, value)]


@transaction.atomic
def add_party(case, *, role, name, identifiers_text="", by):
    """A new person of their own, named in ``case`` as ``role``. Returns the party."""
    _check(by, case)
    if role not in PartyRole.values:
        raise ValidationError({"role": "Choose how they are involved."})
    organization = case.organization
    name = (name or "").strip()
    pairs = ([(IdentifierKind.NAME, name)] if name else []) + identifier_pairs(identifiers_text)
    pairs = _recognisable(organization, pairs)
    if not pairs:
        raise ValidationError(
            {"name": "Give a name, an email, a handle, a phone or a badge number the team could recognise them by."}
        )
    if len(pairs) > MAX_IDENTIFIERS_PER_PERSON:
        raise ValidationError({"identifiers": f"Give at most {MAX_IDENTIFIERS_PER_PERSON} identifiers at once."})
    (code_name,) = new_code_names(organization, 1)
    person = Person.objects.create(
        organization=organization,
        code_name=code_name,
        sealed_details=registry.seal(organization, "person", {"name": name or pairs[0][1]}),
    )
    party = CaseParty.objects.create(case=case, person=person, role=role)
    Identifier.objects.bulk_create(sealed_identifiers(person, party, pairs))
    audit.record("person.named_in_case", actor=by, case=case, person=code_name, role=role, identifiers=len(pairs))
    return party


@transaction.atomic
def add_party_identifiers(party, identifiers_text, *, by):
    """Adds what else ``party`` is known by; those it has already are left as they are. Returns how many were
    added."""
    case = party.case
    _check(by, case)
    organization = case.organization
    pairs = _recognisable(organization, identifier_pairs(identifiers_text))
    if not pairs:
        raise ValidationError(
            {"identifiers": "Give an email, a handle, a phone number, a badge number or a name to add."}
        )
    known = set(party.identifiers.values_list("digest", flat=True))
    if len(known) + len(pairs) > MAX_IDENTIFIERS_PER_PERSON * 2:
        raise ValidationError({"identifiers": "This person has as many identifiers as a party may hold."})
    rows = sealed_identifiers(party.person, party, pairs, known=known)
    Identifier.objects.bulk_create(rows)
    audit.record("person.identifiers_added", actor=by, case=case, person=party.person.code_name, identifiers=len(rows))
    return len(rows)
