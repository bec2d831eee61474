"""Backup and restore: a populated instance comes back whole with its keyring, and reads nothing without it.

The backup runs in the test process against the test database (committed data: transactional tests); each restore
runs ``manage.py restore`` in a process of its own, on a new empty database, as an operator would.
"""

import json
import os
import secrets
import stat
import subprocess
import sys
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from cocdesk.cases.domain import email_intake
from cocdesk.cases.domain.keys import erase_case
from cocdesk.cases.domain.reporter import add_reporter_message, find_receipt
from cocdesk.cases.domain.team import message_reporter
from cocdesk.cases.domain.workflow import add_note
from cocdesk.cases.models import Attachment, Case, Message, Report
from cocdesk.common.crypto import new_keyring_document
from cocdesk.common.models import AuditEvent
from cocdesk.orgs.models import Organization
from tests.common import processes
from tests.factories import OrganizationFactory, member, report_case

pytestmark = pytest.mark.django_db(transaction=True)

PG_BINDIR = os.environ.get("COCDESK_TEST_PG_BINDIR")
ATTACHMENT_TEXT = "Timeline: 21:40 near the coat check, again at 22:15 by the lifts."

# Runs in the restored instance: opens every receipt as the reporter's page does and reads every attachment, and
# says for each what it could read, or which error stopped it.
PROBE = """
import json, sys
import django
django.setup()
from cocdesk.cases.domain import content
from cocdesk.cases.domain.email_intake import attachment_content, attachment_meta
from cocdesk.cases.domain.reporter import find_receipt, open_case_for_reporter
from cocdesk.cases.models import Attachment

def attempt(read):
    try:
        return read()
    except Exception as error:
        return {"unreadable": type(error).__name__}

def open_receipt(typed):
    receipt = find_receipt(typed)
    if receipt is None:
        return None
    def read():
        case, messages = open_case_for_reporter(receipt)
        description = content.report_content(receipt.report)["description"]
        return {"reference": case.reference, "description": description, "messages": [m["body"] for m in messages]}
    return attempt(read)

def read_attachment(attachment):
    def read():
        return {**attachment_meta(attachment), "content": attachment_content(attachment).decode()}
    return {"reference": attachment.case.reference, **attempt(read)}

receipts = json.load(sys.stdin)
print(json.dumps({
    "receipts": {typed: open_receipt(typed) for typed in receipts},
    "attachments": [read_attachment(attachment) for attachment in Attachment.objects.select_related("case")],
}))
"""


def report_mail(organization):
    mail = EmailMessage()
    mail["From"] = "Alex Doe <alex@example.net>"
    mail["To"] = organization.reporting_email
    mail["Subject"] = "Someone kept following me"
    mail["Date"] = formatdate()
    mail["Message-ID"] = make_msgid(domain="mail.example.net")
    mail.set_content("He kept following me after the closing talk.")
    mail.add_attachment(ATTACHMENT_TEXT.encode(), maintype="text", subtype="plain", filename="timeline.txt")
    return mail.as_bytes()


@pytest.fixture
def instance():
    """An organization with web reports (their receipts), messages both ways, a note, an emailed report with an
    attachment and an erased case, all through the domain functions; returns what each receipt must show."""
    organization = OrganizationFactory()
    lead = member(organization, "lead").user
    expected = {}
    for number in range(3):
        description = f"Report {number}: someone shouted at me during the keynote."
        case, receipt = report_case(organization, description)
        report = case.reports.get()
        question = f"Thank you for report {number}. Was anyone with you?"
        message_reporter(case, report, author=lead, body=question)
        answer = f"Yes, a friend saw it all ({number})."
        add_reporter_message(find_receipt(receipt), answer)
        add_note(case, f"Note on report {number}: check the badge list.", by=lead)
        expected[receipt] = {"reference": case.reference, "description": description, "messages": [question, answer]}
    outcome = email_intake.take_in(report_mail(organization), organization_slug=organization.slug)
    assert (outcome.kind, outcome.attachments) == ("report", 1)
    erased, erased_receipt = report_case(organization, "A report the team erased.")
    erase_case(erased, by=lead)
    return {
        "receipts": expected,
        "erased_receipt": erased_receipt,
        "emailed_case": outcome.report.case.reference,
        "secrets": [item["description"] for item in expected.values()] + [ATTACHMENT_TEXT],
    }


