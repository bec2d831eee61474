"""Takes in one mail from standard input, for a mail server's pipe (Postfix: a ``pipe`` transport or an alias
``"|/path/to/manage.py intake_mail --org SLUG"``).

Exit statuses (sysexits.h, which Postfix and Exim act on):
- 0 when the mail was stored (as a report, a reply, a duplicate already stored, or set aside);
- 67 (EX_NOUSER) when no organization has this slug: nothing is stored and the mail server bounces the mail, so
  the sender learns that it reached no team (instead of the mail waiting where no page shows it);
- 75 (EX_TEMPFAIL) when nothing could be stored (the database is unreachable): the mail server keeps the mail and
  retries rather than bouncing it.
The whole mail is read, also when it is refused: the mail server's own size limit bounds it; anything over the
intake's limit is set aside. What goes to standard error may be quoted in the bounce: it never quotes the mail.
"""

import sys

from django.core.management.base import BaseCommand, CommandError

from cocdesk.cases.domain.email_intake import take_in
from cocdesk.orgs.models import Organization

# sysexits.h: the addressee is unknown; the mail server bounces the mail.
EX_NOUSER = 67
# sysexits.h: a temporary failure; Postfix and Exim defer the mail and retry.
EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = "Reads one RFC 822 mail from standard input (or --file) and turns it into a report or a reply."
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="Slug of the organization whose mailbox received it.")
        parser.add_argument("--file", help="Read the mail from this file instead of standard input.")

    def handle(self, *args, org, file=None, **options):
        raw = self._read(file, options.get("stdin"))
        try:
            known = Organization.objects.filter(slug=org).exists()
        except Exception as error:  # the database is unreachable: keep the mail and retry
            raise CommandError(
                f"mail not stored, try again later ({type(error).__name__})", returncode=EX_TEMPFAIL
            ) from error
        if not known:
            raise CommandError(
                f"mail refused: no organization on CoC Desk has the slug {org!r}; nothing was stored.",
                returncode=EX_NOUSER,
            )
        try:
            outcome = take_in(raw, organization_slug=org)
        except Exception as error:  # nothing was stored: the mail server must keep the mail and retry
            raise CommandError(
                f"mail not stored, try again later ({type(error).__name__})", returncode=EX_TEMPFAIL
            ) from error
        self.stdout.write(outcome.summary)

    def _read(self, path, stdin):
        if path:
            with open(path, "rb") as handle:
                return handle.read()
        stream = stdin if stdin is not None else sys.stdin
        stream = getattr(stream, "buffer", stream)
        data = stream.read()
        return data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
