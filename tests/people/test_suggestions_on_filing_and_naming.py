"""Suggestions where a team member files a report for someone and where a responder names someone in a case or
adds what a party is known by: "possibly the same person as in N other cases", with the history the member may
see. A member recused from some of those cases learns only that there are cases they cannot see, and which lead
to ask: never their count, reference or content. A member who may not name people in the case gets a 404 and
changes nothing."""

import pytest
from django.test import Client

from cocdesk.cases.domain import recusal as recusals
from cocdesk.cases.enums import RecusalReason, RecusalSource
from cocdesk.common.models import AuditEvent
from cocdesk.people.models import CaseParty, Identifier, Person
from tests.factories import member, report_case
from tests.team import log_in

HIDDEN_STORY = "Canary-Hidden-7c1d: he followed me to the hotel."
HIDDEN_CONTACT = "canary-hidden-contact@example.org"


@pytest.fixture
def team(organization):
    return {
        "lead": member(organization, "lead", display_name="Lena Lead"),
        "other_lead": member(organization, "lead", display_name="Omar Otherlead"),
        "responder": member(organization, "responder", display_name="Rory Responder"),
        "staff": member(organization, "staff", display_name="Sam Staff"),
    }


@pytest.fixture
def history(organization, team):
    """The data that could leak, made first: a case the lead is recused from naming the person by email and
    phone, and a case everyone may see naming them by badge."""
    hidden, _ = report_case(
        organization,
        description=HIDDEN_STORY,
        reported_name="Viktor Hidden-Case",
        reported_screen_names=f"{HIDDEN_CONTACT}\n+44 20 7946 0958",
        contact_email="reporter-of-hidden@example.org",
    )
    recusals.recuse(
        hidden, team["lead"], reason=RecusalReason.FAMILY, source=RecusalSource.DECLARED, by=team["lead"].user
    )
    seen, _ = report_case(organization, reported_name="Viktor Seen", reported_badge_number="#0731")
    return {"hidden": hidden, "seen": seen}


def file_report(client, organization, **answers):
    data = {"channel": "in_person", "description": "He grabbed my arm at the bar.", "submission_token": "tok-1"}
    return client.post(f"/desk/orgs/{organization.slug}/file-report/", {**data, **answers})


def assert_nothing_of(page, case):
    for secret in (case.reference, HIDDEN_STORY, HIDDEN_CONTACT, "Viktor Hidden-Case", "7946"):
        assert secret not in page
    assert "2 other cases" not in page


@pytest.mark.django_db
def test_a_lead_filing_a_report_sees_the_suggestions_and_only_what_they_may_see(organization, team, history):
    client = log_in(Client(), team["lead"].user)
    response = file_report(
        client,
        organization,
        reported_name="Viktor V.",
        reported_screen_names="canary-hidden-contact@EXAMPLE.org",
        reported_badge_number="731",
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="receipt"' in page
    assert "Possibly the same person as in 1 other case." in page
    assert history["seen"].reference in page
    # Recused from the other match: told there are cases they cannot see and whom to ask, nothing more.
    assert "also in cases you cannot see" in page and "Omar Otherlead" in page
    assert_nothing_of(page, history["hidden"])


@pytest.mark.django_db
def test_a_staff_member_filing_a_report_learns_nothing_about_anyone(organization, team, history):
    client = log_in(Client(), team["staff"].user)
    response = file_report(client, organization, reported_screen_names=HIDDEN_CONTACT, reported_badge_number="731")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="receipt"' in page
    assert "Possibly the same person" not in page and "cannot see" not in page
    assert history["seen"].reference not in page
    assert_nothing_of(page, history["hidden"])


@pytest.mark.django_db
def test_naming_someone_in_a_case_shows_the_suggestions_for_them(organization, team, history):
    current, _ = report_case(organization, reported_name="Somebody Else")
    client = log_in(Client(), team["lead"].user)
    form = client.get(f"/desk/cases/{current.reference}/people/add/")
    assert form.status_code == 200
    response = client.post(
        f"/desk/cases/{current.reference}/people/add/",
        {"role": "witness", "name": "Vik", "identifiers": "+44 (0)20 7946 0958\nBadge 0731"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    party = CaseParty.objects.get(case=current, role="witness")
    assert party.person.code_name in page
    assert "Possibly the same person as in 1 other case." in page and history["seen"].reference in page
    assert "also in cases you cannot see" in page
    assert_nothing_of(page.replace("+44 (0)20 7946 0958", ""), history["hidden"])
    assert set(party.identifiers.values_list("kind", flat=True)) == {"name", "phone", "badge"}
    assert AuditEvent.objects.filter(action="person.named_in_case", case=current).exists()


@pytest.mark.django_db
def test_adding_what_a_party_is_known_by_shows_the_suggestions(organization, team, history):
    current, _ = report_case(organization, reported_name="Somebody Else")
    party = CaseParty.objects.get(case=current)
    client = log_in(Client(), team["responder"].user)
    url = f"/desk/cases/{current.reference}/people/{party.pk}/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"identifiers": f"{HIDDEN_CONTACT.upper()}\nbadge no. 731"})
    assert response.status_code == 200
    page = response.content.decode()
    # The responder may see both: an exact match in two other cases.
    assert "Possibly the same person as in 2 other cases." in page
    assert history["seen"].reference in page and history["hidden"].reference in page
    assert HIDDEN_STORY not in page


@pytest.mark.django_db
def test_bad_input_keeps_what_was_typed(organization, team):
    current, _ = report_case(organization, reported_name="Somebody Else")
    client = log_in(Client(), team["lead"].user)
    response = client.post(
        f"/desk/cases/{current.reference}/people/add/", {"role": "witness", "name": "", "identifiers": "x"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Give a name, an email" in page and ">\nx</textarea>" in page
    assert CaseParty.objects.filter(case=current).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["staff", "recused lead", "admin", "other organization"])
def test_who_may_not_name_people_in_the_case_gets_404_and_nothing_changes(organization, team, who):
    from tests.factories import OrganizationFactory

    current, _ = report_case(organization, reported_name="Somebody Else")
    party = CaseParty.objects.get(case=current)
    if who == "recused lead":
        actor = team["lead"]
        recusals.recuse(current, actor, reason=RecusalReason.FAMILY, source=RecusalSource.DECLARED, by=actor.user)
    elif who == "other organization":
        actor = member(OrganizationFactory(), "lead")
    else:
        actor = team["staff"] if who == "staff" else member(organization, "admin")
    before = (Person.objects.count(), Identifier.objects.count(), AuditEvent.objects.count())
    client = log_in(Client(), actor.user)
    add = f"/desk/cases/{current.reference}/people/add/"
    edit = f"/desk/cases/{current.reference}/people/{party.pk}/"
    assert client.get(add).status_code == 404 and client.get(edit).status_code == 404
    assert client.post(add, {"role": "witness", "name": "Zed Witness"}).status_code == 404
    assert client.post(edit, {"identifiers": "zed@example.org"}).status_code == 404
    assert (Person.objects.count(), Identifier.objects.count(), AuditEvent.objects.count()) == before
