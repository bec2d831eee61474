"""Public statements: drafted on the case, refused while they name anyone in it, published by an admin only, and
shown on the organization's public page (drafts never)."""

import re
from html import unescape

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import strip_tags

from cocdesk.cases.domain.content import seal
from cocdesk.cases.domain.recusal import recuse
from cocdesk.cases.enums import Finding, RecusalReason, RecusalSource
from cocdesk.common.models import AuditEvent
from cocdesk.notify.models import Notification
from cocdesk.orgs.rules import can
from cocdesk.people.domain.registry import record_person
from cocdesk.people.enums import IdentifierKind
from cocdesk.sanctions.domain import statements
from cocdesk.sanctions.enums import StatementState
from cocdesk.sanctions.models import Decision, PublicStatement
from tests.factories import OrganizationFactory, member, report_case
from tests.team import log_in

REPORTER = "Ottoline Wraxall"
REPORTER_EMAIL = "ottoline.wraxall@example.net"
WITNESS = "Dana Whitfield"
WITNESS_EMAIL = "dana.w@example.org"
REPORTED = "Cornelius Blatherwick"
SUBJECT_HANDLE = "@blather-xq"
CLEAN_TITLE = "Outcome of a report about the spring meetup"
CLEAN_TEXT = "After a report, the team found a violation of the Code of Conduct and banned a participant."


def page_text(response):
    return re.sub(r"\s+", " ", unescape(strip_tags(response.content.decode()))).strip()


def decision_about(case, person):
    decision = Decision.objects.create(
        case=case,
        finding=Finding.VIOLATION,
        rule="two_agree",
        sealed_rationale=seal(case, "decision-rationale", {"rationale": "Two members agreed."}),
        decided_at=timezone.now(),
    )
    decision.subjects.add(person)
    return decision


@pytest.fixture
def world(db):
    organization = OrganizationFactory(name="Pangolin Conference")
    case, _receipt = report_case(
        organization,
        description="He kept interrupting me at the spring meetup.",
        reporter_name=REPORTER,
        reporter_email=REPORTER_EMAIL,
        others_involved=f"Seen by {WITNESS} ({WITNESS_EMAIL}) and a bartender.",
        reported_name=REPORTED,
    )
    return {
        "organization": organization,
        "case": case,
        "lead": member(organization, "lead"),
        "responder": member(organization, "responder"),
        "admin": member(organization, "admin"),
        "staff": member(organization, "staff"),
    }


def draft(world, title=CLEAN_TITLE, text=CLEAN_TEXT):
    return statements.draft_statement(world["case"], by=world["responder"].user, title=title, text=text)


# --- the names check -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (f"{REPORTER} reported a participant.", REPORTER),
        ("Ms Wraxall reported a participant.", "Wraxall"),
        ("ottoline   wraxall reported a participant.", REPORTER),
        (f"Write to {REPORTER_EMAIL.upper()} for details.", REPORTER_EMAIL),
        (f"{WITNESS} saw it happen.", WITNESS),
        ("Whitfield saw it happen.", "Whitfield"),
        (f"Contact {WITNESS_EMAIL}.", WITNESS_EMAIL),
        (f"{REPORTED} was banned.", REPORTED),
    ],
)
def test_a_draft_is_refused_while_it_names_someone_in_the_case(world, text, named):
    with pytest.raises(ValidationError) as refused:
        draft(world, text=text)
    assert named in " ".join(refused.value.messages)
    assert not PublicStatement.objects.exists()
    assert not AuditEvent.objects.filter(action="statement.drafted").exists()


def test_the_title_is_checked_too(world):
    with pytest.raises(ValidationError):
        draft(world, title=f"About {WITNESS}")


def test_ordinary_words_and_the_organization_are_not_taken_for_names(world):
    text = "The bartender and the team at Pangolin Conference will act. She was heard; they were told."
    assert statements.check_statement(world["case"], text) == []


def test_a_reporter_who_agreed_to_be_named_may_be_named_but_not_the_witnesses(world):
    case, _receipt = report_case(
        world["organization"],
        reporter_name="Priya Ramanathan",
        reporter_email="priya@example.net",
        consent_named_publicly="yes",
        others_involved=WITNESS,
    )
    assert statements.check_statement(case, "Priya Ramanathan (priya@example.net) reported it.") == []
    found = statements.check_statement(case, f"Priya Ramanathan and {WITNESS} reported it.")
    assert [item.value for item in found] == [WITNESS]


def test_the_identifiers_of_the_people_a_decision_concerns_are_checked(world):
    person = record_person(
        world["organization"], name="Gideon Quillfeather", identifiers=[(IdentifierKind.HANDLE, SUBJECT_HANDLE)]
    )
    decision_about(world["case"], person)
    for text in ("Gideon Quillfeather was banned.", f"The account {SUBJECT_HANDLE} was banned."):
        found = statements.check_statement(world["case"], text)
        assert found and found[0].who == "a person the decision concerns", text


