"""``manage.py create_organization``: an organization with the procedures' defaults and a first admin who takes it
from there in the browser, through a one-time, expiring link."""

from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from cocdesk.common.models import AuditEvent
from cocdesk.notify.models import Notification
from cocdesk.orgs import policy
from cocdesk.orgs.models import ConflictContact, Membership, MessageTemplate, Organization
from tests.factories import PASSWORD, OrganizationFactory, UserFactory
from tests.mail_server import mail_server, run_worker
from tests.pages import input_value
from tests.team import current_code

NEW_PASSWORD = "a-long-passphrase-for-the-first-admin-7"
COUNTED = [Organization, get_user_model(), Membership, MessageTemplate, AuditEvent, Notification]


def create(**options):
    arguments = {
        "name": "PyNorth Conference",
        "slug": "pynorth",
        "reporting_email": "conduct@pynorth.example",
        "admin_email": "ada@pynorth.example",
        **options,
    }
    out = StringIO()
    call_command("create_organization", stdout=out, **arguments)
    return out.getvalue()


def printed_link(output):
    (line,) = [line.strip() for line in output.splitlines() if "/desk/password-reset/" in line]
    assert line.startswith(settings.BASE_URL + "/desk/password-reset/")
    return line.removeprefix(settings.BASE_URL)


def choose_password(client, path, password=NEW_PASSWORD):
    """Follows a password link as a person would; returns the last page."""
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200
    if "This link no longer works" in form_page.content.decode():
        return form_page
    return client.post(
        form_page.redirect_chain[-1][0],
        {
            "new_password1": password,
            "new_password2": password,
            "csrfmiddlewaretoken": input_value(form_page.content, "csrfmiddlewaretoken"),
        },
        follow=True,
    )


def counts():
    return {model.__name__: model.objects.count() for model in COUNTED}


def test_creates_the_organization_with_the_procedures_defaults_and_its_first_admin(db):
    output = create(admin_name="Ada Admin")
    organization = Organization.objects.get(slug="pynorth")
    assert (organization.name, organization.reporting_email) == ("PyNorth Conference", "conduct@pynorth.example")
    assert organization.acknowledge_within_hours == policy.ACKNOWLEDGE_WITHIN_HOURS
    assert organization.update_within_days == policy.UPDATE_WITHIN_DAYS
    assert organization.recusal_threshold == policy.RECUSAL_THRESHOLD
    assert organization.appeal_window_days == policy.APPEAL_WINDOW_DAYS
    assert organization.categories == policy.DEFAULT_CATEGORIES
    templates = dict(organization.templates.values_list("kind", "body"))
    assert templates == policy.DEFAULT_TEMPLATES

    membership = Membership.objects.get(organization=organization)
    assert membership.is_admin and membership.is_active and membership.display_name == "Ada Admin"
    assert not (membership.is_responder or membership.is_lead or membership.is_staff_member or membership.is_fallback)
    user = membership.user
    assert (user.username, user.email) == ("ada", "ada@pynorth.example")
    assert not user.has_usable_password()

    event = AuditEvent.objects.get(action="org.created")
    assert event.organization == organization
    assert event.detail["first_admin"] == "ada"
    invitation = Notification.objects.get(recipient=user, kind="invitation")
    assert "password-reset" not in invitation.body, "a usable link was stored"

    assert "works once, for the next 24 hours" in output
    assert f"{settings.BASE_URL}/report/pynorth/" in output
    printed_link(output)


def test_the_printed_link_sets_a_password_once(db):
    output = create()
    path = printed_link(output)
    done = choose_password(Client(), path)
    assert "Your password is saved" in done.content.decode()
    user = get_user_model().objects.get(username="ada")
    assert user.check_password(NEW_PASSWORD)

    again = choose_password(Client(), path, password="someone-else-tries-this-link-9")
    assert "This link no longer works" in again.content.decode()
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_an_expired_link_is_refused(db, monkeypatch):
    path = printed_link(create())
    later = datetime.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)
    monkeypatch.setattr(default_token_generator, "_now", lambda: later)
    page = choose_password(Client(), path)
    assert "This link no longer works" in page.content.decode()
    assert not get_user_model().objects.get(username="ada").has_usable_password()


@override_settings(PASSWORD_RESET_TIMEOUT=3600)
def test_the_output_says_how_long_the_link_works(db):
    assert "works once, for the next 1 hour" in create()


