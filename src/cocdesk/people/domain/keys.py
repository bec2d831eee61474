"""Key rotation for the registries of people: each organization's registry key is re-wrapped under the keyring's
current key, as case keys are, so retiring an old key never leaves a registry unreadable. The key itself (and so
every sealed name and every keyed hash) stays the same."""

from django.db import transaction

from cocdesk.common import audit, crypto

from ..models import RegistryKey


def rewrap_all_registry_keys():
    """Returns how many registry keys were re-wrapped."""
    ring = crypto.keyring()
    count = 0
    for stored in RegistryKey.objects.exclude(key_id=ring.current_id).select_related("organization").iterator():
        associated = f"cocdesk:registry:{stored.organization_id}:key".encode()
        with transaction.atomic():
            data_key = crypto.unwrap_data_key(stored.key_id, stored.wrapped_key, associated)
            stored.key_id, stored.wrapped_key = crypto.wrap_data_key(data_key, associated)
            stored.save(update_fields=["key_id", "wrapped_key"])
            audit.record("people.registry_key_rewrapped", organization=stored.organization, key_id=stored.key_id)
        count += 1
    return count
