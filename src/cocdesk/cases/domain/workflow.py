"""The case lifecycle: each change is one function that checks, saves, audits and notifies."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from cocdesk.common import audit
from cocdesk.orgs import access
from cocdesk.orgs.rules import can

from ..enums import CaseState
from ..models import Case, ImmediateAction, Note, Recusal
from . import alerts, retention
from . import content as sealed
from .deadlines import acknowledge_due, update_due
from .queries import members_who_may_see
from .recusal import engage_fallback_if_needed, refresh_fallback

# state change -> (states it may start from, state it leads to, permission, what it does in words)
TRANSITIONS = {
    "start_investigation": (
        {CaseState.NEW, CaseState.ACKNOWLEDGED, CaseState.REOPENED},
        CaseState.INVESTIGATING,
        "cases.work_on_case",
        "put under investigation",
    ),
    "close": ({CaseState.DECIDED}, CaseState.CLOSED, "cases.lead_case", "closed before a decision is recorded"),
    "reopen": ({CaseState.DECIDED, CaseState.CLOSED}, CaseState.REOPENED, "cases.lead_case", "reopened"),
}


class TransitionNotAllowed(ValidationError):
    pass


def require(user, permission, case):
    if not can(user, permission, case):
        raise PermissionDenied


def transition(case, name, *, by):
    sources, target, permission, in_words = TRANSITIONS[name]
    require(by, permission, case)
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.state not in sources:
            raise TransitionNotAllowed(f"A case that is {case.get_state_display().lower()} cannot be {in_words}.")
        previous = case.state
        case.state = target
        now = timezone.now()
        if target == CaseState.CLOSED:
            case.closed_at = now
        if target == CaseState.REOPENED:
            # The reporter is owed news again: the 7-day clock starts afresh.
            case.last_update_at, case.update_due = now, update_due(case.organization, now)
        # Closing starts the retention period; any other state (a reopened case) stops it.
        kept = retention.keep_schedule(case)
        case.save(update_fields=["state", "closed_at", "last_update_at", "update_due", "updated_at", *kept])
        audit.record(f"case.{name}", actor=by, case=case, **{"from": previous, "to": target})
    return case


@transaction.atomic
def assign(case, memberships, *, by):
    require(by, "cases.work_on_case", case)
    allowed = set(members_who_may_see(case).values_list("pk", flat=True))
    eligible = [m for m in memberships if m.pk in allowed]
    if len(eligible) != len(memberships):
        raise ValidationError("Only team members who may see this case can be assigned to it.")
    case.assignees.set(eligible)
    audit.record("case.assigned", actor=by, case=case, assignees=sorted(m.user.get_username() for m in eligible))
    return case


def assign_to_me(case, membership, *, by):
    return assign(case, [*case.assignees.all().exclude(pk=membership.pk), membership], by=by)


@transaction.atomic
def record_triage(case, answers, *, by, category, space):
    """The playbook's questions at initial receipt. The triager's view of whether it was a violation stays inside
    the sealed answers: the case's finding is the team's decision (sanctions.domain.decisions), never triage's."""
    require(by, "cases.work_on_case", case)
    if space is not None and space.organization_id != case.organization_id:
        raise ValidationError("That space belongs to another organization.")
    case.sealed_triage = sealed.seal(case, "triage", answers)
    case.triaged_at = timezone.now()
    case.category, case.space = category, space
    became_urgent = not case.is_urgent and (answers.get("ongoing") == "yes" or answers.get("physical_danger") == "yes")
    if became_urgent:
        case.is_urgent = True
        if case.acknowledged_at is None:
            case.acknowledge_due = min(case.acknowledge_due, acknowledge_due(case.organization, case.triaged_at, True))
    case.save(
        update_fields=[
            "sealed_triage",
            "triaged_at",
            "category",
            "space",
            "is_urgent",
            "acknowledge_due",
            "updated_at",
        ]
    )
    audit.record("case.triaged", actor=by, case=case, category=category)
    if became_urgent:
        alerts.page_leads(case)
    return case


