"""The team desk: the queue, the case page and messages to the reporter, and what a denied member cannot learn."""

import json
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import Client
from django.utils import dateformat, timezone

from cocdesk.cases.domain import team
from cocdesk.cases.domain.deadlines import time_left
from cocdesk.cases.domain.intake import submit_report
from cocdesk.cases.enums import MessageDirection
from cocdesk.cases.forms import SECTIONS, ReportForm
from cocdesk.cases.models import Case, Message
from cocdesk.common.models import AuditEvent
from tests.factories import PASSWORD, OrganizationFactory, SpaceFactory, member, report_case
from tests.pages import parse, queue_rows, report_answers
from tests.team import authenticator, log_in, log_in_through_forms

# Distinctive strings that must never reach a member who may not see the case.
CANARY_DESCRIPTION = "Canary-Description-5b1e: the treasurer grabbed my arm in the hallway."
CANARY_URGENT = "Canary-Urgent-93fd: he is still following me around the venue."
CANARY_REPORTED = "Quentin Canaryfield-77c2"
CANARY_CONTACT = "canary-reporter-0a4d@example.net"
CANARY_MESSAGE = "Canary-Message-c8e6: can we call you tomorrow?"
CANARIES = [CANARY_DESCRIPTION, CANARY_URGENT, CANARY_REPORTED, CANARY_CONTACT, CANARY_MESSAGE]

FULL_ANSWERS = {
    "reporter_name": "Alex Example",
    "reporter_email": "alex@example.org",
    "reporter_phone": "+1 555 0142",
    "reporter_other_contact": "Slack: @alex",
    "incident_date": "2026-06-12",
    "incident_time": "14:30",
    "when_details": "Right after the keynote",
    "space": "Main conference",
    "location": "Hallway outside room B",
    "ongoing": "no",
    "physical_danger": "no",
    "description": "He shouted at me.\nThen he followed me to the <b>sponsor</b> area & laughed.",
    "public_record_url": "https://forum.example/t/123",
    "circumstances": "It was crowded",
    "reported_name": "Pat Quarrel",
    "reported_nicknames": "PQ",
    "reported_screen_names": "Slack: @pq",
    "reported_appearance": "Red jacket",
    "reported_badge_number": "B-1042",
    "reported_company": "Widgets Ltd",
    "reported_other": "Speaker ribbon",
    "others_involved": "Jordan saw it",
    "safety_concerns": "I worry he will look for me",
    "law_enforcement": "please_contact",
    "could_not_find_contact": True,
    "other_information": "I left the conference early",
    "consent_share_with_other_teams": "yes",
    "consent_named_publicly": "no",
}

# What the team should read for each answer above: choices by their label, booleans in words, line breaks kept.
EXPECTED_DISPLAY = {
    **{name: value for name, value in FULL_ANSWERS.items() if isinstance(value, str)},
    "ongoing": "No",
    "physical_danger": "No",
    "description": "He shouted at me. Then he followed me to the <b>sponsor</b> area & laughed.",
    "law_enforcement": "Please help me contact law enforcement",
    "could_not_find_contact": "Yes",
    "consent_share_with_other_teams": "Yes",
    "consent_named_publicly": "No",
}


def shown_date(value):
    return dateformat.format(timezone.localtime(value), "j M Y, H:i")


def snapshot():
    """Everything a denied request could change, in comparable form."""
    return {
        "messages": list(Message.objects.order_by("pk").values_list("pk", "sealed_body")),
        "audit": list(AuditEvent.objects.order_by("pk").values_list("pk", "hash")),
        "cases": list(Case.objects.order_by("pk").values_list("pk", "state", "updated_at", "acknowledged_at")),
    }


def case_url(case):
    return f"/desk/cases/{case.reference}/"


def messages_url(case):
    return f"/desk/cases/{case.reference}/messages/"


