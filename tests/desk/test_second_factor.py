"""Team accounts: no desk page without a verified second factor, enrolment with recovery codes, login throttling,
short idle sessions and Argon2 passwords."""

import base64
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from cocdesk.cases.domain import recusal as recusals
from cocdesk.cases.enums import RecusalReason, RecusalSource
from cocdesk.cases.models import Case, Message, Recusal
from cocdesk.desk import urls as desk_urls
from cocdesk.desk.auth_views import LOGIN_THROTTLED
from cocdesk.orgs.models import Membership
from tests.factories import PASSWORD, SpaceFactory, UserFactory, member, report_case
from tests.pages import input_value, parse
from tests.team import authenticator, current_code

CANARY = "Canary-SecondFactor-d41e: he followed me to the hotel"
# Pages a person without a session must reach: logging in, the second factor itself, and account recovery.
OPEN_PAGES = {"login", "second_factor", "enrol", "logout"}
SECOND_FACTOR_PATHS = {reverse("desk:second_factor"), reverse("desk:enrol")}


def is_open_page(name):
    return name in OPEN_PAGES or name.startswith("password_reset")


def password_login(client, user, password=PASSWORD, **extra):
    return client.post("/desk/login/", {"username": user.get_username(), "password": password}, **extra)


def redirect_path(response):
    return response["Location"].split("?")[0]


def wrong_code(device):
    """A 6-digit code the device would refuse: none of the codes valid around now."""
    valid = set()
    for offset in range(-3, 4):
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        totp.time = time.time() + offset * device.step
        valid.add(str(totp.token()).zfill(device.digits))
    return next(code for code in (f"{n:06d}" for n in range(123456, 10**6)) if code not in valid)


# --- password only: no desk page --------------------------------------------------------------------------------


@pytest.fixture
def desk_world(organization):
    """Something real behind every desk URL: a case with a recusal, a space, the organization's team."""
    lead = member(organization, "lead", is_admin=True, is_staff_member=True)
    responder = member(organization, "responder")
    space = SpaceFactory(organization=organization, name="Conference hall")
    case, _receipt = report_case(organization, description=CANARY, space=space)
    recusal = recusals.recuse(case, responder, reason=RecusalReason.CO_WORKER, source=RecusalSource.DECLARED)
    values = {
        "reference": case.reference,
        "org_slug": organization.slug,
        "recusal_id": recusal.pk,
        "membership_id": responder.pk,
        "space_id": space.pk,
        "transition": "close",
    }
    return {"lead": lead, "case": case, "values": values}


def desk_urls_needing_a_session(values):
    urls = {}
    for pattern in desk_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        if is_open_page(pattern.name):
            continue
        kwargs = {}
        for name, converter in pattern.pattern.converters.items():
            fallback = 1 if converter.regex == "[0-9]+" else "x"
            kwargs[name] = values.get(name, fallback)
        urls[pattern.name] = reverse(f"desk:{pattern.name}", kwargs=kwargs)
    return urls


def snapshot():
    return {
        "cases": list(Case.objects.values()),
        "messages": Message.objects.count(),
        "recusals": list(Recusal.objects.values("id", "is_active")),
        "memberships": list(Membership.objects.values()),
    }


@pytest.mark.parametrize("has_authenticator", [True, False], ids=["enrolled", "not-enrolled"])
def test_a_password_only_session_reaches_no_desk_page(desk_world, has_authenticator):
    lead = desk_world["lead"]
    if has_authenticator:
        authenticator(lead.user)
    client = Client()
    response = password_login(client, lead.user)
    assert response.status_code == 302
    assert redirect_path(response) in SECOND_FACTOR_PATHS
    assert client.session.get("_auth_user_id") == str(lead.user.pk)  # the password was accepted

    urls = desk_urls_needing_a_session(desk_world["values"])
    assert {"queue", "case", "message_reporter", "reinstate", "org_audit"} <= set(urls)
    before = snapshot()
    for name, url in urls.items():
        for method in (client.get, client.post):
            response = method(url, {"body": CANARY, "reason": "x", "note": "x"} if method == client.post else None)
            assert response.status_code == 302, f"{name} answered {response.status_code} without a second factor"
            assert redirect_path(response) in SECOND_FACTOR_PATHS, f"{name} sent to {response['Location']}"
            assert CANARY not in response.content.decode()
            landing = client.get(response["Location"], follow=True)
            assert landing.request["PATH_INFO"] in SECOND_FACTOR_PATHS
            assert CANARY not in landing.content.decode()
    assert snapshot() == before, "a request without a second factor changed something"


