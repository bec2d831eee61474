"""Reading an incoming RFC 822 mail into plain parts: sender, subject, text, attachments, thread ids, arrival.

Pure functions, no database. Anything that keeps a mail from becoming a report raises ``UnusableMail`` with a
reason in words that never quotes the mail (no address, subject or content), because the reason is logged.
Any charset is decoded; bytes that cannot be decoded are replaced, never a crash. Every string a ParsedMail
carries is clean (``email_headers.clean_text``): no lone surrogates, no NUL, no control characters but newline
and tab, names and subjects on one bounded line. Headers are read by ``email_headers``, delivery reports
(bounces) by ``email_bounce``.
"""

import email
import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import errors, policy
from email.parser import BytesHeaderParser
from html import unescape
from html.parser import HTMLParser

from .email_bounce import DeliveryReport, bounce_of, delivery_report_for
from .email_headers import (
    MAX_NAME_CHARS,
    MAX_SUBJECT_CHARS,
    arrival_time,
    bounded_arrival,
    clean_line,
    clean_text,
    decode_text,
    header_text,
    message_id_of,
    recipient_addresses,
    repaired,
    sender_of,
    thread_ids,
)

__all__ = [
    "MAX_ATTACHMENT_BYTES",
    "MAX_MESSAGE_BYTES",
    "DeliveryReport",
    "MailAttachment",
    "ParsedMail",
    "UnusableMail",
    "bounce_of",
    "bounded_arrival",
    "clean_text",
    "contents_of",
    "decode_text",
    "delivery_report_for",
    "has_broken_structure",
    "header_text",
    "html_to_text",
    "human_size",
    "mail_digest",
    "parse_mail",
    "read_leniently",
    "read_message",
    "recipient_addresses",
    "safe_filename",
]

MIB = 1024 * 1024
MAX_MESSAGE_BYTES = 10 * MIB
MAX_ATTACHMENT_BYTES = 8 * MIB
MAX_FILENAME_CHARS = 150

STRUCTURE_DEFECTS = (
    errors.StartBoundaryNotFoundDefect,
    errors.CloseBoundaryNotFoundDefect,
    errors.MultipartInvariantViolationDefect,
    errors.NoBoundaryInMultipartDefect,
)
_CONTENT_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")


class UnusableMail(Exception):
    """The mail cannot become a report or a reply; ``reason`` says why in words safe to log."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


@dataclass
class MailAttachment:
    filename: str
    content_type: str
    content: bytes


@dataclass
class ParsedMail:
    message_id: str
    sender_name: str
    sender_address: str
    subject: str
    text: str
    attachments: list = field(default_factory=list)
    thread_ids: list = field(default_factory=list)
    # When the mail reached the mail server (topmost Received:, else Date:), held between now minus 30 days and
    # now; None when the mail says nothing usable: then it counts as arriving when it was read.
    arrived_at: datetime | None = None
    # Lower-cased addresses it was delivered to (To, Cc, Delivered-To, X-Original-To): which intake address got it.
    to_addresses: list = field(default_factory=list)
    # The Date: header as the sender wrote it (decoded), for showing; '' when absent.
    date: str = ""


def human_size(size):
    """'12.3 MiB', '10 MiB' (exact), '512 KiB', '300 bytes'."""
    for unit, name in ((MIB, "MiB"), (1024, "KiB")):
        if size >= unit:
            return f"{size // unit} {name}" if size % unit == 0 else f"{size / unit:.1f} {name}"
    return f"{size} bytes"


def parse_mail(raw, *, now=None):
    """Returns a ParsedMail, or raises UnusableMail (and nothing else). ``now`` bounds ``arrived_at``."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise UnusableMail(f"message too large ({human_size(len(raw))} > {human_size(MAX_MESSAGE_BYTES)})")
    message = read_message(raw)
    try:
        return _checked(message, now)
    except UnusableMail:
        raise
    except Exception as error:  # whatever a hostile mail makes the email package do, it is only unusable
        raise UnusableMail(f"could not be parsed ({type(error).__name__})") from error


