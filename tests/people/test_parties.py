"""People from reports: each person a report names becomes a person of their own, sealed, matched by keyed hashes;
nothing is linked silently; responders link, separate and flag on the desk, audited, and outsiders get a 404."""

import pytest
from django.test import Client

from cocdesk.cases.domain import recusal as recusals
from cocdesk.cases.enums import RecusalReason, RecusalSource
from cocdesk.common.models import AuditEvent
from cocdesk.people.domain import registry
from cocdesk.people.domain.parties import named_people
from cocdesk.people.enums import IdentifierKind, PartyRole
from cocdesk.people.models import CaseParty, Identifier, Person
from cocdesk.sanctions.enums import SanctionKind
from cocdesk.sanctions.models import Sanction
from tests.factories import OrganizationFactory, member, report_case
from tests.team import log_in

REPORTED = {
    "reported_name": "Quentin Marlowe-Vask",
    "reported_nicknames": "Q, the Marlowe",
    "reported_screen_names": "Slack: @qvask\nhttps://github.com/QVask/",
    "reported_badge_number": "#00417",
    "reported_company": "Vask Widgets GmbH",
    "others_involved": "Witness: Ronja Teller, ronja.teller@example.org\na tall man in a red coat who stood by the bar",
}


def parties_of(case):
    return list(CaseParty.objects.filter(case=case).select_related("person").order_by("pk"))


def test_the_answers_name_the_reported_person_and_the_witness():
    people = named_people(REPORTED)
    assert [person.role for person in people] == [PartyRole.REPORTED, PartyRole.WITNESS]
    reported, witness = people
    assert reported.name == "Quentin Marlowe-Vask"
    kinds = [kind for kind, _value in reported.identifiers]
    assert kinds.count(IdentifierKind.HANDLE) == 2 and IdentifierKind.BADGE in kinds and IdentifierKind.COMPANY in kinds
    assert witness.name == "Ronja Teller"
    assert (IdentifierKind.EMAIL, "ronja.teller@example.org") in witness.identifiers
    # A line that only describes someone names nobody the registry could match.
    assert named_people({"others_involved": "a tall man in a red coat who stood by the bar all evening"}) == []
    assert named_people({"description": "Only the description."}) == []


@pytest.mark.django_db
def test_each_person_named_becomes_a_person_of_their_own_sealed(organization):
    case, _receipt = report_case(organization, **REPORTED)
    reported, witness = parties_of(case)
    assert (reported.role, witness.role) == (PartyRole.REPORTED, PartyRole.WITNESS)
    assert reported.person.code_name.startswith("P-") and reported.person_id != witness.person_id
    assert registry.person_name(reported.person) == "Quentin Marlowe-Vask"
    stored = Identifier.objects.filter(party=reported)
    assert stored.count() >= 6 and all(identifier.person_id == reported.person_id for identifier in stored)
    for identifier in stored:
        assert b"Quentin" not in bytes(identifier.sealed_value) and "vask" not in identifier.digest


@pytest.mark.django_db
def test_nothing_is_linked_silently(organization):
    first, _ = report_case(organization, **REPORTED)
    second, _ = report_case(organization, reported_name="quentin marlowe vask", reported_screen_names="Slack: qvask")
    (one, _witness), (other,) = parties_of(first), parties_of(second)
    assert one.person_id != other.person_id
    # They share keyed hashes: the case page suggests them; only a responder links them.
    assert set(one.person.identifiers.values_list("digest", flat=True)) & set(
        other.person.identifiers.values_list("digest", flat=True)
    )


@pytest.fixture
def linked_setup(organization):
    responder = member(organization, "responder")
    first, _ = report_case(organization, reported_name="Quentin Marlowe-Vask", reported_badge_number="417")
    second, _ = report_case(organization, reported_name="Quentin Marlowe Vask", reported_badge_number="0417")
    return responder, first, second


def link_url(case, party):
    return f"/desk/cases/{case.reference}/people/{party.pk}/link/"