@transaction.atomic
def add_note(case, body, *, by):
    require(by, "cases.work_on_case", case)
    note = Note.objects.create(
        case=case, author=by, created_at=timezone.now(), sealed_body=sealed.seal(case, "note", {"body": body})
    )
    audit.record("case.note_added", actor=by, case=case, note=note.pk)
    return note


def record_immediate_action(case, description, *, by):
    """Any lead may act alone to keep people safe; the action is recorded and the team asked to review it."""
    require(by, "cases.lead_case", case)
    with transaction.atomic():
        action = ImmediateAction.objects.create(
            case=case,
            taken_by=by,
            taken_at=timezone.now(),
            sealed_description=sealed.seal(case, "immediate-action", {"description": description}),
        )
        audit.record("case.immediate_action", actor=by, case=case, immediate_action=action.pk)
        alerts.ask_team_to_review(case, taken_by=by)
    return action


@transaction.atomic
def review_immediate_action(action, *, by):
    require(by, "cases.work_on_case", action.case)
    if action.taken_by_id == by.pk:
        raise ValidationError("Someone other than the lead who acted reviews the action.")
    if action.reviewed_at is not None:
        raise ValidationError("This action was reviewed already.")
    action.reviewed_by, action.reviewed_at = by, timezone.now()
    action.save(update_fields=["reviewed_by", "reviewed_at"])
    audit.record("case.immediate_action_reviewed", actor=by, case=action.case, immediate_action=action.pk)
    return action


def merge(case, *, into, by):
    """Folds a duplicate into another case. Its reports stay where they are, sealed with their own key, and each
    reporter's receipt keeps working; every recusal follows them, so nobody excluded gains access."""
    require(by, "cases.lead_case", case)
    require(by, "cases.lead_case", into)
    if into.pk == case.pk or into.organization_id != case.organization_id:
        raise ValidationError("Choose another case of the same organization.")
    if case.state == CaseState.MERGED or into.state == CaseState.MERGED:
        raise TransitionNotAllowed("A merged case cannot be merged again; merge into the case it went to.")
    if case.acknowledged_at is None:
        raise TransitionNotAllowed("Acknowledge this report first, so its reporter hears from you, then merge it.")
    with transaction.atomic():
        # One level only: cases merged into this one now belong to the new target too.
        Case.objects.filter(merged_into=case).update(merged_into=into)
        group = [into, *Case.objects.filter(merged_into=into), case]
        for source in group:
            for target in group:
                if source.pk != target.pk:
                    _share_recusals(source, target, by=by)
        case.state, case.merged_into = CaseState.MERGED, into
        case.save(update_fields=["state", "merged_into", "updated_at"])
        became_urgent = case.is_urgent and not into.is_urgent
        into.is_urgent = into.is_urgent or case.is_urgent
        if became_urgent and into.acknowledged_at is None:
            now = timezone.now()
            into.acknowledge_due = min(into.acknowledge_due, acknowledge_due(into.organization, now, True))
        into.save(update_fields=["is_urgent", "acknowledge_due", "updated_at"])
        if became_urgent:
            alerts.page_leads(into)
        access.forget()
        for other in group:
            if other.pk != into.pk:
                refresh_fallback(other)
        engage_fallback_if_needed(into)
        audit.record("case.merged", actor=by, case=case, into=into.reference)
        audit.record("case.merge_received", actor=by, case=into, merged=case.reference)
    return into


def _share_recusals(source, target, *, by):
    for recusal in Recusal.objects.active().filter(case=source):
        target.assignees.remove(recusal.membership)
        if not Recusal.objects.active().filter(case=target, membership=recusal.membership).exists():
            Recusal.objects.create(
                case=target,
                membership=recusal.membership,
                reason=recusal.reason,
                source=recusal.source,
                created_by=by,
                created_at=timezone.now(),
            )
