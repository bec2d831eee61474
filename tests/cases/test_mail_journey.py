"""Email both ways, through a real IMAP server (Dovecot) and a real SMTP server on loopback: a report by mail is
acknowledged by return mail with its reference, the team's question and the outcome reach the reporter as mail
threaded on their own, the reporter's reply threads back into the case, and a team member the mail names never
receives or sees any of it."""

import re
from datetime import timedelta
from email.utils import format_datetime, make_msgid

import pytest
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from cocdesk.cases.domain import content
from cocdesk.cases.enums import Channel, MessageDirection, RecusalSource
from cocdesk.cases.models import Case, Message, Recusal
from cocdesk.notify.models import Notification
from tests.factories import OrganizationFactory, member
from tests.imap_server import fetch_into, running_imap_server
from tests.mail_server import mail_server, run_worker
from tests.team import log_in

REPORTER = "alex.reporter@example.net"
NAMED = "Pat Quarrel"
DESCRIPTION = "Canary-MailJourney-2a9e: Pat Quarrel kept touching my shoulder at the sprint table."
QUESTION = "Canary-Question-77b1: could you tell us which day this happened?"
REPLY = "Canary-Reply-c4d0: it was on Saturday, around 3 pm."


@pytest.fixture
def team(transactional_db):
    organization = OrganizationFactory(name="PyNorth", reporting_email="conduct@pynorth.example")
    return {
        "organization": organization,
        "lead": member(organization, "lead", username="lea-lead"),
        "responder": member(organization, "responder", username="rui-responder"),
        "named": member(organization, "responder", username="pat-q", display_name=NAMED),
    }


def raw_mail(subject, body, *, message_id, extra=()):
    head = [
        f"From: Alex Reporter <{REPORTER}>",
        "To: conduct@pynorth.example",
        f"Subject: {subject}",
        f"Message-ID: {message_id}",
        # Sent a minute ago: the deadlines run from when the mail was sent, and the journey acknowledges it at once.
        f"Date: {format_datetime(timezone.now() - timedelta(minutes=1))}",
        *extra,
        "Content-Type: text/plain; charset=utf-8",
    ]
    return ("\r\n".join(head) + "\r\n\r\n" + body + "\r\n").encode()


def mails_to(smtp, address):
    return smtp.to(address)


def post_form(client, page_url, action, data):
    from tests.formdata import form_fields

    page = client.get(page_url)
    fields = {**form_fields(page.content, action), **data}
    return client.post(action, fields)


