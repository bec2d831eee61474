"""The reporter's view of the team's response: offered on the follow-up page once the outcome was sent, sealed like
their messages, audited, shown to the team on the case and to nobody who is recused from it."""

import re
from html import unescape

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils.html import strip_tags
from django_tasks_db.models import DBTaskResult

from cocdesk.cases.domain import reporter
from cocdesk.cases.domain.content import message_body
from cocdesk.cases.domain.recusal import recuse
from cocdesk.cases.domain.team import message_reporter
from cocdesk.cases.enums import MessageDirection, MessageKind, RecusalReason, RecusalSource
from cocdesk.cases.models import Message
from cocdesk.common.models import AuditEvent
from cocdesk.notify.models import Notification
from tests.factories import OrganizationFactory, member, report_case
from tests.mail_server import mail_server, run_worker
from tests.team import log_in

CASE_PAGE = "/follow-up/case/"
FEEDBACK = "Canary-Feedback-5e1a: a warning felt far too mild after what happened."
FEEDBACK_LABEL = "Reporter's feedback on the response"


def page_text(response):
    return re.sub(r"\s+", " ", unescape(strip_tags(response.content.decode()))).strip()


def reporter_client(receipt):
    client = Client()
    assert client.post("/follow-up/", {"receipt": receipt}).status_code == 302
    return client


def send_outcome(case, lead):
    return message_reporter(
        case, case.reports.get(), author=lead.user, body="The team decided; thank you.", kind=MessageKind.OUTCOME
    )


def give_feedback(client, **answers):
    data = {"send_feedback": "1", "feedback-text": "", "feedback-rating": "", **answers}
    return client.post(CASE_PAGE, data)


@pytest.fixture
def handled(db):
    """A case with its lead, a responder, and a responder recused from it."""
    organization = OrganizationFactory()
    lead = member(organization, "lead")
    responder = member(organization, "responder")
    recused = member(organization, "responder")
    case, receipt = report_case(organization, reporter_email="reporter@example.net")
    recuse(case, recused, reason=RecusalReason.CO_WORKER, source=RecusalSource.DECLARED, by=recused.user)
    return {"case": case, "receipt": receipt, "lead": lead, "responder": responder, "recused": recused}


def feedback_messages(case):
    return Message.objects.filter(case=case, kind=MessageKind.FEEDBACK)


# --- offered after the outcome only --------------------------------------------------------------------------------


def test_not_offered_before_the_outcome_and_refused_if_sent_anyway(handled):
    case = handled["case"]
    client = reporter_client(handled["receipt"])
    page = client.get(CASE_PAGE)
    assert "Tell the team what you think of our response" not in page_text(page)
    assert 'name="send_feedback"' not in page.content.decode()
    # A team message that is not the outcome does not open it either.
    message_reporter(case, case.reports.get(), author=handled["lead"].user, body="A question.", kind="question")
    assert 'name="send_feedback"' not in client.get(CASE_PAGE).content.decode()

    response = give_feedback(client, **{"feedback-text": FEEDBACK, "feedback-rating": "too_little"})
    assert response.status_code == 200
    assert not feedback_messages(case).exists()
    assert not AuditEvent.objects.filter(action="message.feedback_from_reporter").exists()
    with pytest.raises(ValidationError):
        reporter.add_reporter_feedback(case.reports.get().receipt, text=FEEDBACK)
    assert not feedback_messages(case).exists()


def test_offered_once_the_outcome_was_sent(handled):
    send_outcome(handled["case"], handled["lead"])
    page = reporter_client(handled["receipt"]).get(CASE_PAGE)
    assert "Tell the team what you think of our response" in page_text(page)
    for answer in ("It felt right", "Too little", "Too much", "Not sure"):
        assert answer in page_text(page)


# --- saved, sealed, audited, told, shown ---------------------------------------------------------------------------


def test_feedback_is_sealed_audited_told_and_shown_to_the_team(handled):
    case, lead, responder = handled["case"], handled["lead"], handled["responder"]
    send_outcome(case, lead)
    client = reporter_client(handled["receipt"])
    response = give_feedback(client, **{"feedback-text": FEEDBACK, "feedback-rating": "too_little"})
    assert response.status_code == 302

    feedback = feedback_messages(case).get()
    assert feedback.direction == MessageDirection.FROM_REPORTER and feedback.report == case.reports.get()
    assert FEEDBACK.encode() not in bytes(feedback.sealed_body)
    assert FEEDBACK in message_body(feedback) and "Too little" in message_body(feedback)
    event = AuditEvent.objects.get(action="message.feedback_from_reporter")
    assert event.case_id == case.pk and event.actor_kind == AuditEvent.ActorKind.REPORTER
    assert FEEDBACK not in str(event.detail)

    told = Notification.objects.filter(case=case, kind="reporter_feedback")
    assert {notification.recipient for notification in told} == {lead.user, responder.user}
    assert all(FEEDBACK not in notification.body for notification in told)

    team_page = page_text(log_in(Client(), responder.user).get(f"/desk/cases/{case.reference}/"))
    assert FEEDBACK_LABEL in team_page and FEEDBACK in team_page and "How the response felt: Too little." in team_page
    # The reporter sees their own words back, labelled as their view.
    mine = page_text(client.get(CASE_PAGE))
    assert "Your view of the response" in mine and FEEDBACK in mine


