import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from .delivery import DeliveryFailed, send
from .models import Notification

logger = logging.getLogger("cocdesk.notify")
MAX_BACKOFF = timedelta(hours=1)


def backoff(attempts):
    return min(timedelta(seconds=30 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


@task()
def deliver_notifications(notification_ids):
    """Sends a batch queued together; each notification is sent, or retried, on its own."""
    return [deliver_one(notification_id) for notification_id in notification_ids]


@task()
def deliver_notification(notification_id):
    return deliver_one(notification_id)


def deliver_one(notification_id):
    """Sends one notification. Safe to run twice: only a pending notification is sent, under a row lock, and the
    recipient's right to know is checked again at sending time. A failure schedules a retry with backoff; the
    notification stays pending, so an outage delays mail and never loses it."""
    from .domain import recipient_may_still_know

    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("recipient", "case", "organization", "report")
            .filter(pk=notification_id, state=Notification.State.PENDING)
            .first()
        )
        if notification is None:
            return "nothing to send"
        if not recipient_may_still_know(notification):
            notification.state = Notification.State.CANCELLED
            notification.save(update_fields=["state"])
            return "cancelled"
        notification.attempts += 1
        try:
            with transaction.atomic():  # a savepoint: a database error while sending leaves the row writable
                send(notification)
        except Exception as error:  # noqa: BLE001 - whatever went wrong, the notification must stay queued
            reason = str(error) if isinstance(error, DeliveryFailed) else f"unexpected {type(error).__name__}"
            delay = backoff(notification.attempts)
            notification.last_error = reason[:300]
            notification.next_attempt_at = timezone.now() + delay
            notification.save(update_fields=["attempts", "last_error", "next_attempt_at"])
            logger.warning(
                "notification %s not delivered (attempt %s): %s; retrying in %s",
                notification.pk,
                notification.attempts,
                reason,
                delay,
            )
            retry_at = notification.next_attempt_at
            transaction.on_commit(lambda: deliver_notification.using(run_after=retry_at).enqueue(notification_id))
            return "retry scheduled"
        notification.state = Notification.State.SENT
        notification.sent_at = timezone.now()
        notification.save(update_fields=["attempts", "state", "sent_at", "last_error", "message_id"])
    return "sent"


STALLED_AFTER = timedelta(minutes=5)


def requeue_stalled(now=None):
    """Puts back on the queue every pending notification whose attempt is long overdue (a worker stopped, a
    task was lost): sending is idempotent, so an extra attempt can never send twice."""
    now = now or timezone.now()
    stalled = list(
        Notification.objects.filter(
            state=Notification.State.PENDING, next_attempt_at__lt=now - STALLED_AFTER
        ).values_list("pk", flat=True)[:500]
    )
    Notification.objects.filter(pk__in=stalled).update(next_attempt_at=now + STALLED_AFTER)
    for start in range(0, len(stalled), 50):
        deliver_notifications.enqueue(stalled[start : start + 50])
    return len(stalled)
