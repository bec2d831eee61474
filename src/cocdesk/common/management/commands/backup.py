from django.core.management.base import BaseCommand, CommandError

from cocdesk.common.backup import BackupError, create_backup
from cocdesk.common.keyring_copy import KeyringError


class Command(BaseCommand):
    help = (
        "Writes a consistent snapshot of the database and a manifest into DEST (a new or empty directory). The "
        "keyring goes to a separate place (--keyring-to PATH, outside DEST) or is left out (--no-keyring)."
    )

    def add_arguments(self, parser):
        parser.add_argument("destination", metavar="DEST", help="A new or empty directory for this backup.")
        keyring = parser.add_mutually_exclusive_group(required=True)
        keyring.add_argument(
            "--keyring-to",
            metavar="PATH",
            help="Copy the keyring to this new file, outside DEST (a password manager's import, a second disk).",
        )
        keyring.add_argument(
            "--no-keyring",
            action="store_true",
            help="Leave the keyring out (it is already kept elsewhere, and has not changed since).",
        )
        parser.add_argument(
            "--pg-bindir", metavar="DIR", help="Where pg_dump is, when it is not on the PATH (PostgreSQL only)."
        )

    def handle(self, *args, destination, keyring_to=None, no_keyring=False, pg_bindir=None, **options):
        try:
            result = create_backup(destination, keyring_to=keyring_to, pg_bindir=pg_bindir)
        except (BackupError, KeyringError) as error:
            raise CommandError(str(error)) from error
        manifest = result.manifest
        files = ", ".join(manifest["files"])
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup of the {manifest['database_vendor']} database written to {result.directory} ({files}, "
                "manifest.json)."
            )
        )
        if result.keyring_path is not None:
            self.stdout.write(
                f"Keyring copied to {result.keyring_path}. Keep it apart from the backup: either alone reads nothing."
            )
        else:
            self.stderr.write(
                self.style.WARNING(
                    "The keyring was left out. This backup can only be read with a copy of the keyring kept "
                    "elsewhere; take one with --keyring-to after creating or rotating keys."
                )
            )
