"""Email reporters get what web reporters get: bounces mark their address and tell the team, members named
anywhere in a mail (or hidden by the conflict contact it was sent to) never see it, the clocks start when the
mail arrived, and nothing a mail carries makes a page fail."""

from datetime import timedelta
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from cocdesk.cases.domain import team as team_domain
from cocdesk.cases.domain.email_intake import take_in as take_in_raw
from cocdesk.cases.enums import Channel, RecusalSource
from cocdesk.cases.models import Case, Recusal, SetAsideMail
from cocdesk.notify.models import Notification
from cocdesk.orgs.models import ConflictContact
from tests.factories import OrganizationFactory, member
from tests.team import log_in

MAIL = Path(__file__).resolve().parents[1] / "data" / "mail"


def take_in(raw, organization):
    return take_in_raw(raw, organization_slug=organization.slug)


def mail(
    *,
    sender="Alex Doe <alex@example.net>",
    to="conduct@community.example",
    subject="Someone followed me",
    body="It happened twice.",
    extra=(),
    message_id=None,
):
    head = [
        f"From: {sender}",
        f"To: {to}",
        f"Subject: {subject}",
        f"Message-ID: {message_id or make_msgid(domain='mail.example.net')}",
        *extra,
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
    ]
    return ("\r\n".join(head) + "\r\n\r\n" + body + "\r\n").encode()


@pytest.fixture
def organization(db):
    return OrganizationFactory(reporting_email="conduct@community.example")


def test_a_bounce_marks_the_address_undeliverable_and_tells_the_team(organization):
    responder = member(organization, "responder")
    outcome = take_in(mail(sender="Sam <sam.reporter@example.net>"), organization)
    report, case = outcome.report, outcome.case
    acknowledgement = Notification.objects.get(report=report, kind="mail_acknowledgement")
    Notification.objects.filter(pk=acknowledgement.pk).update(
        message_id="<notice-42@cocdesk.example>", state=Notification.State.SENT
    )

    bounce = take_in((MAIL / "bounce.eml").read_bytes(), organization)
    assert bounce.kind == "bounce" and bounce.report == report
    report.refresh_from_db()
    assert report.mail_undeliverable_at is not None
    assert Notification.objects.get(pk=acknowledgement.pk).state == Notification.State.BOUNCED
    assert Notification.objects.filter(case=case, kind="reporter_mail_bounced", recipient=responder.user).exists()
    assert not SetAsideMail.objects.exists()

    # The team's next message waits on the web page instead, and the case page says why.
    message = team_domain.message_reporter(case, report, author=responder.user, body="Can we talk?")
    assert message.channel == Channel.WEB
    assert not Notification.objects.filter(team_message=message).exists()
    page = log_in(Client(), responder.user).get(f"/desk/cases/{case.reference}/").content.decode()
    assert "Mail to this reporter bounced" in page
    # The same bounce again changes nothing more.
    assert take_in((MAIL / "bounce.eml").read_bytes(), organization).kind == "bounce"
    assert Notification.objects.filter(kind="reporter_mail_bounced").count() == 1


def test_a_bounce_for_another_address_marks_nothing(organization):
    outcome = take_in(mail(sender="Kim <kim@example.org>"), organization)
    Notification.objects.filter(report=outcome.report).update(message_id="<notice-42@cocdesk.example>")
    take_in((MAIL / "bounce.eml").read_bytes(), organization)
    outcome.report.refresh_from_db()
    assert outcome.report.mail_undeliverable_at is None


def test_members_named_anywhere_in_the_mail_are_recused_at_once(organization):
    named_in_text = member(organization, "lead", display_name="Pat Quarrel")
    named_in_subject = member(organization, "responder", display_name="Robin Sayer")
    named_in_attachment = member(organization, "responder", display_name="Dana Quill")
    named_by_handle = member(organization, "responder", identifiers="Slack: @morgan-k")
    bystander = member(organization, "lead", display_name="Lea Bystander")
    attachment = (
        "From: Alex <alex@example.net>\r\nTo: conduct@community.example\r\nSubject: About Robin Sayer\r\n"
        f"Message-ID: {make_msgid()}\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        "--b\r\nContent-Type: text/plain\r\n\r\nPat Quarrel and @morgan-k laughed.\r\n"
        "--b\r\nContent-Type: text/plain; name=dana-quill-messages.txt\r\n"
        'Content-Disposition: attachment; filename="Dana Quill messages.txt"\r\n\r\nscreenshots\r\n--b--\r\n'
    ).encode()
    case = take_in(attachment, organization).case
    recused = set(Recusal.objects.filter(case=case, is_active=True).values_list("membership_id", "source"))
    expected = {named_in_text, named_in_subject, named_in_attachment, named_by_handle}
    assert recused == {(m.pk, RecusalSource.AUTOMATIC) for m in expected}
    for membership in expected:
        assert log_in(Client(), membership.user).get(f"/desk/cases/{case.reference}/").status_code == 404
        assert not Notification.objects.filter(recipient=membership.user, kind="new_report").exists()
    assert log_in(Client(), bystander.user).get(f"/desk/cases/{case.reference}/").status_code == 200
    # The leads are asked to review it, without a word about who.
    notice = Notification.objects.get(kind="automatic_recusal")
    assert notice.recipient == bystander.user and "Quarrel" not in notice.body + notice.subject


