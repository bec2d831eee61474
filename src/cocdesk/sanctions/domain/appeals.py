"""Appeals: the sanctioned person's one appeal against a permanent sanction, through the private link of their
notice and within the organization's window, and its review by members who took no part in the decision.

The procedures: "Only permanent resolutions (such as bans) may be appealed", and the staff "will review the case"."""

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import dateformat, timezone

from cocdesk.cases.domain import content as sealed
from cocdesk.cases.domain.queries import members_who_may_see
from cocdesk.common import audit
from cocdesk.notify.domain import notify_members
from cocdesk.orgs.rules import can

from ..enums import AppealState, NoticeDelivery, NoticeState, SanctionState
from ..models import Appeal, DecisionVote, Notice, Sanction
from .notice_mail import APPEAL_REASON, PERMANENT_ONLY
from .notices import appeal_token_digest, appealable, queue_person_mail, sanctions_of

STATEMENT = "appeal-statement"
STATEMENT_MAX_LENGTH = 20_000
OUTCOMES = (AppealState.UPHELD, AppealState.MODIFIED, AppealState.OVERTURNED)


class UnknownAppealLink(Exception):
    """No delivered notice has this token (or its case was erased): the page says only that the link does not
    work, exactly as for a token that never existed."""


def notice_for_token(token):
    """The delivered notice this appeal token opens, or None."""
    if not token or len(token) > 200:
        return None
    notice = (
        Notice.objects.select_related("decision__case__organization", "person")
        .filter(appeal_token_digest=appeal_token_digest(token), state=NoticeState.DELIVERED)
        .first()
    )
    if notice is None or notice.decision.case.is_erased:
        return None
    return notice


def _day(moment):
    return dateformat.format(timezone.localtime(moment), "j F Y")


def refusal(notice, sanctions, now):
    """Why this notice cannot be appealed now, in plain words; None when it can."""
    existing = Appeal.objects.filter(notice=notice).first()
    if existing is not None:
        return f"You appealed this decision on {_day(existing.received_at)}. A decision can be appealed only once."
    if not appealable(sanctions):
        return f"{PERMANENT_ONLY} The measures in this notice are not permanent, so they cannot be appealed."
    if notice.appeal_closes_at is None or now > notice.appeal_closes_at:
        closed = notice.appeal_closes_at or notice.delivered_at
        window = notice.decision.case.organization.appeal_window_days
        return f"The appeal window closed on {_day(closed)}: appeals are taken for {window} days after the notice."
    return None


def statement_of(appeal):
    return sealed.unseal(appeal.notice.decision.case, STATEMENT, bytes(appeal.sealed_statement))["statement"]


@transaction.atomic
def submit_appeal(token, statement):
    """Records the appeal the link's holder writes, once, within the window, against a permanent sanction only;
    tells the members who may review it (not its content). Raises UnknownAppealLink or ValidationError."""
    notice = notice_for_token(token)
    if notice is None:
        raise UnknownAppealLink
    notice = (
        Notice.objects.select_for_update(of=("self",)).select_related("decision__case__organization").get(pk=notice.pk)
    )
    case = notice.decision.case
    now = timezone.now()
    refused = refusal(notice, list(sanctions_of(notice)), now)
    if refused:
        raise ValidationError(refused)
    statement = (statement or "").strip()
    if not statement:
        raise ValidationError("Write your statement: what you would like the team to know before it reviews.")
    if len(statement) > STATEMENT_MAX_LENGTH:
        raise ValidationError(f"Keep your statement under {STATEMENT_MAX_LENGTH} characters.")
    try:
        with transaction.atomic():
            appeal = Appeal.objects.create(
                notice=notice,
                organization=case.organization,
                received_at=now,
                review_due_at=now + timedelta(days=case.organization.appeal_review_days),
                sealed_statement=sealed.seal(case, STATEMENT, {"statement": statement}),
            )
    except IntegrityError:
        raise ValidationError("You appealed this decision already. A decision can be appealed only once.") from None
    audit.record("appeal.received", case=case, appeal=appeal.pk, notice=notice.pk)
    due = _day(appeal.review_due_at)
    notify_members(
        reviewers_of(notice.decision),
        case=case,
        kind="appeal_received",
        subject=f"[CoC Desk] An appeal on case {case.reference} waits for review",
        lines=[
            f"A person the decision on case {case.reference} concerns appealed it. Members who took no part in the "
            f"decision review it by {due}.",
        ],
    )
    return appeal


