"""Mail that could not become a report is kept once, the organization's leads are told how much waits (never what
it says), and only they read it, as safe text, and turn it into a case. Mail for no organization is refused."""

import io
import os
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from cocdesk.cases.domain import content
from cocdesk.cases.domain.email_intake import attachment_meta, take_in
from cocdesk.cases.domain.recusal import recuse
from cocdesk.cases.domain.set_aside import keep_aside
from cocdesk.cases.enums import Channel, RecusalReason, RecusalSource
from cocdesk.cases.models import Case, SetAsideMail
from cocdesk.common.models import AuditEvent
from cocdesk.notify.models import Notification
from cocdesk.notify.tasks import deliver_one
from tests.factories import OrganizationFactory, SpaceFactory, member
from tests.team import log_in

ROOT = Path(__file__).resolve().parents[2]
GARBAGE = b"\x00\x01 not a mail at all, but someone typed: canary-set-aside-9q"
# No address in From: (so it is set aside), a raw UTF-8 name, HTML with a script, a plain part with markup, a file.
NO_SENDER = """From: Zoë Müller
To: Code of Conduct <conduct@community.example>
Subject: <i>canary-subject-4k</i> at the party
Date: Sat, 16 Mar 2024 21:40:05 +0100
Message-ID: <no-sender-1@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/html; charset=utf-8

<p>Hello <b>team</b>, canary-content-7m.</p><script>steal()</script><img src=x onerror="alert(2)">
--b
Content-Type: text/plain; charset=utf-8

<script>alert("plain")</script> was in my chat.
--b
Content-Type: image/png
Content-Disposition: attachment; filename="evidence.png"
Content-Transfer-Encoding: base64

iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==
--b--
""".encode()


def set_aside_page(organization, mail=None, action=""):
    base = f"/desk/orgs/{organization.slug}/set-aside/"
    return base if mail is None else f"{base}{mail.pk}/{action}"


@pytest.fixture
def set_aside_mail(organization):
    take_in(GARBAGE, organization_slug=organization.slug)
    return SetAsideMail.objects.get()


@pytest.fixture
def no_sender_mail(organization):
    outcome = take_in(NO_SENDER, organization_slug=organization.slug)
    assert outcome.kind == "set_aside" and outcome.set_aside.reason.startswith("no sender address")
    return outcome.set_aside


def test_a_lead_lists_downloads_and_marks_handled(client, organization, set_aside_mail):
    lead = member(organization, "lead")
    log_in(client, lead.user)
    listing = client.get(set_aside_page(organization)).content.decode()
    assert set_aside_mail.reason in listing and "canary-set-aside-9q" not in listing
    download = client.get(set_aside_page(organization, set_aside_mail))
    assert download.status_code == 200 and download.content == GARBAGE
    assert download["Content-Disposition"].startswith("attachment")
    assert AuditEvent.objects.filter(action="mail.set_aside_read", actor=lead.user).exists()
    client.post(set_aside_page(organization, set_aside_mail, "handled/"))
    set_aside_mail.refresh_from_db()
    assert set_aside_mail.handled_at is not None


@pytest.mark.parametrize("role", ["responder", "staff", "admin", "fallback"])
def test_other_roles_get_404_and_read_nothing(client, organization, set_aside_mail, role):
    someone = member(organization, role)
    log_in(client, someone.user)
    before = AuditEvent.objects.count()
    assert client.get(set_aside_page(organization)).status_code == 404
    for action in ("", "preview/"):
        assert client.get(set_aside_page(organization, set_aside_mail, action)).status_code == 404
    for action in ("handled/", "case/"):
        assert client.post(set_aside_page(organization, set_aside_mail, action)).status_code == 404
    assert AuditEvent.objects.count() == before
    set_aside_mail.refresh_from_db()
    assert set_aside_mail.handled_at is None and set_aside_mail.case is None and not Case.objects.exists()


