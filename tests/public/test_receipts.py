"""Receipts and references: unguessable, shown once, never stored in clear, throttled; the reporter's follow-up."""

import math
import re
import secrets
import string
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management.color import no_style
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from django.utils.html import strip_tags

from cocdesk.cases.domain import references
from cocdesk.cases.domain.content import message_body, seal
from cocdesk.cases.domain.keys import erase_case
from cocdesk.cases.domain.team import message_reporter
from cocdesk.cases.enums import REPORTER_STATE_LABELS, CaseState, MessageDirection
from cocdesk.cases.models import Case, Message, Receipt, Report
from cocdesk.common.models import ThrottleCount
from tests.factories import OrganizationFactory, member, report_case
from tests.team import log_in

FOLLOW_UP = "/follow-up/"
CASE_PAGE = "/follow-up/case/"
LEAVE = "/follow-up/leave/"
BASE32 = set(string.ascii_uppercase + "234567")
SYMBOL = "[23456789ABCDEFGHJKMNPQRSTVWXYZ]"
REFERENCE_RE = re.compile(rf"^{SYMBOL}{{4}}-{SYMBOL}{{4}}-{SYMBOL}{{4}}$")


def page_text(response):
    return re.sub(r"\s+", " ", unescape(strip_tags(response.content.decode()))).strip()


def alert(response):
    """The one error paragraph of the receipt page, or None."""
    match = re.search(r'<p class="error error-summary" role="alert"[^>]*>(.*?)</p>', response.content.decode(), re.S)
    return match.group(1) if match else None


def post_report(client, organization, **answers):
    response = client.post(f"/report/{organization.slug}/", {"submission_token": secrets.token_urlsafe(24), **answers})
    assert response.status_code == 200 and b"Your report was received" in response.content
    html = response.content.decode()
    reference = re.search(r'<dd id="case-reference">([^<]+)</dd>', html).group(1)
    receipt = re.search(r'<dd id="receipt" class="receipt">([^<]+)</dd>', html).group(1)
    return response, reference, receipt


def open_with(client, typed, **extra):
    return client.post(FOLLOW_UP, {"receipt": typed}, **extra)


# --- entropy and shape ---------------------------------------------------------------------------------------------


def test_receipt_has_at_least_100_bits_of_entropy(client, organization):
    _response, _reference, shown = post_report(client, organization, description="Entropy check.")
    symbols = shown.replace("-", "")
    assert set(symbols) <= BASE32
    assert len(symbols) * math.log2(len(BASE32)) >= 100
    # The generator really draws from the whole alphabet in every position: no fixed or narrowed symbols.
    drawn = [references.new_receipt().replace("-", "") for _ in range(300)]
    assert len(set(drawn)) == len(drawn)
    assert {len(receipt) for receipt in drawn} == {len(symbols)}
    assert set("".join(drawn)) == BASE32
    for position in range(len(symbols)):
        assert len({receipt[position] for receipt in drawn}) >= 20, f"position {position} barely varies"
    # Groups of four, for copying by hand.
    assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4})+", shown)


def test_receipt_is_shown_once_and_only_its_hash_is_kept(client, organization):
    responder = member(organization, "responder")
    response, reference, receipt = post_report(client, organization, description="Shown once.")
    assert response.content.decode().count(receipt) == 1
    stored = Receipt.objects.get(report__case__reference=reference)
    assert stored.digest != receipt and receipt.replace("-", "") not in stored.digest
    assert re.fullmatch(r"[0-9a-f]{64}", stored.digest)
    # Neither the reporter's case page nor the team's case page ever shows it again.
    assert open_with(client, receipt).status_code == 302
    assert receipt not in client.get(CASE_PAGE).content.decode()
    log_in(client, responder.user)
    assert receipt not in client.get(f"/desk/cases/{reference}/").content.decode()


# --- nothing in clear in the database ------------------------------------------------------------------------------


def _variants(receipt):
    bare = receipt.replace("-", "")
    return {receipt, bare, receipt.lower(), bare.lower(), " ".join(receipt.split("-"))}


def _all_column_values():
    """Every value of every table, through the connection: works on SQLite and PostgreSQL alike."""
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - names from introspection
            for row in cursor.fetchall():
                for value in row:
                    if value is None:
                        continue
                    if isinstance(value, memoryview | bytes | bytearray):
                        yield table, bytes(value)
                    else:
                        yield table, str(value).encode()


def _raw_database_bytes():
    name = Path(connection.settings_dict["NAME"])
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(FULL)")
    chunks = [name.read_bytes()]
    for suffix in ("-wal", "-journal"):
        extra = name.with_name(name.name + suffix)
        if extra.exists():
            chunks.append(extra.read_bytes())
    return b"\n".join(chunks)


