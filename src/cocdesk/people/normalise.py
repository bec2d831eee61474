"""Normalising identifiers (names, nicknames, emails, handles) so that two spellings of one person match."""

import re
import unicodedata

_HANDLE_PREFIX = re.compile(r"^[^:]{1,40}:\s*")
_SEPARATORS = re.compile(r"[\s._\-'’`]+")


def normalise(identifier):
    """'  Dr. Jane  O’Neil ' -> 'drjaneoneil'; '@JaneDoe' -> 'janedoe'; case, accents and punctuation removed."""
    text = unicodedata.normalize("NFKD", identifier).encode("ascii", "ignore").decode() or identifier
    text = text.casefold().strip().lstrip("@")
    return _SEPARATORS.sub("", text)


def split_identifiers(*texts):
    """Every identifier found in free-text fields: one a line or comma-separated, with 'Platform: ' dropped."""
    found = set()
    for text in texts:
        for part in re.split(r"[\n,;]+", text or ""):
            part = _HANDLE_PREFIX.sub("", part.strip()) if "@" not in part.split(":")[0] else part.strip()
            value = normalise(part)
            if len(value) >= 3:
                found.add(value)
    return found


def reported_person_identifiers(answers):
    return split_identifiers(
        answers.get("reported_name", ""),
        answers.get("reported_nicknames", ""),
        answers.get("reported_screen_names", ""),
    )


def member_identifiers(membership):
    user = membership.user
    return split_identifiers(
        membership.display_name,
        user.get_full_name(),
        user.email,
        user.email.split("@")[0] if user.email else "",
        membership.identifiers,
    )
