"""fetch_mail against a real IMAP server (Dovecot on loopback): new mail becomes cases, replies thread, each mail
is flagged \\Seen only after it is committed, and running again never duplicates anything."""

import io
from email.utils import make_msgid
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from cocdesk.cases.domain import content
from cocdesk.cases.enums import Channel
from cocdesk.cases.models import Case, Message, SetAsideMail
from cocdesk.notify.models import Notification
from tests.factories import OrganizationFactory, member, report_case
from tests.imap_server import running_imap_server
from tests.team import log_in

PASSWORD_ENV = "COCDESK_TEST_IMAP_PASSWORD"
MAIL = Path(__file__).resolve().parents[1] / "data" / "mail"


@pytest.fixture(scope="module")
def imap():
    with running_imap_server() as server:
        yield server


@pytest.fixture
def mailbox(imap, monkeypatch):
    imap.empty()
    monkeypatch.setenv(PASSWORD_ENV, imap.password)
    return imap


def mail(subject, body, *, sender="Alex <alex@example.net>", extra=()):
    head = [
        f"From: {sender}",
        "To: conduct@community.example",
        f"Subject: {subject}",
        f"Message-ID: {make_msgid(domain='example.net')}",
        *extra,
        "Content-Type: text/plain; charset=utf-8",
    ]
    return ("\r\n".join(head) + "\r\n\r\n" + body + "\r\n").encode()


def fetch(imap, organization, **extra):
    out = io.StringIO()
    options = {"host": imap.host, "port": imap.port, "user": imap.user, "password_env": PASSWORD_ENV}
    call_command("fetch_mail", org=organization.slug, ssl=False, stdout=out, **(options | extra))
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_fetch_mail_takes_in_unseen_mail_once_and_flags_it_seen(mailbox):
    organization = OrganizationFactory()
    earlier, _ = report_case(organization, reporter_email="sam@example.org")
    Notification.objects.create(
        organization=organization,
        case=earlier,
        report=earlier.reports.get(),
        kind="reporter_notice",
        subject="A message from the Code of Conduct team",
        body="A message waits for you.",
        message_id="<notice-7@cocdesk.example>",
        state=Notification.State.SENT,
    )
    mailbox.deliver(mail("Groping at the party", "It happened at the after-party."))
    mailbox.deliver(mail("Re: A message", "Yes, I can talk tomorrow.", sender="Sam <sam@example.org>",
                         extra=["In-Reply-To: <notice-7@cocdesk.example>"]))  # fmt: skip
    mailbox.deliver(mail("Slurs in the chat", "Screenshots follow.", sender="Jo <jo@example.com>"))
    assert all("\\Seen" not in flags for flags in mailbox.flags())

    output = fetch(mailbox, organization)

    assert output.startswith(
        "3 mail(s) taken in: 2 new report(s), 1 reply(ies), 0 bounce(s) of mail to reporters, 0 duplicate(s), "
        "0 set aside"
    )
    new_cases = Case.objects.exclude(pk=earlier.pk)
    assert new_cases.count() == 2 and {case.channel for case in new_cases} == {Channel.EMAIL}
    descriptions = sorted(content.report_content(case.reports.get())["description"] for case in new_cases)
    assert descriptions[0].startswith("Subject: Groping at the party\n\nIt happened")
    reply = Message.objects.get()
    assert reply.report.case == earlier and content.message_body(reply).endswith("Yes, I can talk tomorrow.")
    assert all("\\Seen" in flags for flags in mailbox.flags())

    assert fetch(mailbox, organization).startswith("0 mail(s) taken in")
    mailbox.mark_all_unseen()  # as if the flags were lost after the commit: the Message-IDs still match
    assert fetch(mailbox, organization).startswith(
        "3 mail(s) taken in: 0 new report(s), 0 reply(ies), 0 bounce(s) of mail to reporters, 3 duplicate"
    )
    assert Case.objects.count() == 3 and Message.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_fetch_mail_sets_unusable_mail_aside_and_flags_it_seen(mailbox):
    organization = OrganizationFactory()
    mailbox.deliver(b"Subject: no sender\r\nMessage-ID: <x@example.net>\r\n\r\nWho sent this?\r\n")
    assert fetch(mailbox, organization).startswith(
        "1 mail(s) taken in: 0 new report(s), 0 reply(ies), 0 bounce(s) of mail to reporters, 0 dup"
    )
    assert SetAsideMail.objects.get().reason == "no sender address (From: missing or unreadable)"
    assert not Case.objects.exists()
    assert all("\\Seen" in flags for flags in mailbox.flags())


@pytest.mark.django_db(transaction=True)
def test_fetch_mail_leaves_the_mailbox_untouched_when_it_cannot_take_mail_in(monkeypatch):
    organization = OrganizationFactory()
    # A server of its own: Dovecot slows down further logins from an address after a failed one.
    with running_imap_server() as server:
        server.deliver(mail("Help", "Please call me."))
        monkeypatch.setenv(PASSWORD_ENV, server.password)
        with pytest.raises(CommandError, match="No organization") as refused:
            call_command("fetch_mail", org="no-such-org", host=server.host, port=server.port, user=server.user,
                         password_env=PASSWORD_ENV, ssl=False)  # fmt: skip
        assert refused.value.returncode == 67  # EX_NOUSER
        assert all("\\Seen" not in flags for flags in server.flags())
        monkeypatch.setenv(PASSWORD_ENV, "wrong password")
        with pytest.raises(CommandError, match="refused the login"):
            fetch(server, organization)
    assert not Case.objects.exists() and not SetAsideMail.objects.exists()


# Each hand-written mail, and what its case page must show once a responder opens it.
CORPUS = {
    "raw_utf8_headers.eml": "Zoë Müller",  # RFC 6532: raw UTF-8 in From and Subject
    "undeclared_8bit.eml": "Renée Zoë",  # windows-1252 bytes, no charset anywhere
    "iso2022jp.eml": "山田 太郎",
    "windows1252_base64.eml": "Smart \u201cquotes\u201d",
    "html_only.eml": "Björn was there",
    "forwarded.eml": "You should not speak again.",
    "subject_only.eml": "following me around hall C right now",
}


@pytest.mark.django_db(transaction=True)
def test_every_kind_of_mail_becomes_a_case_whose_page_opens(mailbox, client):
    organization = OrganizationFactory()
    responder = member(organization, "responder")
    for name in CORPUS:
        mailbox.deliver((MAIL / name).read_bytes())

    output = fetch(mailbox, organization)

    assert output.startswith(f"{len(CORPUS)} mail(s) taken in: {len(CORPUS)} new report(s)"), output
    log_in(client, responder.user)
    pages = []
    for case in Case.objects.filter(organization=organization):
        page = client.get(f"/desk/cases/{case.reference}/")
        assert page.status_code == 200
        pages.append(page.content.decode())
    for name, shown in CORPUS.items():
        assert any(shown in page for page in pages), name
