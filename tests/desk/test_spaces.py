"""Organization admins add, edit, archive and restore spaces; an archived space keeps its cases and is no longer
offered for new reports. Anyone else gets 404 and changes nothing."""

from datetime import date

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cocdesk.common.models import AuditEvent
from cocdesk.orgs.enums import Platform, SpaceKind
from cocdesk.orgs.models import Space
from tests.factories import OrganizationFactory, SpaceFactory, member, report_case
from tests.pages import parse
from tests.team import log_in

CONFERENCE = {
    "name": "PyNorth 2026",
    "kind": "conference",
    "platform": "",
    "starts_on": "2026-06-12",
    "ends_on": "2026-06-14",
    "venue": "Harbour Congress Centre",
}


@pytest.fixture
def admin(organization):
    return member(organization, "admin", username="ada")


@pytest.fixture
def admin_client(client, admin):
    return log_in(client, admin.user)


def spaces_url(organization, *rest):
    return "/".join([f"/desk/orgs/{organization.slug}/spaces", *map(str, rest)]) + "/"


def space_choices(content):
    """The names a form offers in its space list."""
    (select,) = [element for element in parse(content).find_all("select") if element.attrs.get("name") == "space"]
    return {option.text() for option in select.find_all("option") if option.attrs.get("value")}


def snapshot():
    return list(Space.objects.order_by("pk").values()), AuditEvent.objects.count()


# --- adding, editing, archiving ---------------------------------------------------------------------------------


def test_admin_adds_a_conference_a_meetup_and_an_online_space(admin_client, organization):
    assert admin_client.post(spaces_url(organization), CONFERENCE).status_code == 302
    meetup = {"name": "Monthly meetup", "kind": "meetup", "venue": "Public library, room 2"}
    assert admin_client.post(spaces_url(organization), meetup).status_code == 302
    online = {"name": "Community forum", "kind": "online", "platform": "forum"}
    assert admin_client.post(spaces_url(organization), online).status_code == 302

    conference = organization.spaces.get(name="PyNorth 2026")
    assert (conference.kind, conference.starts_on, conference.ends_on, conference.venue) == (
        SpaceKind.CONFERENCE,
        date(2026, 6, 12),
        date(2026, 6, 14),
        "Harbour Congress Centre",
    )
    assert organization.spaces.get(name="Monthly meetup").kind == SpaceKind.MEETUP
    assert organization.spaces.get(name="Community forum").platform == Platform.FORUM
    added = AuditEvent.objects.filter(action="org.space_added", organization=organization)
    assert sorted(event.detail["name"] for event in added) == ["Community forum", "Monthly meetup", "PyNorth 2026"]
    assert {event.actor_label for event in added} == {"ada"}

    page = admin_client.get(spaces_url(organization)).content.decode()
    assert "Harbour Congress Centre" in page and "12 Jun 2026 to 14 Jun 2026" in page and "Forum" in page


def test_admin_edits_a_space(admin_client, organization, space):
    url = spaces_url(organization, space.pk)
    form_page = admin_client.get(url).content.decode()
    assert f'value="{space.name}"' in form_page
    response = admin_client.post(url, {**CONFERENCE, "name": "Main conference 2026", "venue": "Old Town Hall"})
    assert response.status_code == 302
    space.refresh_from_db()
    assert (space.name, space.venue, space.starts_on) == ("Main conference 2026", "Old Town Hall", date(2026, 6, 12))
    event = AuditEvent.objects.get(action="org.space_changed")
    assert event.detail["previous_name"] == "Main conference"
    assert event.detail["fields"] == ["ends_on", "name", "starts_on", "venue"]


def test_saving_an_unchanged_space_records_nothing(admin_client, organization):
    space = SpaceFactory(organization=organization, name="Forum", kind=SpaceKind.ONLINE, platform=Platform.FORUM)
    before = snapshot()
    data = {"name": "Forum", "kind": "online", "platform": "forum"}
    assert admin_client.post(spaces_url(organization, space.pk), data).status_code == 302
    assert snapshot() == before


def test_admin_archives_and_restores_a_space(admin_client, organization, space):
    url = spaces_url(organization, space.pk, "archive")
    assert admin_client.post(url, {"action": "archive"}).status_code == 302
    space.refresh_from_db()
    assert not space.is_active
    assert "(archived)" in admin_client.get(spaces_url(organization)).content.decode()
    assert admin_client.post(url, {"action": "restore"}).status_code == 302
    space.refresh_from_db()
    assert space.is_active
    actions = list(AuditEvent.objects.filter(organization=organization).order_by("pk").values_list("action", flat=True))
    assert actions[-2:] == ["org.space_archived", "org.space_restored"]


