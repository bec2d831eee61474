import logging
from datetime import timedelta
from smtplib import SMTPException

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from .models import Notification

logger = logging.getLogger("cocdesk.notify")
MAX_BACKOFF = timedelta(hours=1)


def backoff(attempts):
    return min(timedelta(seconds=30 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


@task()
def deliver_notification(notification_id):
    """Sends one notification by mail. Safe to run twice: only a pending notification is sent, under a row lock,
    and the recipient's right to the case is checked again at sending time."""
    from .domain import ACCOUNT_SUBJECTS, account_mail_body, recipient_may_still_know

    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update()
            .select_related("recipient", "case")
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
            send_mail(
                notification.subject,
                account_mail_body(notification) if notification.kind in ACCOUNT_SUBJECTS else notification.body,
                settings.DEFAULT_FROM_EMAIL,
                [notification.recipient.email],
            )
        except (SMTPException, OSError) as error:
            notification.last_error = f"{type(error).__name__}: {error}"[:300]
            notification.save(update_fields=["attempts", "last_error"])
            notification_id = notification.pk
            delay = backoff(notification.attempts)
            logger.warning(
                "mail %s not sent (attempt %s), retrying in %s", notification.pk, notification.attempts, delay
            )
            transaction.on_commit(
                lambda: deliver_notification.using(run_after=timezone.now() + delay).enqueue(notification_id)
            )
            return "retry scheduled"
        notification.state = Notification.State.SENT
        notification.sent_at = timezone.now()
        notification.save(update_fields=["attempts", "state", "sent_at", "last_error"])
    return "sent"
