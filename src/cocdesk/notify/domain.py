"""Telling team members about a case: only people who may see it, never its content."""

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from .models import Notification


def recipient_may_still_know(notification):
    if notification.case is None:
        return True
    return notification.recipient.has_perm("cases.view_case", notification.case)


def notify_members(memberships, *, case, kind, subject, lines):
    """Queues one notification per member who may see the case; recused members are skipped here and again at
    sending time."""
    link = settings.BASE_URL + reverse("desk:case", kwargs={"reference": case.reference})
    body = "\n".join([*lines, "", f"Open the case: {link}", "", "This message holds no case details by design."])
    created = []
    for membership in memberships:
        user = membership.user
        if not user.email or not user.has_perm("cases.view_case", case):
            continue
        created.append(
            Notification.objects.create(
                recipient=user, organization=case.organization, case=case, kind=kind, subject=subject, body=body
            )
        )
    for notification in created:
        _enqueue_after_commit(notification.pk)
    return created


def _enqueue_after_commit(notification_id):
    from .tasks import deliver_notification

    transaction.on_commit(lambda: deliver_notification.enqueue(notification_id))
