"""Telling team members about a case: only people who may see it, never its content."""

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from .models import Notification


def recipient_may_still_know(notification):
    if notification.kind in ACCOUNT_SUBJECTS:
        return notification.recipient.is_active
    if notification.recipient_id is None:
        return notification.case is None or not notification.case.is_erased
    if notification.case is None:
        return True
    return notification.recipient.has_perm("cases.view_case", notification.case)


def reporter_address(report):
    from cocdesk.cases.domain.content import report_content

    return report_content(report).get("reporter_email", "")


def case_link(case):
    return settings.BASE_URL + reverse("desk:case", kwargs={"reference": case.reference})


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
    _enqueue_after_commit(notification.pk)
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
    _enqueue_after_commit(notification.pk)
    return notification


def notify_members(memberships, *, case, kind, subject, lines):
    """Queues one notification per member who may see the case; recused members are skipped here and again at
    sending time."""
    body = "\n".join(
        [*lines, "", f"Open the case: {case_link(case)}", "", "This message holds no case details by design."]
    )
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
    _enqueue_after_commit(notification.pk)
    return notification


def account_mail_body(notification):
    """Made at sending time: the one-time link is never stored."""
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    user = notification.recipient
    link = settings.BASE_URL + reverse(
        "desk:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
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
            f"Choose your password here (the link works once, for {settings.PASSWORD_RESET_TIMEOUT // 3600} hours):",
            link,
            "",
            "After that you set up a second factor with an authenticator app, if you have not yet.",
        ]
    )
