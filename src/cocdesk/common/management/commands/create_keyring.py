import json
import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from cocdesk.common.crypto import new_keyring_document


class Command(BaseCommand):
    help = "Creates the key-encryption keyring file if there is none (never overwrites one)."

    def handle(self, *args, **options):
        if settings.COCDESK_KEYRING:
            self.stdout.write("The keyring comes from COCDESK_KEYRING; no file needed.")
            return
        path = Path(settings.COCDESK_KEYRING_FILE)
        if path.exists():
            self.stdout.write(f"Keyring already present: {path}")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(new_keyring_document(), handle)
        self.stdout.write(
            self.style.WARNING(
                f"Created a development keyring at {path}. Keep it outside the database and its backups; "
                "losing it makes every case unreadable."
            )
        )
