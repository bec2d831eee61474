"""Mail and chat pages for real: an aiosmtpd server and an HTTP webhook receiver on loopback, and the django-tasks
database worker run in batch mode. Transactional database, so the notifications are queued on commit as in
production. Each message arrives once per person who may know, never to a recused member, never with case content;
an outage delays delivery and neither loses nor duplicates anything."""

import logging
from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from cocdesk.cases.domain.recusal import recuse
from cocdesk.cases.enums import MessageKind, RecusalReason, RecusalSource
from cocdesk.notify.models import Notification
from tests.factories import OrganizationFactory, member, report_case
from tests.mail_server import (
    free_port,
    mail_server,
    make_retries_due,
    no_mail_server,
    run_worker,
    scheduled_retries,
    webhook_receiver,
)
from tests.team import log_in

DESCRIPTION = "Canary-Mail-0f3b: the organizer's friend groped me at the after-party."
REPORTED = "Cornelius Canarywood-7e21"
MESSAGE = "Canary-MailMessage-a5d8: could you tell us who else was there?"
REPORTER_EMAIL = "canary-reporter-b71c@example.net"
SECRETS = [DESCRIPTION, "Canary-Mail-0f3b", REPORTED, "Canarywood", MESSAGE, "Canary-MailMessage"]


@pytest.fixture
def team(transactional_db):
    organization = OrganizationFactory(name="Pycon Example")
    return {
        "organization": organization,
        "leads": [member(organization, "lead", username=name) for name in ("lea-lead", "leo-lead")],
        "responder": member(organization, "responder", username="rui-responder"),
        "recused_lead": member(organization, "lead", username="xena-recused-lead"),
        "recused": member(organization, "responder", username="rex-recused"),
        "nobody": [
            member(organization, "staff", username="sid-staff"),
            member(organization, "admin", username="ada-admin"),
            member(organization, "fallback", username="fen-fallback"),
            member(organization, "responder", username="ivo-inactive", is_active=False),
            member(OrganizationFactory(), "lead", username="olaf-elsewhere"),
        ],
    }


def eligible(team):
    return [*team["leads"], team["responder"]]


def excluded(team):
    return [team["recused_lead"], team["recused"]]


def report(team, **answers):
    """A report through the real intake; the reporter excluded one lead and one responder."""
    case, _receipt = report_case(team["organization"], excluded_members=excluded(team), **answers)
    return case


def email(membership):
    return membership.user.email


def assert_no_case_content(mail):
    for secret in SECRETS:
        assert secret not in mail.raw, f"{secret!r} left in a mail"


def assert_nothing_for(smtp, memberships):
    for membership in memberships:
        assert smtp.to(email(membership)) == [], f"{membership.user.username} got mail"


# --- who is told ---------------------------------------------------------------------------------------------------


def test_a_new_report_reaches_each_eligible_member_once_and_nobody_else(team):
    with mail_server() as smtp:
        case = report(team, description=DESCRIPTION, reported_name=REPORTED)
        run_worker()
        for membership in eligible(team):
            mails = smtp.to(email(membership))
            assert len(mails) == 1, membership.user.username
            (mail,) = mails
            assert mail.recipients == [email(membership)]
            assert case.reference in mail.subject
            assert f"/desk/cases/{case.reference}/" in mail.body
            assert_no_case_content(mail)
        assert_nothing_for(smtp, [*excluded(team), *team["nobody"]])
        assert len(smtp.mails) == 3

        run_worker()
        assert len(smtp.mails) == 3, "a second run of the worker sent mail again"
    assert set(Notification.objects.values_list("state", "attempts")) == {(Notification.State.SENT, 1)}


def test_an_urgent_report_pages_each_lead_once_by_mail_and_the_chat_once(team):
    organization = team["organization"]
    with webhook_receiver() as hook, mail_server() as smtp:
        organization.chat_webhook_url = hook.url
        organization.save()
        case = report(team, description=DESCRIPTION, reported_name=REPORTED, ongoing="yes")
        run_worker()

        for lead in team["leads"]:
            pages = [mail for mail in smtp.to(email(lead)) if "URGENT" in mail.subject]
            assert len(pages) == 1, lead.user.username
            assert case.reference in pages[0].subject
            assert len(smtp.to(email(lead))) == 2  # the page and the new report
        assert [mail.subject for mail in smtp.to(email(team["responder"]))] == [
            f"[CoC Desk] New report: case {case.reference}"
        ]
        assert_nothing_for(smtp, [*excluded(team), *team["nobody"]])
        for mail in smtp.mails:
            assert_no_case_content(mail)

        assert len(hook.posts) == 1
        (status, path, content_type, payload) = hook.posts[0]
        assert (status, path, content_type) == (200, "/hooks/coc", "application/json")
        assert case.reference in payload["text"]
        for secret in SECRETS:
            assert secret not in str(payload)

        run_worker()
        assert len(hook.posts) == 1 and len(smtp.mails) == 5


