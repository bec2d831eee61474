"""Normalising identifiers (names, emails, handles, profile URLs, phone numbers, badge numbers, companies) so that
two spellings of one identifier become one canonical form, which the registry then hashes.

Every canonical form is recognised again by ``guess_kind`` and normalises to itself, so a form can be hashed
again without knowing which field it came from. Forms never say their kind, except where two kinds could spell
the same text: ``platform:name`` for handles, ``badge:42``, ``tel:`` for phone numbers that are not E.164.
"""

import re
import unicodedata
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import phonenumbers

from .enums import IdentifierKind

PHONE = IdentifierKind.PHONE

_HANDLE_PREFIX = re.compile(r"^[^:]{1,40}:\s*")
_SEPARATORS = re.compile(r"[\s._\-'’`]+")
_WHITESPACE = re.compile(r"\s+")


def normalise(identifier):
    """One word of free text for finding a name in it: '  Dr. Jane  O’Neil ' -> 'drjaneoneil'; '@JaneDoe' ->
    'janedoe'; case, accents and punctuation removed."""
    text = unicodedata.normalize("NFKD", identifier).encode("ascii", "ignore").decode() or identifier
    text = text.casefold().strip().lstrip("@")
    return _SEPARATORS.sub("", text)


def _clean(value):
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", value or "")).strip()


# Latin letters whose stroke or ligature Unicode does not decompose into a base letter and a mark.
_UNDECOMPOSED = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "ħ": "h", "ı": "i", "ŧ": "t", "æ": "ae", "œ": "oe"})


def _without_accents(text):
    decomposed = unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSED))
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def compact(value):
    """A name's form for exact matching: case, accents, spaces and punctuation dropped, so that 'Jane O’Neil',
    'jane.oneil' and '@JaneONeil' agree. Transliteration is left to the fuzzy measure (matching.py)."""
    text = _without_accents(_clean(value).casefold())
    return "".join(c for c in text if c.isalnum())


# Emails. Most providers deliver 'name+anything@' to 'name@', so a plus-tag is dropped for every domain: two
# addresses differing only by it reach one mailbox. Dots are dropped only where the provider ignores them.
_EMAIL = re.compile(r"^(?:mailto:)?([^@\s<>()/,;:]+)@([^@\s<>()/,;:]+\.[^@\s<>()/,;:.]+)\.?$", re.IGNORECASE)
_EMAIL_IN_BRACKETS = re.compile(r"<\s*(?:mailto:)?([^<>\s]+@[^<>\s]+)\s*>")
_DOTS_IGNORED = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


def _email_parts(text):
    inside = _EMAIL_IN_BRACKETS.search(text)
    found = _EMAIL.match(inside.group(1) if inside else text)
    return (found.group(1), found.group(2)) if found else None


def _email(text):
    local, domain = _email_parts(text)
    local, domain = local.casefold(), domain.casefold().rstrip(".")
    local = local.split("+", 1)[0] or local
    if domain in _DOTS_IGNORED:
        domain = _DOTS_IGNORED[domain]
        local = local.replace(".", "") or local
    return f"{local}@{domain}"


# Handles. A handle on a known platform is 'platform:name' (its characters kept: on most platforms 'jane_doe' and
# 'janedoe' are two accounts); a handle on no known platform is compacted like a name, since it may be anywhere.
PLATFORM_WORDS = {
    "github": "github", "gitlab": "gitlab", "twitter": "x", "x": "x", "linkedin": "linkedin",
    "instagram": "instagram", "insta": "instagram", "ig": "instagram", "facebook": "facebook", "fb": "facebook",
    "youtube": "youtube", "slack": "slack", "discord": "discord", "mastodon": "mastodon", "fediverse": "mastodon",
    "bluesky": "bluesky", "bsky": "bluesky", "telegram": "telegram", "matrix": "matrix", "irc": "irc",
    "forum": "forum", "signal": "signal",
}  # fmt: skip
_PLATFORM_LABEL = re.compile(r"^([a-z][a-z ]{0,20}?)\s*:\s*(.+)$", re.IGNORECASE)
_DISCRIMINATOR = re.compile(r"^@?([^\s@#:/]{2,32})#(\d{4})$")
_DISCRIMINATOR_SPACED = re.compile(r"^@?([^\s@#:/]{2,32})\s*#\s*(\d{4})$")
_MATRIX_ID = re.compile(r"^@[^\s@:/]+:[a-z0-9.-]+\.[a-z]{2,}$", re.IGNORECASE)
_FEDIVERSE = re.compile(r"^@([^\s@/]+)@([^\s@/]+\.[^\s@/]+)$")
_HOST = r"[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}"
_URL = re.compile(rf"^(?:https?://\S+|www\.\S+|{_HOST}(?::\d+)?/\S*)$", re.IGNORECASE)
_MOBILE_PREFIXES = ("www.", "m.", "mobile.")
_TRACKING = re.compile(r"^(?:utm_\w+|ref|ref_src|fbclid|igshid|si|s|t|hl|lang)$")
_COUNTRY_SUBDOMAIN = re.compile(r"^[a-z]{2}\.(linkedin\.com)$")


