"""Finding the people of a case in a statement's text: the reporters (unless they agreed to be named), witnesses and
other people named in the reports, the reported people and the people the decisions concern.

Two kinds of needle. A phrase (a full name, an email, a handle, a badge number) is found whatever its case, accents
and spacing. A single word of a name ("Maria" of "Maria Okafor") is found only where the statement writes it as a
name, with a capital: "will" in a sentence is not "Will". The check errs towards finding too much: a statement the
team must rephrase costs less than a reporter named in public."""

import re
import unicodedata
from dataclasses import dataclass

from cocdesk.cases.domain import content as sealed
from cocdesk.cases.domain.team import case_reports
from cocdesk.people.domain import registry
from cocdesk.people.models import Person

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
HANDLE = re.compile(r"(?<![\w@.])@[\w.-]*\w")
WORD = re.compile(r"[^\W\d_][\w'’-]*")
DIGITS = re.compile(r"\d[\d\s().+/-]{4,}\d")
PLATFORM_PREFIX = re.compile(r"^[^:@]{1,40}:\s*")

REPORTER = "the reporter"
WITNESS = "a witness or another person named in a report"
REPORTED = "the reported person"
SUBJECT = "a person the decision concerns"

# Capitalised words that start sentences or describe people without naming them.
_NOT_NAMES_WORDS = """
    a about after again all also an and another any anyone around as at before both but by during each else
    everyone few for from he her hers him his how i if in into it its just many maybe me mine my no nobody none
    nor not of on one only or other others our ours she so some someone somebody than that the their them then
    there these they this those three through to too two under unknown unsure until us was we were what when
    where which while who whom whose why with without yes you your yours
    mr mrs ms mx dr prof sir madam
    monday tuesday wednesday thursday friday saturday sunday january february march april may june july august
    september october november december
    attendee attendees bartender colleague colleagues friend friends organiser organisers organizer organizers
    people person security speaker speakers staff volunteer volunteers witness witnesses
"""
NOT_NAMES = frozenset(_NOT_NAMES_WORDS.split())


@dataclass(frozen=True)
class Found:
    value: str
    who: str

    def __str__(self):
        return f"“{self.value}” ({self.who})"


@dataclass(frozen=True)
class Needle:
    value: str
    who: str
    whole_phrase: bool


def fold(text):
    """Accents dropped, whitespace collapsed; case kept (a name-word is matched with its capital)."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(plain.split())


def _pieces(text):
    return [piece.strip() for piece in re.split(r"[\n,;]+", text or "") if piece.strip()]


def _name_words(text):
    return [word for word in WORD.findall(text or "") if len(word) >= 2 and word.casefold() not in NOT_NAMES]


def _capitalised_words(text):
    return [word for word in _name_words(text) if word[0].isupper()]


def _capitalised_runs(text):
    """'saw it with Maria Okafor and Jo' -> ['Maria Okafor']: names of more than one word, kept as one phrase."""
    runs, current = [], []
    for match in re.finditer(r"\S+", text or ""):
        word = match.group().strip(".,;:!?()[]\"“”'")
        if word and word[0].isupper() and word.casefold() not in NOT_NAMES and WORD.fullmatch(word):
            current.append(word)
            continue
        if len(current) > 1:
            runs.append(" ".join(current))
        current = []
    if len(current) > 1:
        runs.append(" ".join(current))
    return runs


def _contacts(text, who):
    """Emails and @handles anywhere in a text."""
    return [Needle(value, who, True) for value in [*EMAIL.findall(text or ""), *HANDLE.findall(text or "")]]


def _name(text, who):
    """A name field: the whole value as a phrase, and each of its words as a name-word."""
    needles = [Needle(piece, who, True) for piece in _pieces(text)]
    return needles + [Needle(word, who, False) for word in _name_words(text)]


def _screen_names(text, who):
    needles = []
    for piece in _pieces(text):
        handle = PLATFORM_PREFIX.sub("", piece) if "@" not in piece.split(":")[0] else piece
        needles += [Needle(handle, who, True), Needle(handle.lstrip("@"), who, True)]
    return needles


def report_needles(answers):
    """What in one report's answers identifies a person, with who they are."""
    needles = []
    if answers.get("consent_named_publicly") != "yes":
        needles += _name(answers.get("reporter_name"), REPORTER)
        needles += [Needle(answers.get("reporter_email") or "", REPORTER, True)]
        needles += [Needle(answers.get("reporter_phone") or "", REPORTER, True)]
        needles += _contacts(answers.get("reporter_other_contact"), REPORTER)
        needles += _screen_names(answers.get("reporter_other_contact"), REPORTER)
    needles += _name(answers.get("reported_name"), REPORTED)
    needles += _name(answers.get("reported_nicknames"), REPORTED)
    needles += _screen_names(answers.get("reported_screen_names"), REPORTED)
    needles += [Needle(piece, REPORTED, True) for piece in _pieces(answers.get("reported_badge_number"))]
    needles += [Needle(piece, REPORTED, True) for piece in _pieces(answers.get("reported_company"))]
    for field in ("others_involved", "reported_other"):
        text = answers.get(field)
        who = WITNESS if field == "others_involved" else REPORTED
        needles += _contacts(text, who)
        needles += [Needle(run, who, True) for run in _capitalised_runs(text)]
        needles += [Needle(word, who, False) for word in _capitalised_words(text)]
    # The narrative fields are not mined for names (too many places and events are capitalised), only for
    # contact details, which are never anything but a person's.
    for field in ("description", "circumstances", "location", "safety_concerns", "other_information"):
        needles += _contacts(answers.get(field), WITNESS)
    return needles


