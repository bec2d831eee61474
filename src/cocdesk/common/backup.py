"""Backups: a consistent snapshot of the database in a directory of its own, and the keyring somewhere else.

A backup directory holds the database snapshot (SQLite through its online backup API, PostgreSQL through
``pg_dump --format=custom``) and a manifest naming the release, the time, the database vendor, the applied
migrations and a SHA-256 of each file. Attachments are sealed rows of the database, so the snapshot holds them.

The keyring never goes into that directory: it is copied to a path of its own, or left out. Restoring needs both,
and a copy of the database alone reads nothing. Every file written here is readable by its owner only. The manifest
is written last: a backup directory without one is incomplete, and restore refuses it.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from . import crypto, keyring_copy

MANIFEST = "manifest.json"
FORMAT = 1
SNAPSHOT_NAMES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
# libpq reads these from the environment, so no connection detail (least of all the password) is on a command line.
LIBPQ_OPTIONS = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
}
PROJECT_APPS = {"common", "orgs", "cases", "people", "notify", "public", "desk"}


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why in the operator's words."""


@dataclass
class BackupResult:
    directory: Path
    manifest: dict
    keyring_path: Path | None


@dataclass
class RestoreResult:
    vendor: str
    counts: dict
    migrated: list = field(default_factory=list)
    keyring: str = ""
    missing_key_ids: list = field(default_factory=list)


# Backing up.


