"""Temporary sanctions end on their own. The expiry pass runs every minute from ``manage.py sweep_deadlines``:

1. ``organization.sanction_notice_days`` before an active sanction's end, the organization's leads who may see
   it are told, once (``expiry_notice_sent_at``): by the notification queue, with a link to the registry and no
   case content. A lead recused from the sanction's case is not told;
2. once its end has passed, the sanction expires (state expired, ``ended_at`` its end), audited as
   "sanction.expired", one event per sanction.

Both read one range of the partial index ``sanction_expiry`` (active sanctions with an end), joined to their
organization for its notice period: a pass with nothing due costs that one SELECT. The time is passed in (``now``)
so tests drive a controlled clock, as the retention pass does."""

import logging
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import DateTimeField, DurationField, ExpressionWrapper, F, IntegerField, Q, Value
from django.urls import reverse
from django.utils import dateformat, timezone

from cocdesk.cases.models import Recusal
from cocdesk.common import audit
from cocdesk.notify.domain import queue
from cocdesk.notify.models import Notification
from cocdesk.orgs.access import grant_of, load_grants
from cocdesk.orgs.models import Membership

from ..enums import SanctionState
from ..models import Sanction
from ..rules import grant_leads_sanction

logger = logging.getLogger("cocdesk.sanctions.expiry")

BATCH_SIZE = 200
MAX_BATCHES = 100
# How far ahead the pass reads the index: a longer notice period than this is told this many days ahead.
MAX_NOTICE_DAYS = 366
NOTICE_KIND = "sanction_expiry_notice"


def _notice_from():
    """When the leads are told: the end, less the organization's notice period (computed by the database)."""
    days = ExpressionWrapper(F("organization__sanction_notice_days"), output_field=IntegerField())
    period = ExpressionWrapper(days * Value(timedelta(days=1)), output_field=DurationField())
    return ExpressionWrapper(F("ends_at") - period, output_field=DateTimeField())


def due(now):
    """Active sanctions whose end has passed, or whose notice is due and not sent yet; earliest end first."""
    return (
        Sanction.objects.filter(
            state=SanctionState.ACTIVE, ends_at__isnull=False, ends_at__lte=now + timedelta(days=MAX_NOTICE_DAYS)
        )
        .alias(notice_from=_notice_from())
        .filter(Q(ends_at__lte=now) | Q(expiry_notice_sent_at__isnull=True, notice_from__lte=now))
        .order_by("ends_at", "pk")
    )


def run(now=None):
    """The expiry pass: {"noticed": sanctions whose leads were told, "expired": sanctions ended}."""
    now = now or timezone.now()
    totals = {"noticed": 0, "expired": 0}
    for _batch in range(MAX_BATCHES):
        ids = list(due(now).values_list("pk", flat=True)[:BATCH_SIZE])
        if not ids:
            break
        noticed, expired = _handle(ids, now)
        totals["noticed"] += noticed
        totals["expired"] += expired
        # Rows another worker holds are skipped: they are its to handle, not a reason to spin.
        if len(ids) < BATCH_SIZE or not noticed + expired:
            break
    return totals


def run_safely(now=None):
    """For the clock's loop: a failure is logged and never raised, so the reminders go on; None when it failed."""
    try:
        return run(now)
    except Exception:  # noqa: BLE001 - an expiry failure must never stop the deadline reminders
        logger.exception("the sanction expiry pass failed; trying again at the next sweep")
        return None


def _handle(ids, now):
    with transaction.atomic():
        sanctions = list(
            due(now)
            .filter(pk__in=ids)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("organization", "person", "decision__case")
            .prefetch_related("spaces")
        )
        ending = [sanction for sanction in sanctions if sanction.ends_at <= now]
        noticing = [sanction for sanction in sanctions if sanction.ends_at > now]
        _expire(ending)
        _notice(noticing, now)
    return len(noticing), len(ending)


def _case_of(sanction):
    return sanction.decision.case if sanction.decision_id is not None else None


def _event(sanction, action, **detail):
    case = _case_of(sanction)
    place = {"case": case} if case is not None else {"organization": sanction.organization}
    return {"action": action, **place, "sanction": sanction.pk, "kind": sanction.kind, **detail}


def _expire(sanctions):
    if not sanctions:
        return
    for sanction in sanctions:
        sanction.state, sanction.ended_at = SanctionState.EXPIRED, sanction.ends_at
    Sanction.objects.bulk_update(sanctions, ["state", "ended_at"])
    audit.record_many(
        [_event(sanction, "sanction.expired", ended_at=sanction.ends_at.isoformat()) for sanction in sanctions]
    )


class _Leads:
    """The leads of the batch's organizations with their recusals, loaded once: whom to tell about each sanction
    is then decided by ``rules.grant_leads_sanction``, the registry's own definition of who leads it."""

    def __init__(self, sanctions):
        organization_ids = {sanction.organization_id for sanction in sanctions}
        members = load_grants(
            Membership.objects.active()
            .filter(organization_id__in=organization_ids)
            .filter(Q(is_lead=True) | Q(is_fallback=True))
            .select_related("user")
        )
        self._team = defaultdict(list)
        for membership in members:
            self._team[membership.organization_id].append((membership, grant_of(membership)))
        case_ids = [sanction.decision.case_id for sanction in sanctions if sanction.decision_id is not None]
        self._recused = defaultdict(set)
        for membership_id, case_id in Recusal.objects.filter(is_active=True, case_id__in=case_ids).values_list(
            "membership_id", "case_id"
        ):
            self._recused[membership_id].add(case_id)

    def of(self, sanction):
        return [
            membership
            for membership, grant in self._team[sanction.organization_id]
            if grant_leads_sanction(grant, sanction, recused_case_ids=self._recused[membership.pk])
        ]


def _notice(sanctions, now):
    if not sanctions:
        return
    leads = _Leads(sanctions)
    notifications, events = [], []
    for sanction in sanctions:
        sanction.expiry_notice_sent_at = now
        told = leads.of(sanction)
        notifications += [_notification(membership, sanction) for membership in told]
        events.append(_event(sanction, "sanction.expiry_notice", ends_at=sanction.ends_at.isoformat(), told=len(told)))
    Sanction.objects.bulk_update(sanctions, ["expiry_notice_sent_at"])
    audit.record_many(events)
    queue(notifications)


def _notification(membership, sanction):
    when = dateformat.format(timezone.localtime(sanction.ends_at), "j F Y, H:i T")
    registry = settings.BASE_URL + reverse("desk:sanctions", kwargs={"org_slug": sanction.organization.slug})
    return Notification(
        recipient=membership.user,
        organization_id=sanction.organization_id,
        # Tied to the case, so a lead recused or removed before the mail leaves is not sent it.
        case=_case_of(sanction),
        kind=NOTICE_KIND,
        subject=f"[CoC Desk] A sanction ends on {dateformat.format(timezone.localtime(sanction.ends_at), 'j M Y')}",
        body="\n".join(
            [
                f"A temporary sanction about {sanction.person.code_name} ends on {when}. It will end on its own "
                "then; if the team decides otherwise, do it before that moment.",
                "",
                f"Open the registry: {registry}",
                "",
                "This message holds no case details by design.",
            ]
        ),
    )
