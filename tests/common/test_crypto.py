"""Envelope encryption: each case's content is sealed with its own data key, bound to the case and the purpose."""

import os

import pytest
from cryptography.exceptions import InvalidTag
from django.db import connection

from cocdesk.cases.domain import content
from cocdesk.cases.domain.keys import erase_case
from cocdesk.cases.models import Case, Report
from cocdesk.common import crypto
from tests.factories import report_case

PAYLOAD = {"body": "Zoë said: «stop» — twice", "n": 3, "flags": [True, None], "nested": {"k": "v"}}


def raw_column(model, column, pk):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {model._meta.db_table} WHERE id = %s", [pk])  # noqa: S608
        [value] = cursor.fetchone()
    return bytes(value)


def flip(data, index):
    data = bytearray(data)
    data[index] ^= 0x01
    return bytes(data)


@pytest.fixture
def data_key():
    return os.urandom(crypto.KEY_BYTES)


def test_seal_unseal_round_trip(data_key):
    sealed = crypto.seal(data_key, PAYLOAD, b"cocdesk:AAAA-BBBB-CCCC:message")
    assert crypto.unseal(data_key, sealed, b"cocdesk:AAAA-BBBB-CCCC:message") == PAYLOAD
    assert "Zoë".encode() not in sealed
    assert b"stop" not in sealed


def test_sealing_twice_gives_different_ciphertexts(data_key):
    first = crypto.seal(data_key, PAYLOAD, b"ad")
    second = crypto.seal(data_key, PAYLOAD, b"ad")
    assert first != second
    assert first[: crypto.NONCE_BYTES] != second[: crypto.NONCE_BYTES]


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda s: flip(s, crypto.NONCE_BYTES + 2), id="ciphertext byte"),
        pytest.param(lambda s: flip(s, 0), id="nonce byte"),
        pytest.param(lambda s: flip(s, len(s) - 1), id="tag byte"),
        pytest.param(lambda s: s[:-1], id="truncated"),
        pytest.param(lambda s: s + b"\x00", id="extended"),
    ],
)
def test_tampered_ciphertext_raises(data_key, tamper):
    sealed = crypto.seal(data_key, PAYLOAD, b"ad")
    with pytest.raises(InvalidTag):
        crypto.unseal(data_key, tamper(sealed), b"ad")


def test_wrong_data_key_cannot_decrypt(data_key):
    sealed = crypto.seal(data_key, PAYLOAD, b"ad")
    with pytest.raises(InvalidTag):
        crypto.unseal(os.urandom(crypto.KEY_BYTES), sealed, b"ad")


def test_content_is_bound_to_its_case_and_purpose(organization):
    case, _receipt = report_case(organization, description="Bound to this case only.")
    other, _receipt = report_case(organization, description="Another case.")
    report = case.reports.get()
    key = content.data_key(case)

    # Right key, but another case's reference (or another purpose) as associated data: refused.
    with pytest.raises(InvalidTag):
        crypto.unseal(key, report.sealed_content, f"cocdesk:{other.reference}:report".encode())
    with pytest.raises(InvalidTag):
        crypto.unseal(key, report.sealed_content, f"cocdesk:{case.reference}:message".encode())
    assert crypto.unseal(key, report.sealed_content, f"cocdesk:{case.reference}:report".encode())["description"] == (
        "Bound to this case only."
    )

    # A sealed report copied onto another case's report cannot be read there.
    other_report = other.reports.get()
    Report.objects.filter(pk=other_report.pk).update(sealed_content=report.sealed_content)
    other_report = Report.objects.select_related("case").get(pk=other_report.pk)
    with pytest.raises(InvalidTag):
        content.report_content(other_report)


def test_wrapped_data_key_is_bound_to_its_case(organization):
    case, _receipt = report_case(organization)
    other, _receipt = report_case(organization)
    # Swapping the wrapped keys of two cases: neither can unwrap the other's.
    Case.objects.filter(pk=other.pk).update(wrapped_data_key=case.wrapped_data_key)
    with pytest.raises(InvalidTag):
        content.data_key(Case.objects.get(pk=other.pk))


def test_two_cases_get_different_data_keys(organization):
    first, _receipt = report_case(organization)
    second, _receipt = report_case(organization)
    first = Case.objects.get(pk=first.pk)
    second = Case.objects.get(pk=second.pk)
    assert bytes(first.wrapped_data_key) != bytes(second.wrapped_data_key)
    first_key, second_key = content.data_key(first), content.data_key(second)
    assert len(first_key) == len(second_key) == crypto.KEY_BYTES
    assert first_key != second_key
    # The clear data key is stored nowhere in the case row.
    assert first_key not in bytes(first.wrapped_data_key)


def test_erased_case_raises_key_missing(organization):
    case, _receipt = report_case(organization, description="To be erased.")
    erase_case(case)
    case = Case.objects.get(pk=case.pk)
    assert case.is_erased
    report = Report.objects.select_related("case").get(case=case)
    with pytest.raises(crypto.KeyMissing):
        content.report_content(report)


def test_unknown_key_encryption_key_raises_key_missing(organization):
    case, _receipt = report_case(organization)
    Case.objects.filter(pk=case.pk).update(key_id="retired-key")
    report = Report.objects.select_related("case").get(case=case)
    with pytest.raises(crypto.KeyMissing):
        content.report_content(report)


def test_report_content_is_not_stored_in_clear(organization):
    answers = {
        "reporter_name": "Morgan Plaintext-Check",
        "reporter_email": "morgan.cleartext@example.org",
        "reported_name": "Riley Offender-Check",
        "safety_concerns": "I fear retaliation-check at work",
    }
    description = "The description-canary-e41f was shouted in the hallway."
    case, _receipt = report_case(organization, description=description, **answers)
    report = case.reports.get()
    stored = raw_column(Report, "sealed_content", report.pk)
    for value in [description, *answers.values()]:
        assert value.encode() not in stored
        for word in value.split():
            if len(word) > 8:
                assert word.encode() not in stored
    assert b"description" not in stored  # not even the field names
    assert content.report_content(report)["description"] == description


def test_keyring_document_round_trip():
    document = crypto.new_keyring_document()
    ring = crypto.parse_keyring(document)
    assert ring.current_id == document["current"]
    assert len(ring.keys[ring.current_id]) == crypto.KEY_BYTES
    with pytest.raises(crypto.KeyMissing):
        ring.kek("absent")