def _checked(message, now):
    if has_broken_structure(message):
        raise UnusableMail("broken MIME structure (truncated, or a boundary is missing)")
    if is_automatic(message):
        raise UnusableMail("automatic reply or delivery report (Auto-Submitted or multipart/report)")
    mail = _reading(message, now)
    if not mail.sender_address:
        raise UnusableMail("no sender address (From: missing or unreadable)")
    for attachment in mail.attachments:
        if len(attachment.content) > MAX_ATTACHMENT_BYTES:
            size, limit = human_size(len(attachment.content)), human_size(MAX_ATTACHMENT_BYTES)
            raise UnusableMail(f"attachment too large ({size} > {limit})")
    # The subject counts as content: "following me around hall C right now" is a report.
    if not (mail.subject or mail.text or mail.attachments):
        raise UnusableMail("no content (no subject, no text and no attachments)")
    return mail


def read_message(raw):
    """The parsed message, or UnusableMail when the bytes are not a mail at all."""
    try:
        message = email.message_from_bytes(bytes(raw), policy=policy.default)
        has_headers = bool(message.keys())
    except Exception as error:  # the parser is lenient; anything it still raises means unreadable
        raise UnusableMail(f"could not be parsed ({type(error).__name__})") from error
    if not has_headers:
        raise UnusableMail("not an email message (no headers)")
    return message


def read_leniently(raw, *, now=None):
    """What a person can read of any mail, whatever keeps it from becoming a report on its own (automatic, no
    sender, no content, too large): a ParsedMail, or None when the bytes cannot be read as a mail at all."""
    try:
        return _reading(read_message(raw), now)
    except Exception:  # unreadable: the caller shows the raw bytes instead
        return None


def _reading(message, now):
    now = now or datetime.now(UTC)
    text, attachments = contents_of(message)
    sender_name, sender_address = sender_of(message)
    return ParsedMail(
        message_id=message_id_of(message),
        sender_name=clean_line(sender_name, MAX_NAME_CHARS),
        sender_address=sender_address,
        subject=header_text(message, "Subject", MAX_SUBJECT_CHARS),
        text=text,
        attachments=attachments,
        thread_ids=thread_ids(message),
        arrived_at=arrival_time(message, now),
        to_addresses=recipient_addresses(message),
        date=header_text(message, "Date", 200),
    )


def contents_of(message):
    """(text, attachments) of a parsed mail: the text parts (HTML as plain text) joined and cleaned, every
    other part (forwarded mails included) as a MailAttachment. Sizes are not checked here."""
    texts, attachments = [], []
    _collect(message, texts, attachments)
    text = "\n\n".join(chunk for chunk in (_tidy(clean_text(text)) for text in texts) if chunk)
    return text, attachments


def has_broken_structure(message):
    return any(isinstance(defect, STRUCTURE_DEFECTS) for part in message.walk() for defect in part.defects)


def is_automatic(message):
    auto_submitted = header_text(message, "Auto-Submitted").strip().lower()
    precedence = header_text(message, "Precedence").strip().lower()
    return (
        (auto_submitted not in ("", "no"))
        or precedence == "auto_reply"
        or message.get_content_type() == "multipart/report"
    )


def mail_digest(raw):
    """SHA-256 of the Message-ID, or of the whole mail when it has none: the same digest the intake keeps on
    reports and messages, so one mail is recognised however often it arrives."""
    try:
        message_id = message_id_of(BytesHeaderParser(policy=policy.default).parsebytes(bytes(raw)))
    except Exception:  # headers unreadable: the bytes themselves identify the mail
        message_id = ""
    if message_id:
        return hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()
    return hashlib.sha256(b"raw:" + bytes(raw)).hexdigest()


def html_to_text(html):
    """A plain rendering of HTML: tags dropped, entities decoded, scripts and styles left out, links kept."""
    extractor = _TextExtractor()
    try:
        extractor.feed(html)
        extractor.close()
        text = "".join(extractor.parts)
    except Exception:  # HTMLParser is lenient; this is a last resort
        text = unescape(re.sub(r"<[^>]*>", " ", html))
    return _tidy("\n".join(line.strip() for line in text.split("\n")))


def _collect(part, texts, attachments, *, skip_text=False, depth=0):
    content_type = _content_type(part)
    if content_type == "message/rfc822":
        _keep_forwarded(part, texts, attachments, skip_text=skip_text, depth=depth)
    elif part.is_multipart():
        subparts = list(part.iter_parts())
        if content_type == "multipart/alternative" and subparts:
            chosen = _preferred_alternative(subparts)
            for subpart in subparts:
                _collect(subpart, texts, attachments, skip_text=skip_text or subpart is not chosen, depth=depth)
        else:
            for subpart in subparts:
                _collect(subpart, texts, attachments, skip_text=skip_text, depth=depth)
    elif _is_body_text(part):
        if not skip_text:
            text = decode_text(part.get_payload(decode=True) or b"", part.get_content_charset())
            texts.append(html_to_text(text) if content_type == "text/html" else text)
    else:
        _keep_attachment(part, part.get_payload(decode=True) or b"", attachments)


