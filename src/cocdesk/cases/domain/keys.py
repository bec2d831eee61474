"""Key management: re-wrapping every case key under the newest key-encryption key, and erasing a case."""

from django.db import transaction

from cocdesk.common import audit, crypto
from cocdesk.people.domain.parties import forget_case

from ..models import Case
from . import content as sealed


def rewrap_all_case_keys():
    """Re-wraps each case's data key with the keyring's current key; the content itself is not touched.
    Returns how many keys were re-wrapped."""
    ring = crypto.keyring()
    count = 0
    for case in Case.objects.exclude(wrapped_data_key=None).exclude(key_id=ring.current_id).iterator():
        with transaction.atomic():
            data_key = sealed.data_key(case)
            case.key_id, case.wrapped_data_key = sealed.wrap_existing(case, data_key)
            case.save(update_fields=["key_id", "wrapped_data_key", "updated_at"])
            audit.record("case.key_rewrapped", case=case, key_id=case.key_id)
        count += 1
    return count


def erase_case(case, *, by=None, reason=None):
    """Destroys the case's data key: its reports, messages and notes can never be decrypted again, in this
    database or any backup of it. The metadata (dates, state) stays for statistics. ``reason`` says in the audit
    log why, when it was not a person's command (the retention pass says "retention")."""
    with transaction.atomic():
        Case.objects.filter(pk=case.pk).update(
            wrapped_data_key=None, is_erased=True, next_due_at=None, next_alert_at=None, erase_after=None
        )
        case.wrapped_data_key, case.is_erased, case.erase_after = None, True, None
        case._data_key = None
        # What its reports said about the people they named goes with it.
        forget_case(case)
        audit.record("case.erased", actor=by, case=case, **({"reason": reason} if reason else {}))