@pytest.mark.django_db
def test_a_responder_links_a_suggestion_and_separates_it_again(organization, linked_setup):
    responder, first, second = linked_setup
    (earlier,), (later,) = parties_of(first), parties_of(second)
    Sanction.objects.create(
        organization=organization,
        person=later.person,
        kind=SanctionKind.VERBAL_WARNING,
        starts_at=earlier.person.created_at,
    )
    client = log_in(Client(), responder.user)
    page = client.get(f"/desk/cases/{second.reference}/").content.decode()
    assert "Possibly the same person as in 1 other case" in page and earlier.person.code_name in page

    response = client.post(link_url(second, later), {"person": earlier.person.code_name})
    assert response.status_code == 302
    later_person = Person.objects.get(pk=later.person_id)
    assert later_person.merged_into_id == earlier.person_id
    assert CaseParty.objects.get(pk=later.pk).person_id == earlier.person_id
    assert not Identifier.objects.filter(person=later_person).exists()
    assert Sanction.objects.get().person_id == earlier.person_id
    merged = AuditEvent.objects.get(action="person.merged")
    assert merged.actor == responder.user and merged.detail["kept"] == earlier.person.code_name
    page = client.get(f"/desk/cases/{second.reference}/").content.decode()
    assert "Linked to the same person in" in page and first.reference in page

    response = client.post(f"/desk/cases/{second.reference}/people/{later.pk}/split/")
    assert response.status_code == 302
    separated = CaseParty.objects.get(pk=later.pk).person
    assert separated.pk not in {earlier.person_id, later.person_id}
    assert set(Identifier.objects.filter(party=later).values_list("person_id", flat=True)) == {separated.pk}
    assert not Identifier.objects.filter(party=earlier, person=separated).exists()
    split = AuditEvent.objects.get(action="person.split")
    assert split.case == second and split.detail["separated"] == separated.code_name


@pytest.mark.django_db
def test_outsiders_and_recused_members_get_404_and_change_nothing(organization, linked_setup):
    responder, first, second = linked_setup
    (earlier,), (later,) = parties_of(first), parties_of(second)
    stranger = member(OrganizationFactory(), "lead")
    staff = member(organization, "staff")
    admin = member(organization, "admin")
    recused = member(organization, "lead")
    recusals.recuse(first, recused, reason=RecusalReason.CO_WORKER, source=RecusalSource.DECLARED, by=recused.user)
    for outsider in (stranger, staff, admin, recused):
        client = log_in(Client(), outsider.user)
        assert client.post(link_url(second, later), {"person": earlier.person.code_name}).status_code == 404
        if outsider != recused:  # who may see the second case may separate its party, when linked
            assert client.post(f"/desk/cases/{second.reference}/people/{later.pk}/split/").status_code == 404
        flag = f"/desk/orgs/{organization.slug}/people/{earlier.person.code_name}/"
        assert client.post(flag, {"reason": "Repeats."}).status_code == 404
        assert client.get(flag).status_code == 404
    assert not Person.objects.filter(merged_into__isnull=False).exists()
    assert CaseParty.objects.get(pk=later.pk).person_id == later.person_id
    assert not Person.objects.filter(flagged_at__isnull=False).exists()
    assert not AuditEvent.objects.filter(action__startswith="person.").exists()


@pytest.mark.django_db
def test_a_responder_flags_a_person_with_a_sealed_reason(organization, linked_setup):
    responder, first, _second = linked_setup
    (party,) = parties_of(first)
    client = log_in(Client(), responder.user)
    url = f"/desk/orgs/{organization.slug}/people/{party.person.code_name}/"
    refused = client.post(url, {"reason": "   "})
    assert refused.status_code == 200 and "Say why" in refused.content.decode()
    assert client.post(url, {"reason": "Followed two speakers to their hotel."}).status_code == 302
    person = Person.objects.get(pk=party.person_id)
    assert person.flagged_at and person.flagged_by == responder.user
    assert b"hotel" not in bytes(person.sealed_flag_reason)
    assert "Followed two speakers" in client.get(url).content.decode()
    flagged = AuditEvent.objects.get(action="person.flagged")
    assert flagged.detail == {"person": person.code_name} and flagged.actor == responder.user


@pytest.mark.django_db
def test_erasing_a_case_forgets_what_its_reports_said_about_people(organization):
    from cocdesk.cases.domain.keys import erase_case

    case, _ = report_case(organization, **REPORTED)
    kept, _ = report_case(organization, reported_name="Someone Else Entirely")
    erase_case(case)
    assert not CaseParty.objects.filter(case=case).exists()
    assert not Identifier.objects.filter(party__case=case).exists()
    assert Person.objects.filter(organization=organization).count() == 1
    assert CaseParty.objects.filter(case=kept).exists()