def test_a_report_by_mail_is_answered_by_mail_both_ways(team, monkeypatch):
    organization, lead, responder, named = team["organization"], team["lead"], team["responder"], team["named"]
    first_id = make_msgid(domain="example.net")
    with running_imap_server() as imap, mail_server() as smtp:
        # 1. The report arrives by mail and becomes a case; the member it names is recused at once.
        imap.deliver(raw_mail("Something happened at the sprint", DESCRIPTION, message_id=first_id))
        assert "new report" in fetch_into(imap, organization, monkeypatch)
        case = Case.objects.get(organization=organization)
        assert case.channel == Channel.EMAIL
        recusal = Recusal.objects.get(case=case, membership=named)
        assert recusal.source == RecusalSource.AUTOMATIC

        # 2. The automatic acknowledgement arrives by return mail, with the reference and the promises.
        run_worker()
        [acknowledgement] = mails_to(smtp, REPORTER)
        assert case.reference in acknowledgement.subject
        assert acknowledgement.message["In-Reply-To"] == first_id
        assert "conduct@pynorth.example" in acknowledgement.message["Reply-To"]
        assert "conduct@pynorth.example" in acknowledgement.message["From"]
        assert f"within {organization.acknowledge_within_hours} hours" in acknowledgement.body
        assert organization.emergency_number in acknowledgement.body
        assert DESCRIPTION not in acknowledgement.raw
        claim_link = re.search(r"http\S+/follow-up/claim/\S+/", acknowledgement.body).group(0)

        # 3. A responder asks a question from the case page: it goes out as mail, threaded on the report.
        client = log_in(Client(), responder.user)
        case_url = f"/desk/cases/{case.reference}/"
        report = case.reports.get()
        response = post_form(
            client, case_url, f"{case_url}messages/", {"report": str(report.pk), "kind": "question", "body": QUESTION}
        )
        assert response.status_code == 302
        run_worker()
        question_mail = mails_to(smtp, REPORTER)[-1]
        assert QUESTION in question_mail.body
        assert case.reference in question_mail.subject
        assert question_mail.message["In-Reply-To"] == first_id
        question = Message.objects.get(case=case, direction=MessageDirection.TO_REPORTER)
        assert question.channel == Channel.EMAIL
        page = client.get(case_url).content.decode()
        assert "by email (delivered to the mail server)" in page
        # The queued notification holds no copy of the question.
        assert not Notification.objects.filter(body__contains="Canary-Question").exists()

        # 4. The reporter answers the question's mail: the reply threads into the case.
        reply_id = make_msgid(domain="example.net")
        imap.deliver(
            raw_mail(
                f"Re: {question_mail.subject}",
                REPLY,
                message_id=reply_id,
                extra=[f"In-Reply-To: {question_mail.message['Message-ID']}"],
            )
        )
        assert "reply" in fetch_into(imap, organization, monkeypatch)
        reply = Message.objects.get(case=case, direction=MessageDirection.FROM_REPORTER)
        assert REPLY in content.message_body(reply)
        assert reply.channel == Channel.EMAIL

        # 5. A reply to the reporter's own first mail, without any of our ids, threads too.
        imap.deliver(
            raw_mail(
                "Re: Something happened at the sprint",
                "One more thing: there were two witnesses.",
                message_id=make_msgid(domain="example.net"),
                extra=[f"In-Reply-To: {first_id}", f"References: {first_id}"],
            )
        )
        fetch_into(imap, organization, monkeypatch)
        assert Case.objects.filter(organization=organization).count() == 1
        assert Message.objects.filter(case=case, direction=MessageDirection.FROM_REPORTER).count() == 2

        # 6. The lead records the decision; the outcome reaches the reporter as mail.
        lead_client = log_in(Client(), lead.user)
        response = post_form(
            lead_client,
            f"{case_url}decision/",
            f"{case_url}decision/",
            {
                "report": str(report.pk),
                "finding": "yes",
                "rationale": "Both of us read the thread.",
                f"vote_{lead.pk}": "agree",
                f"vote_{responder.pk}": "agree",
                "outcome_body": "The team discussed it. It was a violation. A warning was given.",
            },
        )
        assert response.status_code == 302
        run_worker()
        outcome_mail = mails_to(smtp, REPORTER)[-1]
        assert "A warning was given." in outcome_mail.body
        case.refresh_from_db()
        assert case.acknowledged_at <= case.acknowledge_due
        assert case.last_update_at is not None and case.update_due > timezone.now()

        # The outgoing queue never held what was written: no notification row and no task row carries it.
        queued = [
            *Notification.objects.values_list("subject", "body"),
            *((str(task.args_kwargs), str(task.return_value)) for task in DBTaskResult.objects.all()),
        ]
        for canary in ("Canary-MailJourney", "Canary-Question", "Canary-Reply", "A warning was given"):
            assert not any(canary in field for row in queued for field in row)

        # 7. The named member never received anything about it and cannot open it.
        assert mails_to(smtp, named.user.email) == []
        named_client = log_in(Client(), named.user)
        assert named_client.get(case_url).status_code == 404
        assert case.reference not in named_client.get("/desk/").content.decode()

        # 8. The link in the acknowledgement gives a receipt once; it opens the web page with every message.
        reporter = Client()
        path = claim_link.split("://", 1)[1].split("/", 1)[1]
        claim_page = reporter.get(f"/{path}")
        assert claim_page.status_code == 200 and b"Show my receipt" in claim_page.content
        shown = reporter.post(f"/{path}")
        assert shown.status_code == 200
        receipt = re.search(rb'id="receipt"[^>]*>([^<]+)<', shown.content).group(1).decode().strip()
        assert reporter.post(f"/{path}").status_code == 410
        opened = reporter.post("/follow-up/", {"receipt": receipt})
        assert opened.status_code == 302
        page = reporter.get("/follow-up/case/").content.decode()
        assert QUESTION in page and REPLY in page


def test_a_stranger_naming_a_reference_starts_a_new_case_and_the_leads_are_asked(team, monkeypatch):
    organization, lead = team["organization"], team["lead"]
    with running_imap_server() as imap, mail_server():
        imap.deliver(raw_mail("Incident at the party", "He shouted at me.", message_id=make_msgid()))
        fetch_into(imap, organization, monkeypatch)
        first = Case.objects.get(organization=organization)
        stranger = (
            "From: Someone Else <someone@example.org>\r\nTo: conduct@pynorth.example\r\n"
            f"Subject: About case {first.reference}\r\nMessage-ID: {make_msgid()}\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\nI saw it too.\r\n"
        ).encode()
        imap.deliver(stranger)
        fetch_into(imap, organization, monkeypatch)
        second = Case.objects.exclude(pk=first.pk).get(organization=organization)
        assert not Message.objects.filter(case=first, direction=MessageDirection.FROM_REPORTER).exists()
        suggestion = Notification.objects.get(kind="thread_suggestion")
        assert suggestion.case == first and suggestion.recipient == lead.user
        assert second.reference in suggestion.body