def test_without_any_login_every_desk_page_sends_to_the_login_page(desk_world):
    client = Client()
    for name, url in desk_urls_needing_a_session(desk_world["values"]).items():
        response = client.get(url)
        assert response.status_code == 302, name
        assert redirect_path(response) == reverse("desk:login"), name


# --- enrolment and recovery codes -------------------------------------------------------------------------------


def enrol(client, user):
    """Password, then the enrolment page with the code of the authenticator the member just scanned.
    Returns the recovery codes shown."""
    response = password_login(client, user)
    assert redirect_path(response) == reverse("desk:enrol")
    page = client.get(response["Location"])
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    shown = parse(page.content).find("code").text()
    assert shown == base64.b32encode(device.bin_key).decode()  # what a person types if they cannot scan
    response = client.post(
        response["Location"],
        {"token": current_code(device), "csrfmiddlewaretoken": input_value(page.content, "csrfmiddlewaretoken")},
    )
    assert response.status_code == 200
    codes = [item.text() for item in parse(response.content).find("ul", "recovery-codes").find_all("li")]
    return codes


def test_enrolment_through_the_forms_gives_ten_recovery_codes_and_a_verified_session(organization):
    user = member(organization, "lead").user
    client = Client()
    codes = enrol(client, user)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert TOTPDevice.objects.get(user=user).confirmed
    assert client.get("/desk/").status_code == 200
    # A later login asks for the second factor, not for enrolment again.
    response = password_login(Client(), user)
    assert redirect_path(response) == reverse("desk:second_factor")


def test_a_recovery_code_works_once(organization):
    user = member(organization, "lead").user
    codes = enrol(Client(), user)
    code = codes[3]

    first = Client()
    response = password_login(first, user)
    assert redirect_path(response) == reverse("desk:second_factor")
    response = first.post(response["Location"], {"token": code.upper(), "next": "/desk/"})
    assert response.status_code == 302 and response["Location"] == "/desk/"
    assert first.get("/desk/").status_code == 200

    second = Client()
    response = password_login(second, user)
    response = second.post(response["Location"], {"token": code, "next": "/desk/"})
    assert response.status_code == 200
    assert "That code is not valid" in response.content.decode()
    assert redirect_path(second.get("/desk/")) == reverse("desk:second_factor")


def test_a_wrong_code_at_enrolment_is_refused(organization):
    user = member(organization, "lead").user
    client = Client()
    password_login(client, user)
    client.get("/desk/enrol/")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post("/desk/enrol/", {"token": wrong_code(device)})
    assert response.status_code == 200
    assert "That code did not match" in response.content.decode()
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed
    assert redirect_path(client.get("/desk/")) in SECOND_FACTOR_PATHS


def test_a_wrong_code_at_login_is_refused(organization):
    user = member(organization, "lead").user
    device = authenticator(user)
    client = Client()
    response = password_login(client, user)
    for bad in (wrong_code(device), "", "abcdefgh", "1" * 32):
        response = client.post("/desk/second-factor/", {"token": bad, "next": "/desk/"})
        assert response.status_code == 200
        assert redirect_path(client.get("/desk/")) == reverse("desk:second_factor")


def test_guessing_codes_locks_the_second_factor_for_a_while(organization):
    user = member(organization, "lead").user
    device = authenticator(user)
    client = Client()
    password_login(client, user)
    for _attempt in range(5):
        client.post("/desk/second-factor/", {"token": wrong_code(device)})
    # Even the right code is refused now (django-otp's growing delay: 16 s after five failures).
    response = client.post("/desk/second-factor/", {"token": current_code(device), "next": "/desk/"})
    assert response.status_code == 200
    assert redirect_path(client.get("/desk/")) == reverse("desk:second_factor")


# --- login throttling -------------------------------------------------------------------------------------------


def throttled(client, user, password=PASSWORD):
    """Tries the login form: whether it answered with the throttle message. A throttled login starts no session."""
    response = password_login(client, user, password)
    assert response.status_code == 200, "the login went through"
    if LOGIN_THROTTLED not in response.content.decode():
        return False
    assert "_auth_user_id" not in client.session
    return True


def test_failed_passwords_block_the_account_even_with_the_right_password(organization):
    user = member(organization, "lead", username="Alice").user
    other = member(organization, "lead").user
    limit = settings.COCDESK_LOGIN_ATTEMPTS_PER_ACCOUNT
    attacker = Client(REMOTE_ADDR="198.51.100.10")
    for attempt in range(limit):
        # The username's case does not give fresh attempts.
        username = "alice" if attempt % 2 else "ALICE"
        response = attacker.post("/desk/login/", {"username": username, "password": f"guess-{attempt}"})
        assert response.status_code == 200
        assert LOGIN_THROTTLED not in response.content.decode()

    # The owner, from another address, with the right password: refused with the throttle message.
    assert throttled(Client(REMOTE_ADDR="192.0.2.20"), user)
    # Another account from the attacker's address is not blocked by it.
    assert password_login(attacker, other).status_code == 302


