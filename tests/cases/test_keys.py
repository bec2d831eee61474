"""Key rotation and erasure with the real management commands and a keyring file outside the database."""

import io
import json
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, override_settings

from cocdesk.cases.domain import content, reporter, team
from cocdesk.cases.domain import recusal as recusals
from cocdesk.cases.enums import RecusalReason, RecusalSource
from cocdesk.cases.models import Case, Message, Recusal, Report
from cocdesk.common import crypto
from cocdesk.common.models import AuditEvent
from tests.factories import member, report_case
from tests.team import log_in

ERASED_NOTICE = "This case was erased."


@pytest.fixture
def keyring_file(tmp_path):
    """The keyring in a file, as in production without COCDESK_KEYRING; the test settings' keyring comes back
    afterwards."""
    path = tmp_path / "keyring.json"
    path.write_text(json.dumps(crypto.new_keyring_document()))
    crypto.keyring.cache_clear()
    try:
        with override_settings(COCDESK_KEYRING="", COCDESK_KEYRING_FILE=str(path)):
            yield path
    finally:
        crypto.keyring.cache_clear()


def keyring_document(path):
    return json.loads(path.read_text())


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def filled_cases(organization, count=4):
    """Cases with everything sealed that a case can hold: reports, messages both ways, a recusal note and a
    reinstatement reason. Returns {reference: {what: clear text}}."""
    lead = member(organization, "lead")
    responder = member(organization, "responder")
    written = {}
    for n in range(count):
        case, receipt = report_case(
            organization,
            description=f"Sealed description {n} of the rotation test",
            reporter_email=f"reporter{n}@example.net",
            reported_name=f"Reported Person {n}",
        )
        report = case.reports.get()
        team.message_reporter(case, report, author=lead.user, body=f"Team message {n}")
        reporter.add_reporter_message(reporter.find_receipt(receipt), f"Reporter message {n}")
        recusal = recusals.recuse(
            case,
            responder,
            reason=RecusalReason.OTHER,
            source=RecusalSource.DECLARED,
            by=responder.user,
            note=f"Recusal note {n}",
        )
        recusals.reinstate(recusal, by=lead.user, reason=f"Reinstated {n}")
        written[case.reference] = {
            "description": f"Sealed description {n} of the rotation test",
            "messages": {f"Team message {n}", f"Reporter message {n}"},
            "note": f"Recusal note {n}",
            "reinstated": f"Reinstated {n}",
            "receipt": receipt,
        }
    return lead, written


def assert_everything_decrypts(written, lead):
    for reference, expected in written.items():
        case = Case.objects.get(reference=reference)  # fresh: no data key cached on the instance
        report = Report.objects.select_related("case").get(case=case)
        assert content.report_content(report)["description"] == expected["description"]
        messages = {content.message_body(message) for message in Message.objects.filter(case=case)}
        assert messages == expected["messages"]
        recusal = Recusal.objects.get(case=case)
        assert content.unseal(case, "recusal-note", recusal.sealed_note) == {"note": expected["note"]}
        assert content.unseal(case, "reinstatement", recusal.sealed_end_reason) == {"reason": expected["reinstated"]}
        page = log_in(Client(), lead.user).get(f"/desk/cases/{reference}/").content.decode()
        assert expected["description"] in page


def snapshot_keys():
    """What a database backup holds of each case's key."""
    return {case.reference: (case.key_id, bytes(case.wrapped_data_key)) for case in Case.objects.all()}


# --- rotation ------------------------------------------------------------------------------------------------------