def _content_type(part):
    """The part's type when it reads as one (type/subtype, lower case), else application/octet-stream."""
    content_type = part.get_content_type()
    return content_type if _CONTENT_TYPE.fullmatch(content_type) else "application/octet-stream"


def _filename_of(part):
    try:
        return repaired(part.get_filename() or "")
    except Exception:  # a malformed Content-Disposition: the part keeps a default name
        return ""


def _is_body_text(part):
    return (
        _content_type(part) in ("text/plain", "text/html")
        and part.get_content_disposition() != "attachment"
        and not _filename_of(part)
    )


def _preferred_alternative(subparts):
    for wanted in ("text/plain", "text/html"):
        for subpart in subparts:
            if any(_is_body_text(leaf) and _content_type(leaf) == wanted for leaf in subpart.walk()):
                return subpart
    return subparts[-1]


# A forwarded mail inside a forwarded mail inside...: past this depth the inner ones are attachments only.
MAX_FORWARD_DEPTH = 3


def _keep_forwarded(part, texts, attachments, *, skip_text, depth):
    """A forwarded mail is kept whole as an .eml attachment (the evidence as it was), and its text is shown
    after the forwarding mail's own, under its decoded From, Date and Subject, so the team reads it in place."""
    inner = part.get_payload()
    inner = inner[0] if isinstance(inner, list) and inner else inner
    try:
        content = inner.as_bytes(policy=policy.compat32) if hasattr(inner, "as_bytes") else bytes(inner)
    except Exception:
        content = part.as_bytes(policy=policy.compat32)
    _keep_attachment(part, content, attachments, default_name="forwarded-message.eml")
    if skip_text or depth >= MAX_FORWARD_DEPTH or not hasattr(inner, "raw_items"):
        return
    inner_texts = []
    _collect(inner, inner_texts, [], depth=depth + 1)
    heading = [f"{name}: {header_text(inner, name)}" for name in ("From", "Date", "Subject")]
    heading = [line for line in heading if not line.endswith(": ")]
    texts.append("\n".join(["---------- Forwarded message ----------", *heading, "", *inner_texts]))


def _keep_attachment(part, content, attachments, default_name=None):
    content_type = _content_type(part)
    filename = safe_filename(_filename_of(part)) or default_name or _default_name(len(attachments) + 1, content_type)
    attachments.append(MailAttachment(filename=filename, content_type=content_type, content=content))


def safe_filename(name):
    """The last path segment, without control characters, at most MAX_FILENAME_CHARS characters."""
    name = re.split(r"[\\/]", clean_line(name, 10_000))[-1]
    name = "".join(char for char in name if char.isprintable()).strip().strip(".")
    if len(name) > MAX_FILENAME_CHARS:
        stem, dot, extension = name.rpartition(".")
        keep = extension if dot and len(extension) <= 10 else ""
        name = name[: MAX_FILENAME_CHARS - len(keep) - 1].rstrip() + ("." + keep if keep else "")
    return name


def _default_name(number, content_type):
    return f"attachment-{number}{mimetypes.guess_extension(content_type) or '.bin'}"


def _tidy(text):
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


class _TextExtractor(HTMLParser):
    BLOCK = {
        *("p", "div", "li", "tr", "table", "ul", "ol", "dl", "dt", "dd", "blockquote", "pre", "hr"),
        *("section", "article", "header", "footer"),
        *(f"h{level}" for level in range(1, 7)),
    }
    SKIP = {"script", "style", "head", "template"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []
        self.skipping = 0
        self.preformatted = 0
        self.links = []

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in self.BLOCK:
            self.parts.append("\n- " if tag == "li" else "\n")
            self.preformatted += tag == "pre"
        elif tag == "a":
            self.links.append((dict(attrs).get("href") or "", len(self.parts)))
        elif tag == "img" and dict(attrs).get("alt"):
            self.parts.append(f" [image: {dict(attrs)['alt']}] ")

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCK and tag != "li":
            self.parts.append("\n")
            self.preformatted = max(0, self.preformatted - (tag == "pre"))
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            shown = "".join(self.parts[start:])
            if href.lower().startswith(("http://", "https://")) and href not in shown:
                self.parts.append(f" ({href})")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data if self.preformatted else re.sub(r"\s+", " ", data))
