"""Settings for the test suite: the project's settings with a throwaway secret, keyring and fast hashing."""

import json
import os
import tempfile

from cocdesk.common.crypto import new_keyring_document

os.environ.setdefault("COCDESK_SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("COCDESK_KEYRING", json.dumps(new_keyring_document()))
os.environ.setdefault("COCDESK_VAR_DIR", tempfile.mkdtemp(prefix="cocdesk-test-"))
os.environ.setdefault("COCDESK_DATABASE_URL", f"sqlite:///{os.environ['COCDESK_VAR_DIR']}/test.sqlite3")

from cocdesk.settings import *  # noqa: E402,F403
from cocdesk.settings import DATABASES, SQLITE_ENGINE  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if DATABASES["default"]["ENGINE"] == SQLITE_ENGINE:
    # A file, not memory: the leak tests read the raw database file.
    DATABASES["default"]["TEST"] = {"NAME": DATABASES["default"]["NAME"].replace("test.sqlite3", "tests.sqlite3")}
