"""Header values of an incoming mail as clean text, whatever the mail carries.

Python's email package, reading bytes, keeps every 8-bit header byte as a lone surrogate (surrogateescape): a raw
UTF-8 name (RFC 6532, ``From: Zoë Müller <...>``) reaches ``address.display_name`` as ``'Zo\\udcc3\\udcab ...'``,
which no page, JSON document or database can encode. So every value here is decoded from the header's own bytes:
UTF-8 when they are UTF-8, ISO-2022-JP when they carry its escape sequences, windows-1252 otherwise (undeclared
8-bit), then RFC 2047 encoded words in any charset Python knows. An unknown charset or broken base64 leaves
readable text, never an error. Every string leaves this module through ``clean_text`` or ``clean_line``.
"""

import base64
import binascii
import re
from datetime import UTC, timedelta
from email.utils import getaddresses, parsedate_to_datetime

MAX_NAME_CHARS = 200
MAX_SUBJECT_CHARS = 500
MAX_HEADER_CHARS = 2000
MAX_MESSAGE_ID_CHARS = 998
MAX_ADDRESS_CHARS = 254
MAX_THREAD_IDS = 100
# Longer header values are cut before they are parsed: no legitimate address list or date needs more.
MAX_PARSED_CHARS = 20_000
# A mail that says it arrived longer ago than this has a wrong clock or a made-up date: it counts as arriving now.
ARRIVAL_WINDOW = timedelta(days=30)

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 and C1 controls, except tab and newline
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,80})\?([bBqQ])\?([^?\s]*)\?=")
_QUOTED_BYTE = re.compile(rb"=([0-9A-Fa-f]{2})")
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/]")
# Printable ASCII without "<" and ">": what a Message-ID between angle brackets may hold.
_MESSAGE_ID = re.compile(r"<[\x21-\x3b\x3d\x3f-\x7e]{1,250}>")
_ADDRESS_FORBIDDEN = set('<>()[],;:"\\') | {"\ufffd"}
_ISO_2022_ESCAPES = (b"\x1b$", b"\x1b(")
_NO_CHARSET = {"", "us-ascii", "ascii", "unknown-8bit", "x-unknown", "unknown"}


def clean_text(text):
    """Text safe for any page, JSON document or database: line ends as \\n, no lone surrogates (replaced by
    U+FFFD), no control characters other than newline and tab (no NUL)."""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", _SURROGATE.sub("\ufffd", text))