@pytest.mark.django_db(transaction=True)
def test_receipt_and_report_are_never_in_clear_in_the_database(client):
    organization = OrganizationFactory(name="Pangolin Conference")
    responder = member(organization, "responder")
    secrets_written = {
        "description": "The quetzalcoatl-sandwich incident behind stage B",
        "reporter_name": "Ottoline Wraxall-Finch",
        "reporter_email": "ottoline.wraxall@example.net",
        "reported_name": "Cornelius Blatherwick",
        "reported_screen_names": "Slack: @blatherwick-xq",
    }
    _response, reference, receipt = post_report(client, organization, **secrets_written)
    # Follow-up traffic writes too: the reporter adds information, the team answers.
    assert open_with(client, receipt).status_code == 302
    assert client.post(CASE_PAGE, {"body": "Addendum from the reporter: axolotl-umbrella"}).status_code == 302
    case = Case.objects.get(reference=reference)
    message_reporter(case, case.reports.get(), author=responder.user, body="Team reply: narwhal-teapot")

    needles = {variant.lower().encode() for variant in _variants(receipt)}
    needles |= {value.lower().encode() for value in secrets_written.values()}
    needles |= {b"axolotl-umbrella", b"narwhal-teapot", b"quetzalcoatl", b"wraxall", b"blatherwick"}

    values = list(_all_column_values())
    # The scan sees what is meant to be in clear, so its silence about the rest means something.
    assert any(reference.encode() in value for _table, value in values)
    assert any(b"pangolin conference" in value.lower() for _table, value in values)
    for table, value in values:
        lowered = value.lower()
        for needle in needles:
            assert needle not in lowered, f"{needle!r} is stored in clear in {table}"

    if connection.vendor == "sqlite":
        raw = _raw_database_bytes().lower()
        assert reference.lower().encode() in raw
        for needle in needles:
            assert needle not in raw, f"{needle!r} is in the raw database file"


# --- references ----------------------------------------------------------------------------------------------------


def test_references_are_random_not_sequential(organization):
    now = timezone.now()
    # Start ids high, so that an id written into a reference would be unmistakable.
    Case.objects.create(
        pk=8_765_431,
        reference="PLACEHOLDER",
        organization=organization,
        channel="web",
        received_at=now,
        acknowledge_due=now + timedelta(hours=1),
        update_due=now + timedelta(days=1),
        key_id="none",
    )
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), [Case]):
            cursor.execute(statement)
    cases = [report_case(organization, description=f"Report number {n}")[0] for n in range(30)]
    refs = [case.reference for case in cases]
    assert all(case.pk > 8_765_431 for case in cases)
    assert len(set(refs)) == len(refs)
    for case in cases:
        assert REFERENCE_RE.fullmatch(case.reference), case.reference
        bare = case.reference.replace("-", "")
        assert str(case.pk) not in bare
        assert str(case.pk)[-4:] not in case.reference.split("-")
    assert sorted(refs) != refs and sorted(refs, reverse=True) != refs
    # No shared prefix and no counter: consecutive references differ almost everywhere.
    assert len({ref[:4] for ref in refs}) >= 28
    for earlier, later in zip(refs, refs[1:], strict=False):
        same = sum(a == b for a, b in zip(earlier, later, strict=True) if a != "-")
        assert same <= 6, (earlier, later)
    assert 12 * math.log2(len(references.REFERENCE_ALPHABET)) > 50


# --- the reporter's follow-up --------------------------------------------------------------------------------------


@pytest.fixture
def reported(organization):
    """A case with a team message to its reporter, and another case that must stay out of sight."""
    responder = member(organization, "responder")
    case, receipt = report_case(organization, description="Mine: the heron incident.")
    message_reporter(case, case.reports.get(), author=responder.user, body="Which room was it? (team, pelican)")
    other, _other_receipt = report_case(organization, description="Theirs: the mongoose incident.")
    message_reporter(other, other.reports.get(), author=responder.user, body="Private flamingo question")
    return {"case": case, "receipt": receipt, "other": other, "responder": responder}