def _platform_label(text):
    labelled = _PLATFORM_LABEL.match(text)
    if labelled and labelled.group(1).strip().casefold() in PLATFORM_WORDS:
        return PLATFORM_WORDS[labelled.group(1).strip().casefold()], labelled.group(2).strip()
    return None


def _host(netloc_host):
    host = (netloc_host or "").casefold().rstrip(".")
    for prefix in _MOBILE_PREFIXES:
        if host.startswith(prefix):
            host = host[len(prefix) :]
    return _COUNTRY_SUBDOMAIN.sub(r"\1", host)


def _account(name):
    return _WHITESPACE.sub(" ", unquote(name).casefold()).strip().lstrip("@").strip()


def _platform_profile(host, segments, query, fragment):
    """'platform:name' for a profile URL of a platform we know, else None."""
    first = segments[0] if segments else ""
    second = segments[1] if len(segments) > 1 else ""
    if host in {"twitter.com", "x.com"} and fragment.startswith("!/"):
        first = fragment[2:].split("/")[0]
    by_host = {
        "github.com": ("github", first, {"orgs", "settings", "topics", "sponsors"}),
        "gitlab.com": ("gitlab", first, {"groups", "explore", "users"}),
        "twitter.com": ("x", first, {"i", "home", "intent", "search", "hashtag"}),
        "x.com": ("x", first, {"i", "home", "intent", "search", "hashtag"}),
        "instagram.com": ("instagram", first, {"p", "reel", "explore", "stories"}),
    }
    if host in by_host:
        platform, name, reserved = by_host[host]
        return f"{platform}:{_account(name)}" if name and name.casefold() not in reserved else None
    if host == "linkedin.com" and first == "in" and second:
        return f"linkedin:{_account(second)}"
    if host in {"facebook.com", "fb.com"}:
        if first == "profile.php" and query.get("id"):
            return f"facebook:{_account(query['id'])}"
        return f"facebook:{_account(first)}" if first and first not in {"groups", "events", "pages"} else None
    if host in {"youtube.com", "youtu.be"}:
        if first.startswith("@"):
            return f"youtube:{_account(first)}"
        if first in {"c", "user"} and second:
            return f"youtube:{_account(second)}"
        return f"youtube:channel/{_account(second)}" if first == "channel" and second else None
    if host in {"discord.com", "discordapp.com"} and first == "users" and second:
        return f"discord:{_account(second)}"
    if (host == "slack.com" or host.endswith(".slack.com")) and "team" in segments[:-1]:
        return f"slack:{_account(segments[segments.index('team') + 1])}"
    if first.startswith("@") and len(first) > 1:  # Mastodon and its kin: https://host/@name is name@host
        return f"{_account(first)}@{host}"
    return None


def _profile_url(text):
    raw = text if re.match(r"^https?://", text, re.IGNORECASE) else "https://" + text
    try:
        parts = urlsplit(raw)
        host = _host(parts.hostname)
    except ValueError:
        return compact(text)
    segments = [segment for segment in parts.path.split("/") if segment]
    query = {key: value for key, value in parse_qsl(parts.query) if not _TRACKING.match(key.casefold())}
    profile = _platform_profile(host, [s.casefold() for s in segments], query, parts.fragment)
    if profile:
        return profile
    # Any other site (the conference platform's speaker pages, a forum's profiles): the address without its scheme,
    # mobile prefix, trailing slash and tracking parameters.
    path = "/".join(_account(segment) for segment in segments)
    kept = urlencode(sorted((key.casefold(), value.casefold()) for key, value in query.items()))
    return f"{host}/{path}" + (f"?{kept}" if kept else "")


def _handle(text):
    if _URL.match(text):
        return _profile_url(text)
    fediverse = _FEDIVERSE.match(text)
    if fediverse:
        return f"{fediverse.group(1).casefold()}@{fediverse.group(2).casefold().rstrip('.')}"
    if _MATRIX_ID.match(text):
        return text.casefold()
    labelled = _platform_label(text)
    if labelled:
        platform, name = labelled
        if _URL.match(name) or _FEDIVERSE.match(name):
            return _handle(name)
        discriminated = _DISCRIMINATOR_SPACED.match(name)
        if discriminated and platform == "discord":
            return f"discord:{discriminated.group(1).casefold()}#{discriminated.group(2)}"
        return f"{platform}:{_account(name)}" if _account(name) else ""
    discriminated = _DISCRIMINATOR.match(text)
    if discriminated:
        return f"discord:{discriminated.group(1).casefold()}#{discriminated.group(2)}"
    return compact(text)