def test_leads_of_another_organization_or_of_some_spaces_only_get_404(client, organization, set_aside_mail):
    space_lead = member(organization, "lead")
    space_lead.spaces.add(SpaceFactory(organization=organization))
    for outsider in (member(OrganizationFactory(), "lead"), space_lead):
        log_in(client, outsider.user)
        before = AuditEvent.objects.count()
        assert client.get(set_aside_page(organization, set_aside_mail, "preview/")).status_code == 404
        assert client.post(set_aside_page(organization, set_aside_mail, "case/")).status_code == 404
        assert AuditEvent.objects.count() == before and not Case.objects.exists()


# Duplicates.


def test_the_same_mail_is_set_aside_once(organization):
    first = keep_aside(GARBAGE, organization, "not an email message (no headers)")
    assert keep_aside(GARBAGE, organization, "not an email message (no headers)") == first
    with_id = b"From: A <a@example.org>\nMessage-ID: <same@example.org>\nAuto-Submitted: auto-replied\n\nAway\n"
    resent = with_id.replace(b"Away", b"Away, resent with other bytes")
    assert [take_in(raw, organization_slug=organization.slug).set_aside for raw in (with_id, resent)] == [
        keep_aside(with_id, organization, "again")
    ] * 2
    assert SetAsideMail.objects.filter(organization=organization).count() == 2
    assert AuditEvent.objects.filter(action="mail.set_aside").count() == 2
    other = OrganizationFactory()
    assert keep_aside(GARBAGE, other, "not an email message (no headers)") != first, "each organization keeps its own"
    assert keep_aside(GARBAGE + b" and more", organization, "x") != first, "other bytes without an id: another mail"


# The leads are told.


def test_organization_wide_leads_are_told_how_many_mails_wait_and_never_what_they_say(
    organization, no_sender_mail, mailoutbox
):
    leads = [member(organization, "lead"), member(organization, "lead")]
    told = Notification.objects.filter(kind="mail_set_aside")
    assert told.count() == 0, "nobody was a lead yet when the first mail came"
    space_lead = member(organization, "lead")
    space_lead.spaces.add(SpaceFactory(organization=organization))
    member(organization, "lead", is_active=False)
    for role in ("responder", "admin", "staff", "fallback"):
        member(organization, role)
    member(OrganizationFactory(), "lead")

    keep_aside(GARBAGE, organization, "not an email message (no headers)")

    assert sorted(notice.recipient_id for notice in told) == sorted(lead.user_id for lead in leads)
    notice = told.first()
    assert notice.case is None and notice.organization == organization
    assert "2 mails set aside await review" in notice.body
    assert settings.BASE_URL + set_aside_page(organization) in notice.body
    for canary in ("canary", "Zoë", "Müller", "example.org", "party", "steal", "evidence"):
        assert canary not in notice.subject + notice.body
    # Sent as it is: the mail that leaves holds no more than the notice.
    assert deliver_one(notice.pk) == "sent"
    (sent,) = mailoutbox
    assert sent.to == [notice.recipient.email] and "canary" not in sent.subject + sent.body


def test_the_leads_hear_at_most_once_an_hour_with_an_up_to_date_count(organization):
    lead = member(organization, "lead")
    told = Notification.objects.filter(kind="mail_set_aside", recipient=lead.user)
    for number in range(3):
        keep_aside(GARBAGE + bytes([number]), organization, "not an email message (no headers)")
    (notice,) = told
    assert "3 mails set aside await review" in notice.body, "the unsent notice is brought up to date"

    told.update(state=Notification.State.SENT, sent_at=timezone.now())
    keep_aside(GARBAGE + b"4", organization, "not an email message (no headers)")
    assert told.count() == 1, "sent less than an hour ago: no other notice"

    told.update(created_at=timezone.now() - timedelta(minutes=61))
    SetAsideMail.objects.filter(pk=SetAsideMail.objects.order_by("pk").first().pk).update(handled_at=timezone.now())
    keep_aside(GARBAGE + b"5", organization, "not an email message (no headers)")
    newest = told.order_by("-pk").first()
    assert told.count() == 2 and newest.state == Notification.State.PENDING
    assert "4 mails set aside await review" in newest.body, "handled mail no longer counts"


