"""Logging team members in for view tests: through the real forms, or directly with a verified second factor."""

import time

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import PASSWORD
from tests.pages import input_value


def authenticator(user):
    """The member's confirmed authenticator app (created on first need)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Test authenticator", confirmed=True)


def current_code(device):
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return str(totp.token()).zfill(device.digits)


def log_in(client, user):
    """A session as after a password login and a verified second factor, without going through the forms."""
    device = authenticator(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def log_in_through_forms(client, user, *, next_url="/desk/"):
    """Password on the login page, then the code of the member's authenticator app, as a person would.
    Returns the last response (the redirect to ``next_url``)."""
    device = authenticator(user)
    page = client.get(f"/desk/login/?next={next_url}")
    assert page.status_code == 200
    response = client.post(
        "/desk/login/",
        {
            "username": user.get_username(),
            "password": PASSWORD,
            "next": next_url,
            "csrfmiddlewaretoken": input_value(page.content, "csrfmiddlewaretoken"),
        },
    )
    assert response.status_code == 302, "the password was not accepted"
    if response["Location"].startswith("/desk/second-factor/"):
        second = client.get(response["Location"])
        response = client.post(
            response["Location"],
            {
                "token": current_code(device),
                "next": next_url,
                "csrfmiddlewaretoken": input_value(second.content, "csrfmiddlewaretoken"),
            },
        )
        assert response.status_code == 302, "the second factor was not accepted"
    return response