@pytest.fixture
def new_database(tmp_path):
    """Makes empty databases of the kind the tests run on, and returns their URLs for COCDESK_DATABASE_URL."""
    created = []

    def make():
        if connection.vendor == "sqlite":
            return f"sqlite:///{tmp_path / f'restored-{len(created)}.sqlite3'}"
        name = f"cocdesk_restore_{secrets.token_hex(4)}"
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {name}")
        created.append(name)
        return processes.database_url({**connection.settings_dict, "NAME": name})

    yield make
    for name in created:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def pg_options():
    return ["--pg-bindir", PG_BINDIR] if PG_BINDIR and connection.vendor == "postgresql" else []


def run_in(database_url, keyring_file, command, *, keyring="", stdin=None):
    """A process of the restored instance: its own database and keyring file (and no keyring from the
    environment unless ``keyring`` is given)."""
    environment = {
        **processes.environment(),
        "COCDESK_DATABASE_URL": database_url,
        "COCDESK_KEYRING": keyring,
        "COCDESK_KEYRING_FILE": str(keyring_file),
    }
    return subprocess.run(
        command, cwd=processes.PROJECT_ROOT, env=environment, input=stdin, capture_output=True, text=True, timeout=300
    )


def manage(database_url, keyring_file, *args, **kwargs):
    return run_in(database_url, keyring_file, [sys.executable, "manage.py", *args], **kwargs)


def probe(database_url, keyring_file, receipts, **kwargs):
    finished = run_in(database_url, keyring_file, [sys.executable, "-c", PROBE], stdin=json.dumps(receipts), **kwargs)
    assert finished.returncode == 0, finished.stderr
    return json.loads(finished.stdout.strip().splitlines()[-1]), finished.stdout


def back_up(tmp_path, *extra):
    destination = tmp_path / "backup"
    call_command("backup", str(destination), *extra, *pg_options(), stdout=open(os.devnull, "w"))  # noqa: SIM115
    return destination


def private(path):
    return stat.S_IMODE(path.stat().st_mode) == 0o600


def test_round_trip_brings_back_every_case_readable_and_the_audit_chain_intact(instance, new_database, tmp_path):
    keyring_copy = tmp_path / "elsewhere" / "keyring.json"
    destination = back_up(tmp_path, "--keyring-to", str(keyring_copy))
    counts = {
        "cases": Case.objects.count(),
        "reports": Report.objects.count(),
        "messages": Message.objects.count(),
        "attachments": Attachment.objects.count(),
        "audit events": AuditEvent.objects.count(),
    }

    manifest = json.loads((destination / "manifest.json").read_text())
    snapshot = destination / next(iter(manifest["files"]))
    assert manifest["database_vendor"] == connection.vendor
    assert sorted(path.name for path in destination.iterdir()) == sorted([snapshot.name, "manifest.json"])
    assert all(private(path) for path in [snapshot, destination / "manifest.json", keyring_copy])
    assert stat.S_IMODE(destination.stat().st_mode) == 0o700
    if connection.vendor == "sqlite":
        raw = snapshot.read_bytes()
        assert not [secret for secret in instance["secrets"] if secret.encode() in raw]

    database_url, keyring_file = new_database(), tmp_path / "restored" / "keyring.json"
    # A new instance set up as usual (its tables made, no data yet) is empty enough to restore into.
    assert manage(database_url, keyring_file, "migrate", "--no-input").returncode == 0
    restored = manage(
        database_url, keyring_file, "restore", str(destination), "--keyring-from", str(keyring_copy), *pg_options()
    )
    assert restored.returncode == 0, restored.stderr
    assert all(f"{count} {name}" in restored.stdout for name, count in counts.items()), restored.stdout
    assert "Audit chain intact." in restored.stdout
    assert keyring_file.read_text() == keyring_copy.read_text() and private(keyring_file)

    receipts = [*instance["receipts"], instance["erased_receipt"]]
    read, _output = probe(database_url, keyring_file, receipts)
    assert {typed: read["receipts"][typed] for typed in instance["receipts"]} == instance["receipts"]
    assert read["receipts"][instance["erased_receipt"]] is None
    assert read["attachments"] == [
        {
            "reference": instance["emailed_case"],
            "filename": "timeline.txt",
            "content_type": "text/plain",
            "content": ATTACHMENT_TEXT,
        }
    ]
    # The reporters' reads above were appended to the restored chain; it still verifies from its start.
    verified = manage(database_url, keyring_file, "verify_audit")
    assert verified.returncode == 0 and "Audit chain intact" in verified.stdout, verified.stderr


