"""Fetches an organization's unseen mail over IMAP and takes each one in, as ``intake_mail`` does.

A mail is flagged \\Seen only once what became of it is committed to the database; nothing is moved or deleted
on the server. A mail whose storing failed stays unseen and is fetched again next time, and a mail taken in twice
is recognised by its Message-ID, so running the command again (from cron or a timer) never duplicates a report.
"""

import contextlib
import imaplib
import logging
import os
import ssl
from collections import Counter

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from cocdesk.cases.domain.email_intake import take_in
from cocdesk.orgs.models import Organization

logger = logging.getLogger("cocdesk.intake")
TIMEOUT_SECONDS = 60
EX_NOUSER = 67  # sysexits.h: no such organization
EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = "Takes in the unseen mail of an organization's IMAP mailbox as reports and replies."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="Slug of the organization whose mailbox this is.")
        parser.add_argument("--host", required=True)
        parser.add_argument("--port", type=int, help="Default: 993 with --ssl, 143 without.")
        parser.add_argument("--user", required=True)
        parser.add_argument(
            "--password-env", required=True, help="Name of the environment variable holding the password."
        )
        parser.add_argument("--folder", default="INBOX")
        parser.add_argument("--ssl", action="store_true", default=True, help="Connect over TLS (IMAPS, the default).")
        parser.add_argument("--no-ssl", dest="ssl", action="store_false", help="Connect without TLS.")
        parser.add_argument("--starttls", action="store_true", help="Upgrade a plain connection with STARTTLS.")

    def handle(self, *args, **options):
        if connection.in_atomic_block:
            raise CommandError("fetch_mail marks mail seen after each commit: run it outside a transaction.")
        slug = options["org"]
        # Checked before connecting: mail fetched for no organization would be stored where no page shows it.
        if not Organization.objects.filter(slug=slug).exists():
            raise CommandError(
                f"No organization on CoC Desk has the slug {slug!r}; the IMAP server was not contacted and "
                "nothing was fetched.",
                returncode=EX_NOUSER,
            )
        password = os.environ.get(options["password_env"])
        if password is None:
            raise CommandError(f"The environment variable {options['password_env']} is not set.")
        imap = self._connect(options)
        try:
            try:
                imap.login(options["user"], password)
            except imaplib.IMAP4.error as error:
                raise CommandError("The IMAP server refused the login.") from error
            counts, failed = self._take_in_unseen(imap, options["folder"], slug)
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                imap.logout()
        kinds = ", ".join(f"{counts[kind]} {label}" for kind, label in LABELS.items())
        self.stdout.write(f"{sum(counts.values())} mail(s) taken in: {kinds}; {failed} left for next time.")
        if failed:
            raise CommandError(f"{failed} mail(s) could not be stored; they stay unseen.", returncode=EX_TEMPFAIL)

    def _connect(self, options):
        context = ssl.create_default_context()
        port = options["port"] or (993 if options["ssl"] else 143)
        try:
            if options["ssl"]:
                return imaplib.IMAP4_SSL(options["host"], port, ssl_context=context, timeout=TIMEOUT_SECONDS)
            imap = imaplib.IMAP4(options["host"], port, timeout=TIMEOUT_SECONDS)
            if options["starttls"]:
                imap.starttls(ssl_context=context)
            return imap
        except (OSError, imaplib.IMAP4.error) as error:
            raise CommandError(f"Could not connect to the IMAP server ({type(error).__name__}).") from error

    def _take_in_unseen(self, imap, folder, slug):
        status, _ = imap.select(_quoted(folder))
        if status != "OK":
            raise CommandError("The IMAP folder could not be opened.")
        status, data = imap.uid("SEARCH", None, "UNSEEN")
        if status != "OK":
            raise CommandError("The IMAP server refused the search for unseen mail.")
        counts, failed = Counter(), 0
        for uid in data[0].split() if data and data[0] else []:
            raw = _fetch(imap, uid)
            if raw is None:
                failed += 1
                logger.error("mail uid %s could not be fetched; left unseen", uid.decode())
                continue
            try:
                outcome = take_in(raw, organization_slug=slug)
            except Exception as error:  # nothing stored: leave it unseen for the next run
                failed += 1
                logger.error("mail uid %s not stored (%s); left unseen", uid.decode(), type(error).__name__)
                continue
            # take_in has committed (we are not inside a transaction): only now is the mail marked as read.
            imap.uid("STORE", uid, "+FLAGS", "(\\Seen)")
            counts[outcome.kind] += 1
        return counts, failed


LABELS = {
    "report": "new report(s)",
    "reply": "reply(ies)",
    "bounce": "bounce(s) of mail to reporters",
    "duplicate": "duplicate(s)",
    "set_aside": "set aside",
}


def _quoted(folder):
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _fetch(imap, uid):
    """The raw bytes of one mail, without setting \\Seen (BODY.PEEK)."""
    status, data = imap.uid("FETCH", uid, "(BODY.PEEK[])")
    if status != "OK":
        return None
    for item in data or []:
        if isinstance(item, tuple) and len(item) == 2:
            return item[1]
    return None
