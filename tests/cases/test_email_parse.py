"""Reading mail: every header decoded whatever its encoding, every string clean, arrival times bounded, bounces
recognised. Pure functions: hand-written RFC 822 bytes in, no database."""

import hashlib
import json
import re
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cocdesk.cases.domain import email_parse
from cocdesk.cases.domain.email_headers import MAX_NAME_CHARS, MAX_SUBJECT_CHARS, bounded_arrival, clean_line
from cocdesk.cases.domain.email_parse import (
    UnusableMail,
    bounce_of,
    mail_digest,
    parse_mail,
    read_leniently,
)

MAIL = Path(__file__).resolve().parents[1] / "data" / "mail"
NOW = datetime(2024, 3, 22, 12, 0, tzinfo=UTC)
SURROGATE = re.compile(r"[\ud800-\udfff]")


def eml(name):
    return (MAIL / name).read_bytes()


def parse(raw):
    return parse_mail(raw, now=NOW)


def assert_clean_text(text, *, single_line=False, limit=None):
    """Text any page, JSON document or database takes: no lone surrogate, no control character but newline
    and tab (so no NUL), encodable as UTF-8; names and subjects on one bounded line."""
    assert isinstance(text, str)
    assert not SURROGATE.search(text), repr(text)
    assert not [char for char in text if unicodedata.category(char) == "Cc" and char not in "\n\t"], repr(text)
    text.encode("utf-8")
    assert json.loads(json.dumps(text)) == text
    if single_line:
        assert "\n" not in text and "\t" not in text and text == text.strip(), repr(text)
    if limit is not None:
        assert len(text) <= limit


def assert_clean(mail):
    """Every string a ParsedMail carries is clean."""
    for name in ("sender_name", "subject"):
        limit = MAX_NAME_CHARS if name == "sender_name" else MAX_SUBJECT_CHARS
        assert_clean_text(getattr(mail, name), single_line=True, limit=limit)
    for line in (mail.message_id, mail.sender_address, mail.date, *mail.thread_ids, *mail.to_addresses):
        assert_clean_text(line, single_line=True, limit=998)
    assert_clean_text(mail.text)
    for attachment in mail.attachments:
        assert_clean_text(attachment.filename, single_line=True, limit=email_parse.MAX_FILENAME_CHARS)
        assert_clean_text(attachment.content_type, single_line=True)
        assert isinstance(attachment.content, bytes)
    assert mail.arrived_at is None or (mail.arrived_at.tzinfo is not None and mail.arrived_at <= NOW)


def parsed_or_unusable(raw):
    """parse_mail's answer to hostile bytes: a clean ParsedMail, or UnusableMail; anything else fails the test."""
    try:
        mail = parse(raw)
    except UnusableMail as unusable:
        assert_clean_text(unusable.reason, single_line=True)
        return None
    assert_clean(mail)
    return mail


def test_a_plain_mail_gives_its_sender_subject_text_recipients_and_arrival():
    mail = parse(eml("plain.eml"))
    assert_clean(mail)
    assert (mail.sender_name, mail.sender_address) == ("Sam Reporter", "sam.reporter@example.net")
    assert mail.subject == "Harassment at the keynote"
    assert mail.text.startswith("Hello,\n\nDuring the keynote") and mail.text.endswith("Thanks,\nSam")
    assert mail.message_id == "<CAF8kq3+plain-0001@mail.example.net>"
    assert mail.to_addresses == ["conduct@community.example"]
    assert mail.date == "Tue, 12 Mar 2024 09:13:58 +0100"
    # From the Received: header our mail server added (09:14:02), not the sender's Date: (09:13:58).
    assert mail.arrived_at == datetime(2024, 3, 12, 9, 14, 2, tzinfo=timezone(timedelta(hours=1)))
    assert mail_digest(eml("plain.eml")) == hashlib.sha256(b"<CAF8kq3+plain-0001@mail.example.net>").hexdigest()


def test_an_html_only_mail_becomes_plain_text():
    mail = parse(eml("html_only.eml"))
    assert_clean(mail)
    assert "<p>" not in mail.text and "<a " not in mail.text
    assert mail.text.startswith('Someone in #general sent me "jokes" & insults.')
    assert "(https://chat.example/archives/C1/p42)" in mail.text


def test_raw_utf8_sender_and_subject_are_decoded_not_surrogate_escaped():
    # RFC 6532: 8-bit UTF-8 right in the headers. Python's email package hands these out as lone surrogates
    # ('Zo\udcc3\udcab'), which made the case page fail for good.
    mail = parse(eml("raw_utf8_headers.eml"))
    assert_clean(mail)
    assert (mail.sender_name, mail.sender_address) == ("Zoë Müller", "zoe.muller@example.org")
    assert mail.subject == "Belästigung beim Abendessen – bitte melden"
    assert "Namensschild „Jörg“" in mail.text