# Phone numbers: E.164 when the country is known or written ('+44 20...', '0044 20...'); else 'tel:' and digits.
_PHONE_PUNCTUATION = re.compile(r"^[\d\s().\-/]+$")


def _ascii_digits(text):
    return "".join(str(unicodedata.decimal(c, "")) if c.isdecimal() else c for c in text)


def _phone(text, region=None):
    text = _ascii_digits(text)
    text = re.sub(r"^tel:\s*", "", text, flags=re.IGNORECASE)
    text = re.sub(r"^00\s*(?=[1-9])", "+", text)
    try:
        number = phonenumbers.parse(text, region)
        if phonenumbers.is_possible_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        pass
    digits = "".join(c for c in text.split("ext")[0] if c.isdigit())
    if not digits:
        return compact(text)
    return "tel:" + ("+" if text.startswith("+") else "") + digits


# Badge numbers: '#0042', 'Badge 42', 'badge no. 0042', 'B-0042' -> 'badge:42' / 'badge:b42'.
_BADGE_PREFIX = re.compile(
    r"^(?:(?:badge|attendee|ticket)\b\s*(?:(?:number|num|no|nr|n°|id)\b\.?)?|(?:number|num|no|nr|n°)\b\.?|#)\s*[:#]?\s*",
    re.IGNORECASE,
)
_SERIES_BADGE = re.compile(r"^[^\W\d_]{1,3}[-\s#]+\d{1,7}$")  # 'B-4411', 'VIP 42'
_LEADING_ZEROS = re.compile(r"(?<![0-9])0+(?=[0-9])")


def _badge(text):
    text = _BADGE_PREFIX.sub("", _ascii_digits(text).casefold())
    text = "".join(c for c in _without_accents(text) if c.isalnum())
    text = _LEADING_ZEROS.sub("", text)
    return f"badge:{text}" if text else ""


# Companies: legal forms and punctuation dropped, 'Acme, Inc.' and 'ACME GmbH' -> 'acme'.
_LEGAL_FORMS = {
    "inc", "incorporated", "ltd", "limited", "llc", "llp", "lp", "gmbh", "mbh", "ag", "kg", "ug", "ev", "co", "corp",
    "corporation", "company", "plc", "pty", "sa", "sas", "sarl", "srl", "spa", "bv", "nv", "oy", "ab", "as", "aps",
}  # fmt: skip


def _company(text):
    text = _without_accents(text.casefold()).replace("&", " and ")
    words = [w for w in re.split(r"[\s,/()]+", re.sub(r"[.'’`]", "", text)) if w]
    words = ["".join(c for c in w if c.isalnum()) for w in words]
    words = [w for w in words if w]
    while len(words) > 1 and words[-1] in _LEGAL_FORMS | {"and"}:
        words.pop()
    if len(words) > 1 and words[0] == "the":
        words.pop(0)
    return "".join(words)


_LABEL = re.compile(r"^([^\W\d_][^\W_]*(?:[ .'-][^\W_]+){0,4})\s*:\s*(\S.*)$")
_KEPT_LABELS = {"http", "https", "mailto", "tel", "badge"}


def _without_label(text):
    """'Nickname: Patty' -> 'Patty', 'Email: jane@example.org' -> 'jane@example.org'; a platform's name is kept
    ('Slack: patq' is a handle on Slack) and so are the labels canonical forms use."""
    labelled = _LABEL.match(text)
    if not labelled:
        return text
    label = labelled.group(1).casefold()
    return text if label in PLATFORM_WORDS or label in _KEPT_LABELS else labelled.group(2)


def _unambiguous_shape(text):
    """EMAIL or HANDLE for a value whose shape says what it is whichever field it was typed in, else None."""
    if _FEDIVERSE.match(text) or _MATRIX_ID.match(text):
        return IdentifierKind.HANDLE
    if _email_parts(text):
        return IdentifierKind.EMAIL
    if _URL.match(text) or _platform_label(text) or (_DISCRIMINATOR.match(text) and not _BADGE_PREFIX.match(text)):
        return IdentifierKind.HANDLE
    return None