def test_a_reporter_may_give_feedback_more_than_once_with_words_or_a_rating_alone(handled):
    case = handled["case"]
    send_outcome(case, handled["lead"])
    client = reporter_client(handled["receipt"])
    assert give_feedback(client, **{"feedback-rating": "not_sure"}).status_code == 302
    assert give_feedback(client, **{"feedback-text": "On second thought, it was right."}).status_code == 302
    bodies = [message_body(message) for message in feedback_messages(case)]
    assert bodies == ["How the response felt: Not sure.", "On second thought, it was right."]
    team_page = log_in(Client(), handled["lead"].user).get(f"/desk/cases/{case.reference}/").content.decode()
    assert team_page.count(FEEDBACK_LABEL) == 2


def test_an_empty_feedback_is_refused_with_words_for_the_reporter(handled):
    send_outcome(handled["case"], handled["lead"])
    response = give_feedback(reporter_client(handled["receipt"]))
    assert response.status_code == 200
    assert "Write what you think of the response, or choose an answer" in page_text(response)
    assert not feedback_messages(handled["case"]).exists()


# --- recused members -----------------------------------------------------------------------------------------------


def test_a_recused_member_neither_sees_nor_hears_of_the_feedback(handled):
    case, recused = handled["case"], handled["recused"]
    send_outcome(case, handled["lead"])
    give_feedback(reporter_client(handled["receipt"]), **{"feedback-text": FEEDBACK, "feedback-rating": "too_much"})
    assert feedback_messages(case).exists()
    client = log_in(Client(), recused.user)
    assert client.get(f"/desk/cases/{case.reference}/").status_code == 404
    assert FEEDBACK not in client.get("/desk/").content.decode()
    assert not Notification.objects.filter(recipient=recused.user, kind="reporter_feedback").exists()


@pytest.mark.django_db(transaction=True)
def test_the_mail_to_the_handlers_goes_through_the_queue_without_the_feedback():
    organization = OrganizationFactory()
    lead = member(organization, "lead")
    recused = member(organization, "responder")
    case, receipt = report_case(organization)
    recuse(case, recused, reason=RecusalReason.CO_WORKER, source=RecusalSource.DECLARED, by=recused.user)
    send_outcome(case, lead)
    give_feedback(reporter_client(receipt), **{"feedback-text": FEEDBACK, "feedback-rating": "right"})
    assert DBTaskResult.objects.filter(status="READY").exists()
    with mail_server() as inbox:
        run_worker()
        mails = [mail for mail in inbox.to(lead.user.email) if "feedback" in mail.subject]
        assert len(mails) == 1 and case.reference in mails[0].subject
        assert FEEDBACK not in mails[0].raw
        assert inbox.to(recused.user.email) == []


# --- hostile input -------------------------------------------------------------------------------------------------


HOSTILE = '<script>alert("x")</script> "quoted" & {{ template }} {% tag %} \u202e reversed \x00'


def test_hostile_feedback_is_kept_as_typed_and_shown_inert(handled):
    case = handled["case"]
    send_outcome(case, handled["lead"])
    client = reporter_client(handled["receipt"])
    # An answer that is not on the list is refused, and what was typed stays in the box.
    refused = give_feedback(client, **{"feedback-text": FEEDBACK, "feedback-rating": "<b>evil</b>"})
    assert refused.status_code == 200
    assert "Choose one of the answers, or none." in page_text(refused)
    assert FEEDBACK in page_text(refused)
    assert not feedback_messages(case).exists()

    kept = HOSTILE.replace("\x00", "")  # Django's form fields refuse the null character
    assert give_feedback(client, **{"feedback-text": kept, "feedback-rating": "too_much"}).status_code == 302
    assert message_body(feedback_messages(case).get()).endswith(kept.strip())
    team_page = log_in(Client(), handled["lead"].user).get(f"/desk/cases/{case.reference}/").content.decode()
    assert "<script>alert" not in team_page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in team_page
    assert "{{ template }}" in team_page and "{% tag %}" in team_page