def test_the_desk_form_says_which_names_and_keeps_what_was_typed(world):
    case = world["case"]
    client = log_in(Client(), world["responder"].user)
    text = f"{WITNESS} and {REPORTER_EMAIL} were involved."
    response = client.post(f"/desk/cases/{case.reference}/statements/", {"title": CLEAN_TITLE, "text": text})
    assert response.status_code == 200
    shown = page_text(response)
    assert "Not sent for approval" in shown and f"“{WITNESS}”" in shown and f"“{REPORTER_EMAIL}”" in shown
    assert text in shown and CLEAN_TITLE in response.content.decode()
    assert not PublicStatement.objects.exists()


# --- drafting ------------------------------------------------------------------------------------------------------


def test_a_clean_draft_is_sealed_audited_and_the_admins_are_told_without_its_words(world):
    case = world["case"]
    client = log_in(Client(), world["responder"].user)
    response = client.post(f"/desk/cases/{case.reference}/statements/", {"title": CLEAN_TITLE, "text": CLEAN_TEXT})
    assert response.status_code == 302
    statement = PublicStatement.objects.get()
    assert statement.state == StatementState.DRAFT and statement.case == case
    assert statement.title == "" and statement.published_text == "" and statement.published_at is None
    assert CLEAN_TEXT.encode() not in bytes(statement.sealed_draft)
    assert AuditEvent.objects.filter(action="statement.drafted", case=case).count() == 1
    told = Notification.objects.get(kind="statement_waiting")
    assert told.recipient == world["admin"].user and told.case is None
    assert CLEAN_TEXT not in told.body and case.reference not in told.body
    page = page_text(client.get(f"/desk/cases/{case.reference}/"))
    assert CLEAN_TEXT in page and "waiting for an admin's approval" in page


def test_a_member_who_cannot_see_the_case_cannot_draft(world):
    case = world["case"]
    recused = member(world["organization"], "responder")
    recuse(case, recused, reason=RecusalReason.CO_WORKER, source=RecusalSource.DECLARED, by=recused.user)
    for membership in (recused, world["staff"], world["admin"]):
        client = log_in(Client(), membership.user)
        response = client.post(f"/desk/cases/{case.reference}/statements/", {"title": "T", "text": CLEAN_TEXT})
        assert response.status_code == 404
        with pytest.raises(PermissionDenied):
            statements.draft_statement(case, by=membership.user, title="T", text=CLEAN_TEXT)
    assert not PublicStatement.objects.exists()


# --- publishing ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "may_publish"),
    [("staff", False), ("responder", False), ("lead", False), ("fallback", False), ("admin", True)],
)
def test_only_an_admin_of_the_organization_may_publish(world, role, may_publish):
    statement = draft(world)
    assert can(member(world["organization"], role).user, "sanctions.publish_statement", statement) is may_publish


def test_an_admin_of_another_organization_or_a_recused_admin_may_not_publish(world):
    statement = draft(world)
    outsider = member(OrganizationFactory(), "admin")
    assert not can(outsider.user, "sanctions.publish_statement", statement)
    recused_admin = member(world["organization"], "admin", is_responder=True)
    recuse(world["case"], recused_admin, reason=RecusalReason.FAMILY, source=RecusalSource.DECLARED)
    assert not can(recused_admin.user, "sanctions.publish_statement", statement)
    listed = log_in(Client(), recused_admin.user).get(f"/desk/orgs/{world['organization'].slug}/statements/")
    assert listed.status_code == 200 and CLEAN_TEXT not in page_text(listed)


@pytest.mark.parametrize("role", ["lead", "responder", "staff"])
def test_a_non_admin_publish_is_404_and_changes_nothing(world, role):
    statement = draft(world)
    before = AuditEvent.objects.count()
    client = log_in(Client(), world[role].user)
    slug = world["organization"].slug
    assert client.post(f"/desk/orgs/{slug}/statements/{statement.pk}/publish/").status_code == 404
    assert client.get(f"/desk/orgs/{slug}/statements/").status_code == 404
    statement.refresh_from_db()
    assert statement.state == StatementState.DRAFT and statement.published_text == ""
    assert AuditEvent.objects.count() == before
    with pytest.raises(PermissionDenied):
        statements.publish_statement(statement, by=world[role].user)


