from django.core.management.base import BaseCommand, CommandError

from cocdesk.common.audit import broken_chains, first_broken_link
from cocdesk.common.backup import BackupError, restore_backup
from cocdesk.common.keyring_copy import KeyringError


class Command(BaseCommand):
    help = (
        "Restores a backup made by 'backup' into this instance's database, which must be empty, and the keyring "
        "copy where this instance has none (never over a different one); then verifies the audit chains."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", metavar="SRC", help="The backup directory (the one holding manifest.json).")
        parser.add_argument("--keyring-from", metavar="PATH", help="The keyring copy taken with this backup.")
        parser.add_argument(
            "--pg-bindir", metavar="DIR", help="Where pg_restore is, when it is not on the PATH (PostgreSQL only)."
        )

    def handle(self, *args, source, keyring_from=None, pg_bindir=None, **options):
        try:
            result = restore_backup(source, keyring_from=keyring_from, pg_bindir=pg_bindir)
        except (BackupError, KeyringError) as error:
            raise CommandError(str(error)) from error
        counts = ", ".join(f"{count} {name}" for name, count in result.counts.items())
        self.stdout.write(self.style.SUCCESS(f"Restored the {result.vendor} database: {counts}."))
        if result.migrated:
            self.stdout.write(f"Brought up to this release with {len(result.migrated)} migration(s).")
        self.stdout.write(result.keyring)
        if result.missing_key_ids:
            self.stderr.write(
                self.style.WARNING(
                    "The keyring lacks key(s) "
                    f"{', '.join(result.missing_key_ids)} that cases in this backup were sealed with: those cases "
                    "cannot be read. Use the keyring copy taken at the time of this backup."
                )
            )
        broken = broken_chains()
        if broken:
            first = first_broken_link(broken)
            where = f"event {first.pk} ({first.action})" if first.pk else f"chain {first.detail['chain']}"
            raise CommandError(f"Audit chain broken after the restore, first at {where}: investigate the backup.")
        self.stdout.write(self.style.SUCCESS("Audit chain intact."))