def test_a_reporter_who_left_an_email_is_told_without_the_message_and_an_anonymous_one_is_not(team):
    desk = log_in(Client(), team["responder"].user)
    with mail_server() as smtp:
        named = report(team, description=DESCRIPTION, reporter_email=REPORTER_EMAIL)
        anonymous = report(team, description=DESCRIPTION)
        for case in (named, anonymous):
            data = {"report": case.reports.get().pk, "kind": MessageKind.QUESTION, "body": MESSAGE}
            assert desk.post(f"/desk/cases/{case.reference}/messages/", data).status_code == 302
        run_worker()

        (notice,) = smtp.to(REPORTER_EMAIL)
        assert notice.recipients == [REPORTER_EMAIL]
        assert notice.message["Reply-To"] == team["organization"].reporting_email
        assert notice.subject == "A message from the Code of Conduct team of Pycon Example"
        assert "/follow-up/" in notice.body
        assert_no_case_content(notice)
        assert named.reference not in notice.raw
        # The team's mails about the two cases, and the one notice: nothing to the anonymous reporter.
        assert len(smtp.mails) == 2 * 3 + 1
        assert not Notification.objects.filter(case=anonymous, kind="reporter_notice").exists()
        # The reporter's address is read from the sealed report when sending; no notification row holds it.
        for row in Notification.objects.values():
            assert REPORTER_EMAIL not in str(row)

        run_worker()
        assert len(smtp.mails) == 7


def test_a_member_recused_after_the_mail_was_queued_is_not_sent_it(team):
    with mail_server() as smtp:
        case = report(team, description=DESCRIPTION)
        responder = team["responder"]
        recuse(case, responder, reason=RecusalReason.CO_WORKER, source=RecusalSource.DECLARED, by=responder.user)
        run_worker()
        assert smtp.to(email(responder)) == []
        assert len(smtp.mails) == 2
    notification = Notification.objects.get(recipient=responder.user)
    assert notification.state == Notification.State.CANCELLED


# --- outages -------------------------------------------------------------------------------------------------------


def address_of(notification):
    return REPORTER_EMAIL if notification.kind == "reporter_notice" else notification.recipient.email


def test_an_smtp_outage_delays_every_mail_and_each_arrives_exactly_once_afterwards(team, caplog):
    organization = team["organization"]
    organization.chat_webhook_url = f"http://127.0.0.1:{free_port()}/hooks/coc"  # down too
    organization.save()
    desk = log_in(Client(), team["leads"][0].user)
    with no_mail_server():
        cases = [
            report(team, description=DESCRIPTION, reporter_email=REPORTER_EMAIL),
            report(team, description=DESCRIPTION, reported_name=REPORTED),
            report(team, description=DESCRIPTION, ongoing="yes"),
        ]
        for case in cases:
            data = {"report": case.reports.get().pk, "kind": MessageKind.ACKNOWLEDGEMENT, "body": MESSAGE}
            assert desk.post(f"/desk/cases/{case.reference}/messages/", data).status_code == 302
        with caplog.at_level(logging.WARNING, logger="cocdesk.notify"):
            run_worker()

    notifications = list(Notification.objects.select_related("recipient"))
    # Three members told of each report, the two leads paged by mail for the urgent one and the chat paged
    # once, and one notice to the reporter who left an email.
    assert Counter((n.kind, n.channel) for n in notifications) == {
        ("new_report", "email"): 3 * 3,
        ("urgent_page", "email"): 2,
        ("urgent_page", "webhook"): 1,
        ("reporter_notice", "email"): 1,
    }
    for notification in notifications:
        assert notification.state == Notification.State.PENDING
        assert notification.attempts == 1
        assert notification.last_error
        assert "@" not in notification.last_error
    assert "@" not in caplog.text, "the worker logged an address"
    retries = scheduled_retries()
    assert retries.count() == len(notifications)
    assert all(retry.run_after > timezone.now() for retry in retries)

    with webhook_receiver() as hook, mail_server() as smtp:
        organization.chat_webhook_url = hook.url
        organization.save()
        run_worker()
        assert smtp.mails == [] and hook.posts == [], "a retry ran before it was due"

        assert make_retries_due() == len(notifications)
        run_worker()
        sent = Counter((recipient, mail.subject) for mail in smtp.mails for recipient in mail.recipients)
        expected = Counter((address_of(n), n.subject) for n in notifications if n.channel == Notification.Channel.EMAIL)
        assert sent == expected
        assert set(sent.values()) == {1}
        assert len(hook.delivered()) == 1 and len(hook.posts) == 1
        assert_nothing_for(smtp, [*excluded(team), *team["nobody"]])
        for mail in smtp.mails:
            assert_no_case_content(mail)

        run_worker()
        assert make_retries_due() == 0
        run_worker()
        assert len(smtp.mails) == sum(expected.values()) and len(hook.posts) == 1
    assert set(Notification.objects.values_list("state", "attempts")) == {(Notification.State.SENT, 2)}


