"""Real receivers on loopback for delivery tests: an aiosmtpd SMTP server, a chat webhook (http.server in a thread),
and the real django-tasks database worker that sends to them."""

import email
import json
import signal
import socket
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- SMTP ----------------------------------------------------------------------------------------------------------


@dataclass
class Mail:
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
    def raw(self):
        """All a mail server on the way could read: the headers and the decoded body."""
        return f"{self.message.as_string()}\n{self.subject}\n{self.body}"


class MailHandler:
    """Keeps every message; answers 550 (quoting the address, as real servers do) for addresses in ``refuse``."""

    def __init__(self, refuse=()):
        self.mails = []
        self.refuse = {address.lower() for address in refuse}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd hook
        if address.lower() in self.refuse:
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        self.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def to(self, address):
        return [mail for mail in self.mails if address in mail.recipients]


@contextmanager
def mail_server(refuse=()):
    """An SMTP server on 127.0.0.1 on a free port, with Django's SMTP backend pointed at it; yields the handler
    (``.mails``, ``.to(address)``, ``.port``). The server is stopped and the settings restored on exit."""
    handler = MailHandler(refuse)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    try:
        with smtp_settings(controller.port):
            yield handler
    finally:
        controller.stop()


def smtp_settings(port):
    return override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=port,
        EMAIL_HOST_USER="",
        EMAIL_HOST_PASSWORD="",
        EMAIL_USE_TLS=False,
        EMAIL_USE_SSL=False,
        EMAIL_TIMEOUT=5,
    )


@contextmanager
def no_mail_server():
    """Django's SMTP backend pointed at a loopback port where nothing listens: an outage."""
    with smtp_settings(free_port()):
        yield


# --- chat webhook --------------------------------------------------------------------------------------------------


class WebhookReceiver:
    """An HTTP server on 127.0.0.1 in a thread that records each POST and answers ``status``."""

    def __init__(self):
        self.status = 200
        self.posts = []  # (status answered, decoded JSON body)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's hook
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                status = receiver.status
                receiver.posts.append((status, self.path, self.headers.get("Content-Type"), json.loads(body)))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/coc"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def delivered(self):
        """The payloads the receiver accepted (answered 2xx)."""
        return [payload for status, _path, _type, payload in self.posts if 200 <= status < 300]


@contextmanager
def webhook_receiver():
    receiver = WebhookReceiver()
    receiver.thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


# --- the task worker -----------------------------------------------------------------------------------------------


def run_worker():
    """The real django-tasks database worker, once through every task that is due (``db_worker --batch``). The
    worker installs its own signal handlers; pytest's are put back afterwards."""
    numbers = [signal.SIGINT, signal.SIGTERM, signal.SIGQUIT]
    saved = {number: signal.getsignal(number) for number in numbers}
    try:
        call_command("db_worker", batch=True, startup_delay=False, verbosity=0)
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)


def make_retries_due():
    """A failed delivery schedules its retry as a new task with ``run_after`` in the future: bring it forward.
    Returns how many tasks were waiting."""
    from django_tasks_db.models import DBTaskResult, get_date_max

    waiting = DBTaskResult.objects.filter(status="READY", run_after__gt=timezone.now()).exclude(
        run_after=get_date_max()
    )
    return waiting.update(run_after=timezone.now() - timedelta(seconds=1))


def scheduled_retries():
    """Tasks waiting for a later time (not the ones to run at once, which have no ``run_after``)."""
    from django_tasks_db.models import DBTaskResult, get_date_max

    return DBTaskResult.objects.filter(status="READY").exclude(run_after=get_date_max())
