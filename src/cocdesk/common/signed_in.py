"""Who is signed in, read on every desk request from statements compiled once per worker (``common.prepared``):
the account (``PreparedModelBackend``) and the second factor that verified it (``PreparedOTPMiddleware``). They
answer exactly as Django's ``ModelBackend`` and django-otp's middleware do; only the reading is prepared."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import router
from django_otp.middleware import OTPMiddleware
from django_otp.models import Device

from .prepared_objects import PreparedObjects

_account = PreparedObjects(lambda pk: get_user_model()._default_manager.filter(pk=pk)[:1], int)


class PreparedModelBackend(ModelBackend):
    def get_user(self, user_id):
        try:
            user_id = int(user_id)
        except (TypeError, ValueError):
            return None
        user = _account.first(user_id, using=router.db_for_read(get_user_model()))
        return user if user is not None and self.user_can_authenticate(user) else None


# One statement per kind of device (TOTP, static codes), made on first use.
_devices = {}


def _device(model, pk):
    found = _devices.get(model)
    if found is None:
        found = _devices[model] = PreparedObjects(lambda device_id: model.objects.filter(id=device_id)[:1], int)
    return found.first(pk, using=router.db_for_read(model))


class PreparedOTPMiddleware(OTPMiddleware):
    def _device_from_persistent_id(self, persistent_id):
        from django.apps import apps

        try:
            model_label, device_id = self._normalize_persistent_id(persistent_id).rsplit("/", 1)
            model = apps.get_model(model_label)
            device_id = int(device_id)
        except (ValueError, LookupError):
            return None
        if not issubclass(model, Device):
            return None
        return _device(model, device_id)