def test_the_per_address_limit_applies_across_usernames(organization):
    per_account = settings.COCDESK_LOGIN_ATTEMPTS_PER_ACCOUNT
    per_address = settings.COCDESK_LOGIN_ATTEMPTS_PER_ADDRESS
    victim = member(organization, "lead").user
    sprayer = Client(REMOTE_ADDR="198.51.100.66")
    failures = 0
    username_number = 0
    while failures < per_address:
        username = f"sprayed-{username_number}"
        for _attempt in range(min(per_account - 1, per_address - failures)):
            sprayer.post("/desk/login/", {"username": username, "password": "Winter2026!"})
            failures += 1
        username_number += 1
    assert throttled(sprayer, victim)
    # The same account from another address is fine: no single account reached its own limit.
    assert password_login(Client(REMOTE_ADDR="192.0.2.99"), victim).status_code == 302


@override_settings(COCDESK_LOGIN_ATTEMPTS_PER_ADDRESS=3)
def test_a_right_password_does_not_reset_the_per_address_count(organization):
    """One valid account must not let an address go on guessing at others: a right login clears only its own
    account's count."""
    a, b, c = (member(organization, "lead").user for _ in range(3))
    address = "198.51.100.77"
    guesser = Client(REMOTE_ADDR=address)
    for _attempt in range(2):
        assert not throttled(guesser, a, password="wrong-password")
    assert password_login(Client(REMOTE_ADDR=address), b).status_code == 302
    assert not throttled(guesser, c, password="wrong-password")

    # Three failures from the address, whatever came between: even B's right password is refused there now.
    assert throttled(Client(REMOTE_ADDR=address), b)
    # It is the address that is blocked, not B's account.
    assert password_login(Client(REMOTE_ADDR="192.0.2.77"), b).status_code == 302


def test_throttled_attempts_are_audited_without_the_address(organization):
    from cocdesk.common.models import AuditEvent

    user = member(organization, "lead").user
    client = Client(REMOTE_ADDR="198.51.100.23")
    password_login(client, user, password="wrong-password")
    event = AuditEvent.objects.get(action="member.login_failed")
    assert event.detail == {"username": user.get_username()}
    assert "198.51.100.23" not in str(event.detail)


# --- sessions and passwords -------------------------------------------------------------------------------------


def test_sessions_are_short_and_renewed_by_activity():
    import cocdesk.settings as production

    for module in (settings, production):
        assert 0 < module.SESSION_COOKIE_AGE <= 60 * 60
        assert module.SESSION_ENGINE == "cocdesk.common.sessions"
        renewal = module.MIDDLEWARE.index("cocdesk.common.sessions.SessionRenewalMiddleware")
        assert renewal == module.MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware") + 1
        assert module.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
        assert module.SESSION_COOKIE_HTTPONLY is True


def verified_client(user):
    client = Client()
    response = password_login(client, user)
    response = client.post(response["Location"], {"token": current_code(authenticator(user)), "next": "/desk/"})
    assert response.status_code == 302
    return client


def test_activity_renews_the_session_and_idleness_ends_it(organization):
    user = member(organization, "lead").user
    authenticator(user)
    client = verified_client(user)
    key = client.session.session_key

    # Nearly idle for the whole allowance: one request gives a full allowance again.
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() + timedelta(seconds=30))
    assert client.get("/desk/").status_code == 200
    renewed = Session.objects.get(session_key=key).expire_date
    assert renewed > timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)

    # Within a minute of a renewal, a page writes nothing to the session table.
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/desk/").status_code == 200
    assert not [query for query in queries if "django_session" in query["sql"] and "SELECT" not in query["sql"]]
    assert Session.objects.get(session_key=key).expire_date == renewed

    # Idle past the allowance: the session is gone and the desk asks for a login.
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/desk/")
    assert response.status_code == 302
    assert redirect_path(response) == reverse("desk:login")


def test_production_settings_hash_passwords_with_argon2(organization):
    import cocdesk.settings as production

    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    with override_settings(PASSWORD_HASHERS=production.PASSWORD_HASHERS):
        user = UserFactory(username="argon")
        user.set_password("a long passphrase for the desk")
        user.save()
        assert user.password.startswith("argon2$argon2id$")
        assert check_password("a long passphrase for the desk", user.password)
        assert password_login(Client(), user, password="a long passphrase for the desk").status_code == 302