def test_without_the_keyring_the_restored_instance_reads_nothing(instance, new_database, tmp_path):
    destination = back_up(tmp_path, "--no-keyring")
    database_url, keyring_file = new_database(), tmp_path / "restored" / "keyring.json"

    restored = manage(database_url, keyring_file, "restore", str(destination), *pg_options())
    assert restored.returncode == 0, restored.stderr
    assert "No keyring was given and none is configured" in restored.stdout
    assert not keyring_file.exists()

    receipts = list(instance["receipts"])
    for keyring in ["", json.dumps(new_keyring_document())]:
        read, output = probe(database_url, keyring_file, receipts, keyring=keyring)
        # The receipts are still recognised (they are hashes), but no case opens and no attachment reads.
        assert all(set(found) == {"unreadable"} for found in read["receipts"].values()), read
        assert all("unreadable" in attachment for attachment in read["attachments"]), read
        assert not [secret for secret in instance["secrets"] if secret in output]


def test_backup_writes_the_keyring_apart_or_warns_that_it_is_left_out(instance, tmp_path, capsys):
    destination = tmp_path / "backup"
    with pytest.raises(CommandError, match="must not go inside the backup directory"):
        call_command("backup", str(destination), "--keyring-to", str(destination / "keyring.json"))
    assert not destination.exists()
    with pytest.raises(CommandError, match="--keyring-to|--no-keyring"):
        call_command("backup", str(destination))
    assert not destination.exists()

    existing = tmp_path / "keyring.json"
    existing.write_text("an older copy")
    with pytest.raises(CommandError, match="never overwrites"):
        call_command("backup", str(destination), "--keyring-to", str(existing))
    assert existing.read_text() == "an older copy" and not destination.exists()

    call_command("backup", str(destination), "--no-keyring", *pg_options())
    assert "The keyring was left out" in capsys.readouterr().err
    assert not [path for path in destination.iterdir() if "keyring" in path.name]
    with pytest.raises(CommandError, match="is not empty"):
        call_command("backup", str(destination), "--no-keyring")


def test_restore_refuses_a_database_that_holds_data_or_a_damaged_backup(instance, tmp_path):
    destination = back_up(tmp_path, "--no-keyring")
    before = (Organization.objects.count(), Case.objects.count(), AuditEvent.objects.count())

    with pytest.raises(CommandError, match="not empty .*organizations, cases"):
        call_command("restore", str(destination), *pg_options())

    manifest_path = destination / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["migrations"].append("cases.9999_from_the_future")
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(CommandError, match="newer release"):
        call_command("restore", str(destination))

    snapshot = destination / next(iter(manifest["files"]))
    damaged = bytearray(snapshot.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    snapshot.write_bytes(bytes(damaged))
    with pytest.raises(CommandError, match="does not match the checksum"):
        call_command("restore", str(destination))
    assert (Organization.objects.count(), Case.objects.count(), AuditEvent.objects.count()) == before


def test_restore_never_writes_over_a_different_keyring(instance, new_database, tmp_path):
    keyring_copy = tmp_path / "elsewhere" / "keyring.json"
    destination = back_up(tmp_path, "--keyring-to", str(keyring_copy))
    database_url, keyring_file = new_database(), tmp_path / "restored" / "keyring.json"
    keyring_file.parent.mkdir()
    keyring_file.write_text(json.dumps(new_keyring_document()))
    theirs = keyring_file.read_text()

    refused = manage(
        database_url, keyring_file, "restore", str(destination), "--keyring-from", str(keyring_copy), *pg_options()
    )
    assert refused.returncode != 0
    assert "A different keyring already exists" in refused.stderr
    assert keyring_file.read_text() == theirs

    # The refusal came before any write: the database is still empty, so a restore without the keyring goes ahead.
    restored = manage(database_url, keyring_file, "restore", str(destination), *pg_options())
    assert restored.returncode == 0, restored.stderr
    assert "The keyring lacks key(s)" in restored.stderr
    assert keyring_file.read_text() == theirs