def reviewers_of(decision):
    """The members who may see the case and took no part in the decision, in one query."""
    voters = DecisionVote.objects.filter(decision=decision).values("membership_id")
    members = members_who_may_see(decision.case).exclude(pk__in=voters)
    if decision.recorded_by_id is not None:
        members = members.exclude(user_id=decision.recorded_by_id)
    return members


# --- the review ----------------------------------------------------------------------------------------------------


def _replacement(original, modified, organization, now):
    """A new sanction with the modified scope and end, in force from now."""
    spaces = list(modified.get("spaces") or [])
    if any(space.organization_id != organization.pk for space in spaces):
        raise ValidationError("Choose spaces of this organization.")
    all_spaces = bool(modified.get("all_spaces"))
    if not all_spaces and not spaces:
        raise ValidationError("Say where the modified measure applies: all spaces, or some of them.")
    permanent = bool(modified.get("is_permanent"))
    ends_at = None if permanent else modified.get("ends_at")
    if not permanent and (ends_at is None or ends_at <= now):
        raise ValidationError("Give the modified measure an end in the future, or make it permanent.")
    replacement = Sanction.objects.create(
        organization=organization,
        person_id=original.person_id,
        decision_id=original.decision_id,
        kind=original.kind,
        all_spaces=all_spaces,
        starts_at=now,
        ends_at=ends_at,
        is_permanent=permanent,
        sealed_terms=original.sealed_terms,
        recorded_by=modified["by"],
    )
    if spaces and not all_spaces:
        replacement.spaces.set(spaces)
    return replacement


def _chosen(appealed, modified):
    chosen = modified.get("sanction")
    if chosen is None and len(appealed) == 1:
        return appealed[0]
    matching = [sanction for sanction in appealed if chosen is not None and sanction.pk == chosen.pk]
    if not matching:
        raise ValidationError("Choose which permanent measure the appeal modifies.")
    return matching[0]


@transaction.atomic
def review_appeal(appeal, *, by, outcome, reason, modified_sanction=None):
    """Upholds, modifies or overturns the appealed permanent sanction with a written reason, which goes to the
    appellant by mail when the notice went by mail (and is shown at their link in any case)."""
    if not can(by, "sanctions.review_appeal", appeal):
        raise PermissionDenied
    appeal = (
        Appeal.objects.select_for_update(of=("self",))
        .select_related("notice__decision__case__organization")
        .get(pk=appeal.pk)
    )
    notice, case = appeal.notice, appeal.notice.decision.case
    if appeal.state != AppealState.PENDING:
        raise ValidationError("This appeal was reviewed already.")
    if outcome not in OUTCOMES:
        raise ValidationError("Choose an outcome: uphold, modify or overturn.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Write the reason: it is sent to the person who appealed.")
    now = timezone.now()
    appealed = appealable(Sanction.objects.select_for_update().filter(pk__in=[s.pk for s in sanctions_of(notice)]))
    changed = []
    if outcome == AppealState.OVERTURNED:
        for sanction in appealed:
            sanction.state, sanction.ended_at = SanctionState.OVERTURNED, now
            sanction.save(update_fields=["state", "ended_at", "updated_at"])
            changed.append(sanction.pk)
    elif outcome == AppealState.MODIFIED:
        modified = {**(modified_sanction or {}), "by": by}
        original = _chosen(appealed, modified)
        replacement = _replacement(original, modified, case.organization, now)
        original.state, original.ended_at, original.replaced_by = SanctionState.MODIFIED, now, replacement
        original.save(update_fields=["state", "ended_at", "replaced_by", "updated_at"])
        changed = [original.pk, replacement.pk]
    appeal.state, appeal.reviewed_by, appeal.reviewed_at = outcome, by, now
    appeal.sealed_reason = sealed.seal(case, APPEAL_REASON, {"reason": reason})
    appeal.save(update_fields=["state", "reviewed_by", "reviewed_at", "sealed_reason", "updated_at"])
    audit.record("appeal.reviewed", actor=by, case=case, appeal=appeal.pk, outcome=outcome, sanctions=changed)
    if notice.delivery == NoticeDelivery.MAIL:
        queue_person_mail(notice, kind="appeal_outcome", reference=f"appeal:{appeal.pk}")
    return appeal