def test_undeclared_8bit_headers_and_body_are_read_as_windows_1252():
    mail = parse(eml("undeclared_8bit.eml"))
    assert_clean(mail)
    assert mail.sender_name == "Renée Zoë"
    assert mail.subject == "\u201cJokes\u201d at the café \u2013 again"
    assert mail.text == "He said it was \u201cjust a joke\u201d. It cost me 5\u20ac to leave early."


def test_iso_2022_jp_headers_and_body_are_decoded():
    mail = parse(eml("iso2022jp.eml"))
    assert_clean(mail)
    assert (mail.sender_name, mail.sender_address) == ("山田 太郎", "taro@example.jp")
    assert mail.subject == "会場での嫌がらせ"
    assert mail.text == "昨日の懇親会で、同じ人に何度も話しかけられました。\n名札は「42」でした。"


def test_iso_2022_jp_written_raw_in_a_header_is_recognised_by_its_escapes():
    raw = b"From: A <a@example.jp>\nSubject: \x1b$B2q>l\x1b(B\n\nx\n"
    assert parse(raw).subject == "会場"


def test_a_forwarded_mail_is_kept_whole_and_its_text_shown_in_place():
    mail = parse(eml("forwarded.eml"))
    assert_clean(mail)
    assert mail.text.startswith("A speaker got this after her talk")
    assert "---------- Forwarded message ----------\nFrom: Anon Troll <troll@example.invalid>" in mail.text
    assert "Subject: your talk \u2014 a warning" in mail.text
    assert "You should not speak again." in mail.text
    assert "alert" not in mail.text and "<b>" not in mail.text  # HTML as text: scripts left out, tags dropped
    (forwarded,) = mail.attachments
    assert (forwarded.filename, forwarded.content_type) == ("forwarded-message.eml", "message/rfc822")
    assert b"Message-ID: <troll-1@example.invalid>" in forwarded.content


def test_a_mail_with_only_a_subject_is_a_report():
    mail = parse(eml("subject_only.eml"))
    assert (mail.subject, mail.text, mail.attachments) == ("following me around hall C right now", "", [])


def test_a_mail_without_subject_text_or_attachments_is_unusable():
    with pytest.raises(UnusableMail, match=r"^no content \(no subject, no text and no attachments\)$"):
        parse(b"From: A <a@example.org>\nSubject:   \nMessage-ID: <e@x>\n\n  \n")


def test_a_bounce_names_the_mail_it_returns_and_the_failed_address():
    raw = eml("bounce.eml")
    report = bounce_of(raw)
    assert report.message_ids == ["<notice-42@cocdesk.example>", "<CAF8kq3+plain-0001@mail.example.net>"]
    assert report.recipients == ["sam.reporter@example.net"]
    assert report.failed
    with pytest.raises(UnusableMail, match="automatic reply or delivery report"):
        parse(raw)


DELAYED = b"""From: MAILER-DAEMON@mx.example.net
To: conduct@community.example
Subject: Delayed Mail (still being retried)
Message-ID: <delay-1@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="d"

--d
Content-Type: text/plain

Still trying.
--d
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; kim@example.net
Action: delayed
Status: 4.4.1

--d
Content-Type: message/rfc822

From: conduct@community.example
To: kim@example.net
Subject: Your report
Message-ID: <ack-9@cocdesk.example>

Thank you.
--d--
"""


def test_a_delay_notice_is_a_delivery_report_but_not_a_failure():
    # Recognised by its message/delivery-status part even outside multipart/report; the returned mail is whole.
    report = bounce_of(DELAYED)
    assert report.message_ids == ["<ack-9@cocdesk.example>"]
    assert report.recipients == ["kim@example.net"] and not report.failed


def test_ordinary_mail_and_auto_replies_are_no_delivery_reports():
    for name in ("plain.eml", "forwarded.eml", "auto_reply.eml", "truncated.eml"):
        assert bounce_of(eml(name)) is None
    assert bounce_of(b"\x00\xff not a mail") is None


def test_an_auto_reply_is_unusable():
    with pytest.raises(UnusableMail, match="automatic reply"):
        parse(eml("auto_reply.eml"))
    vacation = b"From: A <a@example.org>\nPrecedence: auto_reply\nSubject: Away\n\nAway.\n"
    with pytest.raises(UnusableMail, match="automatic reply"):
        parse(vacation)


