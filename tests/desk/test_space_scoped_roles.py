"""Roles for some spaces only (the PSF's extra lead responders for particular gatherings and online fora): set on
the team page, and kept by every notification, page and recount of recused leads."""

import pytest
from django.test import Client

from cocdesk.cases.domain import recusal as recusals
from cocdesk.cases.enums import RecusalReason, RecusalSource
from cocdesk.cases.models import Case
from cocdesk.common.models import AuditEvent
from cocdesk.notify.models import Notification
from cocdesk.orgs.enums import SpaceKind
from tests.desk.test_org_admin import settings_payload
from tests.factories import OrganizationFactory, SpaceFactory, member, report_case
from tests.team import log_in


@pytest.fixture
def spaces(organization):
    return (
        SpaceFactory(organization=organization, name="PyNorth 2026", kind=SpaceKind.CONFERENCE),
        SpaceFactory(organization=organization, name="Community forum", kind=SpaceKind.ONLINE),
    )


def scoped(organization, role, *spaces):
    membership = member(organization, role)
    membership.spaces.add(*spaces)
    return membership


def declare(case, membership):
    return recusals.recuse(case, membership, reason=RecusalReason.CO_WORKER, source=RecusalSource.DECLARED)


def test_admin_scopes_a_member_to_spaces_on_the_team_page(client, organization, spaces):
    conference, forum = spaces
    admin = member(organization, "admin")
    responder = member(organization, "responder")
    log_in(client, admin.user)
    url = f"/desk/orgs/{organization.slug}/team/{responder.pk}/"
    client.post(url, {f"m{responder.pk}-roles": ["lead"], f"m{responder.pk}-spaces": [conference.pk], "action": "r"})
    responder.refresh_from_db()
    assert responder.is_lead and list(responder.spaces.all()) == [conference]
    event = AuditEvent.objects.filter(action="org.member_roles_changed").latest("pk")
    assert event.detail["spaces"] == ["PyNorth 2026"]
    page = client.get(f"/desk/orgs/{organization.slug}/team/").content.decode()
    assert "PyNorth 2026 only" in page

    # Unticking every space gives the roles back to the whole organization.
    client.post(url, {f"m{responder.pk}-roles": ["lead"], "action": "roles"})
    assert not responder.spaces.exists()


def test_a_space_of_another_organization_is_refused_and_changes_nothing(client, organization, spaces):
    admin = member(organization, "admin")
    responder = member(organization, "responder")
    elsewhere = SpaceFactory(organization=OrganizationFactory())
    log_in(client, admin.user)
    client.post(
        f"/desk/orgs/{organization.slug}/team/{responder.pk}/",
        {f"m{responder.pk}-roles": ["lead"], f"m{responder.pk}-spaces": [elsewhere.pk], "action": "roles"},
    )
    responder.refresh_from_db()
    assert not responder.is_lead and not responder.spaces.exists()


def test_a_new_report_notifies_the_space_team_and_the_organization_team_only(organization, spaces):
    conference, forum = spaces
    everywhere = member(organization, "responder")
    conference_lead = scoped(organization, "lead", conference)
    forum_lead = scoped(organization, "lead", forum)
    case, _receipt = report_case(organization, space=conference, ongoing="yes")
    told = set(Notification.objects.filter(case=case).values_list("recipient_id", "kind"))
    assert (everywhere.user_id, "new_report") in told
    assert (conference_lead.user_id, "new_report") in told
    assert (conference_lead.user_id, "urgent_page") in told
    assert not any(recipient == forum_lead.user_id for recipient, _kind in told)

    # A case without a space stays with the organization-wide team.
    unplaced, _receipt = report_case(organization)
    recipients = set(Notification.objects.filter(case=unplaced).values_list("recipient_id", flat=True))
    assert recipients == {everywhere.user_id}


def test_debrief_and_set_aside_mail_follow_the_scope(organization, spaces):
    conference, forum = spaces
    other_conference = SpaceFactory(organization=organization, name="PyNorth 2027", kind=SpaceKind.CONFERENCE)
    conference_lead = scoped(organization, "lead", conference)
    organization_lead = member(organization, "lead")
    client = log_in(Client(), conference_lead.user)
    assert client.get(f"/desk/spaces/{conference.pk}/debrief/").status_code == 200
    assert client.get(f"/desk/spaces/{other_conference.pk}/debrief/").status_code == 404
    assert client.get(f"/desk/orgs/{organization.slug}/set-aside/").status_code == 404
    queue = client.get("/desk/").content.decode()
    assert "Debrief of PyNorth 2026" in queue and "Debrief of PyNorth 2027" not in queue
    assert "Mail set aside" not in queue
    assert log_in(Client(), organization_lead.user).get(f"/desk/orgs/{organization.slug}/set-aside/").status_code == 200


def test_promoting_a_recused_member_to_lead_recounts_and_brings_in_the_fallback(client, organization):
    fallback = member(organization, "fallback")
    admin = member(organization, "admin")
    case, _receipt = report_case(organization)
    for _ in range(organization.recusal_threshold):
        declare(case, member(organization, "lead"))
    recused_responder = member(organization, "responder")
    declare(case, recused_responder)
    assert not Case.objects.get(pk=case.pk).under_fallback

    log_in(client, admin.user)
    client.post(
        f"/desk/orgs/{organization.slug}/team/{recused_responder.pk}/",
        {f"m{recused_responder.pk}-roles": ["lead"], "action": "roles"},
    )
    assert Case.objects.get(pk=case.pk).under_fallback
    assert Notification.objects.filter(case=case, recipient=fallback.user, kind="fallback_engaged").count() == 1
    assert log_in(Client(), fallback.user).get(f"/desk/cases/{case.reference}/").status_code == 200


def test_lowering_the_threshold_recounts_cases_with_recused_leads(client, organization):
    fallback = member(organization, "fallback")
    admin = member(organization, "admin")
    case, _receipt = report_case(organization)
    declare(case, member(organization, "lead"))
    untouched, _receipt = report_case(organization)
    assert not Case.objects.get(pk=case.pk).under_fallback

    log_in(client, admin.user)
    response = client.post(
        f"/desk/orgs/{organization.slug}/settings/", settings_payload(organization, recusal_threshold=0)
    )
    assert response.status_code == 302
    assert Case.objects.get(pk=case.pk).under_fallback
    assert not Case.objects.get(pk=untouched.pk).under_fallback
    assert Notification.objects.filter(case=case, recipient=fallback.user, kind="fallback_engaged").exists()

    # Raising it again hands the case back to the leads.
    client.post(f"/desk/orgs/{organization.slug}/settings/", settings_payload(organization, recusal_threshold=2))
    assert not Case.objects.get(pk=case.pk).under_fallback
    assert log_in(Client(), fallback.user).get(f"/desk/cases/{case.reference}/").status_code == 404