def test_a_failing_webhook_is_retried_and_the_page_posted_once_when_it_answers(team):
    organization = team["organization"]
    with webhook_receiver() as hook, mail_server() as smtp:
        hook.status = 500
        organization.chat_webhook_url = hook.url
        organization.save()
        case = report(team, description=DESCRIPTION, ongoing="yes")
        run_worker()
        page = Notification.objects.get(channel=Notification.Channel.WEBHOOK)
        assert (page.state, page.attempts, page.last_error) == (Notification.State.PENDING, 1, "webhook answered 500")
        assert len(hook.posts) == 1 and hook.delivered() == []
        # The mail pages did not wait for the chat.
        for lead in team["leads"]:
            assert len([mail for mail in smtp.to(email(lead)) if "URGENT" in mail.subject]) == 1

        hook.status = 200
        run_worker()
        assert len(hook.posts) == 1, "the retry ran before it was due"
        assert make_retries_due() == 1
        run_worker()
        assert len(hook.delivered()) == 1
        assert case.reference in hook.delivered()[0]["text"]
        run_worker()
        assert make_retries_due() == 0
        assert len(hook.posts) == 2 and len(hook.delivered()) == 1
    page.refresh_from_db()
    assert (page.state, page.attempts) == (Notification.State.SENT, 2)


def test_a_refused_address_is_retried_and_the_error_kept_holds_no_address(team, caplog):
    responder = team["responder"]
    with mail_server(refuse=[email(responder)]) as smtp, caplog.at_level(logging.WARNING, logger="cocdesk.notify"):
        report(team, description=DESCRIPTION)
        run_worker()
        assert smtp.to(email(responder)) == []
        assert len(smtp.mails) == 2
    refused = Notification.objects.get(recipient=responder.user)
    assert refused.state == Notification.State.PENDING and refused.attempts == 1
    assert refused.last_error
    assert "@" not in refused.last_error and responder.user.username not in refused.last_error
    assert "@" not in caplog.text
    assert scheduled_retries().count() == 1


@pytest.mark.parametrize("retry", ["lost", "also due"])
def test_the_clock_requeues_a_stalled_notification_and_it_is_sent_once(team, retry):
    """A worker's queue can be lost (a crash, a restored backup) while notifications are still pending: the
    deadline clock puts them back. When the retry was not lost after all, the two attempts still send once."""
    with no_mail_server():
        report(team, description=DESCRIPTION)
        run_worker()
    assert set(Notification.objects.values_list("state", "attempts")) == {(Notification.State.PENDING, 1)}
    if retry == "lost":
        DBTaskResult.objects.all().delete()

    with mail_server() as smtp:
        call_command("sweep_deadlines", stdout=StringIO())  # not overdue yet: nothing is re-queued
        run_worker()
        assert smtp.mails == []

        Notification.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=10))
        if retry == "also due":
            assert make_retries_due() == 3
        call_command("sweep_deadlines", stdout=StringIO())
        run_worker()
        for membership in eligible(team):
            assert len(smtp.to(email(membership))) == 1, membership.user.username
        assert len(smtp.mails) == 3

        call_command("sweep_deadlines", stdout=StringIO())
        run_worker()
        assert len(smtp.mails) == 3
    assert set(Notification.objects.values_list("state", "attempts")) == {(Notification.State.SENT, 2)}