def test_the_admin_reads_the_statement_not_the_case_and_publishes_it(world):
    statement = draft(world)
    client = log_in(Client(), world["admin"].user)
    slug = world["organization"].slug
    listed = client.get(f"/desk/orgs/{slug}/statements/")
    shown = page_text(listed)
    assert CLEAN_TITLE in shown and CLEAN_TEXT in shown
    for case_content in (world["case"].reference, "kept interrupting", REPORTER, WITNESS):
        assert case_content not in listed.content.decode()
    assert AuditEvent.objects.filter(action="statement.read_for_approval", case=world["case"]).count() == 1
    assert client.get(f"/desk/cases/{world['case'].reference}/").status_code == 404

    assert client.post(f"/desk/orgs/{slug}/statements/{statement.pk}/publish/").status_code == 302
    statement.refresh_from_db()
    assert statement.state == StatementState.PUBLISHED and statement.approved_by == world["admin"].user
    assert (statement.title, statement.published_text) == (CLEAN_TITLE, CLEAN_TEXT)
    assert statement.published_at is not None
    assert AuditEvent.objects.filter(action="statement.published", case=world["case"]).count() == 1
    with pytest.raises(ValidationError):
        statements.publish_statement(statement, by=world["admin"].user)


def test_publishing_runs_the_check_again(world):
    statement = draft(world, text="A participant, known as Gideon Quillfeather, was banned.")
    decision_about(world["case"], record_person(world["organization"], name="Gideon Quillfeather"))
    with pytest.raises(ValidationError) as refused:
        statements.publish_statement(statement, by=world["admin"].user)
    assert "Gideon" not in " ".join(refused.value.messages), "the admin is not told who is in the case"
    statement.refresh_from_db()
    assert statement.state == StatementState.DRAFT and statement.published_text == ""


# --- the public page -----------------------------------------------------------------------------------------------


def test_published_statements_are_on_the_public_page_and_drafts_never(world):
    published = draft(world)
    statements.publish_statement(published, by=world["admin"].user)
    draft(world, title="Draft title Zq7", text="A draft that waits, Zq7.")
    withdrawn = draft(world, title="Withdrawn title Wk3", text="Once published, then withdrawn, Wk3.")
    statements.publish_statement(withdrawn, by=world["admin"].user)
    statements.withdraw_statement(withdrawn, by=world["admin"].user)

    page = Client().get(f"/o/{world['organization'].slug}/")
    shown = page_text(page)
    assert CLEAN_TITLE in shown and CLEAN_TEXT in shown
    assert timezone.localtime(published.published_at).strftime("%Y") in shown
    assert "Zq7" not in shown and "Wk3" not in shown
    withdrawn.refresh_from_db()
    assert withdrawn.published_text == "" and withdrawn.state == StatementState.WITHDRAWN


def test_the_public_page_lists_the_newest_statement_first(world):
    for number in (1, 2):
        statement = draft(world, title=f"Statement number {number}", text=f"Text of statement {number}.")
        statements.publish_statement(statement, by=world["admin"].user)
    shown = page_text(Client().get(f"/o/{world['organization'].slug}/"))
    assert shown.index("Statement number 2") < shown.index("Statement number 1")


def _queries(url, client=None):
    client = client or Client()
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_public_page_runs_the_same_queries_with_one_and_several_statements(world):
    url = f"/o/{world['organization'].slug}/"
    statements.publish_statement(draft(world), by=world["admin"].user)
    with_one = _queries(url)
    for number in range(4):
        statements.publish_statement(draft(world, title=f"More {number}"), by=world["admin"].user)
    assert _queries(url) == with_one


def test_the_admin_list_runs_the_same_queries_with_one_and_several_drafts(world):
    client = log_in(Client(), world["admin"].user)
    url = f"/desk/orgs/{world['organization'].slug}/statements/"
    draft(world)
    other_case, _receipt = report_case(world["organization"])
    statements.draft_statement(other_case, by=world["lead"].user, title="Elsewhere", text=CLEAN_TEXT)
    client.get(url)  # the first read of a chain creates its head
    with_two = _queries(url, client)
    for number in range(4):
        draft(world, title=f"More {number}")
    statements.publish_statement(draft(world), by=world["admin"].user)
    assert _queries(url, client) == with_two


def test_a_team_member_may_withdraw_a_draft_from_the_case(world):
    statement = draft(world)
    client = log_in(Client(), world["lead"].user)
    reference = world["case"].reference
    assert client.post(f"/desk/cases/{reference}/statements/{statement.pk}/withdraw/").status_code == 302
    statement.refresh_from_db()
    assert statement.state == StatementState.WITHDRAWN
    assert AuditEvent.objects.filter(action="statement.withdrawn", case=world["case"]).count() == 1
    outsider = log_in(Client(), member(OrganizationFactory(), "lead").user)
    assert outsider.post(f"/desk/cases/{reference}/statements/{statement.pk}/withdraw/").status_code == 404
