"""Retention: a closed case is erased once its organization's retention period has passed since it was closed.

A closed case's erasure date (``Case.erase_after``, indexed) is its closing time plus the organization's
``retention_days``. Closing sets it, reopening clears it, and a change of the retention period recomputes it
(``reschedule_organization``). The retention pass (``run``, once an hour from ``sweep_deadlines``):

1. tells the leads who may see a case ``RETENTION_NOTICE_DAYS`` before its date, once; the date is then never
   sooner than that many days after the notice, so no case is erased before its leads had that time to hold it;
2. erases each closed case whose date has passed and that nothing blocks (``_blocks_erasure``), together with the
   duplicates merged into it: its data key is destroyed (``keys.erase_case``, audited with the reason
   "retention"), and what statistics need stays in plain columns (state, dates, category, space, channel).

Both steps read an index range of due cases only, so a pass with nothing due costs two indexed SELECTs."""

import logging
import time
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from cocdesk.common import audit
from cocdesk.notify.domain import member_notification, queue
from cocdesk.orgs import policy
from cocdesk.orgs.rules import can

from ..enums import CaseState
from ..models import Case
from . import content as sealed
from .audience import BatchAudience
from .keys import erase_case

logger = logging.getLogger("cocdesk.retention")

BATCH_SIZE = 200
MAX_BATCHES = 500
RUN_EVERY_SECONDS = 60 * 60
SCHEDULE_FIELDS = ["erase_after", "retention_notice_sent_at"]


def notice_period():
    return timedelta(days=policy.RETENTION_NOTICE_DAYS)


# --- the erasure date, kept by the domain functions ----------------------------------------------------------------


def keep_schedule(case):
    """Sets the case's erasure date from its state (closing time plus retention for a closed case, none for any
    other) and forgets an earlier notice. For the functions that change a case's state; they save
    ``SCHEDULE_FIELDS``."""
    if case.state == CaseState.CLOSED and case.closed_at is not None and not case.is_erased:
        case.erase_after = case.closed_at + timedelta(days=case.organization.retention_days)
    else:
        case.erase_after = None
    case.retention_notice_sent_at = None
    return SCHEDULE_FIELDS


def expected_erasure(case, now=None):
    """When the case will be erased unless something blocks it: its date, but never sooner than the notice
    period after a notice not sent yet. None for a case without a date (not closed, or erased)."""
    if case.erase_after is None:
        return None
    if case.retention_notice_sent_at is None:
        return max(case.erase_after, (now or timezone.now()) + notice_period())
    return case.erase_after


def reschedule_organization(organization, now=None):
    """Recomputes the erasure date of the organization's closed cases after its retention period changed.
    A case whose leads were told already keeps the notice's days: its date comes no sooner than the notice
    promised. A case whose new date is further away than the notice period gets a fresh notice when it comes."""
    now = now or timezone.now()
    closed = Case.objects.filter(
        organization=organization, state=CaseState.CLOSED, is_erased=False, closed_at__isnull=False
    )
    changed = closed.update(erase_after=F("closed_at") + timedelta(days=organization.retention_days))
    noticed = list(
        closed.filter(retention_notice_sent_at__isnull=False).only("erase_after", "retention_notice_sent_at")
    )
    for case in noticed:
        if case.erase_after > now + notice_period():
            case.retention_notice_sent_at = None
        else:
            case.erase_after = max(case.erase_after, case.retention_notice_sent_at + notice_period())
    Case.objects.bulk_update(noticed, SCHEDULE_FIELDS, batch_size=BATCH_SIZE)
    return changed


# --- holds ---------------------------------------------------------------------------------------------------------


def _require(user, case):
    if not can(user, "cases.hold_retention", case):
        raise PermissionDenied


def hold(case, *, by, reason):
    """A lead keeps a closed case past its erasure date, saying why; it stays until a lead lifts the hold."""
    _require(by, case)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Say why the case must be kept.")
    with transaction.atomic():
        case = Case.objects.select_for_update(of=("self",)).select_related("organization").get(pk=case.pk)
        if case.is_erased:
            raise ValidationError("This case was erased: there is nothing left to keep.")
        if case.state != CaseState.CLOSED:
            raise ValidationError("Only a closed case can be held: a case that is not closed is never erased.")
        if case.retention_held_at is not None:
            raise ValidationError("This case is held already.")
        case.retention_held_at, case.retention_held_by = timezone.now(), by
        case.sealed_retention_hold_reason = sealed.seal(case, "retention-hold", {"reason": reason})
        case.save(
            update_fields=["retention_held_at", "retention_held_by", "sealed_retention_hold_reason", "updated_at"]
        )
        audit.record("case.retention_held", actor=by, case=case)
    return case


def release_hold(case, *, by):
    """Lifts a hold: the case is erased on its date again, or at the next pass if the date has passed and its
    leads were told already."""
    _require(by, case)
    with transaction.atomic():
        case = Case.objects.select_for_update(of=("self",)).select_related("organization").get(pk=case.pk)
        if case.retention_held_at is None:
            raise ValidationError("This case is not held.")
        case.retention_held_at, case.retention_held_by, case.sealed_retention_hold_reason = None, None, None
        case.save(
            update_fields=["retention_held_at", "retention_held_by", "sealed_retention_hold_reason", "updated_at"]
        )
        audit.record("case.retention_released", actor=by, case=case)
    return case