def test_the_first_admin_sets_a_password_enrols_a_second_factor_and_manages_the_organization(db):
    path = printed_link(create())
    client = Client()
    choose_password(client, path)
    response = client.post("/desk/login/", {"username": "ada", "password": NEW_PASSWORD})
    assert response["Location"].startswith("/desk/enrol/")
    page = client.get(response["Location"])
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user__username="ada", confirmed=False)
    codes_page = client.post(
        "/desk/enrol/",
        {"token": current_code(device), "csrfmiddlewaretoken": input_value(page.content, "csrfmiddlewaretoken")},
    )
    assert "recovery-codes" in codes_page.content.decode()
    assert client.get("/desk/orgs/pynorth/settings/").status_code == 200
    added = client.post(
        "/desk/orgs/pynorth/spaces/",
        {"name": "PyNorth 2026", "kind": "conference", "starts_on": "2026-06-12", "ends_on": "2026-06-14"},
    )
    assert added.status_code == 302
    assert Organization.objects.get(slug="pynorth").spaces.get().name == "PyNorth 2026"


def test_the_invitation_mail_carries_a_working_link(transactional_db):
    with mail_server() as smtp:
        create()
        run_worker()
    (mail,) = smtp.to("ada@pynorth.example")
    link = next(line.strip() for line in mail.body.splitlines() if "/desk/password-reset/" in line)
    done = choose_password(Client(), link.removeprefix(settings.BASE_URL))
    assert "Your password is saved" in done.content.decode()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"slug": "Py North"}, "--slug: “Py North” cannot be a slug: use lowercase letters, digits and single hyphens"),
        ({"slug": "pynorth-"}, "cannot be a slug"),
        ({"slug": "x" * 51}, "at most 50 characters"),
        ({"slug": "taken"}, "--slug: The slug “taken” is already taken by another organization."),
        ({"name": "existing community"}, "--name: An organization called “existing community” already exists."),
        ({"name": "  "}, "--name: Give the organization a name."),
        ({"reporting_email": "conduct-at-pynorth"}, "--reporting-email: “conduct-at-pynorth” is not an email address."),
        ({"admin_email": "ada@"}, "--admin-email: “ada@” is not an email address."),
        ({"reporting_email": "chairs@other.example"}, "intake address of a contact for conflicts of interest"),
    ],
    ids=[
        "spaces",
        "trailing-hyphen",
        "too-long",
        "slug-taken",
        "name-taken",
        "no-name",
        "reporting",
        "admin",
        "contact",
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_is_created(db, options, message):
    existing = OrganizationFactory(name="Existing Community", slug="taken")
    ConflictContact.objects.create(organization=existing, name="Chairs", intake_address="chairs@other.example")
    before = counts()
    with pytest.raises(CommandError) as refused:
        create(**options)
    assert message in str(refused.value)
    assert str(refused.value).startswith("Nothing was created.")
    assert refused.value.returncode != 0
    assert counts() == before


def test_every_problem_is_named_at_once(db):
    with pytest.raises(CommandError) as refused:
        create(slug="Bad Slug", admin_email="nobody")
    assert "--slug:" in str(refused.value) and "--admin-email:" in str(refused.value)


def test_an_existing_account_with_the_email_is_reused_without_a_new_link(db):
    user = UserFactory(username="ada-lovelace", email="Ada@PyNorth.example")
    before = get_user_model().objects.count()
    output = create()
    assert get_user_model().objects.count() == before
    assert Membership.objects.get(organization__slug="pynorth").user == user
    assert "/desk/password-reset/" not in output
    assert "already has a password" in output
    assert not Notification.objects.filter(kind="invitation").exists()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_an_existing_account_without_a_password_gets_the_invitation(db):
    user = UserFactory(username="ada-invited", email="ada@pynorth.example")
    user.set_unusable_password()
    user.save()
    output = create()
    assert "their existing account" in output
    done = choose_password(Client(), printed_link(output))
    assert "Your password is saved" in done.content.decode()


def test_a_username_someone_else_has_gets_a_number(db):
    UserFactory(username="ada", email="another.ada@example.org")
    create()
    assert Membership.objects.get(organization__slug="pynorth").user.username == "ada-2"


def test_two_accounts_with_the_email_are_refused(db):
    UserFactory(username="one", email="ada@pynorth.example")
    UserFactory(username="two", email="ADA@pynorth.example")
    with pytest.raises(CommandError) as refused:
        create()
    assert "Several accounts use ada@pynorth.example" in str(refused.value)
    assert not Organization.objects.filter(slug="pynorth").exists()