def test_mail_set_aside_for_no_organization_tells_nobody(db):
    member(OrganizationFactory(), "lead")
    keep_aside(GARBAGE, None, "unknown organization")
    assert not Notification.objects.filter(kind="mail_set_aside").exists()


# Reading a set-aside mail as safe text.


def test_a_lead_reads_a_set_aside_mail_as_escaped_text(client, organization, no_sender_mail):
    lead = member(organization, "lead")
    log_in(client, lead.user)
    page = client.get(set_aside_page(organization, no_sender_mail, "preview/"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Zoë Müller" in html and "conduct@community.example" in html and "Sat, 16 Mar 2024 21:40:05" in html
    assert "&lt;i&gt;canary-subject-4k&lt;/i&gt; at the party" in html
    assert "Hello team, canary-content-7m." in html and "<b>team" not in html  # the HTML part as text
    assert "steal()" not in html and "onerror" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&quot;plain&quot;)&lt;/script&gt; was in my chat." in html
    assert '<script>alert("plain")' not in html
    assert "evidence.png (70 bytes)" in html
    event = AuditEvent.objects.get(action="mail.set_aside_read")
    assert (event.actor, event.detail["set_aside"]) == (lead.user, no_sender_mail.pk)


def test_a_mail_that_cannot_be_parsed_shows_its_bytes_as_text_cut_at_200_kb(client, organization):
    lead = member(organization, "lead")
    huge = keep_aside(b"\xff\xfe<b>start</b>\x00" + b"y" * (300 * 1024), organization, "not an email message")
    log_in(client, lead.user)
    html = client.get(set_aside_page(organization, huge, "preview/")).content.decode()
    assert "\ufffd\ufffd&lt;b&gt;start&lt;/b&gt;yyy" in html and "<b>start" not in html
    assert "Cut after 200 KB" in html
    assert html.count("y" * 1024) < 250


# Turning a set-aside mail into a case.


def test_a_lead_turns_a_set_aside_mail_into_an_email_case(client, organization, no_sender_mail):
    lead = member(organization, "lead")
    responder = member(organization, "responder")
    log_in(client, lead.user)
    response = client.post(set_aside_page(organization, no_sender_mail, "case/"))
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/desk/cases/{case.reference}/"
    assert case.channel == Channel.EMAIL and case.organization == organization
    assert case.received_at == no_sender_mail.received_at, "the clocks run from when the mail arrived"
    report = case.reports.get()
    answers = content.report_content(report)
    assert answers["description"].startswith("Subject: <i>canary-subject-4k</i> at the party\n\nHello team")
    assert "reporter_email" not in answers and report.filed_by == lead.user
    assert report.source_message_id == no_sender_mail.digest
    assert [attachment_meta(item)["filename"] for item in report.attachments.all()] == ["evidence.png"]
    no_sender_mail.refresh_from_db()
    assert no_sender_mail.case == case and no_sender_mail.handled_at is not None
    event = AuditEvent.objects.get(action="mail.set_aside_opened_as_case")
    assert (event.actor, event.case, event.detail["set_aside"]) == (lead.user, case, no_sender_mail.pk)

    again = client.post(set_aside_page(organization, no_sender_mail, "case/"), follow=True)
    assert "already handled or turned into a case" in again.content.decode()
    assert Case.objects.count() == 1

    log_in(client, responder.user)
    case_page = client.get(f"/desk/cases/{case.reference}/")
    assert case_page.status_code == 200 and "canary-content-7m" in case_page.content.decode()


def test_a_mail_from_a_named_sender_and_an_unparseable_one_become_cases(client, organization, set_aside_mail):
    lead = member(organization, "lead")
    responder = member(organization, "responder")
    automatic = (ROOT / "tests" / "data" / "mail" / "raw_utf8_headers.eml").read_bytes()
    automatic = automatic.replace(b"MIME-Version", b"Auto-Submitted: auto-generated\nMIME-Version")
    auto_mail = take_in(automatic, organization_slug=organization.slug).set_aside
    log_in(client, lead.user)
    for mail in (auto_mail, set_aside_mail):
        assert client.post(set_aside_page(organization, mail, "case/")).status_code == 302
    from_garbage, from_zoe = (mail.case for mail in SetAsideMail.objects.order_by("pk").select_related("case"))
    answers = content.report_content(from_zoe.reports.get())
    assert (answers["reporter_name"], answers["reporter_email"]) == ("Zoë Müller", "zoe.muller@example.org")
    raw_text = content.report_content(from_garbage.reports.get())["description"]
    assert raw_text == " not a mail at all, but someone typed: canary-set-aside-9q"
    log_in(client, responder.user)
    for case in (from_zoe, from_garbage):
        assert client.get(f"/desk/cases/{case.reference}/").status_code == 200


def test_a_lead_recused_from_the_case_no_longer_reads_its_mail(client, organization, no_sender_mail):
    lead, other_lead = member(organization, "lead"), member(organization, "lead")
    log_in(client, lead.user)
    client.post(set_aside_page(organization, no_sender_mail, "case/"))
    recuse(Case.objects.get(), other_lead, reason=RecusalReason.CO_WORKER, source=RecusalSource.DECLARED)
    log_in(client, other_lead.user)
    before = AuditEvent.objects.count()
    for action in ("", "preview/"):
        assert client.get(set_aside_page(organization, no_sender_mail, action)).status_code == 404
    assert AuditEvent.objects.count() == before
    log_in(client, lead.user)
    assert client.get(set_aside_page(organization, no_sender_mail, "preview/")).status_code == 200


# Mail for no organization is refused, by the pipe and before IMAP.


def test_the_pipe_refuses_mail_for_an_unknown_organization_with_ex_nouser(db):
    raw = (ROOT / "tests" / "data" / "mail" / "plain.eml").read_bytes()
    with pytest.raises(CommandError, match="no organization on CoC Desk has the slug 'no-such-org'") as refused:
        call_command("intake_mail", org="no-such-org", stdin=io.BytesIO(raw), stdout=io.StringIO())
    assert refused.value.returncode == 67
    assert not SetAsideMail.objects.exists() and not Case.objects.exists()


def database_url():
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{database['NAME']}"
    user, password, host, port = (database[key] for key in ("USER", "PASSWORD", "HOST", "PORT"))
    return f"postgres://{user}:{password}@{host}:{port}/{database['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_the_pipe_as_a_mail_server_runs_it_exits_67_for_an_unknown_organization():
    env = {**os.environ, "COCDESK_DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "cocdesk.settings"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "intake_mail", "--org", "no-such-org"],
        input=(ROOT / "tests" / "data" / "mail" / "plain.eml").read_bytes(),
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 67, result.stderr  # EX_NOUSER: the mail server bounces it to the sender
    assert b"no organization on CoC Desk has the slug 'no-such-org'" in result.stderr
    assert b"Harassment" not in result.stderr + result.stdout, "the bounce never quotes the mail"
    assert not SetAsideMail.objects.exists()


@pytest.mark.django_db(transaction=True)  # fetch_mail refuses to run inside a transaction
def test_fetch_mail_refuses_an_unknown_organization_before_connecting(monkeypatch):
    monkeypatch.setenv("COCDESK_TEST_IMAP_PASSWORD", "unused")
    with socket.socket() as listener:  # a real port that would see any connection attempt
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.2)
        with pytest.raises(CommandError, match="No organization on CoC Desk has the slug 'no-such-org'") as refused:
            call_command("fetch_mail", org="no-such-org", host="127.0.0.1", port=listener.getsockname()[1],
                         user="conduct", password_env="COCDESK_TEST_IMAP_PASSWORD", ssl=False)  # fmt: skip
        assert refused.value.returncode == 67
        with pytest.raises(TimeoutError):
            listener.accept()
    assert not SetAsideMail.objects.exists()
