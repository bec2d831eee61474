"""Team accounts: the mandatory second factor (TOTP with recovery codes) and login throttling."""

import django_otp
from django.conf import settings
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from cocdesk.common import audit
from cocdesk.common.throttle import Throttle

RECOVERY_CODE_COUNT = 10
ENROLMENT_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"


def login_throttles():
    return (
        Throttle("login-account", settings.COCDESK_LOGIN_ATTEMPTS_PER_ACCOUNT, settings.COCDESK_LOGIN_WINDOW),
        Throttle("login-address", settings.COCDESK_LOGIN_ATTEMPTS_PER_ADDRESS, settings.COCDESK_LOGIN_WINDOW),
    )


def login_is_blocked(request, username):
    per_account, per_address = login_throttles()
    return per_account.is_blocked_key(username.lower()) or per_address.is_blocked(request)


def note_failed_login(request, username):
    per_account, per_address = login_throttles()
    per_account.note_failure_key(username.lower())
    per_address.note_failure(request)
    audit.record("member.login_failed", username=username[:150])


def clear_failed_logins(username):
    """A right password clears its own account's count only: one valid account must not reset the address's count
    while it guesses at others."""
    per_account, _per_address = login_throttles()
    per_account.reset_key(username.lower())


def has_confirmed_authenticator(user):
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def pending_authenticator(user):
    """The unconfirmed TOTP device being enrolled, created on first need and kept until confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=ENROLMENT_DEVICE_NAME, confirmed=False)
    return device


def confirm_authenticator(request, device, token):
    """Confirms the enrolled device with a first token; returns fresh recovery codes, or None if the token is
    wrong. The session becomes verified."""
    if not device.verify_token(token):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = replace_recovery_codes(device.user)
    django_otp.login(request, device)
    audit.record("member.second_factor_enrolled", actor=device.user)
    return codes


def replace_recovery_codes(user):
    recovery, _ = StaticDevice.objects.get_or_create(user=user, name=RECOVERY_DEVICE_NAME)
    recovery.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=recovery, token=code) for code in codes)
    return codes


def verify_second_factor(request, token):
    """Accepts a TOTP token or a one-time recovery code; returns True and marks the session verified."""
    token = "".join(token.split()).lower()
    user = request.user
    for device in django_otp.devices_for_user(user, confirmed=True):
        if device.verify_token(token):
            django_otp.login(request, device)
            audit.record("member.login", actor=user, second_factor=type(device).__name__)
            return True
    audit.record("member.second_factor_failed", actor=user)
    return False


def send_password_link(user, organization, *, invitation=False):
    """Queues a mail with a link to choose a password. The link is made when the mail is sent, so no usable
    link is ever stored."""
    from cocdesk.notify.domain import queue_account_mail

    queue_account_mail(user, organization, kind="invitation" if invitation else "password_reset")


def request_password_reset(email):
    """Sends a reset link to each active team member with this email; says nothing about whether one exists."""
    from django.contrib.auth import get_user_model

    from ..models import Membership

    users = get_user_model().objects.filter(email__iexact=email.strip(), is_active=True)
    for user in users:
        membership = Membership.objects.active().filter(user=user).select_related("organization").first()
        if membership is not None:
            send_password_link(user, membership.organization)
            audit.record("member.password_reset_requested", actor=user, organization=membership.organization)
