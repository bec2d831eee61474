"""A real SMTP server on loopback for mail tests, and the real task worker that sends the mail."""

import email
import signal
import socket
from contextlib import contextmanager
from dataclasses import dataclass
from email import policy

from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.test import override_settings


@dataclass
class ReceivedMail:
    mail_from: str
    recipients: list
    message: email.message.EmailMessage

    @property
    def subject(self):
        return str(self.message["Subject"])

    @property
    def body(self):
        return self.message.get_body(preferencelist=("plain",)).get_content()

    @property
    def text(self):
        """Everything a mail server on the way could read: headers and decoded body."""
        return f"{self.message.as_string()}\n{self.subject}\n{self.body}"


class Inbox:
    """An aiosmtpd handler that keeps every message and refuses the recipients it is told to refuse."""

    def __init__(self, refuse=()):
        self.mails = []
        self.refuse = {address.lower() for address in refuse}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's hook
        if address.lower() in self.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        self.mails.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def to(self, address):
        return [mail for mail in self.mails if address in mail.recipients]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def smtp_server(port=None, refuse=(), inbox=None):
    """An SMTP server on 127.0.0.1 (a free port unless given); yields its inbox. Stopped on exit."""
    inbox = inbox or Inbox(refuse)
    controller = Controller(inbox, hostname="127.0.0.1", port=port or free_port())
    controller.start()
    inbox.port = controller.port
    try:
        yield inbox
    finally:
        controller.stop()


def smtp_settings(port):
    return override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=port,
        EMAIL_USE_TLS=False,
        EMAIL_TIMEOUT=5,
    )


def run_worker():
    """The real task worker, once through the queue (``db_worker --batch``). It installs signal handlers for a
    graceful shutdown; the test runner's are put back afterwards."""
    numbers = [signal.SIGINT, signal.SIGTERM, signal.SIGQUIT]
    saved = {number: signal.getsignal(number) for number in numbers}
    try:
        call_command("db_worker", batch=True, startup_delay=False, verbosity=0)
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)
