"""Reading an incoming RFC 822 mail into plain parts: sender, subject, text, attachments, thread ids.

Pure functions, no database. Anything that keeps a mail from becoming a report raises ``UnusableMail`` with a
reason in words that never quotes the mail (no address, subject or content), because the reason is logged.
Any charset is decoded; bytes that cannot be decoded are replaced, never a crash.
"""

import email
import mimetypes
import re
from dataclasses import dataclass, field
from email import errors, policy
from html import unescape
from html.parser import HTMLParser

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
MESSAGE_ID = re.compile(r"<[^<>\s]+>")


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


def human_size(size):
    """'12.3 MiB', '10 MiB' (exact), '512 KiB', '300 bytes'."""
    for unit, name in ((MIB, "MiB"), (1024, "KiB")):
        if size >= unit:
            return f"{size // unit} {name}" if size % unit == 0 else f"{size / unit:.1f} {name}"
    return f"{size} bytes"


def parse_mail(raw):
    """Returns a ParsedMail, or raises UnusableMail."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise UnusableMail(f"message too large ({human_size(len(raw))} > {human_size(MAX_MESSAGE_BYTES)})")
    try:
        message = email.message_from_bytes(raw, policy=policy.default)
    except Exception as error:  # the parser is lenient; anything it still raises means unreadable
        raise UnusableMail(f"could not be parsed ({type(error).__name__})") from error
    if not message.keys():
        raise UnusableMail("not an email message (no headers)")
    if any(isinstance(defect, STRUCTURE_DEFECTS) for part in message.walk() for defect in part.defects):
        raise UnusableMail("broken MIME structure (truncated, or a boundary is missing)")
    if is_automatic(message):
        raise UnusableMail("automatic reply or delivery report (Auto-Submitted or multipart/report)")
    sender_name, sender_address = sender_of(message)
    if not sender_address:
        raise UnusableMail("no sender address (From: missing or unreadable)")
    texts, attachments = [], []
    try:
        _collect(message, texts, attachments)
    except UnusableMail:
        raise
    except Exception as error:
        raise UnusableMail(f"could not be parsed ({type(error).__name__})") from error
    text = "\n\n".join(chunk for chunk in (_tidy(text) for text in texts) if chunk)
    if not text and not attachments:
        raise UnusableMail("no body (no text and no attachments)")
    return ParsedMail(
        message_id=header_text(message, "Message-ID").strip(),
        sender_name=sender_name,
        sender_address=sender_address,
        subject=" ".join(header_text(message, "Subject").split()),
        text=text,
        attachments=attachments,
        thread_ids=thread_ids(message),
    )


def header_text(message, name):
    """A header decoded (RFC 2047, any charset), or '' when absent or unreadable."""
    try:
        value = message.get(name)
    except Exception:  # the header registry may choke on odd bytes; the raw value is still there
        value = next((raw for key, raw in message.raw_items() if key.lower() == name.lower()), None)
    return "" if value is None else str(value)


def sender_of(message):
    """(display name, address) from From:, or ('', '') when there is no usable address."""
    try:
        header = message.get("From")
        addresses = list(header.addresses) if header is not None else []
    except Exception:
        addresses = []
    for address in addresses:
        spec = (address.addr_spec or "").strip()
        local, at, domain = spec.rpartition("@")
        if at and local and "." in domain.strip(".") and not any(char.isspace() for char in spec):
            return " ".join((address.display_name or "").split()), spec
    return "", ""


def thread_ids(message):
    """Message-IDs this mail answers: In-Reply-To first, then References from the newest."""
    found = MESSAGE_ID.findall(header_text(message, "In-Reply-To"))
    found += reversed(MESSAGE_ID.findall(header_text(message, "References")))
    return list(dict.fromkeys(found))


def is_automatic(message):
    auto_submitted = header_text(message, "Auto-Submitted").strip().lower()
    precedence = header_text(message, "Precedence").strip().lower()
    return (
        (auto_submitted not in ("", "no"))
        or precedence == "auto_reply"
        or message.get_content_type() == "multipart/report"
    )


def decode_text(payload, charset):
    """Bytes to text: the declared charset if it decodes cleanly, else UTF-8, else replacement characters."""
    charset = (charset or "").strip().lower()
    declared = [] if charset in ("", "us-ascii", "ascii", "unknown-8bit") else [charset]
    for name in [*declared, "utf-8"]:
        try:
            return payload.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    for name in [*declared, "windows-1252"]:
        try:
            return payload.decode(name, errors="replace")
        except LookupError:
            continue
    return payload.decode("utf-8", errors="replace")


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


def _collect(part, texts, attachments, *, skip_text=False):
    content_type = part.get_content_type()
    if content_type == "message/rfc822":
        _keep_forwarded(part, attachments)
    elif part.is_multipart():
        subparts = list(part.iter_parts())
        if content_type == "multipart/alternative" and subparts:
            chosen = _preferred_alternative(subparts)
            for subpart in subparts:
                _collect(subpart, texts, attachments, skip_text=skip_text or subpart is not chosen)
        else:
            for subpart in subparts:
                _collect(subpart, texts, attachments, skip_text=skip_text)
    elif _is_body_text(part):
        if not skip_text:
            text = decode_text(part.get_payload(decode=True) or b"", part.get_content_charset())
            texts.append(html_to_text(text) if content_type == "text/html" else text)
    else:
        _keep_attachment(part, part.get_payload(decode=True) or b"", attachments)


def _is_body_text(part):
    return (
        part.get_content_type() in ("text/plain", "text/html")
        and part.get_content_disposition() != "attachment"
        and not part.get_filename()
    )


def _preferred_alternative(subparts):
    for wanted in ("text/plain", "text/html"):
        for subpart in subparts:
            if any(_is_body_text(leaf) and leaf.get_content_type() == wanted for leaf in subpart.walk()):
                return subpart
    return subparts[-1]


def _keep_forwarded(part, attachments):
    inner = part.get_payload()
    inner = inner[0] if isinstance(inner, list) and inner else inner
    try:
        content = inner.as_bytes(policy=policy.compat32) if hasattr(inner, "as_bytes") else bytes(inner)
    except Exception:
        content = part.as_bytes(policy=policy.compat32)
    _keep_attachment(part, content, attachments, default_name="forwarded-message.eml")


def _keep_attachment(part, content, attachments, default_name=None):
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise UnusableMail(f"attachment too large ({human_size(len(content))} > {human_size(MAX_ATTACHMENT_BYTES)})")
    content_type = part.get_content_type()
    try:
        filename = part.get_filename() or ""
    except Exception:
        filename = ""
    filename = safe_filename(filename) or default_name or _default_name(len(attachments) + 1, content_type)
    attachments.append(MailAttachment(filename=filename, content_type=content_type, content=content))


def safe_filename(name):
    """The last path segment, without control characters, at most MAX_FILENAME_CHARS characters."""
    name = re.split(r"[\\/]", str(name))[-1]
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