def create_backup(destination, *, keyring_to=None, pg_bindir=None):
    """Writes a snapshot of the database and its manifest into ``destination`` (created, or an empty directory)
    and, when ``keyring_to`` is given, a copy of the keyring there (never inside ``destination``)."""
    destination = Path(destination).expanduser()
    keyring_path = keyring_copy.checked_target(keyring_to, destination) if keyring_to is not None else None
    keyring_document = keyring_copy.current_document() if keyring_path is not None else None
    _prepare_directory(destination)
    vendor = connection.vendor
    if vendor not in SNAPSHOT_NAMES:
        raise BackupError(f"Backing up a {vendor} database is not supported (SQLite and PostgreSQL are).")
    snapshot = destination / SNAPSHOT_NAMES[vendor]
    if vendor == "sqlite":
        _snapshot_sqlite(snapshot)
    else:
        _snapshot_postgresql(snapshot, pg_bindir)
    manifest = {
        "format": FORMAT,
        "cocdesk_version": _release(),
        "created_at": timezone.now().isoformat(),
        "database_vendor": vendor,
        "migrations": _applied_migrations(),
        "files": {snapshot.name: {"sha256": _sha256(snapshot), "size": snapshot.stat().st_size}},
        "keyring": "copied to a separate place" if keyring_path is not None else "left out",
        "keyring_key_ids": keyring_copy.key_ids(),
    }
    keyring_copy.write_private(destination / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    if keyring_path is not None:
        keyring_copy.write_copy(keyring_path, keyring_document)
    return BackupResult(directory=destination, manifest=manifest, keyring_path=keyring_path)


def _prepare_directory(destination):
    if destination.exists():
        if not destination.is_dir():
            raise BackupError(f"{destination} exists and is not a directory.")
        if any(destination.iterdir()):
            raise BackupError(
                f"{destination} is not empty. Give a new or empty directory for each backup, "
                "so no backup is ever mixed with or written over another."
            )
        destination.chmod(0o700)
    else:
        destination.mkdir(parents=True, mode=0o700)


def _snapshot_sqlite(snapshot):
    """Copies the live database page by page in one read transaction: consistent while the app keeps writing
    (WAL readers do not block writers), committed data only, and a single self-contained file."""
    _create_private(snapshot)
    source_path = connection.settings_dict["NAME"]
    with closing(sqlite3.connect(source_path, timeout=20)) as source, closing(sqlite3.connect(snapshot)) as target:
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")
        (verdict,) = target.execute("PRAGMA quick_check").fetchone()
    if verdict != "ok":
        raise BackupError(f"The snapshot failed SQLite's check ({verdict}); the database may be damaged.")


def _snapshot_postgresql(snapshot, pg_bindir):
    """pg_dump runs in one repeatable-read transaction, so the dump is consistent while the app keeps writing."""
    command = [_pg_tool("pg_dump", pg_bindir), "--format=custom", "--no-password"]
    descriptor = os.open(snapshot, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as output:
        # An argument list without a shell; the tool's path is the operator's own (PATH or --pg-bindir).
        finished = subprocess.run(command, stdout=output, stderr=subprocess.PIPE, env=_libpq_environment())  # noqa: S603
    if finished.returncode != 0:
        raise BackupError(f"pg_dump failed: {finished.stderr.decode(errors='replace').strip()}")


# Restoring.


def read_manifest(source):
    source = Path(source).expanduser()
    manifest_path = source / MANIFEST
    if not manifest_path.is_file():
        raise BackupError(f"{source} is not a CoC Desk backup: it has no {MANIFEST}.")
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"This backup's format ({manifest.get('format')}) is not one this release can read.")
    return manifest


def restore_backup(source, *, keyring_from=None, pg_bindir=None):
    """Restores a backup into this instance's database, which must hold no organization, case, account or audit
    event. Everything is checked before anything is written: the files' checksums, the vendor, the release, and
    that a keyring given would not replace a different one."""
    source = Path(source).expanduser()
    manifest = read_manifest(source)
    vendor = manifest["database_vendor"]
    if vendor != connection.vendor:
        raise BackupError(
            f"This backup holds a {vendor} database and this instance runs on {connection.vendor}: "
            "restore it into the same kind of database."
        )
    snapshot = _verified_snapshot(source, manifest)
    _refuse_newer_release(manifest)
    keyring_plan = keyring_copy.restore_plan(keyring_from)
    _refuse_non_empty_database()
    if vendor == "sqlite":
        _restore_sqlite(snapshot)
    else:
        _restore_postgresql(snapshot, pg_bindir)
    migrated = _migrate()
    keyring_words = keyring_plan()
    crypto.keyring.cache_clear()
    return RestoreResult(
        vendor=vendor,
        counts=_content_counts(),
        migrated=migrated,
        keyring=keyring_words,
        missing_key_ids=keyring_copy.missing_key_ids(),
    )


def _verified_snapshot(source, manifest):
    name = SNAPSHOT_NAMES[manifest["database_vendor"]]
    snapshot = source / name
    expected = manifest["files"].get(name, {}).get("sha256")
    if not snapshot.is_file() or expected is None:
        raise BackupError(f"The backup in {source} has no {name}.")
    if _sha256(snapshot) != expected:
        raise BackupError(f"{snapshot} does not match the checksum in its manifest: the copy is damaged or altered.")
    return snapshot


def _refuse_newer_release(manifest):
    known = {(app, name) for app, name in MigrationLoader(None, ignore_no_migrations=True).disk_migrations}
    unknown = [
        entry
        for entry in manifest["migrations"]
        if entry.split(".", 1)[0] in PROJECT_APPS and tuple(entry.split(".", 1)) not in known
    ]
    if unknown:
        raise BackupError(
            f"This backup was made by a newer release of CoC Desk ({manifest.get('cocdesk_version')}; migrations "
            f"{', '.join(unknown)} are unknown here). Upgrade this instance first, then restore."
        )


def _refuse_non_empty_database():
    from django.contrib.auth import get_user_model

    from cocdesk.cases.models import Case
    from cocdesk.common.models import AuditEvent
    from cocdesk.orgs.models import Organization

    tables = set(connection.introspection.table_names())
    found = [
        words
        for model, words in [
            (Organization, "organizations"),
            (Case, "cases"),
            (get_user_model(), "accounts"),
            (AuditEvent, "audit events"),
        ]
        if model._meta.db_table in tables and model.objects.exists()
    ]
    if found:
        raise BackupError(
            f"This instance's database is not empty (it holds {', '.join(found)}): a restore never writes over "
            "data. Point COCDESK_DATABASE_URL at a new, empty database and run restore again."
        )


def _restore_sqlite(snapshot):
    target_path = connection.settings_dict["NAME"]
    connections.close_all()
    source_uri = f"{snapshot.resolve().as_uri()}?mode=ro"
    with closing(sqlite3.connect(source_uri, uri=True)) as source, closing(sqlite3.connect(target_path)) as target:
        source.backup(target)


def _restore_postgresql(snapshot, pg_bindir):
    # The database is empty of content (checked above), but a migrated one has tables the dump would collide with.
    tables = connection.introspection.table_names()
    if tables:
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {', '.join(quote(name) for name in tables)} CASCADE")
    connections.close_all()
    command = [
        _pg_tool("pg_restore", pg_bindir),
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
        "--no-password",
        "--dbname",
        connection.settings_dict["NAME"],
        str(snapshot),
    ]
    finished = subprocess.run(command, capture_output=True, env=_libpq_environment())  # noqa: S603
    if finished.returncode != 0:
        raise BackupError(f"pg_restore failed: {finished.stderr.decode(errors='replace').strip()}")


def _migrate():
    """Applies the migrations this release has and the snapshot did not: an older backup is brought up to date."""
    from django.core.management import call_command

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        call_command("migrate", interactive=False, verbosity=0)
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


def _content_counts():
    from cocdesk.cases.models import Attachment, Case, Message, Report
    from cocdesk.common.models import AuditEvent
    from cocdesk.orgs.models import Organization

    models = [Organization, Case, Report, Message, Attachment, AuditEvent]
    return {model._meta.verbose_name_plural: model.objects.count() for model in models}


# Shared helpers.


def _pg_tool(name, pg_bindir):
    tool = Path(pg_bindir) / name if pg_bindir else shutil.which(name)
    if not tool or not Path(tool).is_file():
        raise BackupError(
            f"{name} was not found. Install the PostgreSQL client tools of the server's version (or newer), "
            "or name their directory with --pg-bindir."
        )
    return str(tool)


def _libpq_environment():
    database = connection.settings_dict
    environment = {**os.environ, "PGDATABASE": database["NAME"]}
    for key, variable in [("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")]:
        if database.get(key):
            environment[variable] = str(database[key])
    for option, variable in LIBPQ_OPTIONS.items():
        if database.get("OPTIONS", {}).get(option):
            environment[variable] = str(database["OPTIONS"][option])
    return environment


def _applied_migrations():
    return sorted(f"{app}.{name}" for app, name in MigrationRecorder(connection).applied_migrations())


def _release():
    try:
        return metadata.version("cocdesk")
    except metadata.PackageNotFoundError:
        return "unknown"


def _sha256(path):
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _create_private(path):
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
