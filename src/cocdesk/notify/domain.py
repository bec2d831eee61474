"""Telling team members about a case: only people who may see it, never its content."""

import re

import rules
from django.conf import settings
from django.db import router
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone

from cocdesk.common.prepared_insert import PreparedInsert

from .delivery_tasks import enqueue_notifications, insert_with_tasks
from .models import Notification


def recipient_may_still_know(notification):
    if notification.kind in ACCOUNT_SUBJECTS:
        return notification.recipient.is_active
    if notification.recipient_id is None:
        return notification.case is None or not notification.case.is_erased
    if notification.case is None:
        return True
    return rules.has_perm("cases.view_case", notification.recipient, notification.case)


def case_link(case):
    return settings.BASE_URL + _case_path(case.reference)


_REFERENCE_SLOT = "REFERENCE-SLOT"
_PLAIN_REFERENCE = re.compile(r"[A-Z0-9-]+")
_case_path_templates = {}


def _case_path(reference):
    """``reverse("desk:case", ...)``: every report's notices link to the new case, and reversing a URL costs more
    than building a notice. The path is reversed once per URL configuration and script prefix, with a stand-in for
    the reference, which needs no quoting."""
    if not _PLAIN_REFERENCE.fullmatch(reference):
        return reverse("desk:case", kwargs={"reference": reference})
    key = (settings.ROOT_URLCONF, get_urlconf(), get_script_prefix())
    template = _case_path_templates.get(key)
    if template is None:
        template = _case_path_templates[key] = reverse("desk:case", kwargs={"reference": _REFERENCE_SLOT})
    return template.replace(_REFERENCE_SLOT, reference)


def page_chat(case, *, subject, lines):
    """Posts to the organization's chat webhook, if it has one: the reference and a link, nothing more."""
    if not case.organization.chat_webhook_url:
        return None
    notification = Notification.objects.create(
        channel=Notification.Channel.WEBHOOK,
        organization=case.organization,
        case=case,
        kind="urgent_page",
        subject=subject,
        body="\n".join([*lines, case_link(case)]),
    )
    enqueue_notifications([notification.pk])
    return notification


def notify_reporter(report, *, organization):
    """Tells a reporter who left an email that a message waits on their follow-up page; never the message."""
    follow_up = settings.BASE_URL + reverse("public:receipt")
    notification = Notification.objects.create(
        organization=organization,
        case=report.case,
        report=report,
        kind="reporter_notice",
        subject=f"A message from the Code of Conduct team of {organization.name}",
        body="\n".join(
            [
                f"The Code of Conduct team of {organization.name} has written to you about your report.",
                "",
                f"Read it and answer with your receipt at {follow_up}",
                "",
                "For your privacy this email does not contain the message. You can also reply to this email; your "
                "answer reaches the team.",
            ]
        ),
    )
    enqueue_notifications([notification.pk])
    return notification


def notice_body(case, lines):
    return "\n".join(
        [*lines, "", f"Open the case: {case_link(case)}", "", "This message holds no case details by design."]
    )


def member_notification(membership, *, case, kind, subject, lines, body=None):
    """An unsaved notification to one member about a case; ``queue`` saves and sends a batch of them. ``body``:
    ``notice_body(case, lines)``, when the caller made it once for every member it tells."""
    return Notification(
        recipient=membership.user,
        organization_id=case.organization_id,
        case=case,
        kind=kind,
        subject=subject,
        body=notice_body(case, lines) if body is None else body,
    )


def notify_members(memberships, *, case, kind, subject, lines):
    """Queues one notification per member. The caller passes only members who may see the case (the scoped
    queries of cases/domain/queries.py); sending checks each recipient's access again."""
    body = notice_body(case, lines)
    return queue(
        [member_notification(m, case=case, kind=kind, subject=subject, lines=lines, body=body) for m in memberships],
    )


def queue(notifications):
    """Saves notifications in one insert and hands them to the worker in a few tasks, in the same transaction."""
    notifications = [n for n in notifications if n.recipient is None or n.recipient.email]
    # Every report queues one per handler: the INSERT is built once per worker (common.prepared).
    created = _insert_notifications.insert(notifications)
    enqueue_notifications([notification.pk for notification in created])
    return created


def queue_case_notices(case, notices, *, ids=True):
    """``queue`` of ``member_notification`` for each member of each (memberships, notice) of ``notices``, saved in
    one statement without a model instance each: a report tells the whole team at once, and a notice's text is sent to
    the database once for all its recipients (``insert_fanned``). Members without an address are left out, as
    ``queue`` leaves them out. Returns the ids of the notifications; with ``ids=False`` none are read (inside
    ``prepared.sent_together`` the insert then goes with the statements after it) and None is returned."""
    now = timezone.now()
    groups = [
        (
            {
                "next_attempt_at": now,
                "organization_id": case.organization_id,
                "case_id": case.pk,
                "kind": notice["kind"],
                "subject": notice["subject"],
                "body": notice_body(case, notice["lines"]),
            },
            [m.user.pk for m in memberships if m.user.email],
        )
        for memberships, notice in notices
    ]
    using = router.db_for_write(Notification)
    saved = insert_with_tasks(_insert_notifications, groups, using=using, ids=ids)
    if saved is None:
        saved = _insert_notifications.insert_fanned(groups, "recipient_id", using=using)
        enqueue_notifications(saved)
    return saved if ids else None


_insert_notifications = PreparedInsert(Notification)


ACCOUNT_SUBJECTS = {
    "invitation": "[CoC Desk] You were added to the Code of Conduct team of {organization}",
    "password_reset": "[CoC Desk] Choose a new password",
}


def queue_account_mail(user, organization, *, kind):
    notification = Notification.objects.create(
        recipient=user,
        organization=organization,
        kind=kind,
        subject=ACCOUNT_SUBJECTS[kind].format(organization=organization.name),
        body="",
    )
    enqueue_notifications([notification.pk])
    return notification


def account_mail_body(notification):
    """Made at sending time: the one-time link is never stored."""
    from cocdesk.orgs.domain.setup import link_lifetime, password_link

    user = notification.recipient
    link = password_link(user)
    opening = (
        f"You were added to the Code of Conduct team of {notification.organization.name} on CoC Desk, "
        f"with the username {user.get_username()}."
        if notification.kind == "invitation"
        else "Someone asked to reset the password of your CoC Desk account. If it was not you, ignore this mail."
    )
    return "\n".join(
        [
            opening,
            "",
            f"Choose your password here (the link works once, for {link_lifetime()}):",
            link,
            "",
            "After that you set up a second factor with an authenticator app, if you have not yet.",
        ]
    )
