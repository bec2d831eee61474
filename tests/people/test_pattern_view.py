"""The pattern view: a person's timeline of the cases the member may see, findings, warnings and sanctions, and the
playbook's expulsion guidelines; the organization's people in more than one case, paged. Responders and leads only;
constant queries."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cocdesk.cases.domain import recusal as recusals
from cocdesk.cases.enums import Finding, RecusalReason, RecusalSource
from cocdesk.people.domain.links import link_party
from cocdesk.people.models import CaseParty
from cocdesk.sanctions.enums import DecisionRule, SanctionKind
from cocdesk.sanctions.models import Decision, Sanction
from tests.factories import OrganizationFactory, member, report_case
from tests.team import log_in

HIDDEN_STORY = "Canary-Pattern-51aa: he grabbed my arm at the door."


def party_of(case):
    return CaseParty.objects.select_related("person", "case").get(case=case)


def warn(organization, person, kind=SanctionKind.VERBAL_WARNING, case=None, finding=Finding.VIOLATION):
    decision = None
    if case is not None:
        decision = Decision.objects.create(
            case=case, finding=finding, rule=DecisionRule.TWO_AGREE, sealed_rationale=b"x", decided_at=timezone.now()
        )
        decision.subjects.add(person)
    return Sanction.objects.create(
        organization=organization, person=person, decision=decision, kind=kind, starts_at=timezone.now()
    )


def one_person_in(organization, lead, count, name):
    """``count`` cases naming one person, linked by ``lead``; returns (person, cases)."""
    cases = [report_case(organization, reported_name=name)[0] for _ in range(count)]
    first = party_of(cases[0])
    for case in cases[1:]:
        link_party(party_of(case), first.person, by=lead.user)
    return party_of(cases[0]).person, cases


@pytest.fixture
def pattern(organization):
    lead = member(organization, "lead", display_name="Lena Lead")
    responder = member(organization, "responder")
    hidden, _ = report_case(organization, description=HIDDEN_STORY, reported_name="Ivo Pattern-Person")
    recusals.recuse(hidden, responder, reason=RecusalReason.FAMILY, source=RecusalSource.DECLARED, by=responder.user)
    person, cases = one_person_in(organization, lead, 3, "Ivo Pattern-Person")
    link_party(party_of(hidden), person, by=lead.user)
    person = party_of(hidden).person  # the earlier of the two is kept
    warn(organization, person)
    warn(organization, person, kind=SanctionKind.PRIVATE_REPRIMAND)
    warn(organization, person, kind=SanctionKind.IMPOSED_VACATION, case=hidden)
    warn(organization, person, kind=SanctionKind.NO_CONTACT, case=cases[1])
    return {"lead": lead, "responder": responder, "person": person, "cases": cases, "hidden": hidden}


def person_url(organization, person):
    return f"/desk/orgs/{organization.slug}/people/{person.code_name}/"


@pytest.mark.django_db
def test_a_persons_timeline_and_the_guidelines_applied(organization, pattern):
    page = log_in(Client(), pattern["lead"].user).get(person_url(organization, pattern["person"]))
    text = page.content.decode()
    assert page.status_code == 200
    for case in [*pattern["cases"], pattern["hidden"]]:
        assert case.reference in text
    assert "Verbal warning" in text and "Private reprimand" in text and "Imposed vacation" in text
    assert "A third offence that resulted in a warning from staff" in text and "the history shows it" in text
    assert "Ivo Pattern-Person" in text  # the name as the reports the lead may see give it


@pytest.mark.django_db
def test_a_recused_member_sees_no_count_or_content_of_the_cases_they_are_recused_from(organization, pattern):
    responder, hidden = pattern["responder"], pattern["hidden"]
    text = log_in(Client(), responder.user).get(person_url(organization, pattern["person"])).content.decode()
    for case in pattern["cases"]:
        assert case.reference in text
    assert hidden.reference not in text and HIDDEN_STORY not in text and "Imposed vacation" not in text
    assert "cases about this person that you cannot see: ask Lena Lead" in text
    listing = log_in(Client(), responder.user).get(f"/desk/orgs/{organization.slug}/people/").content.decode()
    assert pattern["person"].code_name in listing
    assert '<td data-label="Cases">3</td>' in listing  # the three it may see, not four


@pytest.mark.django_db
def test_only_responders_and_leads_reach_the_people_pages(organization, pattern):
    urls = [f"/desk/orgs/{organization.slug}/people/", person_url(organization, pattern["person"])]
    outsiders = [
        member(organization, "staff"),
        member(organization, "admin"),
        member(organization, "fallback"),
        member(OrganizationFactory(), "lead"),
    ]
    for outsider in outsiders:
        client = log_in(Client(), outsider.user)
        for url in urls:
            assert client.get(url).status_code == 404
    # A person whose every case the member may not see is a 404 too.
    alone, _ = report_case(organization, reported_name="Only In Hidden")
    recusals.recuse(
        alone, pattern["responder"], reason=RecusalReason.FAMILY, source=RecusalSource.DECLARED, by=pattern["lead"].user
    )
    client = log_in(Client(), pattern["responder"].user)
    assert client.get(person_url(organization, party_of(alone).person)).status_code == 404


@pytest.mark.django_db
def test_the_people_pages_run_the_same_queries_whatever_the_history(organization):
    lead = member(organization, "lead")
    counts = {"list": [], "person": []}
    for size in (2, 5):
        person, cases = one_person_in(organization, lead, size, f"Repeat Person {size}")
        for case in cases:
            warn(organization, person, case=case)
        one_person_in(organization, lead, size, f"Another Person {size}")
        client = log_in(Client(), lead.user)
        for name, url in (
            ("list", f"/desk/orgs/{organization.slug}/people/"),
            ("person", person_url(organization, person)),
        ):
            client.get(url)
            with CaptureQueriesContext(connection) as captured:
                assert client.get(url).status_code == 200
            counts[name].append(len(captured))
    assert counts["list"][0] == counts["list"][1]
    assert counts["person"][0] == counts["person"][1]


@pytest.mark.django_db
def test_the_list_pages_by_fifty(organization, settings):
    from cocdesk.people.domain import patterns

    lead = member(organization, "lead")
    for number in range(3):
        one_person_in(organization, lead, 2, f"Paged Person {number}")
    original = patterns.PAGE_SIZE
    patterns.PAGE_SIZE = 2
    try:
        client = log_in(Client(), lead.user)
        first = client.get(f"/desk/orgs/{organization.slug}/people/").content.decode()
        second = client.get(f"/desk/orgs/{organization.slug}/people/?page=2").content.decode()
    finally:
        patterns.PAGE_SIZE = original
    assert first.count('data-label="Person"') == 2 and 'rel="next"' in first
    assert second.count('data-label="Person"') == 1 and 'rel="prev"' in second