@pytest.fixture
def world(organization, space):
    """First the data that could leak: two cases full of canaries, both excluding one responder, and a control."""
    excluded = member(organization, "responder", username="excluded-responder")
    responder = member(organization, "responder", username="rae-responder")
    canary_case, canary_receipt = report_case(
        organization,
        description=CANARY_DESCRIPTION,
        reported_name=CANARY_REPORTED,
        reporter_email=CANARY_CONTACT,
        space=space,
        excluded_members=[excluded],
    )
    team.message_reporter(canary_case, canary_case.reports.get(), author=responder.user, body=CANARY_MESSAGE)
    urgent_case, _receipt = report_case(
        organization, description=CANARY_URGENT, ongoing="yes", space=space, excluded_members=[excluded]
    )
    control_case, _receipt = report_case(organization, description="An ordinary report the excluded member may read.")
    elsewhere = OrganizationFactory()
    return SimpleNamespace(
        organization=organization,
        space=space,
        excluded=excluded,
        responder=responder,
        canary_case=canary_case,
        canary_receipt=canary_receipt,
        urgent_case=urgent_case,
        control_case=control_case,
        denied={
            "staff": member(organization, "staff"),
            "admin without responder role": member(organization, "admin", is_staff_member=True),
            "fallback below threshold": member(organization, "fallback"),
            "member of another organization": member(elsewhere, "lead"),
            "inactive responder": member(organization, "responder", is_active=False),
            "reporter-excluded responder": excluded,
        },
    )


DENIED = [
    "staff",
    "admin without responder role",
    "fallback below threshold",
    "member of another organization",
    "inactive responder",
    "reporter-excluded responder",
]


@pytest.mark.parametrize("who", DENIED)
def test_denied_member_learns_nothing_from_the_queue(client, world, who):
    log_in(client, world.denied[who].user)
    response = client.get("/desk/")
    assert response.status_code == 200
    body = response.content.decode()
    for case in (world.canary_case, world.urgent_case):
        assert case.reference not in body
    for canary in CANARIES:
        assert canary not in body
    listed = {row["Reference"] for row in queue_rows(body)}
    if who == "reporter-excluded responder":
        # The queue works for them: only the cases they were excluded from are missing.
        assert listed == {world.control_case.reference}
    else:
        assert listed == set()


@pytest.mark.parametrize("who", DENIED)
def test_denied_member_gets_404_for_the_case_page_and_changes_nothing(client, world, who):
    log_in(client, world.denied[who].user)
    not_found = client.get("/desk/cases/ZZZZ-ZZZZ-ZZZZ/")
    assert not_found.status_code == 404
    before = snapshot()
    for case in (world.canary_case, world.urgent_case):
        response = client.get(case_url(case))
        assert response.status_code == 404
        body = response.content.decode()
        # Indistinguishable from a reference that does not exist: the case's existence is confidential too.
        assert body == not_found.content.decode()
        assert case.reference not in body
        for canary in CANARIES:
            assert canary not in body
    assert snapshot() == before, "a denied read left a trace (audit event, message or case change)"


@pytest.mark.parametrize("who", DENIED)
def test_denied_member_cannot_message_the_reporter(client, world, who):
    log_in(client, world.denied[who].user)
    before = snapshot()
    for case in (world.canary_case, world.urgent_case):
        response = client.post(
            messages_url(case), {"report": case.reports.get().pk, "body": "Please call me back, a denied member."}
        )
        assert response.status_code == 404
        for canary in CANARIES:
            assert canary not in response.content.decode()
    assert snapshot() == before, "a denied message created or changed something"


def test_excluded_responder_still_opens_the_other_cases(client, world):
    log_in(client, world.excluded.user)
    assert client.get(case_url(world.control_case)).status_code == 200


def test_anonymous_desk_redirects_to_login(client, world):
    response = client.get("/desk/")
    assert response.status_code == 302
    assert response["Location"] == "/desk/login/?next=/desk/"


