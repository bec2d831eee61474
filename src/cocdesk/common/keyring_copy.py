"""The keyring's side of a backup: a copy written apart from the data, and put back on restore where there is none.

A keyring is only ever added where an instance has none: writing over a different one would make every case sealed
with it unreadable. Files are written readable by their owner only, and never over an existing file.
"""

import json
import os
from pathlib import Path

from django.conf import settings

from . import crypto


class KeyringError(Exception):
    """The keyring cannot be copied or put back; the message says why in the operator's words."""


def write_copy(path, document):
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_private(path, json.dumps(document) + "\n")


def checked_target(keyring_to, destination):
    path = Path(keyring_to).expanduser()
    if path.resolve().is_relative_to(destination.resolve()):
        raise KeyringError(
            f"The keyring copy ({path}) must not go inside the backup directory: a stolen backup must not carry "
            "the key that opens it. Give a path in another place."
        )
    if path.exists():
        raise KeyringError(f"{path} already exists; the keyring copy never overwrites a file. Give a new path.")
    return path


def current_document():
    if settings.COCDESK_KEYRING:
        document = json.loads(settings.COCDESK_KEYRING)
    else:
        path = Path(settings.COCDESK_KEYRING_FILE)
        if not path.is_file():
            raise KeyringError(f"There is no keyring to copy: {path} does not exist and COCDESK_KEYRING is not set.")
        document = json.loads(path.read_text())
    try:
        crypto.parse_keyring(document)  # a malformed keyring is refused before anything is written
    except Exception as error:
        raise KeyringError(
            f"The keyring in use cannot be read ({type(error).__name__}); nothing was copied."
        ) from error
    return document


def key_ids():
    """The ids (not the keys) of the keyring in use, so a restore can tell which keyring copy it needs."""
    try:
        ring = crypto.keyring()
    except Exception:  # a backup of the data is still worth taking when the keyring is missing or broken
        return None
    return {"current": ring.current_id, "all": sorted(ring.keys)}


def restore_plan(keyring_from):
    """Checks the keyring now and returns the step that puts it in place once the database is restored, which
    answers in words what it did. A keyring is only ever added where there is none, never written over."""
    if keyring_from is None:
        return _state_words
    path = Path(keyring_from).expanduser()
    if not path.is_file():
        raise KeyringError(f"No keyring copy at {path}.")
    try:
        document = json.loads(path.read_text())
        incoming = crypto.parse_keyring(document)
    except (ValueError, KeyError, TypeError) as error:
        raise KeyringError(f"{path} is not a CoC Desk keyring ({type(error).__name__}).") from error
    except Exception as error:
        raise KeyringError(f"{path} is not a usable keyring: {error}") from error
    if settings.COCDESK_KEYRING:
        if crypto.parse_keyring(json.loads(settings.COCDESK_KEYRING)) != incoming:
            raise KeyringError(
                "This instance's keyring comes from COCDESK_KEYRING and differs from the keyring copy given; it is "
                "never replaced. Restore into an instance without a keyring, or set COCDESK_KEYRING yourself."
            )
        return lambda: "The keyring in COCDESK_KEYRING is the one given; nothing to copy."
    target = Path(settings.COCDESK_KEYRING_FILE)
    if target.exists():
        if _readable(target) != incoming:
            raise KeyringError(
                f"A different keyring already exists at {target}; it is never written over (cases sealed with it "
                "would become unreadable). Restore into an instance without a keyring, or move it away first."
            )
        return lambda: f"The keyring at {target} is already the one given; nothing to copy."

    def put_in_place():
        write_copy(target, document)
        return f"Keyring restored to {target}."

    return put_in_place


def _readable(path):
    try:
        return crypto.parse_keyring(json.loads(path.read_text()))
    except Exception as error:
        raise KeyringError(
            f"The keyring at {path} cannot be read ({type(error).__name__}); it is never written over. "
            "Move it away or repair it, then restore again."
        ) from error


def _state_words():
    try:
        crypto.keyring.cache_clear()
        crypto.keyring()
    except Exception:
        return (
            "No keyring was given and none is configured: the restored cases cannot be read until the keyring "
            "copy is put in place (restore with --keyring-from, or set COCDESK_KEYRING)."
        )
    return "No keyring was given; the instance's own keyring is used."


def missing_key_ids():
    """Key-encryption key ids the restored cases were wrapped with and the keyring in use lacks."""
    from cocdesk.cases.models import Case

    try:
        ring = crypto.keyring()
    except Exception:
        return []
    in_use = set(Case.objects.exclude(wrapped_data_key=None).values_list("key_id", flat=True).distinct())
    return sorted(in_use - set(ring.keys))


def write_private(path, text):
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
