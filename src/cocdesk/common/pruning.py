"""Deleting what has done its job: delivered notifications, finished background tasks, expired throttle counts.

Run by ``manage.py prune_records`` and, once an hour, by the deadline clock (``sweep_deadlines --every N``).
Rows go in batches of ids, each its own short transaction, so a large backlog never holds one huge transaction or
lock.
"""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from cocdesk.common.models import ThrottleCount
from cocdesk.notify.models import Notification

logger = logging.getLogger("cocdesk.pruning")

BATCH_SIZE = 1000
PRUNE_EVERY_SECONDS = 60 * 60
# Mail intake threads a reporter's emailed reply into their case by the Message-ID of the mail they answer
# (cocdesk.cases.domain.email_intake.thread_target), so a sent mail to a reporter is kept as long as its case. It
# holds no text: only the reference, the report and that Message-ID.


def delivered_notifications(cutoff):
    done = Q(state=Notification.State.SENT) | Q(state=Notification.State.CANCELLED)
    old = Q(sent_at__lt=cutoff) | Q(sent_at__isnull=True, created_at__lt=cutoff)
    thread_anchor = Q(state=Notification.State.SENT, report__isnull=False)
    return Notification.objects.filter(done & old).exclude(thread_anchor)


def finished_task_results(cutoff):
    return DBTaskResult.objects.finished().filter(finished_at__lt=cutoff)


def expired_throttle_counts(now):
    return ThrottleCount.objects.filter(window_ends_at__lte=now)


def delete_in_batches(queryset, batch_size=BATCH_SIZE):
    """Deletes the queryset's rows a batch of ids at a time; returns how many went."""
    label = queryset.model._meta.label
    deleted = 0
    while True:
        ids = list(queryset.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return deleted
        # The conditions apply again at deletion: a row that changed since it was read stays.
        _total, by_model = queryset.filter(pk__in=ids).delete()
        if not by_model.get(label):
            return deleted
        deleted += by_model[label]


def prune_records(now=None, keep_days=None):
    """Deletes sent or cancelled notifications and finished task results older than ``keep_days`` (default: the
    ``keep_delivered_days`` setting), and expired throttle counts. Pending notifications and tasks that are waiting
    or running are never touched. Returns the number of rows deleted per kind."""
    now = now or timezone.now()
    keep_days = settings.COCDESK_KEEP_DELIVERED_DAYS if keep_days is None else keep_days
    cutoff = now - timedelta(days=keep_days)
    return {
        "notifications": delete_in_batches(delivered_notifications(cutoff)),
        "task results": delete_in_batches(finished_task_results(cutoff)),
        "throttle counts": delete_in_batches(expired_throttle_counts(now)),
    }


class PruneSchedule:
    """Prunes at most once per ``every_seconds`` of a monotonic clock; a failure is logged and never raised, so a
    loop that calls it (the deadline clock) keeps going, and pruning is tried again after the interval."""

    def __init__(self, every_seconds=PRUNE_EVERY_SECONDS, clock=time.monotonic):
        self.every_seconds = every_seconds
        self.clock = clock
        self.last_run_at = None

    def run_if_due(self):
        """Returns prune_records()'s counts if it ran and succeeded, None otherwise."""
        now = self.clock()
        if self.last_run_at is not None and now - self.last_run_at < self.every_seconds:
            return None
        self.last_run_at = now
        try:
            return prune_records()
        except Exception:  # noqa: BLE001 - pruning is housekeeping; the reminders must go on whatever went wrong
            logger.exception("pruning old records failed; trying again in %s seconds", self.every_seconds)
            return None