def test_recipients_come_from_to_cc_delivered_to_and_x_original_to_lower_cased():
    raw = (
        b"Delivered-To: Conduct+PyCon@Community.example\n"
        b"X-Original-To: chairs@community.example\n"
        b"From: A <a@example.org>\n"
        b'To: "Team, CoC" <Conduct@Community.Example>, =?utf-8?q?=C3=89quipe?= <equipe@example.fr>\n'
        b"Cc: conduct@community.example, not an address\n"
        b"Subject: s\n\nx\n"
    )
    assert parse(raw).to_addresses == [
        "conduct@community.example",
        "equipe@example.fr",
        "conduct+pycon@community.example",
        "chairs@community.example",
    ]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b"=?utf-8?q?Zo=C3=AB?= <z@example.org>", "Zoë"),
        # One character split across two encoded words; the space between two words is not shown.
        (b"=?utf-8?b?WsM=?= =?utf-8?b?q3Ug?= =?utf-8?q?M=C3=BCller?= <z@example.org>", "Zëu Müller"),
        (b"=?utf-8?q?Zo=C3=AB?= Smith <z@example.org>", "Zoë Smith"),
        (b'"=?utf-8?q?Doe=2C_Jane?=" <jane@example.org>', "Doe, Jane"),
        (b"=?UTF-8*en?Q?Jo?= <jo@example.org>", "Jo"),  # RFC 2231 language tag
        (b"=?x-no-such-charset?q?Ren=C3=A9e?= <r@example.org>", "Renée"),  # unknown charset: UTF-8, then 1252
        (b"=?iso-8859-1?q?Ren=E9e?= <r@example.org>", "Renée"),
        (b"=?utf-8?b?!!!!?= <r@example.org>", ""),  # nothing decodable in it
        (b"=?utf-8?b?QUJDD?= <r@example.org>", "=?utf-8?b?QUJDD?="),  # broken base64 stays as written
        (b"r@example.org (Riley Example)", "Riley Example"),
    ],
)
def test_encoded_words_decode_whatever_their_state(header, expected):
    mail = parse(b"From: " + header + b"\nSubject: s\n\nx\n")
    assert_clean(mail)
    assert mail.sender_name == expected


HOSTILE = {
    "NUL in headers and body": b"From: A\x00B <a@example.org>\r\nSubject: hi\x00there\r\n\r\nbody\x00 text\r\n",
    "CR without LF": b"From: A <a@example.org>\rSubject: cr only\rX-Evil: 1\r\rbody with\rCR\r",
    "10,000-character headers": (
        b"From: " + b"A" * 10_000 + b" <a@example.org>\r\nSubject: " + "é".encode() * 10_000 + b"\r\n"
        b"References: " + b"<x@y> " * 2_000 + b"\r\n\r\nx\r\n"
    ),
    "odd bytes in header names": (
        b"From: A <a@example.org>\r\nX-\xff\xfe\x00Odd: v\r\n\x80\x81: v\r\nSubject: s\r\n\r\nx"
    ),
    "bad charset names and base64": (
        b"From: =?\xff\xfe?b?w7w=?= =?x-\x00?q?a?= <a@example.org>\r\n"
        b"Subject: =?utf-8?b?!!!?= =?utf-8?b?w7?= =?utf-8?q?=ZZ=C3?= =?unicode_escape?q?=5Cud800?=\r\n\r\nx\r\n"
    ),
    "empty From": b"From: \r\nSubject: s\r\n\r\nx\r\n",
    "From without an address": b"From: Lee\r\nSubject: s\r\n\r\nx\r\n",
    "control characters in an address": b"From: A <a\x07b@example.org>\r\nSubject: s\r\n\r\nx\r\n",
    "odd content type and file name": (
        b'From: A <a@example.org>\r\nContent-Type: te\xffxt/pl\x00ain; charset="\xe9"\r\n'
        b'Content-Disposition: attachment; filename="../caf\xc3\xa9\x00\x1b.txt"\r\n\r\nx\r\n'
    ),
    "a charset that makes surrogates": (
        b"From: A <a@example.org>\r\nContent-Type: text/plain; charset=unicode_escape\r\n\r\n\\ud800 \\x00 x\r\n"
    ),
    "impossible dates": (
        b"From: A <a@example.org>\r\nReceived: by x; Mon, 1 Jan 0001 00:00:00 -1200\r\n"
        b"Date: Tue, 99 Foo 99999 99:99:99 +9999\r\nSubject: s\r\n\r\nx\r\n"
    ),
    "nested 2,000 levels deep": b"From: A <a@example.org>\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n"
    + b"".join(b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (i, i + 1) for i in range(2000)),
    "no headers at all": b"\x00\x01\x02\xff\xfe garbage",
    "empty": b"",
}


