"""Writes a development config file with a fresh secret key, once; an existing file is never touched."""

import secrets
import sys
from pathlib import Path

path = Path(sys.argv[1])
if not path.exists():
    path.write_text(
        "# CoC Desk development settings, written by `make run`. See README.md for every key.\n"
        "debug = true\n"
        "# Outgoing mail is printed by the worker instead of sent; set email_host and friends to send it for real.\n"
        'email_backend = "django.core.mail.backends.console.EmailBackend"\n'
        f'secret_key = "{secrets.token_urlsafe(48)}"\n'
    )
    path.chmod(0o600)
    print(f"Wrote development settings to {path}")