@pytest.mark.parametrize(
    "typing",
    [
        lambda r: r,
        lambda r: r.lower(),
        lambda r: r.replace("-", ""),
        lambda r: r.replace("-", "").lower(),
        lambda r: " ".join(r.split("-")),
        lambda r: "  " + r.lower().replace("-", " - ") + "  ",
    ],
    ids=["as-shown", "lowercase", "no-dashes", "lower-no-dashes", "spaces", "spaced-dashes"],
)
def test_right_receipt_opens_the_reporters_case(client, reported, typing):
    response = open_with(client, typing(reported["receipt"]))
    assert response.status_code == 302
    assert response["Location"] == CASE_PAGE
    page = client.get(CASE_PAGE)
    assert page.status_code == 200
    text = page_text(page)
    assert reported["case"].reference in text
    # The team's message acknowledged the report.
    assert REPORTER_STATE_LABELS[CaseState.ACKNOWLEDGED] in text
    assert "Which room was it? (team, pelican)" in text
    assert "From the team" in text
    # Nothing of the other case.
    assert reported["other"].reference not in text
    assert "flamingo" not in text and "mongoose" not in text


def test_reporter_sees_the_current_state(client, reported):
    Case.objects.filter(pk=reported["case"].pk).update(state=CaseState.INVESTIGATING)
    open_with(client, reported["receipt"])
    text = page_text(client.get(CASE_PAGE))
    assert REPORTER_STATE_LABELS[CaseState.INVESTIGATING] in text
    assert REPORTER_STATE_LABELS[CaseState.NEW] not in text


def test_reporter_adds_information_stored_sealed(client, reported):
    case = reported["case"]
    open_with(client, reported["receipt"])
    body = "I remembered: it was room Kestrel-9.\nHe wore a green hat."
    response = client.post(CASE_PAGE, {"body": body})
    assert response.status_code == 302 and response["Location"] == CASE_PAGE
    message = Message.objects.get(case=case, direction=MessageDirection.FROM_REPORTER)
    assert message.report == case.reports.get()
    assert message.author is None
    assert b"Kestrel" not in bytes(message.sealed_body)
    assert message_body(message) == body
    assert not Message.objects.filter(case=reported["other"], direction=MessageDirection.FROM_REPORTER).exists()
    page = client.get(CASE_PAGE)
    text = page_text(page)
    assert "Your message was sent to the team." in text
    assert "From you" in text and "I remembered: it was room Kestrel-9." in text
    # The team reads it on the desk.
    log_in(client, reported["responder"].user)
    assert "Kestrel-9" in page_text(client.get(f"/desk/cases/{case.reference}/"))


def test_empty_addition_is_refused(client, reported):
    open_with(client, reported["receipt"])
    response = client.post(CASE_PAGE, {"body": "   "})
    assert response.status_code == 200
    assert "Write something before sending." in page_text(response)
    assert not Message.objects.filter(direction=MessageDirection.FROM_REPORTER).exists()


def test_reporter_does_not_see_messages_of_another_report_in_the_same_case(client, organization, reported):
    case = reported["case"]
    second = Report.objects.create(
        case=case, received_at=timezone.now(), channel="web", sealed_content=seal(case, "report", {"description": "x"})
    )
    message_reporter(case, second, author=reported["responder"].user, body="For the second reporter: ocelot")
    open_with(client, reported["receipt"])
    text = page_text(client.get(CASE_PAGE))
    assert "pelican" in text
    assert "ocelot" not in text


# --- wrong receipts and throttling ---------------------------------------------------------------------------------


def test_default_throttle_is_five_failures_per_fifteen_minutes():
    assert settings.COCDESK_RECEIPT_ATTEMPTS == 5
    assert settings.COCDESK_RECEIPT_WINDOW == 15 * 60


def test_a_wrong_receipt_marks_the_box_invalid_and_ties_the_message_to_it(client, reported):
    response = open_with(client, references.new_receipt())
    box = re.search(r"<input[^>]*name=\"receipt\"[^>]*>", response.content.decode()).group(0)
    assert 'aria-invalid="true"' in box and 'aria-describedby="receipt-problem"' in box
    assert 'id="receipt-problem"' in response.content.decode()


def test_wrong_receipts_get_one_generic_message(client, reported):
    well_formed = references.new_receipt()
    malformed = "not-a-receipt!! <b>"
    answers = [open_with(client, typed) for typed in (well_formed, malformed)]
    for response in answers:
        assert response.status_code == 200
        assert CASE_PAGE not in response.get("Location", "")
    assert alert(answers[0]) == alert(answers[1])
    assert alert(answers[0]) == "We could not find a report with that receipt. Check it and try again."
    assert "reporter_receipt" not in client.session
    assert client.get(CASE_PAGE)["Location"] == FOLLOW_UP