@pytest.mark.parametrize("raw", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_headers_give_a_clean_mail_or_unusable_mail_and_nothing_else(raw):
    parsed_or_unusable(raw)
    lenient = read_leniently(raw, now=NOW)
    if lenient is not None:
        assert_clean(lenient)
    assert bounce_of(raw) is None
    assert re.fullmatch("[0-9a-f]{64}", mail_digest(raw))


def test_hostile_headers_are_read_as_far_as_they_go():
    nul = parse(HOSTILE["NUL in headers and body"])
    assert (nul.sender_name, nul.subject, nul.text) == ("AB", "hithere", "body text")
    assert parse(HOSTILE["CR without LF"]).text == "body with\nCR"
    long = parse(HOSTILE["10,000-character headers"])
    assert long.sender_name == "A" * (MAX_NAME_CHARS - 1) + "\u2026"
    assert long.subject == "é" * (MAX_SUBJECT_CHARS - 1) + "\u2026"
    assert len(long.thread_ids) == 1
    odd = parse(HOSTILE["odd content type and file name"])
    assert [(item.filename, item.content_type) for item in odd.attachments] == [
        ("café.txt", "application/octet-stream")
    ]
    for name in ("empty From", "From without an address", "control characters in an address"):
        with pytest.raises(UnusableMail, match="no sender address"):
            parse(HOSTILE[name])


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (NOW - timedelta(hours=3), NOW - timedelta(hours=3)),
        (NOW + timedelta(minutes=5), NOW),  # a clock ahead: never later than now
        (NOW - timedelta(days=29, hours=23), NOW - timedelta(days=29, hours=23)),
        (NOW - timedelta(days=30, seconds=1), None),  # a clock far behind or a made-up date: counts from now
        (None, None),
    ],
)
def test_the_arrival_time_is_bounded_by_now_and_thirty_days(moment, expected):
    assert bounded_arrival(moment, NOW) == expected


def headers_then_text(*headers):
    return "\n".join(["From: A <a@example.org>", *headers, "Subject: s", "", "x", ""]).encode()


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            # The topmost Received: is our server's; the ones below it are earlier hops.
            [
                "Received: by mx.community.example; Fri, 22 Mar 2024 11:00:00 +0000",
                "Received: by relay.example.net; Fri, 22 Mar 2024 10:00:00 +0000",
                "Date: Fri, 22 Mar 2024 09:00:00 +0000",
            ],
            datetime(2024, 3, 22, 11, 0, tzinfo=UTC),
        ),
        (
            ["Received: from a by b with LMTP", "Date: Fri, 22 Mar 2024 09:00:00 +0000"],
            datetime(2024, 3, 22, 9, 0, tzinfo=UTC),
        ),
        (["Received: by b; garbage", "Date: Fri, 22 Mar 2024 09:00:00 -0000"], datetime(2024, 3, 22, 9, tzinfo=UTC)),
        (["Date: Sat, 23 Mar 2024 09:00:00 +0000"], NOW),
        (["Date: Mon, 1 Jan 2024 09:00:00 +0000"], None),
        ([], None),
    ],
)
def test_the_arrival_time_comes_from_the_topmost_received_header_else_the_date(headers, expected):
    assert parse(headers_then_text(*headers)).arrived_at == expected


def test_thread_ids_come_from_in_reply_to_then_references_from_the_newest():
    mail = parse(headers_then_text("In-Reply-To: <b@x>", "References: <a@x>\n <b@x>\t<c@x> not-an-id <d@\x00x>"))
    assert mail.thread_ids == ["<b@x>", "<c@x>", "<a@x>"]


def test_clean_line_keeps_one_bounded_line():
    assert clean_line("  a\r\n\tb \x00c\udcc3  ", 100) == "a b c\ufffd"
    assert clean_line("x" * 10, 5) == "xxxx\u2026"


HEADER_BYTES = st.binary(max_size=400)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sender=HEADER_BYTES, subject=HEADER_BYTES, body=st.binary(max_size=200))
def test_any_bytes_in_from_and_subject_give_clean_strings_or_unusable_mail(sender, subject, body):
    raw = b"From: " + sender + b"\r\nSubject: " + subject + b"\r\nMessage-ID: <p@x>\r\n\r\n" + body
    parsed_or_unusable(raw)


@settings(max_examples=200, deadline=None)
@given(
    name=st.text(max_size=60),
    subject=st.text(max_size=120),
    encoding=st.sampled_from(["utf-8", "windows-1252", "iso-8859-1", "iso2022_jp", "utf-16"]),
)
def test_any_text_written_raw_in_any_charset_gives_clean_strings(name, subject, encoding):
    def raw_in(text):
        return text.encode(encoding, errors="replace")

    raw = b"From: " + raw_in(name) + b" <a@example.org>\nSubject: " + raw_in(subject) + b"\n\nx\n"
    mail = parsed_or_unusable(raw)
    plain = "=?" not in subject and not any(unicodedata.category(char) == "Cc" for char in subject)
    if mail is not None and encoding == "utf-8" and plain:
        # Valid UTF-8 is read back as written, up to runs of white space.
        assert mail.subject == clean_line(subject, MAX_SUBJECT_CHARS)
