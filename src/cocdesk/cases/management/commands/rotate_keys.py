import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cocdesk.cases.domain.keys import rewrap_all_case_keys
from cocdesk.common import crypto
from cocdesk.people.domain.keys import rewrap_all_registry_keys


class Command(BaseCommand):
    help = (
        "Rotates the key-encryption key: adds a new key to the keyring file, makes it current and re-wraps every "
        "case's data key with it. With --rewrap-only, re-wraps under the keyring's current key (for a keyring "
        "given in COCDESK_KEYRING, which this command cannot edit)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rewrap-only", action="store_true")
        parser.add_argument("--retire-old", action="store_true", help="Remove the old keys once all is re-wrapped.")

    def handle(self, *args, rewrap_only=False, retire_old=False, **options):
        path = Path(settings.COCDESK_KEYRING_FILE)
        if not rewrap_only:
            if settings.COCDESK_KEYRING:
                raise CommandError("The keyring comes from COCDESK_KEYRING: add a key there, then use --rewrap-only.")
            document = json.loads(path.read_text())
            fresh = crypto.new_keyring_document()
            document["keys"].update(fresh["keys"])
            document["current"] = fresh["current"]
            _write_atomically(path, document)
            crypto.keyring.cache_clear()
            self.stdout.write(f"New key-encryption key {document['current']} added and made current.")
        count = rewrap_all_case_keys()
        self.stdout.write(self.style.SUCCESS(f"Re-wrapped {count} case key(s)."))
        registries = rewrap_all_registry_keys()
        self.stdout.write(self.style.SUCCESS(f"Re-wrapped {registries} registry key(s)."))
        if retire_old and not settings.COCDESK_KEYRING:
            document = json.loads(path.read_text())
            document["keys"] = {document["current"]: document["keys"][document["current"]]}
            _write_atomically(path, document)
            crypto.keyring.cache_clear()
            self.stdout.write("Old key-encryption keys removed from the keyring.")


def _write_atomically(path, document):
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(document))
    temporary.chmod(0o600)
    temporary.replace(path)
