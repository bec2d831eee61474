"""Recusal: a member with a conflict of interest loses every sight of the case; too many recused leads bring in
the organization's fallback members."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from cocdesk.common import audit
from cocdesk.notify.domain import notify_members
from cocdesk.orgs import access
from cocdesk.orgs.rules import can

from ..enums import RecusalReason, RecusalSource
from ..models import Case, Recusal
from . import content as sealed
from .queries import members_who_may_lead, members_who_may_see, recused_lead_count


def recuse(case, membership, *, reason, source, by=None, note=""):
    """Removes ``membership`` from ``case``. A member may declare their own conflict; a lead may recuse others."""
    if membership.organization_id != case.organization_id:
        raise ValidationError("That person is not on this organization's team.")
    if reason == RecusalReason.OTHER and source == RecusalSource.DECLARED and not note.strip():
        raise ValidationError("Please say briefly why, when the reason is 'other'.")
    with transaction.atomic():
        if Recusal.objects.active().filter(case=case, membership=membership).exists():
            return None
        recusal = Recusal.objects.create(
            case=case,
            membership=membership,
            reason=reason,
            source=source,
            created_by=by,
            created_at=timezone.now(),
            sealed_note=sealed.seal(case, "recusal-note", {"note": note}) if note else None,
        )
        audit.record(
            "case.recusal", actor=by, case=case, member=membership.user.get_username(), reason=reason, source=source
        )
        case.assignees.remove(membership)
        for other in merge_group(case):
            if other.pk != case.pk and not Recusal.objects.active().filter(case=other, membership=membership).exists():
                Recusal.objects.create(
                    case=other,
                    membership=membership,
                    reason=reason,
                    source=source,
                    created_by=by,
                    created_at=recusal.created_at,
                )
                other.assignees.remove(membership)
                engage_fallback_if_needed(other)
                audit.record(
                    "case.recusal",
                    actor=by,
                    case=other,
                    member=membership.user.get_username(),
                    reason=reason,
                    source=source,
                    through=case.reference,
                )
        access.forget()
        engaged = refresh_fallback(case)
        if source == RecusalSource.AUTOMATIC:
            notify_members(
                members_who_may_lead(case),
                case=case,
                kind="automatic_recusal",
                subject=f"[CoC Desk] A team member was recused automatically from case {case.reference}",
                # Who it is stays on the case page: a mail naming them would say who was reported.
                lines=[
                    f"A team member was recused automatically from case {case.reference} because of what the "
                    "report says.",
                    "A lead can see who on the case page, and reinstate them if it was a mistake.",
                ],
            )
        if engaged:
            announce_fallback(case)
    return recusal


def refresh_fallback(case):
    """Stores whether fallback members handle the case (more recused leads than the threshold, or a deadline
    escalated to them); returns True when this call handed the case to them."""
    under = case.fallback_escalated_at is not None or recused_lead_count(case) > case.organization.recusal_threshold
    if under == case.under_fallback:
        return False
    Case.objects.filter(pk=case.pk).update(under_fallback=under)
    case.under_fallback = under
    access.forget()
    return under


def refresh_fallback_of_cases(cases):
    """After a change of roles or threshold: the cases whose recused leads may now count differently."""
    return [case for case in cases.select_related("organization") if engage_fallback_if_needed(case)]


def announce_fallback(case):
    """The fallback members who now have the case are told."""
    audit.record("case.fallback_engaged", case=case)
    notify_members(
        members_who_may_see(case).filter(is_fallback=True),
        case=case,
        kind="fallback_engaged",
        subject=f"[CoC Desk] You are needed as temporary lead on case {case.reference}",
        lines=[
            f"More lead responders than your organization's threshold ({case.organization.recusal_threshold}) "
            f"have recused themselves from case {case.reference}.",
            "As a fallback member you now have access to this case, and this case only, as a temporary lead.",
        ],
    )
    return True


def engage_fallback_if_needed(case):
    """Recomputes the case's fallback state and tells the fallback members when it just fell to them."""
    engaged = refresh_fallback(case)
    if engaged:
        announce_fallback(case)
    return engaged


def reinstate(recusal, *, by, reason):
    """Only a lead who is not recused from the case may reinstate a member, with a reason."""
    if not can(by, "cases.manage_recusals", recusal.case):
        raise PermissionDenied
    if recusal.source == RecusalSource.REPORTER:
        raise ValidationError("The reporter asked that this member never see the report; that cannot be undone.")
    if not reason.strip():
        raise ValidationError("Say why this member is reinstated: it is kept with the case.")
    group = [other for other in merge_group(recusal.case) if other.pk != recusal.case_id]
    if (
        Recusal.objects.active()
        .filter(case__in=group, membership=recusal.membership, source=RecusalSource.REPORTER)
        .exists()
    ):
        raise ValidationError(
            "The reporter of a related report asked that this member never see it; as the reports are handled "
            "together, that cannot be undone."
        )
    with transaction.atomic():
        recusal.is_active = False
        recusal.ended_at = timezone.now()
        recusal.ended_by = by
        recusal.sealed_end_reason = sealed.seal(recusal.case, "reinstatement", {"reason": reason})
        recusal.save(update_fields=["is_active", "ended_at", "ended_by", "sealed_end_reason"])
        audit.record("case.recusal_ended", actor=by, case=recusal.case, member=recusal.membership.user.get_username())
        for related in Recusal.objects.active().filter(case__in=group, membership=recusal.membership):
            related.is_active, related.ended_at, related.ended_by = False, recusal.ended_at, by
            related.sealed_end_reason = sealed.seal(related.case, "reinstatement", {"reason": reason})
            related.save(update_fields=["is_active", "ended_at", "ended_by", "sealed_end_reason"])
            audit.record(
                "case.recusal_ended",
                actor=by,
                case=related.case,
                member=recusal.membership.user.get_username(),
                through=recusal.case.reference,
            )
            refresh_fallback(related.case)
        refresh_fallback(recusal.case)
        access.forget()
    return recusal


def merge_group(case):
    """A case, the case it was merged into, and every case merged into that one: one incident, one set of
    recusals."""
    root = case.merged_into or case
    return [root, *Case.objects.filter(merged_into=root)]