def test_rotation_rewraps_every_case_key_under_a_new_key(keyring_file, organization):
    lead, written = filled_cases(organization)
    first_id = keyring_document(keyring_file)["current"]
    assert {case.key_id for case in Case.objects.all()} == {first_id}
    before = snapshot_keys()

    output = run("rotate_keys")

    document = keyring_document(keyring_file)
    second_id = document["current"]
    assert second_id != first_id
    assert set(document["keys"]) == {first_id, second_id}  # the old key stays until it is retired
    assert f"Re-wrapped {len(written)} case key(s)" in output
    assert {case.key_id for case in Case.objects.all()} == {second_id}
    after = snapshot_keys()
    assert all(after[reference][1] != before[reference][1] for reference in written)
    assert_everything_decrypts(written, lead)
    assert AuditEvent.objects.filter(action="case.key_rewrapped").count() == len(written)

    # A second run with nothing left to do re-wraps nothing.
    assert "Re-wrapped 0 case key(s)" in run("rotate_keys", "--rewrap-only")


def test_retiring_old_keys_removes_them_and_everything_still_decrypts(keyring_file, organization):
    lead, written = filled_cases(organization)
    first_id = keyring_document(keyring_file)["current"]
    backup = snapshot_keys()  # a database backup taken before the rotation

    run("rotate_keys", "--retire-old")

    document = keyring_document(keyring_file)
    assert first_id not in document["keys"]
    assert list(document["keys"]) == [document["current"]]
    assert {case.key_id for case in Case.objects.all()} == {document["current"]}
    assert_everything_decrypts(written, lead)
    # The backup's wrapped keys need the retired key: the backup is unreadable now.
    for reference, (key_id, wrapped) in backup.items():
        with pytest.raises(crypto.KeyMissing):
            crypto.unwrap_data_key(key_id, wrapped, f"cocdesk:{reference}:data-key".encode())


def test_cases_made_after_a_rotation_use_the_new_key(keyring_file, organization):
    filled_cases(organization, count=1)
    run("rotate_keys", "--retire-old")
    case, _receipt = report_case(organization, description="Filed after the rotation")
    assert case.key_id == keyring_document(keyring_file)["current"]
    assert content.report_content(Report.objects.get(case=case))["description"] == "Filed after the rotation"


def test_rotation_refuses_to_edit_a_keyring_given_in_the_environment(organization):
    report_case(organization)
    with pytest.raises(CommandError, match="COCDESK_KEYRING"):
        run("rotate_keys")


# --- erasure -------------------------------------------------------------------------------------------------------


