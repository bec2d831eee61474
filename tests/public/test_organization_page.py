"""The organization's public page: every way to reach the team, the contacts for a conflict of interest, and the
home page that lists only the organizations that chose to be listed."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cocdesk.orgs.models import ConflictContact
from tests.factories import OrganizationFactory, member
from tests.pages import inline_code, parse


def add_contact(organization, name, address, description="", is_active=True):
    return ConflictContact.objects.create(
        organization=organization,
        name=name,
        intake_address=address,
        description=description,
        is_active=is_active,
    )


@pytest.fixture
def conference(db):
    return OrganizationFactory(
        name="PyNorth Conference",
        slug="pynorth",
        reporting_email="conduct@pynorth.example",
        coc_url="https://pynorth.example/code-of-conduct",
        emergency_number="112",
        non_emergency_number="+44 101",
        crisis_line="Samaritans 116 123",
        emergency_guidance="Venue security is at the main entrance.",
        is_listed=True,
        public_intro="We look after PyNorth 2026 and the PyNorth Slack.",
        reporting_phone="+44 20 7946 0123",
        in_person_contacts="Volunteers in yellow lanyards at the registration desk.",
    )


def page_of(client, organization):
    response = client.get(f"/o/{organization.slug}/")
    assert response.status_code == 200
    return response.content.decode()


def links(content):
    return {a.attrs.get("href"): a.text() for a in parse(content).find_all("a")}


def test_the_page_shows_every_way_to_report(client, conference):
    content = page_of(client, conference)
    found = links(content)
    assert found["/report/pynorth/"] == "Report online"
    assert found["mailto:conduct@pynorth.example"] == "conduct@pynorth.example"
    assert found["tel:+442079460123"] == "+44 20 7946 0123"
    assert found["https://pynorth.example/code-of-conduct"].startswith("Read the Code of Conduct")
    assert found["/follow-up/"] == "Follow up with your receipt"
    text = parse(content).text()
    assert "Volunteers in yellow lanyards at the registration desk." in text
    assert "We look after PyNorth 2026 and the PyNorth Slack." in text
    assert inline_code(content) == []


def test_the_emergency_guidance_comes_before_the_ways_to_report(client, conference):
    content = page_of(client, conference)
    emergency = parse(content).find("section", "emergency").text()
    for words in ["112", "+44 101", "Samaritans 116 123", "Venue security is at the main entrance."]:
        assert words in emergency
    assert content.index('class="emergency"') < content.index('id="ways-to-report"')


def test_ways_not_set_up_are_left_out(client, db):
    organization = OrganizationFactory(reporting_email="", coc_url="", reporting_phone="", in_person_contacts="")
    content = page_of(client, organization)
    hrefs = set(links(content))
    assert f"/report/{organization.slug}/" in hrefs
    assert not any(href.startswith(("mailto:", "tel:")) for href in hrefs)
    for heading in ["By email", "By phone", "In person"]:
        assert heading not in content


def test_active_conflict_contacts_with_name_and_address_and_no_retired_ones(client, conference):
    add_contact(
        conference,
        "The conference chairs",
        "chairs@pynorth.example",
        "Write here if your report concerns a member of the CoC team.",
    )
    add_contact(conference, "Board of PyNorth", "board@pynorth.example")
    add_contact(conference, "Retired contact", "retired@pynorth.example", is_active=False)
    content = page_of(client, conference)

    items = [li.text() for li in parse(content).find("ul", "conflict-contacts").find_all("li")]
    assert items == [
        "Board of PyNorth : board@pynorth.example",
        "The conference chairs : chairs@pynorth.example Write here if your report concerns a member of the CoC team.",
    ]
    assert links(content)["mailto:chairs@pynorth.example"] == "chairs@pynorth.example"
    assert "Retired contact" not in content and "retired@pynorth.example" not in content


def test_another_organizations_contacts_are_not_shown(client, conference):
    other = OrganizationFactory()
    add_contact(other, "Other chairs", "chairs@other.example")
    content = page_of(client, conference)
    assert "Other chairs" not in content and "chairs@other.example" not in content
    assert parse(content).find("ul", "conflict-contacts") is None


def test_no_team_member_is_named_except_the_contacts(client, conference):
    names = {
        role: member(conference, role, display_name=f"Hidden {role.title()} Person").display_name
        for role in ["staff", "responder", "lead", "admin", "fallback"]
    }
    usernames = [membership.user.username for membership in conference.memberships.all()]
    add_contact(conference, "Chris Chair", "chris@pynorth.example")
    content = page_of(client, conference)
    assert "Chris Chair" in content
    for leaked in [*names.values(), *usernames]:
        assert leaked not in content


def test_admin_text_is_escaped(client, db):
    hostile = '<script>alert("x")</script><b onmouseover="steal()">bold</b>'
    organization = OrganizationFactory(
        name=f"Org {hostile}",
        public_intro=f"Intro {hostile}\nsecond line",
        in_person_contacts=f"In person {hostile}",
        emergency_guidance=f"Guidance {hostile}",
    )
    add_contact(organization, f"Contact {hostile}", "contact@hostile.example", f"About {hostile}")
    content = page_of(client, organization)
    assert "<script>" not in content and "<b " not in content
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in content
    assert inline_code(content) == []
    # Line breaks the admin typed survive, as <br>, without opening the door to markup.
    assert "Intro &lt;script&gt;" in content and "<br>second line" in content


def test_unknown_slug_is_not_found(client, conference):
    assert client.get("/o/no-such-organization/").status_code == 404


def test_the_report_form_links_back_to_the_page(client, conference):
    content = client.get("/report/pynorth/").content.decode()
    assert links(content)["/o/pynorth/"] == "Other ways to reach the team"


def test_the_home_page_lists_only_listed_organizations(client, conference):
    unlisted = OrganizationFactory(name="Quiet Meetup", slug="quiet-meetup", is_listed=False)
    content = client.get("/").content.decode()
    listed = {a.attrs["href"]: a.text() for a in parse(content).find("ul", "org-list").find_all("a")}
    assert listed == {"/o/pynorth/": "PyNorth Conference"}
    assert "Quiet Meetup" not in content
    # Unlisted, the page and the form still answer to those who have their address.
    assert "Quiet Meetup" in page_of(client, unlisted)
    assert client.get("/report/quiet-meetup/").status_code == 200


def test_a_new_organization_is_not_listed_until_it_chooses_to_be(db):
    assert OrganizationFactory().is_listed is False


def queries_for(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_public_page_costs_the_same_with_one_contact_or_several(client, db):
    one, several = OrganizationFactory(), OrganizationFactory()
    add_contact(one, "Chairs", "chairs@one.example", "Conference chairs.")
    for n in range(6):
        add_contact(several, f"Chair {n}", f"chair{n}@several.example", "Conference chairs.")
    add_contact(several, "Retired", "retired@several.example", is_active=False)
    assert queries_for(client, f"/o/{one.slug}/") == queries_for(client, f"/o/{several.slug}/")


def test_the_home_page_costs_the_same_with_one_organization_or_several(client, db):
    OrganizationFactory(is_listed=True)
    with_one = queries_for(client, "/")
    for _ in range(5):
        OrganizationFactory(is_listed=True)
    OrganizationFactory(is_listed=False)
    assert queries_for(client, "/") == with_one


def test_the_demo_organizations_are_listed_with_a_phone_line_and_people_at_events(client, db):
    from django.core.management import call_command

    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115 - the command's output is not needed
    content = client.get("/").content.decode()
    assert {"/o/pynorth/", "/o/pycommunity/"} <= set(links(content))
    for slug in ["pynorth", "pycommunity"]:
        page = client.get(f"/o/{slug}/").content.decode()
        assert any(href.startswith("tel:+") for href in links(page))
        assert "volunteers in yellow lanyards at the registration desk" in page.lower()
