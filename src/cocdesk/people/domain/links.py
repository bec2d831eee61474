"""The team's decisions about who is who: linking a case's party to a person already known (a merge), separating a
party again (a split), and flagging a person whose behaviour may repeat. Each is one transaction: check, save,
audit. The audit names people by code name only.

A member links only people whose every case they may see: a link moves a person's decisions, sanctions and
notices, and a member recused from one of those cases must not change, or learn, what it holds."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from cocdesk.common import audit
from cocdesk.orgs.rules import can
from cocdesk.sanctions.models import Decision, Notice, Sanction

from ..models import CaseParty, Identifier, Person
from . import registry
from .parties import new_code_names
from .patterns import hidden_involvement

MAX_FLAG_REASON = 2000


def _check_may_link(by, party, people):
    if not can(by, "people.link_party", party):
        raise PermissionDenied
    if any(person.organization_id != party.case.organization_id or person.merged_into_id for person in people):
        raise PermissionDenied
    if hidden_involvement(by, people):
        raise PermissionDenied


def link_party(party, other, *, by):
    """``party``'s person and ``other`` are one: the later of the two is merged into the earlier. Returns the
    person kept."""
    if party.person_id == other.pk:
        raise ValidationError("They are already linked: this is the same person.")
    _check_may_link(by, party, [party.person, other])
    kept, later = sorted([party.person, other], key=lambda person: (person.created_at, person.pk))
    with transaction.atomic():
        moved = _merge(kept, later)
        audit.record(
            "person.merged", actor=by, case=party.case, kept=kept.code_name, merged=later.code_name, parties=moved
        )
    return kept


def _merge(kept, later):
    """Moves everything of ``later`` to ``kept`` and marks it merged; returns how many parties moved."""
    moved = CaseParty.objects.filter(person=later).update(person=kept)
    # A registry identifier (no party) the kept person has already would be one too many; parties keep theirs.
    kept_registry = kept.identifiers.filter(party__isnull=True).values("digest")
    later.identifiers.filter(party__isnull=True, digest__in=kept_registry).delete()
    Identifier.objects.filter(person=later).update(person=kept)
    subjects = Decision.subjects.through.objects
    both = subjects.filter(person=kept).values("decision_id")
    subjects.filter(person=later, decision_id__in=both).delete()
    subjects.filter(person=later).update(person=kept)
    Sanction.objects.filter(person=later).update(person=kept)
    Notice.objects.filter(person=later).update(person=kept)
    Person.objects.filter(merged_into=later).update(merged_into=kept)
    later.merged_into = kept
    later.save(update_fields=["merged_into", "updated_at"])
    if later.flagged_at and not kept.flagged_at:
        kept.flagged_at, kept.flagged_by, kept.sealed_flag_reason = (
            later.flagged_at,
            later.flagged_by,
            later.sealed_flag_reason,
        )
        kept.save(update_fields=["flagged_at", "flagged_by", "sealed_flag_reason", "updated_at"])
    return moved


def split_party(party, *, by):
    """``party`` is someone else than the person it was linked to: it becomes a person of its own, with the
    identifiers it gave, and the decisions of its case about that person. Returns the new person."""
    person = party.person
    # Only this case's party moves: the person's other cases, seen or not, stay as they are.
    if not can(by, "people.split_party", party):
        raise PermissionDenied
    if not CaseParty.objects.filter(person=person).exclude(pk=party.pk).exists():
        raise ValidationError("This person is not linked to anyone else: there is nothing to separate.")
    organization = person.organization
    names = [
        registry.unseal(organization, "identifier", bytes(identifier.sealed_value))["value"]
        for identifier in party.identifiers.filter(kind="name").order_by("pk")[:1]
    ]
    with transaction.atomic():
        (code_name,) = new_code_names(organization, 1)
        separate = Person.objects.create(
            organization=organization,
            code_name=code_name,
            sealed_details=registry.seal(organization, "person", {"name": names[0] if names else ""}),
        )
        Identifier.objects.filter(party=party).update(person=separate)
        party.person = separate
        party.save(update_fields=["person"])
        # The decisions of this case concerned the person as named here, unless they are also named otherwise in it.
        if not CaseParty.objects.filter(case_id=party.case_id, person=person).exists():
            decisions = Decision.objects.filter(case_id=party.case_id).values("pk")
            Decision.subjects.through.objects.filter(person=person, decision_id__in=decisions).update(person=separate)
            Sanction.objects.filter(person=person, decision__case_id=party.case_id).update(person=separate)
            Notice.objects.filter(person=person, decision__case_id=party.case_id).update(person=separate)
        audit.record("person.split", actor=by, case=party.case, person=person.code_name, separated=separate.code_name)
    return separate


def flag_person(person, *, reason, by):
    """Marks a risk of repeating, for the teams of future events: who, when, and why (sealed)."""
    if not can(by, "people.flag_person", person):
        raise PermissionDenied
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Say why: the teams of future events will read it.")
    if len(reason) > MAX_FLAG_REASON:
        raise ValidationError(f"Keep the reason under {MAX_FLAG_REASON} characters.")
    with transaction.atomic():
        person.flagged_at = timezone.now()
        person.flagged_by = by
        person.sealed_flag_reason = registry.seal(person.organization, "flag", {"reason": reason})
        person.save(update_fields=["flagged_at", "flagged_by", "sealed_flag_reason", "updated_at"])
        audit.record("person.flagged", actor=by, organization=person.organization, person=person.code_name)
    return person


def unflag_person(person, *, by):
    if not can(by, "people.flag_person", person):
        raise PermissionDenied
    if not person.flagged_at:
        return person
    with transaction.atomic():
        person.flagged_at, person.flagged_by, person.sealed_flag_reason = None, None, None
        person.save(update_fields=["flagged_at", "flagged_by", "sealed_flag_reason", "updated_at"])
        audit.record("person.unflagged", actor=by, organization=person.organization, person=person.code_name)
    return person