def test_the_default_limit_blocks_the_sixth_attempt_even_with_the_right_receipt(client, reported):
    for _ in range(4):
        assert alert(open_with(client, references.new_receipt())) is not None
    # Four failures: the right receipt still works.
    assert open_with(client, reported["receipt"]).status_code == 302
    client.post(LEAVE)
    open_with(client, references.new_receipt())  # the fifth failure reaches the limit
    blocked = open_with(client, reported["receipt"])
    assert blocked.status_code == 200
    assert alert(blocked) == "Too many attempts. Please wait a few minutes before trying again."


@override_settings(COCDESK_RECEIPT_ATTEMPTS=3)
def test_throttle_blocks_even_the_right_receipt_until_the_window_is_cleared(client, reported):
    not_found = "We could not find a report with that receipt. Check it and try again."
    throttled = "Too many attempts. Please wait a few minutes before trying again."
    for typed in (references.new_receipt(), "garbage", references.new_receipt()):
        assert alert(open_with(client, typed)) == not_found
    for typed in (reported["receipt"], references.new_receipt()):
        response = open_with(client, typed)
        assert response.status_code == 200
        assert alert(response) == throttled
    assert "reporter_receipt" not in client.session
    assert client.get(CASE_PAGE)["Location"] == FOLLOW_UP
    # Another client is not blocked by this one's failures.
    other = open_with(client.__class__(), reported["receipt"], REMOTE_ADDR="203.0.113.77")
    assert other.status_code == 302
    # Once the window has passed (the counters are gone), the right receipt works again.
    ThrottleCount.objects.update(window_ends_at=timezone.now())
    response = open_with(client, reported["receipt"])
    assert response.status_code == 302 and response["Location"] == CASE_PAGE
    assert reported["case"].reference in page_text(client.get(CASE_PAGE))


def test_receipt_of_an_erased_case_opens_nothing(client, reported):
    open_with(client, reported["receipt"])
    assert client.get(CASE_PAGE).status_code == 200
    erase_case(Case.objects.get(pk=reported["case"].pk))
    assert client.get(CASE_PAGE)["Location"] == FOLLOW_UP
    response = open_with(client, reported["receipt"])
    assert alert(response) == "We could not find a report with that receipt. Check it and try again."


# --- session ---------------------------------------------------------------------------------------------------------


def test_case_page_without_a_receipt_session_redirects(client, reported):
    response = client.get(CASE_PAGE)
    assert response.status_code == 302 and response["Location"] == FOLLOW_UP
    response = client.post(CASE_PAGE, {"body": "sneaky"})
    assert response.status_code == 302 and response["Location"] == FOLLOW_UP
    assert not Message.objects.filter(direction=MessageDirection.FROM_REPORTER).exists()


def test_entering_a_receipt_starts_a_new_session(client, reported):
    session = client.session
    session["planted"] = "by someone else"
    session.save()
    planted_key = session.session_key
    assert open_with(client, reported["receipt"]).status_code == 302
    assert client.cookies[settings.SESSION_COOKIE_NAME].value != planted_key


def test_leave_forgets_the_receipt(client, reported):
    open_with(client, reported["receipt"])
    assert client.get(CASE_PAGE).status_code == 200
    assert client.get(LEAVE).status_code == 405
    assert client.get(CASE_PAGE).status_code == 200
    response = client.post(LEAVE)
    assert response.status_code == 302 and response["Location"] == FOLLOW_UP
    assert "reporter_receipt" not in client.session
    assert client.get(CASE_PAGE)["Location"] == FOLLOW_UP


# --- caching ---------------------------------------------------------------------------------------------------------


def test_receipt_and_case_pages_are_never_cached(client, organization, reported):
    confirmation, reference, receipt = post_report(client, organization, description="Cache check.")
    assert confirmation["Cache-Control"] == "no-store"
    assert client.get(FOLLOW_UP)["Cache-Control"] == "no-store"
    assert open_with(client, receipt)["Cache-Control"] == "no-store"
    page = client.get(CASE_PAGE)
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    assert client.post(CASE_PAGE, {"body": "More."})["Cache-Control"] == "no-store"
    log_in(client, reported["responder"].user)
    desk = client.get(f"/desk/cases/{reference}/")
    assert desk.status_code == 200 and desk["Cache-Control"] == "no-store"


def test_every_symbol_is_drawn_at_every_position_of_a_reference():
    drawn = [references.new_reference().replace("-", "") for _ in range(3000)]
    for position in range(12):
        # 100 expected draws of each of the 30 symbols at each position: none missing, none far off.
        counts = {symbol: 0 for symbol in references.REFERENCE_ALPHABET}
        for reference in drawn:
            counts[reference[position]] += 1
        assert min(counts.values()) > 40 and max(counts.values()) < 180, (position, counts)
