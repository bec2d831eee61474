"""Turning a notification into a mail or a chat message. Nothing here stores an address or a link."""

import json
import urllib.error
import urllib.request
from email.utils import formataddr, make_msgid
from smtplib import SMTPException

from django.conf import settings
from django.core.mail import EmailMessage

from .models import Notification

WEBHOOK_TIMEOUT_SECONDS = 10


class DeliveryFailed(Exception):
    pass


def send(notification):
    if notification.channel == Notification.Channel.WEBHOOK:
        _post_webhook(notification)
    else:
        _send_mail(notification)


def _send_mail(notification):
    from .domain import ACCOUNT_SUBJECTS, account_mail_body

    if notification.report_id:
        address, body, headers, sender = _to_reporter(notification)
    elif notification.kind in SANCTIONED_PERSON_MAIL:
        address, body, headers, sender = _to_sanctioned_person(notification)
    else:
        address, sender, headers = notification.recipient.email, settings.DEFAULT_FROM_EMAIL, {}
        body = account_mail_body(notification) if notification.kind in ACCOUNT_SUBJECTS else notification.body
    if not address:
        raise DeliveryFailed("no address to send to")
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(">") or "localhost"
    notification.message_id = notification.message_id or make_msgid(domain=domain)
    if notification.kind not in HUMAN_WRITTEN:
        headers["Auto-Submitted"] = "auto-generated"
    # A reporter's reply must reach the organization's mailbox, where mail intake threads it into the case.
    reply_to = [notification.organization.reporting_email] if notification.report_id else []
    message = EmailMessage(
        notification.subject,
        body,
        sender,
        [address],
        headers={"Message-ID": notification.message_id, **headers},
        reply_to=[address for address in reply_to if address],
    )
    try:
        message.send()
    except (SMTPException, OSError) as error:
        raise DeliveryFailed(_describe_without_addresses(error)) from error


# A team member wrote it: the reporter's mail program may answer it like any mail.
HUMAN_WRITTEN = {"reporter_message"}


def _to_reporter(notification):
    """(address, body, thread headers, sender) of a mail to a reporter, written now from the sealed case. It comes
    from the organization's reporting address, so a bounce returns to the mailbox intake reads."""
    from cocdesk.cases.domain.reporter_mail import compose, reporter_address

    body, headers = compose(notification)
    organization = notification.organization
    sender = settings.DEFAULT_FROM_EMAIL
    if organization.reporting_email:
        sender = formataddr((f"Code of Conduct team of {organization.name}", organization.reporting_email))
    return reporter_address(notification.report), body, headers, sender


# Mail to a person a decision concerns: the notice, then the answer to their appeal; written from the sealed
# notice at sending time, like a reporter's mail.
SANCTIONED_PERSON_MAIL = {"sanction_notice", "appeal_outcome"}


def _to_sanctioned_person(notification):
    from cocdesk.sanctions.domain.notice_mail import compose

    address, body = compose(notification)
    organization = notification.organization
    sender = settings.DEFAULT_FROM_EMAIL
    if organization.reporting_email:
        sender = formataddr((f"Code of Conduct team of {organization.name}", organization.reporting_email))
    return address, body, {}, sender


def _post_webhook(notification):
    url = notification.organization.chat_webhook_url
    if not url:
        raise DeliveryFailed("the organization has no chat webhook")
    text = f"{notification.subject}\n{notification.body}"
    payload = json.dumps({"text": text, "body": text, "msgtype": "m.text"}).encode()
    request = urllib.request.Request(  # noqa: S310 - an https URL an admin configured; scheme checked by the form
        url, data=payload, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:  # noqa: S310
            if not 200 <= response.status < 300:
                raise DeliveryFailed(f"webhook answered {response.status}")
    except urllib.error.HTTPError as error:
        raise DeliveryFailed(f"webhook answered {error.code}") from error
    except (urllib.error.URLError, OSError) as error:
        raise DeliveryFailed(f"webhook unreachable ({type(error).__name__})") from error


def _describe_without_addresses(error):
    """Server errors often quote the recipient's address; the log and the database keep the kind and code only."""
    code = getattr(error, "smtp_code", None) or getattr(error, "errno", None)
    return f"{type(error).__name__}" + (f" ({code})" if code else "")
