"""The organization admin edits the public page: saved and audited together, refused input keeps what was
typed, and nobody but an admin reaches the editor."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cocdesk.common.models import AuditEvent
from cocdesk.orgs.models import ConflictContact, Organization
from tests.factories import member
from tests.pages import input_value, parse
from tests.team import log_in


@pytest.fixture
def admin(organization):
    return member(organization, "admin", username="ada")


@pytest.fixture
def admin_client(client, admin):
    return log_in(client, admin.user)


@pytest.fixture
def chairs(organization):
    return ConflictContact.objects.create(
        organization=organization, name="The conference chairs", intake_address="chairs@community.example"
    )


def editor_url(organization):
    return f"/desk/orgs/{organization.slug}/public-page/"


def payload(**changes):
    data = {
        "is_listed": "on",
        "public_intro": "We look after the spring meetup.",
        "reporting_phone": "+44 20 7946 0123",
        "in_person_contacts": "Volunteers in yellow lanyards at the registration desk.",
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def page_state(organization):
    organization = Organization.objects.get(pk=organization.pk)
    contacts = list(ConflictContact.objects.values_list("description", flat=True))
    fields = ("is_listed", "public_intro", "reporting_phone", "in_person_contacts")
    return tuple(getattr(organization, name) for name in fields), contacts, AuditEvent.objects.count()


def test_the_admin_saves_the_page_and_it_is_audited(admin_client, organization, chairs):
    response = admin_client.post(
        editor_url(organization),
        payload(**{f"contact_{chairs.pk}": "Write here if your report concerns a member of the CoC team."}),
    )
    assert response.status_code == 302
    organization.refresh_from_db()
    chairs.refresh_from_db()
    assert organization.is_listed
    assert organization.reporting_phone == "+44 20 7946 0123"
    assert organization.in_person_contacts == "Volunteers in yellow lanyards at the registration desk."
    assert chairs.description == "Write here if your report concerns a member of the CoC team."

    event = AuditEvent.objects.get(action="org.public_page_changed")
    assert event.detail["fields"] == ["in_person_contacts", "is_listed", "public_intro", "reporting_phone"]
    assert event.detail["contacts_described"] == [chairs.pk]
    # The audit names what changed, never the words.
    assert "yellow lanyards" not in str(event.detail)

    public = admin_client.get(f"/o/{organization.slug}/").content.decode()
    assert "Write here if your report concerns a member of the CoC team." in public
    assert f'href="/o/{organization.slug}/"' in admin_client.get("/").content.decode()


def test_unchecking_unlists_the_organization(admin_client, organization):
    organization.is_listed = True
    organization.save()
    assert admin_client.post(editor_url(organization), payload(is_listed=None)).status_code == 302
    organization.refresh_from_db()
    assert not organization.is_listed
    assert f'href="/o/{organization.slug}/"' not in admin_client.get("/").content.decode()


def test_the_editor_shows_what_the_page_holds(admin_client, organization, chairs):
    chairs.description = "Conference chairs."
    chairs.save()
    content = admin_client.get(editor_url(organization)).content.decode()
    assert input_value(content, f"contact_{chairs.pk}") == "Conference chairs."
    assert organization.reporting_email in content
    assert f'href="/o/{organization.slug}/"' in content


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("reporting_phone", "call Sam after 6pm", "Write the number only"),
        ("reporting_phone", "+44 (0) 20 7946 0123 ext 7", "Write the number only"),
        ("reporting_phone", "12", "Write the number only"),
        ("public_intro", "Intro " + "x" * 1000, "Keep this to 1,000 characters or fewer (it has 1006)."),
        ("in_person_contacts", "y" * 2001, "Keep this to 2,000 characters or fewer (it has 2001)."),
    ],
)
def test_refused_input_keeps_what_was_typed_and_saves_nothing(admin_client, organization, field, typed, message):
    before = page_state(organization)
    response = admin_client.post(editor_url(organization), payload(**{field: typed}))
    assert response.status_code == 200
    content = response.content.decode()
    assert message in content
    assert typed in content
    assert "We look after the spring meetup." in content or field == "public_intro"
    assert page_state(organization) == before


def test_a_too_long_contact_description_keeps_what_was_typed(admin_client, organization, chairs):
    before = page_state(organization)
    typed = "z" * 201
    response = admin_client.post(editor_url(organization), payload(**{f"contact_{chairs.pk}": typed}))
    assert response.status_code == 200
    assert "Keep this to 200 characters or fewer (it has 201)." in response.content.decode()
    assert input_value(response.content, f"contact_{chairs.pk}") == typed
    assert page_state(organization) == before


def test_a_retired_contact_is_not_on_the_editor_and_cannot_be_described(admin_client, organization, chairs):
    chairs.is_active = False
    chairs.save()
    assert f"contact_{chairs.pk}" not in admin_client.get(editor_url(organization)).content.decode()
    admin_client.post(editor_url(organization), payload(**{f"contact_{chairs.pk}": "Sneaked in"}))
    chairs.refresh_from_db()
    assert chairs.description == ""


@pytest.mark.parametrize("role", ["staff", "responder", "lead", "fallback"])
def test_only_admins_reach_the_editor_and_others_change_nothing(client, organization, chairs, role):
    someone = member(organization, role)
    log_in(client, someone.user)
    before = page_state(organization)
    assert client.get(editor_url(organization)).status_code == 404
    response = client.post(editor_url(organization), payload(**{f"contact_{chairs.pk}": "Changed"}))
    assert response.status_code == 404
    assert page_state(organization) == before


def test_an_admin_of_another_organization_changes_nothing(client, organization, chairs):
    from tests.factories import OrganizationFactory

    outsider = member(OrganizationFactory(), "admin")
    log_in(client, outsider.user)
    before = page_state(organization)
    assert client.post(editor_url(organization), payload()).status_code == 404
    assert page_state(organization) == before


def test_the_conflict_contacts_page_takes_the_words_for_reporters(admin_client, organization):
    response = admin_client.post(
        f"/desk/orgs/{organization.slug}/conflict-contacts/",
        {
            "name": "The board",
            "description": "Board members, for a concern about the whole team.",
            "intake_address": "board@community.example",
        },
    )
    assert response.status_code == 302
    assert ConflictContact.objects.get().description == "Board members, for a concern about the whole team."
    listed = parse(admin_client.get(f"/desk/orgs/{organization.slug}/conflict-contacts/").content)
    assert "Board members, for a concern about the whole team." in listed.find("table", "queue").text()


def test_the_desk_navigation_links_the_editor_on_admin_pages(admin_client, organization):
    content = admin_client.get(f"/desk/orgs/{organization.slug}/settings/").content.decode()
    nav = parse(content).find("nav")
    assert editor_url(organization) in [a.attrs.get("href") for a in nav.find_all("a")]


hostile_text = st.one_of(
    st.text(max_size=300),
    st.sampled_from(["", " ", "\x00", "\u202e+44 20", "+", "++44", "0" * 41, "١٢٣٤٥", "on", "off", "[]"]),
    st.binary(max_size=60).map(lambda raw: raw.decode("latin-1")),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    values=st.dictionaries(
        st.sampled_from(["is_listed", "public_intro", "reporting_phone", "in_person_contacts", "contact_1"]),
        st.one_of(hostile_text, st.lists(hostile_text, max_size=3)),
    )
)
def test_hostile_posts_never_fail_and_a_refused_one_changes_nothing(admin_client, organization, values):
    before = page_state(organization)
    response = admin_client.post(editor_url(organization), values)
    assert response.status_code in {200, 302}
    if response.status_code == 200:
        assert page_state(organization) == before