def hold_reason(case):
    if case.sealed_retention_hold_reason is None or case.is_erased:
        return ""
    return sealed.unseal(case, "retention-hold", case.sealed_retention_hold_reason)["reason"]


# --- the pass ------------------------------------------------------------------------------------------------------


def _blocks_erasure():
    """The cases that are never erased nor announced, whatever their date: those a lead holds, those with an appeal
    waiting for review, and those with a sanction still in force (its notice, appeal and reasons live in the case)."""
    from cocdesk.sanctions.enums import AppealState, SanctionState
    from cocdesk.sanctions.models import Appeal, Sanction

    open_appeal = Appeal.objects.filter(notice__decision__case_id=OuterRef("pk"), state=AppealState.PENDING)
    active_sanction = Sanction.objects.filter(decision__case_id=OuterRef("pk"), state=SanctionState.ACTIVE)
    return Q(retention_held_at__isnull=False) | Exists(open_appeal) | Exists(active_sanction)


def _retained(until):
    """Closed, unerased cases whose erasure date is at or before ``until``, read from the index case_erase_after."""
    return (
        Case.objects.filter(erase_after__lte=until, state=CaseState.CLOSED, is_erased=False)
        .exclude(_blocks_erasure())
        .order_by("erase_after", "pk")
    )


def due_for_notice(now):
    return _retained(now + notice_period()).filter(retention_notice_sent_at__isnull=True)


def due_for_erasure(now):
    return _retained(now).filter(retention_notice_sent_at__isnull=False)


def run(now=None):
    """The retention pass: {"noticed": cases whose leads were told, "erased": cases erased}."""
    now = now or timezone.now()
    noticed = erased = 0
    for _batch in range(MAX_BATCHES):
        count = _notice_batch(now)
        noticed += count
        if count < BATCH_SIZE:
            break
    for _batch in range(MAX_BATCHES):
        count, looked_at = _erase_batch(now)
        erased += count
        if looked_at < BATCH_SIZE:
            break
    return {"noticed": noticed, "erased": erased}


def _notice_batch(now):
    with transaction.atomic():
        cases = list(
            due_for_notice(now)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("organization")[:BATCH_SIZE]
        )
        if not cases:
            return 0
        audience = BatchAudience(cases)
        notifications, events = [], []
        earliest = now + notice_period()
        for case in cases:
            case.erase_after = max(case.erase_after, earliest)
            case.retention_notice_sent_at = now
            leads = audience.leads(case)
            notifications += [_notice(membership, case) for membership in leads]
            events.append(
                {
                    "action": "case.retention_notice",
                    "case": case,
                    "erase_after": case.erase_after.isoformat(),
                    "told": len(leads),
                }
            )
        queue(notifications)
        audit.record_many(events)
        Case.objects.bulk_update(cases, SCHEDULE_FIELDS)
    return len(cases)


def _notice(membership, case):
    when, closed = timezone.localtime(case.erase_after), timezone.localtime(case.closed_at)
    return member_notification(
        membership,
        case=case,
        kind="retention_notice",
        subject=f"[CoC Desk] Case {case.reference} will be erased on {when:%Y-%m-%d}",
        lines=[
            f"Case {case.reference} was closed on {closed:%Y-%m-%d}. Your organization keeps closed cases for "
            f"{case.organization.retention_days} days, so it will be erased on {when:%Y-%m-%d %H:%M %Z}: its "
            "reports, messages and notes will no longer be readable by anyone. Its dates, state and category stay "
            "for statistics.",
            "If it must be kept longer, a lead can hold it on the case page.",
        ],
    )


def _erase_batch(now):
    ids = list(due_for_erasure(now).values_list("pk", flat=True)[:BATCH_SIZE])
    erased = 0
    for pk in ids:
        with transaction.atomic():
            # Checked again under the lock: a hold or a reopening since the look-up wins.
            case = due_for_erasure(now).select_for_update(skip_locked=True).filter(pk=pk).first()
            if case is None:
                continue
            erase_case(case, reason="retention")
            for merged in Case.objects.select_for_update().filter(merged_into=case, is_erased=False):
                erase_case(merged, reason=f"retention of {case.reference}, into which it was merged")
        erased += 1
    return erased, len(ids)


class RetentionSchedule:
    """Runs the retention pass at most once per ``every_seconds`` of a monotonic clock, for the deadline clock's
    loop. A failure is logged and never raised, so the reminders go on; the pass is tried again after the interval."""

    def __init__(self, every_seconds=RUN_EVERY_SECONDS, clock=time.monotonic):
        self.every_seconds = every_seconds
        self.clock = clock
        self.last_run_at = None

    def run_if_due(self, now=None):
        """Returns run()'s counts if it ran and succeeded, None otherwise."""
        moment = self.clock()
        if self.last_run_at is not None and moment - self.last_run_at < self.every_seconds:
            return None
        self.last_run_at = moment
        try:
            return run(now)
        except Exception:  # noqa: BLE001 - retention must never stop the deadline reminders
            logger.exception("the retention pass failed; trying again in %s seconds", self.every_seconds)
            return None
