"""Who is signed in, read from prepared statements, is what Django's and django-otp's own reads give."""

from datetime import timedelta

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.models import Session
from django.utils import timezone
from django_otp.middleware import OTPMiddleware
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from cocdesk.common.sessions import SessionStore
from cocdesk.common.signed_in import PreparedModelBackend, PreparedOTPMiddleware
from cocdesk.orgs.models import Organization
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("is_active", [True, False])
def test_the_account_is_django_s_and_an_inactive_one_is_refused_alike(is_active):
    user = UserFactory(is_active=is_active)
    ours, django_s = PreparedModelBackend().get_user(user.pk), ModelBackend().get_user(user.pk)
    assert ours == django_s
    if is_active:
        assert [getattr(ours, f.attname) for f in user._meta.concrete_fields] == [
            getattr(django_s, f.attname) for f in user._meta.concrete_fields
        ]


@pytest.mark.parametrize("user_id", [987654, "not a number", None])
def test_no_account_for_an_unknown_or_malformed_id(user_id):
    UserFactory()
    assert PreparedModelBackend().get_user(user_id) is None


def test_the_second_factor_is_the_device_django_otp_finds():
    user = UserFactory()
    totp = TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)
    codes = StaticDevice.objects.create(user=user, name="Codes", confirmed=True)
    ours, theirs = PreparedOTPMiddleware(lambda request: None), OTPMiddleware(lambda request: None)
    for device in (totp, codes):
        found = ours._device_from_persistent_id(device.persistent_id)
        assert found == theirs._device_from_persistent_id(device.persistent_id) == device
        assert type(found) is type(device) and found.name == device.name and found.user_id == user.pk


@pytest.mark.parametrize(
    "persistent_id",
    ["otp_totp.totpdevice/999999", "otp_totp.totpdevice/x", "nosuch.model/1", "no slash", "orgs.organization/{pk}"],
)
def test_no_device_for_a_missing_malformed_or_foreign_id(persistent_id):
    organization_pk = Organization.objects.create(name="Not a device", slug="not-a-device").pk
    TOTPDevice.objects.create(user=UserFactory(), name="Phone", confirmed=True)
    found = PreparedOTPMiddleware(lambda request: None)._device_from_persistent_id(
        persistent_id.format(pk=organization_pk)
    )
    assert found is None


def test_a_live_session_is_read_and_an_expired_one_is_not():
    live = SessionStore()
    live["kept"] = "yes"
    live.create()
    assert SessionStore(live.session_key)["kept"] == "yes"
    ended = SessionStore()
    ended["kept"] = "no"
    ended.create()
    Session.objects.filter(session_key=ended.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    reopened = SessionStore(ended.session_key)
    assert reopened.get("kept") is None
    assert reopened.session_key is None
