"""The registry of sanctions: verbal warnings staff give at an event, and a lead ending a sanction early.

A verbal warning has no decision and no case: the staff member who gave it says who, where, what was said and
when, and learns nothing back, neither about any case nor about what the registry already knew of that person.
Its details are sealed with the organization's registry key, like every sanction's terms."""

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from cocdesk.common import audit
from cocdesk.orgs.rules import can
from cocdesk.people.domain import registry as people

from ..enums import LASTING_KINDS, SanctionKind, SanctionState
from ..models import Sanction

# The purpose the sanctions' terms are sealed under (shared with the decisions, which read ``["terms"]``).
TERMS = "sanction-terms"
# A phone's clock at the desk may run a little ahead of the server's.
CLOCK_SLACK = timedelta(minutes=10)


def _payload(sanction):
    if not sanction.sealed_terms:
        return {"terms": ""}
    return people.unseal(sanction.organization, TERMS, sanction.sealed_terms)


def warning_details(sanction):
    """What the staff member recorded: {"place", "what_was_said"}, for the team's eyes."""
    payload = _payload(sanction)
    return {"place": payload.get("place", ""), "what_was_said": payload.get("terms", "")}


def end_reason(sanction):
    """Why a lead ended the sanction early ("" if they did not)."""
    return _payload(sanction).get("end_reason", "")


def _clean_identifiers(identifiers):
    return [(kind, value.strip()) for kind, value in identifiers if value and value.strip()]


def _check_warning(organization, *, name, identifiers, space, what_was_said, given_at):
    if SanctionKind.VERBAL_WARNING not in (organization.sanction_kinds or []):
        raise ValidationError(
            "Your organization does not record verbal warnings here: tell the Code of Conduct team instead."
        )
    errors = {}
    if not name and not identifiers:
        errors["name"] = "Say whom you warned: their name, or an email address, handle or badge number."
    if not what_was_said:
        errors["what_was_said"] = "Write down what you told them."
    if given_at is None:
        errors["given_at"] = "Say when you gave the warning."
    elif given_at > timezone.now() + CLOCK_SLACK:
        errors["given_at"] = "That moment is still to come: give the date and time you warned them."
    if space is not None and space.organization_id != organization.pk:
        errors["space"] = "Choose one of your organization's spaces."
    if errors:
        raise ValidationError(errors)


def record_verbal_warning(organization, *, by, name, identifiers, space, where, what_was_said, given_at):
    """Records a verbal warning a staff member gave. ``identifiers`` is a list of (IdentifierKind, value); blank
    values are left out. The person is matched to the registry's (or added); the staff member is never told which.
    Returns nothing a staff member's page should show."""
    if not can(by, "sanctions.record_warning", organization):
        raise PermissionDenied
    name, where, what_was_said = (name or "").strip(), (where or "").strip(), (what_was_said or "").strip()
    identifiers = _clean_identifiers(identifiers)
    _check_warning(
        organization,
        name=name,
        identifiers=identifiers,
        space=space,
        what_was_said=what_was_said,
        given_at=given_at,
    )
    with transaction.atomic():
        person = people.record_person(organization, name=name, identifiers=identifiers)
        sanction = Sanction.objects.create(
            organization=organization,
            person=person,
            kind=SanctionKind.VERBAL_WARNING,
            starts_at=given_at,
            sealed_terms=people.seal(organization, TERMS, {"terms": what_was_said, "place": where}),
            recorded_by=by,
        )
        if space is not None:
            sanction.spaces.set([space])
        audit.record(
            "sanction.warning_recorded",
            actor=by,
            organization=organization,
            sanction=sanction.pk,
            space=space.pk if space is not None else None,
        )
    return sanction


def _locked(sanction):
    return (
        Sanction.objects.select_for_update(of=("self",))
        .select_related("organization", "decision__case")
        .get(pk=sanction.pk)
    )


def end_sanction(sanction, *, by, reason):
    """A lead ends an active lasting sanction before its end, saying why (sealed with the registry key)."""
    if not can(by, "sanctions.end_sanction", sanction):
        raise PermissionDenied
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the sanction ends early."})
    with transaction.atomic():
        sanction = _locked(sanction)
        if sanction.state != SanctionState.ACTIVE:
            raise ValidationError(f"This sanction is already {sanction.get_state_display().lower()}.")
        if sanction.kind not in LASTING_KINDS:
            raise ValidationError(f"A {sanction.get_kind_display().lower()} is given once: there is nothing to end.")
        now = timezone.now()
        sanction.state, sanction.ended_at = SanctionState.ENDED, now
        sanction.sealed_terms = people.seal(sanction.organization, TERMS, {**_payload(sanction), "end_reason": reason})
        sanction.save(update_fields=["state", "ended_at", "sealed_terms", "updated_at"])
        case = sanction.decision.case if sanction.decision_id else None
        audit.record(
            "sanction.ended",
            actor=by,
            case=case,
            organization=None if case is not None else sanction.organization,
            sanction=sanction.pk,
            kind=sanction.kind,
            early=True,
        )
    return sanction