def clean_line(text, limit=MAX_HEADER_CHARS):
    """``clean_text`` on one line: runs of white space (newlines included) become one space; at most ``limit``
    characters, an ellipsis marking the cut."""
    line = " ".join(clean_text(text).split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "\u2026"


def decode_text(payload, charset=None):
    """Bytes to text: the declared charset if it decodes cleanly, else ISO-2022-JP when the bytes carry its
    escapes, else UTF-8, else the declared charset or windows-1252 with replacement characters. Never raises."""
    declared = _charset_name(charset)
    names = [declared] if declared else []
    if any(escape in payload for escape in _ISO_2022_ESCAPES):
        names += ["iso2022_jp_2", "iso2022_jp_ext"]
    for name in [*names, "utf-8"]:
        decoded = _decoded(payload, name, "strict")
        if decoded is not None:
            return decoded
    for name in [*names[:1], "windows-1252"]:
        decoded = _decoded(payload, name, "replace")
        if decoded is not None:
            return decoded
    return payload.decode("latin-1")


def _decoded(payload, name, errors):
    try:
        return payload.decode(name, errors)
    except (LookupError, UnicodeError, ValueError, TypeError):  # an unknown or unfit codec counts as unknown
        return None


def _charset_name(charset):
    name = str(charset or "").strip().strip('"').lower()
    if name in _NO_CHARSET or len(name) > 64 or not name.isascii() or not name.isprintable():
        return ""
    return name


def original_bytes(value):
    """The bytes a header value was read from: the parser keeps each 8-bit byte as a surrogate escape."""
    try:
        return str(value).encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate the parser did not make: nothing to recover
        return str(value).encode("utf-8", "replace")


def repaired(text):
    """A string from the email package with its surrogate escapes decoded as ``decode_text`` would."""
    text = str(text)
    return decode_text(original_bytes(text)) if _SURROGATE.search(text) else text


def decode_encoded_words(text):
    """RFC 2047: '=?utf-8?q?Zo=C3=AB?=' becomes 'Zoë'. White space between two encoded words is dropped, and
    adjacent words in one charset are decoded together (senders split multi-byte characters across words). A
    word that cannot be decoded stays as written."""
    parts = []  # (charset, bytes) for decoded words, (None, text) for the rest
    end = 0
    for match in _ENCODED_WORD.finditer(text):
        gap, end = text[end : match.start()], match.end()
        data = _encoded_word_bytes(match[2], match[3])
        if data is None:
            parts.append((None, gap + match[0]))
            continue
        charset = match[1].split("*", 1)[0].lower()  # RFC 2231 puts a language after '*'
        follows_word = bool(parts) and parts[-1][0] is not None and not gap.strip()
        if follows_word and parts[-1][0] == charset:
            parts[-1] = (charset, parts[-1][1] + data)
            continue
        if gap and not follows_word:
            parts.append((None, gap))
        parts.append((charset, data))
    parts.append((None, text[end:]))
    return "".join(piece if charset is None else decode_text(piece, charset) for charset, piece in parts)


def _encoded_word_bytes(encoding, encoded):
    if encoding in "bB":
        compact = _NOT_BASE64.sub("", encoded)
        try:
            return base64.b64decode(compact + "=" * (-len(compact) % 4))
        except (binascii.Error, ValueError):
            return None
    data = encoded.replace("_", " ").encode("utf-8", "replace")
    return _QUOTED_BYTE.sub(lambda byte: bytes([int(byte[1], 16)]), data)


def raw_values(message, name):
    """Every value of the header ``name`` as the parser kept it (folded, 8-bit bytes as surrogate escapes)."""
    wanted = name.lower()
    try:
        items = list(message.raw_items())
    except Exception:  # a message object that lost its headers: nothing to read
        return []
    return [str(value) for key, value in items if str(key).strip().lower() == wanted]


def decoded_value(value):
    """One raw header value as text: 8-bit bytes decoded, unfolded, encoded words decoded; not yet cleaned."""
    unfolded = _FOLD.sub("", decode_text(original_bytes(value)[:MAX_PARSED_CHARS]))
    return decode_encoded_words(unfolded)


def header_text(message, name, limit=MAX_HEADER_CHARS):
    """The first ``name`` header decoded onto one clean line, or '' when absent."""
    values = raw_values(message, name)
    return clean_line(decoded_value(values[0]), limit) if values else ""


def clean_address(address):
    """An address as written when it looks like one (local@domain.tld, printable, no white space), else ''."""
    address = str(address).strip()
    local, at, domain = address.rpartition("@")
    looks_valid = (
        at
        and local
        and "." in domain.strip(".")
        and len(address) <= MAX_ADDRESS_CHARS
        and address.isprintable()
        and not any(char.isspace() or char in _ADDRESS_FORBIDDEN for char in address)
    )
    return address if looks_valid else ""


def mailboxes(message, *names):
    """(display name, address) of every mailbox named in these headers, in order; unusable addresses left out.
    Names are decoded after the list is split, so an encoded comma never splits a name."""
    found = []
    for name in names:
        for value in raw_values(message, name):
            listed = _FOLD.sub("", decode_text(original_bytes(value)[:MAX_PARSED_CHARS]))
            try:
                pairs = getaddresses([listed])
            except Exception:  # the address parser gave up on this value; the others still count
                pairs = []
            for display_name, address in pairs:
                address = clean_address(address)
                if address:
                    found.append((clean_line(decode_encoded_words(display_name), MAX_NAME_CHARS), address))
    return found


def sender_of(message):
    """(display name, address) from From:, or ('', '') when there is no usable address."""
    return next(iter(mailboxes(message, "From")), ("", ""))


def recipient_addresses(message):
    """Lower-cased addresses the mail was delivered to: To, Cc, Delivered-To and X-Original-To, without repeats."""
    found = mailboxes(message, "To", "Cc", "Delivered-To", "X-Original-To")
    return list(dict.fromkeys(address.lower() for _name, address in found))


def message_id_of(message):
    """The Message-ID header as written (decoded, one clean line), or ''."""
    return header_text(message, "Message-ID", MAX_MESSAGE_ID_CHARS).strip()


def message_ids_in(message, name):
    """The <Message-IDs> that the ``name`` headers hold, in order."""
    return [found for value in raw_values(message, name) for found in _MESSAGE_ID.findall(decoded_value(value))]


def thread_ids(message):
    """Message-IDs this mail answers: In-Reply-To first, then References from the newest."""
    found = message_ids_in(message, "In-Reply-To") + list(reversed(message_ids_in(message, "References")))
    return list(dict.fromkeys(found))[:MAX_THREAD_IDS]


def arrival_time(message, now):
    """When the mail reached the mail server: the date of the topmost Received: header (added by the last
    server, ours), else the Date: header, bounded by ``bounded_arrival``; None when neither has a usable date."""
    received = raw_values(message, "Received")[:1]
    candidates = [value.rpartition(";")[2] for value in received if ";" in value]
    candidates += raw_values(message, "Date")[:1]
    for candidate in candidates:
        moment = parse_date(candidate)
        if moment is not None:
            return bounded_arrival(moment, now)
    return None


def parse_date(value):
    """An RFC 5322 date as an aware datetime (no zone counts as UTC), or None."""
    text = clean_line(decoded_value(value), 200)
    try:
        moment = parsedate_to_datetime(text)
    except Exception:  # any malformed date (ValueError, TypeError, IndexError, OverflowError) is no date
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def bounded_arrival(moment, now):
    """``moment`` held to what can be true: never later than ``now`` (a server clock ahead), and None when
    earlier than ``now - ARRIVAL_WINDOW`` (a clock far behind or a made-up date), so the mail counts from now."""
    if moment is None:
        return None
    if moment > now:
        return now
    if moment < now - ARRIVAL_WINDOW:
        return None
    return moment
