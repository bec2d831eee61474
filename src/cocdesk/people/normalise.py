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
    user = membership.user
    return identifier_phrases(membership.display_name, user.get_full_name(), user.email, membership.identifiers)


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