# --- validation --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"starts_on": "", "ends_on": ""}, "A conference needs its first day."),
        ({"ends_on": ""}, "A conference needs its last day."),
        ({"starts_on": "2026-06-14", "ends_on": "2026-06-12"}, "The last day cannot be before the first day."),
        ({"kind": "online", "starts_on": "", "ends_on": ""}, "Choose the platform of this online space"),
        ({"starts_on": "14 Juni"}, "Enter a valid date."),
        ({"name": "main CONFERENCE"}, "This organization already has a space called “main CONFERENCE”"),
    ],
    ids=["no-dates", "no-end", "end-before-start", "online-without-platform", "bad-date", "name-taken"],
)
def test_bad_input_is_refused_and_keeps_what_was_typed(admin_client, organization, space, changes, message):
    before = snapshot()
    data = {**CONFERENCE, "venue": "Typed venue 42", **changes}
    response = admin_client.post(spaces_url(organization), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert "Typed venue 42" in page and f'value="{data["name"]}"' in page
    assert snapshot() == before


def test_renaming_to_another_spaces_name_is_refused(admin_client, organization, space):
    other = SpaceFactory(organization=organization, name="Online forum", kind=SpaceKind.ONLINE, platform="forum")
    before = snapshot()
    data = {"name": "Main Conference", "kind": "online", "platform": "forum"}
    response = admin_client.post(spaces_url(organization, other.pk), data)
    assert "already has a space called “Main Conference”" in response.content.decode()
    assert snapshot() == before


def test_the_same_name_in_another_organization_is_fine(admin_client, organization):
    SpaceFactory(organization=OrganizationFactory(), name="PyNorth 2026")
    assert admin_client.post(spaces_url(organization), CONFERENCE).status_code == 302


# --- who may ------------------------------------------------------------------------------------------------------


def denied_requests(client, organization, space):
    return [
        client.get(spaces_url(organization)),
        client.get(spaces_url(organization, space.pk)),
        client.post(spaces_url(organization), CONFERENCE),
        client.post(spaces_url(organization, space.pk), {**CONFERENCE, "name": "Renamed"}),
        client.post(spaces_url(organization, space.pk, "archive"), {"action": "archive"}),
    ]


@pytest.mark.parametrize("role", ["staff", "responder", "lead", "fallback"])
def test_other_members_get_404_and_change_nothing(client, organization, space, role):
    log_in(client, member(organization, role).user)
    before = snapshot()
    assert {response.status_code for response in denied_requests(client, organization, space)} == {404}
    assert snapshot() == before


def test_the_admin_of_another_organization_gets_404_and_changes_nothing(client, organization, space):
    log_in(client, member(OrganizationFactory(), "admin").user)
    before = snapshot()
    assert {response.status_code for response in denied_requests(client, organization, space)} == {404}
    assert snapshot() == before


def test_a_space_of_another_organization_is_404_through_ones_own(admin_client, organization):
    elsewhere = SpaceFactory(organization=OrganizationFactory(), name="Their space")
    before = snapshot()
    assert admin_client.get(spaces_url(organization, elsewhere.pk)).status_code == 404
    assert admin_client.post(spaces_url(organization, elsewhere.pk), CONFERENCE).status_code == 404
    assert admin_client.post(spaces_url(organization, elsewhere.pk, "archive"), {}).status_code == 404
    assert snapshot() == before


def test_without_a_login_nothing_changes(organization, space):
    before = snapshot()
    response = Client().post(spaces_url(organization, space.pk, "archive"), {"action": "archive"})
    assert response.status_code == 302 and response["Location"].startswith("/desk/login/")
    assert snapshot() == before


# --- archived spaces in the rest of the product ------------------------------------------------------------------


def test_an_archived_space_keeps_its_cases_and_leaves_the_report_forms(admin_client, organization, space):
    SpaceFactory(organization=organization, name="Still running", starts_on=date(2026, 1, 1))
    case, _receipt = report_case(organization, description="At the old conference.", space=space)
    admin_client.post(spaces_url(organization, space.pk, "archive"), {"action": "archive"})

    public_form = Client().get(f"/report/{organization.slug}/").content
    assert space_choices(public_form) == {"Still running"}
    staff = log_in(Client(), member(organization, "staff").user)
    assert space_choices(staff.get(f"/desk/orgs/{organization.slug}/file-report/").content) == {"Still running"}

    case.refresh_from_db()
    assert case.space == space
    lead = log_in(Client(), member(organization, "lead").user)
    case_page = lead.get(f"/desk/cases/{case.reference}/").content
    assert "Main conference" in parse(case_page).find("dl").text()
    # The triage form of that case still offers its own space, and no other archived one.
    SpaceFactory(organization=organization, name="Another old one", is_active=False)
    assert space_choices(case_page) == {"Still running", "Main conference"}


def test_a_role_limited_to_an_archived_space_stays_limited_when_roles_are_saved(admin_client, organization, space):
    responder = member(organization, "responder")
    responder.spaces.set([space])
    admin_client.post(spaces_url(organization, space.pk, "archive"), {"action": "archive"})
    team_page = admin_client.get(f"/desk/orgs/{organization.slug}/team/").content.decode()
    assert f'name="m{responder.pk}-spaces" value="{space.pk}"' in team_page
    admin_client.post(
        f"/desk/orgs/{organization.slug}/team/{responder.pk}/",
        {f"m{responder.pk}-roles": ["responder", "fallback"], f"m{responder.pk}-spaces": [space.pk], "action": "roles"},
    )
    responder.refresh_from_db()
    assert responder.is_fallback
    assert list(responder.spaces.all()) == [space]


def test_admin_pages_link_to_the_spaces(admin_client, organization):
    page = admin_client.get(f"/desk/orgs/{organization.slug}/settings/").content.decode()
    assert f'href="/desk/orgs/{organization.slug}/spaces/"' in page


# --- cost ----------------------------------------------------------------------------------------------------------


def spaces_page_queries(count):
    organization = OrganizationFactory()
    for n in range(count):
        SpaceFactory(organization=organization, is_active=n % 2 == 0, venue=f"Venue {n}", starts_on=date(2026, 1, 1))
    client = log_in(Client(), member(organization, "admin").user)
    client.get(spaces_url(organization))  # warm: the session's first save
    with CaptureQueriesContext(connection) as captured:
        response = client.get(spaces_url(organization))
    assert response.status_code == 200
    return len(captured)


def test_the_spaces_page_costs_the_same_with_one_space_or_many(db):
    assert spaces_page_queries(1) == spaces_page_queries(8)