def test_a_team_member_reporting_by_mail_is_not_recused_from_their_own_report(organization):
    reporter = member(organization, "responder", display_name="Pat Quarrel")
    case = take_in(
        mail(sender=f"Pat Quarrel <{reporter.user.email}>", body="Someone shouted at me.\n\nPat Quarrel"),
        organization,
    ).case
    assert not Recusal.objects.filter(case=case).exists()


def test_a_report_to_a_conflict_contact_is_hidden_from_the_members_it_names(organization, client):
    admin = member(organization, "admin")
    chair_of_concern = member(organization, "lead", display_name="Chris Chair")
    other_lead = member(organization, "lead")
    log_in(client, admin.user)
    response = client.post(
        f"/desk/orgs/{organization.slug}/conflict-contacts/",
        {"name": "The board", "intake_address": "board@community.example", "hidden_from": [chair_of_concern.pk]},
    )
    assert response.status_code == 302
    contact = ConflictContact.objects.get()
    assert list(contact.hidden_from.all()) == [chair_of_concern]

    case = take_in(
        mail(to="The board <board@community.example>", body="About the chair's behaviour."), organization
    ).case
    recusal = Recusal.objects.get(case=case, membership=chair_of_concern)
    assert recusal.source == RecusalSource.REPORTER  # like the reporter's own exclusion: it can never be lifted
    assert log_in(Client(), chair_of_concern.user).get(f"/desk/cases/{case.reference}/").status_code == 404
    assert log_in(Client(), other_lead.user).get(f"/desk/cases/{case.reference}/").status_code == 200

    # The usual address hides no one.
    ordinary = take_in(mail(body="Another matter."), organization).case
    assert not Recusal.objects.filter(case=ordinary).exists()


def test_conflict_contacts_are_managed_by_admins_only(organization, client):
    lead = member(organization, "lead")
    log_in(client, lead.user)
    url = f"/desk/orgs/{organization.slug}/conflict-contacts/"
    assert client.get(url).status_code == 404
    response = client.post(url, {"name": "X", "intake_address": "x@community.example"})
    assert response.status_code == 404 and not ConflictContact.objects.exists()


def test_the_usual_reporting_address_cannot_be_a_contact_address(organization, client):
    admin = member(organization, "admin")
    log_in(client, admin.user)
    response = client.post(
        f"/desk/orgs/{organization.slug}/conflict-contacts/",
        {"name": "Board", "intake_address": "conduct@community.example"},
    )
    assert response.status_code == 200 and not ConflictContact.objects.exists()
    assert "usual reporting address" in response.content.decode()
    assert 'value="Board"' in response.content.decode()


def test_the_clocks_start_when_the_mail_reached_the_server(organization):
    arrived = (timezone.now() - timedelta(hours=5)).replace(microsecond=0)
    received = f"Received: from mx.example.net by mail.community.example; {format_datetime(arrived)}"
    case = take_in(mail(extra=[received]), organization).case
    assert case.received_at == arrived
    assert case.acknowledge_due == arrived + timedelta(hours=organization.acknowledge_within_hours)
    assert case.reports.get().received_at == arrived


def test_a_subject_alone_is_a_report(organization):
    raw = (MAIL / "subject_only.eml").read_bytes()
    outcome = take_in(raw, organization)
    assert outcome.kind == "report"
    assert not SetAsideMail.objects.exists()


HOSTILE = [
    b"From: \xff\xfe\x00<a@example.org>\r\nSubject: \xc3\x28 broken utf-8\r\n\r\nbody\r\n",
    b"From: Zo\xc3\xab M\xc3\xbcller <zoe@example.org>\r\nSubject: R\xc3\xa9union \xe2\x80\xae txet\r\n\r\nHi\r\n",
    b"From: =?bogus-charset?B?!!!?= <b@example.org>\r\nSubject: =?utf-8?B?not base64?=\r\n\r\nx\r\n",
    b"From: c@example.org\r\nSubject: " + b"A" * 10_000 + b"\r\nX-\xff\xfe: odd\r\n\r\nlong\r\n",
    b'From: "<script>alert(1)</script>" <d@example.org>\r\nSubject: <img src=x onerror=alert(1)>\r\n\r\n'
    b"<b>bold</b>\r\n",
    b"From: e@example.org\rSubject: CR only\r\r\nbody with \x00 NUL\r\n",
    b'From: f@example.org\r\nContent-Type: text/plain; charset="\xff"\r\nSubject: odd charset\r\n\r\n\xe9t\xe9\r\n',
]


@pytest.mark.parametrize("raw", HOSTILE, ids=[f"hostile-{n}" for n in range(len(HOSTILE))])
def test_nothing_a_mail_carries_makes_a_page_fail(organization, raw):
    lead = member(organization, "lead")
    outcome = take_in(raw, organization)
    client = log_in(Client(raise_request_exception=True), lead.user)
    assert client.get("/desk/").status_code == 200
    for case in Case.objects.filter(organization=organization):
        response = client.get(f"/desk/cases/{case.reference}/")
        assert response.status_code == 200
        assert b"<script>alert(1)</script>" not in response.content
        assert b"<img src=x" not in response.content
    assert client.get(f"/desk/orgs/{organization.slug}/set-aside/").status_code == 200
    for kept in SetAsideMail.objects.all():
        assert client.get(f"/desk/orgs/{organization.slug}/set-aside/{kept.pk}/preview/").status_code == 200
    assert outcome.kind in {"report", "set_aside"}
