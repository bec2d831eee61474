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
from . import alerts
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
            notify_members(members_who_may_lead(case), case=case, **alerts.automatic_recusal_notice(case))
        if engaged:
            announce_fallback(case)
    return recusal


def refresh_fallback(case, *, recused_leads=None):
    """Stores whether fallback members handle the case (more recused leads than the threshold, or a deadline
    escalated to them); returns True when this call handed the case to them. ``recused_leads``: their number, when
    the caller knows it without asking the database (intake, from the team it loaded)."""
    if case.fallback_escalated_at is not None:
        under = True
    else:
        recused_leads = recused_lead_count(case) if recused_leads is None else recused_leads
        under = recused_leads > case.organization.recusal_threshold
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
    fallback = members_who_may_see(case).filter(is_fallback=True)
    notify_members(fallback, case=case, **alerts.fallback_engaged_notice(case))


def recusals_at_intake(case, exclusions, *, team=None):
    """Recusals of a case being taken in (the reporter's exclusions, then members named as the reported person),
    inserted together. Returns (audit entries for intake to record with its own, whether the fallback members now
    handle the case, whether any recusal was automatic). ``team``: the organization's ``IntakeAudience``, which
    counts the recused leads without a query."""
    chosen = {}
    for membership, reason, source in exclusions:
        if membership.organization_id != case.organization_id:
            raise ValidationError("That person is not on this organization's team.")
        chosen.setdefault(membership.pk, (membership, reason, source))  # the reporter's own request comes first
    if not chosen:
        return [], False, False
    now = timezone.now()
    Recusal.objects.bulk_create(
        Recusal(case=case, membership=membership, reason=reason, source=source, created_at=now)
        for membership, reason, source in chosen.values()
    )
    access.forget()
    recused_leads = None if team is None else team.recused_leads(case, chosen.keys())
    engaged = any(membership.is_lead for membership, _r, _s in chosen.values()) and refresh_fallback(
        case, recused_leads=recused_leads
    )
    entries = [
        {"action": "case.recusal", "case": case, "member": m.user.get_username(), "reason": r, "source": s}
        for m, r, s in chosen.values()
    ]
    if engaged:
        entries.append({"action": "case.fallback_engaged", "case": case})
    automatic = any(source == RecusalSource.AUTOMATIC for _m, _r, source in chosen.values())
    return entries, engaged, automatic


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