def test_anonymous_gets_no_case_content_and_changes_nothing(client, world):
    before = snapshot()
    response = client.get(case_url(world.canary_case))
    assert response.status_code in {302, 404}
    body = response.content.decode()
    assert all(canary not in body for canary in CANARIES)
    response = client.post(messages_url(world.canary_case), {"report": world.canary_case.reports.get().pk, "body": "x"})
    assert response.status_code in {302, 404}
    assert snapshot() == before


def test_anonymous_case_url_redirects_to_login(client, world):
    """Logged out, a case link leads to the login page, whether or not the case exists."""
    for url in (case_url(world.canary_case), "/desk/cases/ZZZZ-ZZZZ-ZZZZ/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/desk/login/?next=")


def test_login_through_the_real_forms_shows_the_queue(client, world):
    anonymous = client.get("/desk/")
    assert anonymous.status_code == 302

    response = log_in_through_forms(client, world.responder.user)
    assert response["Location"] == "/desk/"
    queue = client.get("/desk/")
    assert queue.status_code == 200
    listed = {row["Reference"] for row in queue_rows(queue.content)}
    assert listed == {world.canary_case.reference, world.urgent_case.reference, world.control_case.reference}


def test_wrong_password_does_not_log_in(client, world):
    response = client.post("/desk/login/", {"username": world.responder.user.username, "password": "not-it-at-all"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert client.get("/desk/").status_code == 302


def test_queue_shows_deadlines_and_flags_for_a_responder(client, world):
    log_in(client, world.responder.user)
    before = timezone.now()
    response = client.get("/desk/")
    after = timezone.now()
    assert response.status_code == 200
    rows = queue_rows(response.content)
    by_reference = {row["Reference"]: row for row in rows}
    assert len(rows) == 3
    assert set(by_reference) == {
        world.canary_case.reference,
        world.urgent_case.reference,
        world.control_case.reference,
    }
    assert "urgent" in by_reference[world.urgent_case.reference]["_classes"]
    assert "urgent" not in by_reference[world.control_case.reference]["_classes"]

    for case in (world.canary_case, world.urgent_case, world.control_case):
        case.refresh_from_db()
        row = by_reference[case.reference]
        assert row["Organization"] == world.organization.name
        assert row["Space"] == (world.space.name if case.space_id else "—")
        assert row["Received"] == shown_date(case.received_at)
        assert row["State"] == case.get_state_display()
        assert row["Urgent"] == ("Urgent" if case.is_urgent else "")
        due = case.update_due if case.acknowledged_at else case.acknowledge_due
        label = "Update by" if case.acknowledged_at else "Acknowledge by"
        assert row["Next deadline"] == f"{label} {shown_date(due)}"
        assert row["Time left"] in {time_left(due, before), time_left(due, after)}
        assert row["Time left"].endswith("left")
    hours = world.organization.urgent_acknowledge_within_hours
    assert by_reference[world.urgent_case.reference]["Time left"] in {f"{hours - 1} h left", f"{hours * 60 - 1} min"}
    canary = world.canary_case
    expected_left = "6 d left" if canary.acknowledged_at else "23 h left"
    assert by_reference[canary.reference]["Time left"] == expected_left
    # The queue lists; it does not show content.
    for canary in CANARIES:
        assert canary not in response.content.decode()


def set_acknowledge_due(case, due):
    case = Case.objects.get(pk=case.pk)
    case.acknowledge_due = due
    case.save(update_fields=["acknowledge_due"])  # saving keeps the stored next deadline true


def test_queue_lists_urgent_cases_first_then_by_acknowledgement_deadline(client, organization):
    """The queue orders by the stored next deadline, urgent cases first."""
    responder = member(organization, "responder")
    now = timezone.now()
    cases = []
    # Created in the opposite of the expected order, so that an unordered result cannot pass by luck.
    for hours in (60, 50, 40, 30):
        case, _receipt = report_case(organization, description=f"Due in {hours} h")
        set_acknowledge_due(case, now + timezone.timedelta(hours=hours))
        cases.append(case)
    for hours in (2, 1):
        case, _receipt = report_case(organization, description=f"Urgent, due in {hours} h", ongoing="yes")
        set_acknowledge_due(case, now + timezone.timedelta(hours=hours))
        cases.append(case)
    expected = [case.reference for case in reversed(cases)]

    log_in(client, responder.user)
    assert [row["Reference"] for row in queue_rows(client.get("/desk/").content)] == expected


def test_overdue_case_is_marked_in_the_queue(client, world):
    set_acknowledge_due(world.control_case, timezone.now() - timezone.timedelta(hours=5))
    log_in(client, world.responder.user)
    rows = {row["Reference"]: row for row in queue_rows(client.get("/desk/").content)}
    assert "overdue" in rows[world.control_case.reference]["_classes"]
    assert rows[world.control_case.reference]["Time left"] == "overdue by 5 h"


def test_fallback_sees_the_case_once_enough_leads_are_recused(client, organization):
    leads = [member(organization, "lead") for _ in range(organization.recusal_threshold + 1)]
    fallback = member(organization, "fallback")
    case, _receipt = report_case(organization, description="The whole lead team is conflicted.")
    log_in(client, fallback.user)
    assert client.get(case_url(case)).status_code == 404

    case, _receipt = report_case(organization, description="The whole lead team is conflicted.", excluded_members=leads)
    assert [row["Reference"] for row in queue_rows(client.get("/desk/").content)] == [case.reference]
    response = client.get(case_url(case))
    assert response.status_code == 200
    assert "The whole lead team is conflicted." in response.content.decode()


def test_case_page_shows_every_answer_decrypted(client, organization):
    space = SpaceFactory(organization=organization, name=FULL_ANSWERS["space"])
    responder = member(organization, "responder")
    # As the public form files it: the space both as the case's column and, by name, in the sealed answers.
    case, _receipt = submit_report(organization=organization, answers=FULL_ANSWERS, space=space)
    log_in(client, responder.user)

    response = client.get(case_url(case))
    assert response.status_code == 200
    [answers] = report_answers(response.content)
    labels = {name: ReportForm.base_fields[name].label for _title, names in SECTIONS for name in names}
    assert [question for question, _answer in answers] == list(labels.values()), "every question, in form order"
    shown = dict(answers)
    for name, label in labels.items():
        assert shown[label] == EXPECTED_DISPLAY.get(name, "not given"), name
    # Escaped, not interpreted: the reporter's text cannot inject markup.
    assert parse(response.content).find("b") is None


def test_opening_a_case_is_audited_without_content(client, world):
    log_in(client, world.responder.user)
    before = AuditEvent.objects.count()
    response = client.get(case_url(world.canary_case))
    assert response.status_code == 200
    body = response.content.decode()
    for canary in (CANARY_DESCRIPTION, CANARY_REPORTED, CANARY_CONTACT, CANARY_MESSAGE):
        assert canary in body
    assert CANARY_URGENT not in body  # another case's content

    [event] = AuditEvent.objects.filter(pk__gt=AuditEvent.objects.order_by("pk")[before - 1].pk)
    assert event.action == "case.opened"
    assert event.actor == world.responder.user
    assert event.actor_label == world.responder.user.username
    assert event.case == world.canary_case
    assert event.case_reference == world.canary_case.reference
    assert event.organization == world.organization
    for stored in AuditEvent.objects.all():
        dumped = json.dumps(stored.detail) + stored.action + stored.actor_label
        for canary in CANARIES:
            assert canary not in dumped


def test_responder_messages_the_reporter(client, world):
    case, receipt = report_case(world.organization, description="Please get back to me.", reporter_name="Sam")
    report = case.reports.get()
    log_in(client, world.responder.user)
    body = "Thank you for your report: we are looking into it. Secret-phrase-41ad."
    response = client.post(messages_url(case), {"report": report.pk, "body": body})
    assert response.status_code == 302
    assert response["Location"] == case_url(case)

    message = Message.objects.get(case=case)
    assert message.report == report
    assert message.direction == MessageDirection.TO_REPORTER
    assert message.author == world.responder.user
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT sealed_body FROM {Message._meta.db_table} WHERE id = %s", [message.pk])  # noqa: S608
        [stored] = cursor.fetchone()
    stored = bytes(stored)
    assert body.encode() not in stored
    assert b"Secret-phrase" not in stored

    event = AuditEvent.objects.get(action="message.to_reporter", case=case)
    assert event.actor == world.responder.user
    assert event.detail == {"message": message.pk, "kind": "other", "channel": "web"}
    assert body not in json.dumps(event.detail)

    # The team reads it back on the case page, and the reporter with their receipt.
    assert body in client.get(case_url(case)).content.decode()
    reporter = Client()
    assert reporter.post("/follow-up/", {"receipt": receipt}).status_code == 302
    assert body in reporter.get("/follow-up/case/").content.decode()


@pytest.mark.parametrize("empty", ["", "   \n\t  "])
def test_empty_message_re_renders_the_case_page_with_an_error(client, world, empty):
    log_in(client, world.responder.user)
    case = world.control_case
    response = client.post(messages_url(case), {"report": case.reports.get().pk, "body": empty})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Write the message before sending it." in page
    assert f"Case {case.reference}" in page
    assert report_answers(page), "the case page itself, with the report, is shown again"
    assert not Message.objects.filter(case=case).exists()
    assert not AuditEvent.objects.filter(action="message.to_reporter", case=case).exists()


def test_message_to_a_report_of_another_case_is_refused(client, world):
    log_in(client, world.responder.user)
    before = snapshot()
    other_report = world.canary_case.reports.get()
    response = client.post(messages_url(world.control_case), {"report": other_report.pk, "body": "Wrong thread"})
    assert response.status_code == 404
    assert snapshot() == before


def test_malformed_report_id_is_a_client_error(world):
    """A crafted 'report' field is refused cleanly: no server error, nothing stored."""
    client = Client(raise_request_exception=False)
    log_in(client, world.responder.user)
    response = client.post(messages_url(world.control_case), {"report": "abc", "body": "Hello"})
    assert response.status_code in {400, 404}
    assert not Message.objects.filter(case=world.control_case).exists()


def test_erased_case_leaves_the_queue_and_its_page_shows_no_content(world):
    """Erasure destroys the data key: the case cannot be decrypted, and the desk neither lists it nor crashes."""
    case = world.control_case
    Case.objects.filter(pk=case.pk).update(wrapped_data_key=None, is_erased=True)
    client = Client(raise_request_exception=False)
    log_in(client, world.responder.user)
    listed = {row["Reference"] for row in queue_rows(client.get("/desk/").content)}
    assert case.reference not in listed
    assert listed == {world.canary_case.reference, world.urgent_case.reference}
    response = client.get(case_url(case))
    assert response.status_code in {200, 404, 410}
    assert "An ordinary report the excluded member may read." not in response.content.decode()
    assert report_answers(response.content) == []


def test_password_alone_does_not_open_the_desk(client, world):
    """The second factor is mandatory: after the password step only, no desk page shows anything."""
    authenticator(world.responder.user)
    response = client.post(
        "/desk/login/", {"username": world.responder.user.username, "password": PASSWORD, "next": "/desk/"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/desk/second-factor/")
    before = snapshot()

    queue = client.get("/desk/")
    assert queue.status_code == 302
    assert queue["Location"].startswith("/desk/second-factor/")
    page = client.get(case_url(world.canary_case))
    assert page.status_code in {302, 404}
    assert all(canary not in page.content.decode() for canary in CANARIES)
    posted = client.post(messages_url(world.control_case), {"report": world.control_case.reports.get().pk, "body": "x"})
    assert posted.status_code in {302, 404}
    assert snapshot() == before