def subject_needles(person):
    needles = _name(registry.person_name(person), SUBJECT)
    for _kind, value in registry.identifier_values(person):
        needles.append(Needle(value, SUBJECT, True))
    return needles


def case_needles(case):
    """Every needle of the case: its reports (merged duplicates included) and its decisions' subjects."""
    needles = []
    for report in case_reports(case):
        if report.case_id == case.pk:
            report.case = case  # one data key unwrap for the case
        needles += report_needles(sealed.report_content(report))
    subjects = Person.objects.filter(decisions__case=case).distinct().prefetch_related("identifiers")
    for person in subjects.select_related("organization"):
        needles += subject_needles(person)
    return needles


def _not_people(organization):
    """Words of the organization's and its spaces' names: a statement may say where, and these are not people."""
    names = [organization.name, *organization.spaces.values_list("name", flat=True)]
    return {word.casefold() for name in names for word in WORD.findall(fold(name))}


def _phone_digits(value):
    digits = re.sub(r"\D", "", value)
    return digits if len(digits) >= 6 else ""


def find_people(needles, text, *, not_people=frozenset()):
    """The needles found in ``text``, each value once, in the order of the needles."""
    folded = fold(text)
    lowered = folded.casefold()
    digit_runs = [re.sub(r"\D", "", run) for run in DIGITS.findall(folded)]
    found, seen = [], set()
    for needle in needles:
        value = fold(needle.value).strip()
        key = value.casefold()
        if len(key) < 2 or key in seen or key in NOT_NAMES:
            continue
        if not needle.whole_phrase and key in not_people:
            continue
        if needle.whole_phrase:
            phone = _phone_digits(value) if not WORD.search(value) else ""
            hit = any(phone in run for run in digit_runs) if phone else _contains(lowered, key, re.IGNORECASE)
        else:
            hit = _contains(folded, value, 0)
        if hit:
            seen.add(key)
            found.append((needle, Found(needle.value.strip(), needle.who)))
    phrases = [fold(needle.value).casefold() for needle, _found in found if needle.whole_phrase]
    # "Maria" says nothing more once "Maria Okafor" is listed.
    return [
        item
        for needle, item in found
        if needle.whole_phrase or not any(_contains(phrase, fold(needle.value).casefold(), 0) for phrase in phrases)
    ]


def _contains(haystack, needle, flags):
    return re.search(rf"(?<![\w@]){re.escape(needle)}(?![\w@])", haystack, flags) is not None


def people_named_in(case, text):
    return find_people(case_needles(case), text, not_people=_not_people(case.organization))