def test_erase_case_destroys_the_content_for_everyone(organization):
    lead = member(organization, "lead")
    description = "Erasable-Canary-3f9a: what happened at the after-party"
    case, receipt = report_case(organization, description=description, reporter_email="erase-me@example.net")
    kept, _ = report_case(organization, description="Another case, kept")
    team.message_reporter(case, case.reports.get(), author=lead.user, body="Erasable-Canary-3f9a team message")
    desk = log_in(Client(), lead.user)
    assert description in desk.get(f"/desk/cases/{case.reference}/").content.decode()
    reporter_client = Client()
    assert reporter_client.post("/follow-up/", {"receipt": receipt}).status_code == 302

    output = run("erase_case", case.reference.lower(), "--yes")

    assert f"Case {case.reference} erased" in output
    case = Case.objects.get(pk=case.pk)
    assert case.is_erased
    report = Report.objects.select_related("case").get(case=case)
    with pytest.raises(crypto.KeyMissing):
        content.report_content(report)
    with pytest.raises(crypto.KeyMissing):
        content.message_body(Message.objects.filter(case=case).first())
    # The reporter's receipt opens nothing, not even in the session that had it open.
    assert reporter_client.get("/follow-up/case/").status_code == 302
    response = Client().post("/follow-up/", {"receipt": receipt})
    assert response.status_code == 200
    assert "could not find a report with that receipt" in response.content.decode()
    # The desk shows that it was erased, and nothing of it.
    page = desk.get(f"/desk/cases/{case.reference}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert ERASED_NOTICE in text
    assert "Erasable-Canary-3f9a" not in text and "erase-me@example.net" not in text
    assert not re.search(r'<article class="report"', text)
    queue = desk.get("/desk/").content.decode()
    assert case.reference not in queue and kept.reference in queue
    erased = AuditEvent.objects.get(case=case, action="case.erased")
    assert erased.actor is None
    # The other case is untouched.
    assert content.report_content(kept.reports.get())["description"] == "Another case, kept"
    # Erasing again says so; an unknown reference is an error.
    assert "already erased" in run("erase_case", case.reference, "--yes")
    with pytest.raises(CommandError):
        run("erase_case", "NOPE-NOPE-NOPE", "--yes")
    assert AuditEvent.objects.filter(action="case.erased").count() == 1


def test_erase_and_retire_make_an_earlier_backup_unreadable(keyring_file, organization):
    case, _receipt = report_case(organization, description="In the nightly backup")
    backup_key_id, backup_wrapped = case.key_id, bytes(case.wrapped_data_key)
    associated = f"cocdesk:{case.reference}:data-key".encode()
    backup_report = bytes(case.reports.get().sealed_content)

    run("erase_case", case.reference, "--yes")
    # Until the key-encryption key is retired, the backup's copy of the data key still opens (as the command says).
    data_key = crypto.unwrap_data_key(backup_key_id, backup_wrapped, associated)
    assert crypto.unseal(data_key, backup_report, f"cocdesk:{case.reference}:report".encode())["description"]

    run("rotate_keys", "--retire-old")
    with pytest.raises(crypto.KeyMissing):
        crypto.unwrap_data_key(backup_key_id, backup_wrapped, associated)


def test_erase_case_asks_for_the_reference_without_yes(organization, monkeypatch):
    case, _receipt = report_case(organization)
    monkeypatch.setattr("builtins.input", lambda prompt: "SOMETHING-ELSE")
    with pytest.raises(CommandError, match="Not erased"):
        run("erase_case", case.reference)
    assert not Case.objects.get(pk=case.pk).is_erased
    monkeypatch.setattr("builtins.input", lambda prompt: case.reference)
    run("erase_case", case.reference)
    assert Case.objects.get(pk=case.pk).is_erased


ERASED_WRITES = {
    # What the erased case page still offers: recusing another member (with a note) and reinstating one.
    "recuse-member-with-note": ("/recusals/", {"reason": "other", "note": "They review each other's work."}),
    "reinstate": ("/reinstate/", {"reason": "The conflict ended."}),
    # What a case page opened before the erasure still offers.
    "message-reporter": ("/messages/", {"body": "Any news?", "kind": "other"}),
    "internal-note": ("/notes/", {"body": "A note."}),
}


@pytest.mark.parametrize("write", list(ERASED_WRITES))
def test_writing_on_an_erased_case_is_refused_without_a_server_error(organization, write):
    lead = member(organization, "lead")
    colleague = member(organization, "responder")
    reinstatable = member(organization, "responder")
    case, _receipt = report_case(organization)
    report = case.reports.get()
    recusal = recusals.recuse(case, reinstatable, reason=RecusalReason.CO_WORKER, source=RecusalSource.DECLARED)
    run("erase_case", case.reference, "--yes")
    client = log_in(Client(), lead.user)
    client.raise_request_exception = False
    action, typed = ERASED_WRITES[write]
    if write == "reinstate":
        action = f"/recusals/{recusal.pk}/reinstate/"
    page = client.get(f"/desk/cases/{case.reference}/")
    if write in {"recuse-member-with-note", "reinstate"}:
        assert f'{action}"' in page.content.decode(), "the erased case page no longer offers this form"
    before = (Message.objects.count(), Recusal.objects.active().count())
    data = {"report": report.pk, "membership": colleague.pk, **typed}
    response = client.post(f"/desk/cases/{case.reference}{action}", data)
    assert response.status_code != 500, "sealing with the destroyed key failed as a server error"
    assert response.status_code in {302, 400, 403, 404, 410}
    assert (Message.objects.count(), Recusal.objects.active().count()) == before
