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
def deliver_notification(notification_id):
    """Sends one notification. Safe to run twice: only a pending notification is sent, under a row lock, and the
    recipient's right to know is checked again at sending time. A failure schedules a retry with backoff; the
    notification stays pending, so an outage delays mail and never loses it."""
    from .domain import recipient_may_still_know

    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update()
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
            send(notification)
        except DeliveryFailed as error:
            notification.last_error = str(error)[:300]
            notification.save(update_fields=["attempts", "last_error"])
            delay = backoff(notification.attempts)
            logger.warning(
                "notification %s not delivered (attempt %s): %s; retrying in %s",
                notification.pk,
                notification.attempts,
                error,
                delay,
            )
            retry_at = timezone.now() + delay
            transaction.on_commit(lambda: deliver_notification.using(run_after=retry_at).enqueue(notification_id))
            return "retry scheduled"
        notification.state = Notification.State.SENT
        notification.sent_at = timezone.now()
        notification.save(update_fields=["attempts", "state", "sent_at", "last_error", "message_id"])
    return "sent"