def guess_kind(value):
    """What a free-text identifier most likely is: an email, a handle or profile URL, a phone number, a badge
    number, else a name. A company cannot be told from a name by its shape: it is guessed as a name."""
    text = _without_label(_clean(value))
    shape = _unambiguous_shape(text)
    if shape:
        return shape
    if text.startswith("@"):
        return IdentifierKind.HANDLE
    if (_BADGE_PREFIX.match(text) and _BADGE_PREFIX.sub("", text)) or _SERIES_BADGE.match(text):
        return IdentifierKind.BADGE
    digits = sum(c.isdigit() for c in text)
    if digits and (re.match(r"^(?:\+|tel:)", text, re.IGNORECASE) or (text.startswith("00") and digits >= 9)):
        return PHONE
    if _PHONE_PUNCTUATION.match(_ascii_digits(text)):
        if digits <= 6:
            return IdentifierKind.BADGE
        return PHONE if digits <= 15 else IdentifierKind.HANDLE
    return IdentifierKind.NAME


def normalise_identifier(kind, value, *, region=None):
    """The canonical form of an identifier of this kind ('' when nothing is left). A value whose shape is
    unambiguous (an email address, a profile URL, 'Platform: name') is read by its shape whatever ``kind`` says:
    reporters put handles in name fields. ``region``: the country phone numbers without '+' belong to."""
    text = _without_label(_clean(value))
    if not text:
        return ""
    kind = _unambiguous_shape(text) or (str(kind) if kind else guess_kind(text))
    if kind == IdentifierKind.EMAIL:
        return _email(text) if _email_parts(text) else compact(text)
    if kind == IdentifierKind.HANDLE:
        return _handle(text)
    if kind == PHONE:
        return _phone(text, region)
    if kind == IdentifierKind.BADGE:
        return _badge(text)
    if kind == IdentifierKind.COMPANY:
        return _company(text)
    return compact(text)


def match_forms(value, *, kind=None, region=None):
    """The forms an identifier is matched by: its canonical form and, for a handle on a platform, the bare handle
    too (people reuse one name across platforms; a team member's 'patq' on Slack is the 'patq' named on GitHub)."""
    canonical = normalise_identifier(kind or guess_kind(value), value, region=region)
    forms = {canonical} if canonical else set()
    platform, colon, name = canonical.partition(":")
    bare = compact(name.split("#")[0])
    if colon and platform in PLATFORM_WORDS.values() and bare and not bare.isdigit():
        forms.add(bare)
    return forms


def split_identifiers(*texts, region=None):
    """Every identifier found in free-text fields (one a line or comma-separated), in its matching forms."""
    found = set()
    for text in texts:
        for part in re.split(r"[\n,;]+", text or ""):
            found |= {form for form in match_forms(part, region=region) if len(form) >= 3}
    return found


def reported_person_identifiers(answers):
    return split_identifiers(
        answers.get("reported_name", ""),
        answers.get("reported_nicknames", ""),
        answers.get("reported_screen_names", ""),
    )


def known_as_forms(*, display_name, full_name, email, identifiers):
    """The matching forms of everything a team member is known by: their name on the team and on their account,
    their email and its local part, and their other identifiers (free text, one a line)."""
    return split_identifiers(display_name, full_name, email, email.split("@")[0] if email else "", identifiers)


# Finding a person named anywhere in free text (a mail's body, subject, attachment names). Identifiers are
# compared as sequences of normalised words, so "Jane O'Neil" is found in "...told Jane O’Neil that..." but a
# short first name alone ("Al") is not a match: the text would name half the team.
MIN_SINGLE_WORD = 4
_EDGE_PUNCTUATION = "\"'“”‘’()[]{}<>,;:!?.…*_~|"


def words(text):
    """The normalised words of a text, in order."""
    found = []
    for chunk in (text or "").split():
        value = normalise(chunk.strip(_EDGE_PUNCTUATION))
        if value:
            found.append(value)
    return found


def identifier_phrases(*texts):
    """Each identifier of free-text fields (one a line or comma-separated, 'Platform: ' dropped) as a tuple of
    normalised words, leaving out single words too short to name one person."""
    phrases = set()
    for text in texts:
        for part in re.split(r"[\n,;]+", text or ""):
            part = _HANDLE_PREFIX.sub("", part.strip()) if "@" not in part.split(":")[0] else part.strip()
            phrase = tuple(words(part))
            if len(phrase) > 1 or (phrase and len(phrase[0]) >= MIN_SINGLE_WORD):
                phrases.add(phrase)
    return phrases


def member_phrases(membership):
    # The member's other identifiers are sealed: read through the registry that seals them.
    from .domain.members import member_identifiers_text

    user = membership.user
    return identifier_phrases(
        membership.display_name, user.get_full_name(), user.email, member_identifiers_text(membership)
    )


def mentions(text_words, phrases):
    """Whether any phrase stands, word for word, in ``text_words``."""
    by_first = {}
    for phrase in phrases:
        by_first.setdefault(phrase[0], []).append(phrase)
    for index, word in enumerate(text_words):
        for phrase in by_first.get(word, ()):
            if tuple(text_words[index : index + len(phrase)]) == phrase:
                return True
    return False
