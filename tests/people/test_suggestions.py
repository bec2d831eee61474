"""Suggestions on the case page: "possibly the same person as in N other cases", with the history the member may
see. Exact matches come from the keyed hashes; similar names are only "possible", marked. A member recused from a
case learns nothing of it but that there are cases they cannot see, and which lead to ask."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cocdesk.cases.domain import recusal as recusals
from cocdesk.cases.enums import Finding, RecusalReason, RecusalSource
from cocdesk.people.domain.suggestions import case_people
from cocdesk.people.models import CaseParty
from cocdesk.sanctions.enums import DecisionRule, SanctionKind
from cocdesk.sanctions.models import Decision, Sanction
from tests.factories import member, report_case
from tests.team import log_in

HIDDEN_STORY = "Canary-Hidden-9f2e: he cornered me in the stairwell."


def person_of(case):
    return CaseParty.objects.get(case=case).person


def decide(case, person, finding=Finding.VIOLATION, kind=SanctionKind.NO_CONTACT):
    decision = Decision.objects.create(
        case=case, finding=finding, rule=DecisionRule.TWO_AGREE, sealed_rationale=b"x", decided_at=timezone.now()
    )
    decision.subjects.add(person)
    return Sanction.objects.create(
        organization=case.organization, person=person, decision=decision, kind=kind, starts_at=timezone.now()
    )


@pytest.fixture
def history(organization):
    """A case the responder is recused from (made first, with a decision and a sanction), one they may see with a
    decision, the case being read, and one naming someone with a similar name only."""
    lead = member(organization, "lead", display_name="Lena Lead")
    responder = member(organization, "responder", display_name="Rory Responder")
    hidden, _ = report_case(
        organization, description=HIDDEN_STORY, reported_name="Quentin Marlowe-Vask", reported_badge_number="417"
    )
    recusals.recuse(hidden, responder, reason=RecusalReason.FAMILY, source=RecusalSource.DECLARED, by=responder.user)
    hidden_sanction = decide(hidden, person_of(hidden), kind=SanctionKind.IMPOSED_VACATION)
    seen, _ = report_case(organization, reported_name="quentin marlowe vask", reported_company="Vask Widgets")
    decide(seen, person_of(seen), kind=SanctionKind.VERBAL_WARNING)
    similar, _ = report_case(organization, reported_name="Quentin Marlow-Vask")
    current, _ = report_case(organization, reported_name="Quentin Marlowe-Vask", reported_badge_number="#0417")
    return {
        "lead": lead,
        "responder": responder,
        "hidden": hidden,
        "hidden_sanction": hidden_sanction,
        "seen": seen,
        "similar": similar,
        "current": current,
    }


@pytest.mark.django_db
def test_a_recused_member_sees_only_that_there_are_cases_they_cannot_see(history):
    responder, current, hidden = history["responder"], history["current"], history["hidden"]
    (view,) = case_people(current, responder.user)
    assert view.suggested_cases == 1
    assert [case.pk for match in view.exact for case in match.cases] == [history["seen"].pk]
    assert view.has_hidden_matches and view.leads_to_ask_about_matches == ["Lena Lead"]
    shown = {match.person.pk for match in view.matches}
    assert person_of(hidden).pk not in shown

    page = log_in(Client(), responder.user).get(f"/desk/cases/{current.reference}/").content.decode()
    assert "Possibly the same person as in 1 other case." in page
    assert "also in cases you cannot see" in page and "Ask Lena Lead." in page
    for leak in (hidden.reference, person_of(hidden).code_name, HIDDEN_STORY, "vacation"):
        assert leak not in page
    assert history["hidden_sanction"].get_kind_display() not in page
    # No count of the hidden cases anywhere: the only number of cases is the visible one.
    assert re.findall(r"in (\d+) other case", page) == ["1"]


@pytest.mark.django_db
def test_a_lead_who_may_see_everything_sees_every_case_and_its_history(history):
    lead, current = history["lead"], history["current"]
    (view,) = case_people(current, lead.user)
    assert view.suggested_cases == 2 and not view.has_hidden_matches
    findings = [found["case"].pk for match in view.exact for found in match.findings]
    assert sorted(findings) == sorted([history["hidden"].pk, history["seen"].pk])
    kinds = {sanction.kind for match in view.exact for sanction in match.sanctions}
    assert kinds == {SanctionKind.IMPOSED_VACATION, SanctionKind.VERBAL_WARNING}
    page = log_in(Client(), lead.user).get(f"/desk/cases/{current.reference}/").content.decode()
    assert "Possibly the same person as in 2 other cases." in page
    assert history["hidden"].reference in page and "Same person: link" in page


@pytest.mark.django_db
def test_similar_names_are_only_possible_and_marked(history):
    current, similar = history["current"], history["similar"]
    (view,) = case_people(current, history["lead"].user)
    assert [match.person.pk for match in view.possible] == [person_of(similar).pk]
    assert person_of(similar).pk not in {match.person.pk for match in view.exact}
    page = log_in(Client(), history["lead"].user).get(f"/desk/cases/{current.reference}/").content.decode()
    assert "Possible, not certain:" in page and "possible match by name" in page


@pytest.mark.django_db
def test_a_member_recused_from_a_persons_case_cannot_link_it(history):
    responder, current, hidden = history["responder"], history["current"], history["hidden"]
    party = CaseParty.objects.get(case=current)
    url = f"/desk/cases/{current.reference}/people/{party.pk}/link/"
    client = log_in(Client(), responder.user)
    assert client.post(url, {"person": person_of(hidden).code_name}).status_code == 404
    assert CaseParty.objects.get(pk=party.pk).person_id == party.person_id
    # A person whose every case they may see, they may link.
    assert client.post(url, {"person": person_of(history["seen"]).code_name}).status_code == 302
    assert CaseParty.objects.get(pk=party.pk).person_id == person_of(history["seen"]).pk


@pytest.mark.django_db
def test_the_case_page_runs_the_same_queries_whatever_the_matches(organization):
    lead = member(organization, "lead")
    counts = []
    for size in (1, 4):
        for _ in range(size):
            report_case(organization, reported_name=f"Matched Person {size}", reported_badge_number=f"{size}00")
        current, _ = report_case(
            organization, reported_name=f"Matched Person {size}", reported_badge_number=f"{size}00"
        )
        client = log_in(Client(), lead.user)
        client.get(f"/desk/cases/{current.reference}/")
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/desk/cases/{current.reference}/").status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]
