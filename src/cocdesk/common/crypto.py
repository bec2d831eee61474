"""Envelope encryption: each case has a random data key, wrapped by a key-encryption key from the keyring.

The keyring lives outside the database (COCDESK_KEYRING as JSON, or the keyring file) so that a copy of the
database alone reveals nothing. Keyring format: {"current": "<key id>", "keys": {"<key id>": "<base64 32 bytes>"}}.
"""

import base64
import json
import os
import secrets
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

NONCE_BYTES = 12
KEY_BYTES = 32


class KeyMissing(Exception):
    """The data key needed to read this content no longer exists (the case was erased) or cannot be unwrapped."""


@dataclass(frozen=True)
class Keyring:
    current_id: str
    keys: dict

    def kek(self, key_id):
        try:
            return AESGCM(self.keys[key_id])
        except KeyError as error:
            raise KeyMissing(f"key-encryption key {key_id!r} is not in the keyring") from error


def new_keyring_document():
    key_id = secrets.token_hex(4)
    return {"current": key_id, "keys": {key_id: base64.b64encode(os.urandom(KEY_BYTES)).decode()}}


def parse_keyring(document):
    keys = {key_id: base64.b64decode(value) for key_id, value in document["keys"].items()}
    if document["current"] not in keys or any(len(key) != KEY_BYTES for key in keys.values()):
        raise ImproperlyConfigured("The keyring must hold 32-byte keys and name a current key among them.")
    return Keyring(current_id=document["current"], keys=keys)


@cache
def keyring():
    if settings.COCDESK_KEYRING:
        return parse_keyring(json.loads(settings.COCDESK_KEYRING))
    path = Path(settings.COCDESK_KEYRING_FILE)
    if not path.is_file():
        raise ImproperlyConfigured(f"No keyring: set COCDESK_KEYRING or create {path} with 'manage.py create_keyring'.")
    return parse_keyring(json.loads(path.read_text()))


def new_wrapped_data_key(associated):
    """A fresh data key, returned wrapped: (key id, wrapped bytes). The clear key is never stored."""
    return wrap_data_key(AESGCM.generate_key(256), associated)


def wrap_data_key(data_key, associated):
    ring = keyring()
    nonce = os.urandom(NONCE_BYTES)
    return ring.current_id, nonce + ring.kek(ring.current_id).encrypt(nonce, data_key, associated)


def unwrap_data_key(key_id, wrapped, associated):
    if not wrapped:
        raise KeyMissing("this case's data key was destroyed")
    wrapped = bytes(wrapped)
    return keyring().kek(key_id).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], associated)


def seal(data_key, payload, associated):
    """Encrypts a JSON-serialisable payload with the data key; associated data binds it to its row."""
    nonce = os.urandom(NONCE_BYTES)
    plaintext = json.dumps(payload, separators=(",", ":")).encode()
    return nonce + AESGCM(data_key).encrypt(nonce, plaintext, associated)


def unseal(data_key, sealed, associated):
    sealed = bytes(sealed)
    return json.loads(AESGCM(data_key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], associated))


def seal_bytes(data_key, data, associated):
    """AES-GCM over raw bytes (attachments, mail kept aside), bound to ``associated``."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(data_key).encrypt(nonce, bytes(data), associated)


def unseal_bytes(data_key, sealed, associated):
    sealed = bytes(sealed)
    return AESGCM(data_key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], associated)
