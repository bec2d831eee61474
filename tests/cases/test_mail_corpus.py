"""Hand-written real-world mails through both ways in: the pipe command (``intake_mail``) and a throwaway Dovecot
read by ``fetch_mail``. Each ends with a responder opening the resulting case page (200) and the expected case or
thread."""

import io
from email.utils import make_msgid
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from cocdesk.cases.domain import content
from cocdesk.cases.enums import Channel, MessageDirection
from cocdesk.cases.models import Case, Message, SetAsideMail
from cocdesk.notify.models import Notification
from tests.factories import OrganizationFactory, member
from tests.imap_server import PASSWORD_ENV, fetch_into, running_imap_server
from tests.team import log_in

MAIL = Path(__file__).resolve().parents[1] / "data" / "mail"

# file -> (what it becomes, a string the reporter's details or the description must hold)
NEW_REPORTS = {
    "plain.eml": "Sam Reporter",
    "html_only.eml": "Jo Bloggs",
    "raw_utf8_headers.eml": "Zoë Müller",
    "iso2022jp.eml": "taro@example.jp",
    "latin1.eml": "Renée François",
    "windows1252_base64.eml": "Quote “this”",
    "undeclared_8bit.eml": "at the café",
    "forwarded.eml": "Forwarded message",
    "subject_only.eml": "following me around hall C right now",
    "with_attachment.eml": "Kim Lee",
}


@pytest.fixture(scope="module")
def imap():
    with running_imap_server() as server:
        yield server


@pytest.fixture
def team(transactional_db):
    organization = OrganizationFactory(reporting_email="conduct@community.example")
    return organization, member(organization, "responder")


def through_pipe(raw, organization):
    out = io.StringIO()
    call_command("intake_mail", org=organization.slug, stdin=io.BytesIO(raw), stdout=out)
    return out.getvalue()


def through_imap(imap, monkeypatch, raw, organization):
    imap.empty()
    imap.deliver(raw)
    return fetch_into(imap, organization, monkeypatch)


def taken_in(way, raw, organization, imap, monkeypatch):
    return through_pipe(raw, organization) if way == "pipe" else through_imap(imap, monkeypatch, raw, organization)


def readable(case):
    report = case.reports.get()
    answers = content.report_content(report)
    return " ".join(str(value) for value in answers.values())


def opens(responder, case):
    client = log_in(Client(raise_request_exception=True), responder.user)
    response = client.get(f"/desk/cases/{case.reference}/")
    assert response.status_code == 200
    return response.content.decode()


WAYS = ["pipe", "imap"]


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("name", sorted(NEW_REPORTS))
def test_each_mail_becomes_a_case_the_team_can_open(team, imap, monkeypatch, way, name):
    organization, responder = team
    output = taken_in(way, (MAIL / name).read_bytes(), organization, imap, monkeypatch)
    assert "new report" in output
    case = Case.objects.get(organization=organization)
    assert case.channel == Channel.EMAIL
    text = readable(case)
    assert NEW_REPORTS[name] in text, text[:300]
    opens(responder, case)
    assert Notification.objects.filter(case=case, kind="mail_acknowledgement").count() == 1


def first_report(organization, *, sender="Sam Reporter <sam.reporter@example.net>", message_id=None):
    message_id = message_id or make_msgid(domain="mail.example.net")
    raw = (
        f"From: {sender}\r\nTo: conduct@community.example\r\nSubject: Harassment at the keynote\r\n"
        f"Message-ID: {message_id}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nIt happened at the keynote.\r\n"
    ).encode()
    through_pipe(raw, organization)
    return Case.objects.get(organization=organization), message_id


def reply(subject, body, *, sender="Sam Reporter <sam.reporter@example.net>", extra=()):
    head = [f"From: {sender}", "To: conduct@community.example", f"Subject: {subject}"]
    head += [f"Message-ID: {make_msgid(domain='mail.example.net')}", *extra, "Content-Type: text/plain"]
    return ("\r\n".join(head) + "\r\n\r\n" + body + "\r\n").encode()


@pytest.mark.parametrize("way", WAYS)
def test_a_reply_without_in_reply_to_threads_by_the_reference_from_the_reporter(team, imap, monkeypatch, way):
    organization, responder = team
    case, _first = first_report(organization)
    raw = reply(f"RE: [{case.reference}] more", "He did it again today.")
    assert "reply" in taken_in(way, raw, organization, imap, monkeypatch)
    message = Message.objects.get(case=case, direction=MessageDirection.FROM_REPORTER)
    assert "again today" in content.message_body(message)
    assert "again today" in opens(responder, case)


@pytest.mark.parametrize("way", WAYS)
def test_a_reply_to_the_reporters_own_first_mail_threads(team, imap, monkeypatch, way):
    organization, responder = team
    case, first_id = first_report(organization)
    raw = reply("RE: Harassment at the keynote", "I forgot: two witnesses.", extra=[f"References: {first_id}"])
    assert "reply" in taken_in(way, raw, organization, imap, monkeypatch)
    assert Case.objects.filter(organization=organization).count() == 1
    assert "two witnesses" in opens(responder, case)


@pytest.mark.parametrize("way", WAYS)
def test_a_bounce_of_our_mail_marks_the_reporter_address(team, imap, monkeypatch, way):
    organization, responder = team
    case, _first = first_report(organization)
    Notification.objects.filter(case=case, kind="mail_acknowledgement").update(
        message_id="<notice-42@cocdesk.example>", state=Notification.State.SENT
    )
    output = taken_in(way, (MAIL / "bounce.eml").read_bytes(), organization, imap, monkeypatch)
    assert "bounce" in output
    assert case.reports.get().mail_undeliverable_at is not None
    assert "Mail to this reporter bounced" in opens(responder, case)


@pytest.mark.parametrize("way", WAYS)
def test_an_auto_reply_is_set_aside_and_the_leads_are_told(team, imap, monkeypatch, way):
    organization, _responder = team
    lead = member(organization, "lead")
    output = taken_in(way, (MAIL / "auto_reply.eml").read_bytes(), organization, imap, monkeypatch)
    assert "set aside" in output
    assert not Case.objects.exists()
    kept = SetAsideMail.objects.get()
    assert Notification.objects.filter(recipient=lead.user, kind="mail_set_aside").exists()
    client = log_in(Client(raise_request_exception=True), lead.user)
    assert client.get(f"/desk/orgs/{organization.slug}/set-aside/{kept.pk}/preview/").status_code == 200


def test_mail_for_an_unknown_organization_is_refused_by_the_pipe_and_by_imap(team, imap, monkeypatch):
    with pytest.raises(CommandError) as refused:
        call_command("intake_mail", org="no-such-team", stdin=io.BytesIO((MAIL / "plain.eml").read_bytes()))
    assert refused.value.returncode == 67
    monkeypatch.setenv(PASSWORD_ENV, imap.password)
    with pytest.raises(CommandError):
        call_command(
            "fetch_mail",
            org="no-such-team",
            ssl=False,
            host=imap.host,
            port=imap.port,
            user=imap.user,
            password_env=PASSWORD_ENV,
        )
    assert not Case.objects.exists() and not SetAsideMail.objects.exists()
