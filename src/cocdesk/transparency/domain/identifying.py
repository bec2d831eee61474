"""The identifying-detail check: before a transparency report goes to review, and again before it is published, its
title, narrative and lines are searched for anything that could identify someone in the period's cases.

What is searched for, gathered from every report of the period's cases (merged duplicates included) and from the
people registry (the people linked to those cases as parties or decision subjects):

- identifiers, as phrases: names, nicknames, handles, emails, phone numbers, badge numbers, companies, locations;
  the emails, @handles and capitalised names written in the free-text fields about other people;
- single words of names (four letters or more, common words left out), since "Cornelius" alone can name him;
- distinctive phrases: any run of four consecutive words of what a reporter wrote that holds at least two
  uncommon words and is not shared by many of the period's reports ("at the conference party" is everyone's).

Texts and needles are compared as normalised words (``cocdesk.people.normalise``): case, accents and punctuation
do not hide a match. Words of the labels a report is made of (categories, findings, actions, months, the
organization's and its spaces' names) never count as identifying on their own. The check errs towards finding too
much: a sentence the team rewrites costs less than a person recognised in public.
"""

import re
from collections import Counter
from dataclasses import dataclass, field

from cocdesk.cases.domain import content as sealed
from cocdesk.cases.enums import Finding
from cocdesk.cases.models import Report
from cocdesk.common import audit
from cocdesk.people.domain import registry
from cocdesk.people.models import Person
from cocdesk.people.normalise import identifier_phrases, words
from cocdesk.sanctions.enums import AppealState, SanctionKind

from .drafts import scope_cases

PHRASE_WORDS = 4
MIN_NAME_WORD = 4
# A phrase in this share of the period's reports (and in at least COMMON_IN_REPORTS of them) is common speech.
COMMON_SHARE = 0.2
COMMON_IN_REPORTS = 3
IDENTIFIER = "a name, handle or other detail recorded in a case"
PHRASE = "a phrase from a report"

IDENTIFIER_FIELDS = (
    "reporter_name",
    "reporter_email",
    "reporter_phone",
    "reporter_other_contact",
    "reported_name",
    "reported_nicknames",
    "reported_screen_names",
    "reported_badge_number",
    "reported_company",
    "location",
)
NAME_FIELDS = ("reporter_name", "reported_name", "reported_nicknames")
PEOPLE_TEXT_FIELDS = ("others_involved", "reported_other")
NARRATIVE_FIELDS = (
    "description",
    "circumstances",
    "when_details",
    "location",
    "reported_appearance",
    "reported_other",
    "others_involved",
    "safety_concerns",
    "other_information",
)
CONTACT = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|(?<![\w@.])@[\w.-]*\w")
EDGE_PUNCTUATION = "\"'“”‘’()[]{}<>,;:!?.…*_~|"
CAPITALISED = re.compile(r"\b[A-Z][\w'’-]+")

_STOP_WORDS_TEXT = """
    a about above after again against all also am an and another any anyone anything are around as at away back be
    because been before being below between both but by came can could day did do does doing done down during each
    else even ever every everyone few first for from further get got had has have having he her here hers herself
    him himself his how i if in into is it its itself just last later like made make many may me might more most
    much must my myself near never next no nobody nor not now of off on once one only or other others our ours out
    over own people person said same say saw see seemed she should since so some someone something still such
    than that the their theirs them then there these they thing think this those though through time to told too
    took under until up upon us very was way we well went were what when where which while who whom whose why will
    with without would yes yet you your yours
    attendee attendees conference event evening morning afternoon night talk talks session room hall venue
    speaker speakers staff volunteer volunteers team member members report reported case cases code conduct
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())


@dataclass(frozen=True)
class Hit:
    words: str
    where: str
    what: str

    def __str__(self):
        return f"“{self.words}” in {self.where} ({self.what})"


@dataclass
class Needles:
    phrases: set = field(default_factory=set)  # tuples of normalised words
    names: set = field(default_factory=set)  # single normalised words
    distinctive: set = field(default_factory=set)  # PHRASE_WORDS-tuples


def _tokens(text):
    """(normalised word, as written) for each word of ``text``."""
    found = []
    for chunk in (text or "").split():
        normalised = words(chunk)
        if normalised:
            found.append((normalised[0], chunk.strip(EDGE_PUNCTUATION) or chunk))
    return found


def _digit_words(text):
    """Words holding digits (a badge number "B-417", a phone's groups), their runs of digits ("417" of "B-417"), and
    a phone number's digits run together."""
    values = {word for word in words(text) if any(char.isdigit() for char in word) and len(word) >= 3}
    values |= set(re.findall(r"\d{3,}", text or ""))
    digits = re.sub(r"\D", "", text or "")
    if len(digits) >= 6:
        values.add(digits)
    return values


def _name_words(text, *, capitalised_only=False):
    chunks = CAPITALISED.findall(text or "") if capitalised_only else (text or "").split()
    return {word for chunk in chunks for word in words(chunk) if len(word) >= MIN_NAME_WORD}


def _people_phrases(text):
    """From free text about people: emails and @handles, and runs of capitalised words (a full name)."""
    phrases = {tuple(words(contact)) for contact in CONTACT.findall(text or "")}
    for run in re.findall(r"(?:\b[A-Z][\w'’-]+\s+)+[A-Z][\w'’-]+", text or ""):
        phrases.add(tuple(words(run)))
    return phrases


def _ngrams(text):
    tokens = [word for word, _written in _tokens(text)]
    return {tuple(tokens[i : i + PHRASE_WORDS]) for i in range(len(tokens) - PHRASE_WORDS + 1)}


def vocabulary(organization):
    """Normalised words of the labels reports are built of: never identifying on their own."""
    labels = [
        *organization.categories,
        *Finding.labels,
        *SanctionKind.labels,
        *AppealState.labels,
        "Other findings actions outcomes category finding action no yet Another",
        "January February March April May June July August September October November December",
        organization.name,
        *organization.spaces.values_list("name", flat=True),
    ]
    return {word for label in labels for word in words(label)}


class NeedleCollector:
    def __init__(self, vocabulary):
        self.vocabulary = vocabulary
        self.needles = Needles()
        self.ngram_reports = Counter()
        self.report_count = 0

    def _ordinary(self, word):
        return word in STOP_WORDS or word in self.vocabulary or word.isdigit() and len(word) < 3

    def add_phrase(self, phrase):
        if phrase and not all(self._ordinary(word) for word in phrase):
            self.needles.phrases.add(phrase)

    def add_names(self, names):
        self.needles.names |= {name for name in names if not self._ordinary(name)}

    def add_report(self, answers):
        self.report_count += 1
        for name in IDENTIFIER_FIELDS:
            value = str(answers.get(name) or "")
            for phrase in identifier_phrases(value):
                self.add_phrase(phrase)
            for word in _digit_words(value) if name != "location" else ():
                self.add_phrase((word,))
        self.add_names(word for name in NAME_FIELDS for word in _name_words(str(answers.get(name) or "")))
        for name in PEOPLE_TEXT_FIELDS:
            text = str(answers.get(name) or "")
            for phrase in _people_phrases(text):
                self.add_phrase(phrase)
            self.add_names(_name_words(text, capitalised_only=True))
        ngrams = set()
        for name in NARRATIVE_FIELDS:
            text = str(answers.get(name) or "")
            for contact in CONTACT.findall(text):
                self.add_phrase(tuple(words(contact)))
            ngrams |= _ngrams(text)
        self.ngram_reports.update(ngrams)

    def add_person(self, name, identifiers):
        for phrase in identifier_phrases(name, *identifiers):
            self.add_phrase(phrase)
        for value in identifiers:
            for word in _digit_words(value):
                self.add_phrase((word,))
        self.add_names(_name_words(name))

    def result(self):
        common = max(COMMON_IN_REPORTS, COMMON_SHARE * self.report_count)
        self.needles.distinctive = {
            ngram
            for ngram, reports in self.ngram_reports.items()
            if reports < common and sum(not self._ordinary(word) for word in ngram) >= 2
        }
        return self.needles


def collect_needles(organization, cases):
    """The needles of ``cases`` (a queryset): their reports' content and their people in the registry.
    Returns (needles, the number of reports read)."""
    collector = NeedleCollector(vocabulary(organization))
    reports = Report.objects.filter(case__in=cases).select_related("case").order_by("case_id", "pk")
    for report in reports.iterator(chunk_size=500):
        collector.add_report(sealed.report_content(report))
    people = Person.objects.filter(organization=organization).filter(
        pk__in=[
            *cases.filter(parties__isnull=False).values_list("parties__person_id", flat=True),
            *cases.filter(decisions__isnull=False).values_list("decisions__subjects", flat=True),
        ]
    )
    for person in people.prefetch_related("identifiers"):
        collector.add_person(
            registry.person_name(person), [value for _kind, value in registry.identifier_values(person)]
        )
    return collector.result(), collector.report_count


def find_in_text(needles, text, where):
    """The hits in one text, each span once, in the order they stand."""
    tokens = _tokens(text)
    normalised = [word for word, _written in tokens]
    longest = max((len(phrase) for phrase in needles.phrases), default=1)
    hits, index = [], 0
    while index < len(tokens):
        span, what = 0, None
        for length in range(min(longest, len(tokens) - index), 0, -1):
            if tuple(normalised[index : index + length]) in needles.phrases:
                span, what = length, IDENTIFIER
                break
        if not span and normalised[index] in needles.names:
            span, what = 1, IDENTIFIER
        if not span and tuple(normalised[index : index + PHRASE_WORDS]) in needles.distinctive:
            span, what = PHRASE_WORDS, PHRASE
        if span:
            hits.append(Hit(" ".join(written for _word, written in tokens[index : index + span]), where, what))
            index += span
        else:
            index += 1
    return hits


def report_texts(title, narrative, lines):
    """(where, text) of everything a report publishes in words."""
    texts = [("the title", title), ("the narrative", narrative)]
    texts += [(f"line {number}", line.get("text", "")) for number, line in enumerate(lines, start=1)]
    return texts


def identifying_details(report, *, by, title=None, narrative=None, lines=None):
    """The hits of the report's texts (or of the texts about to replace them) against its period's cases. Reading
    the reports is recorded in the audit log (how many were read, never what)."""
    cases = scope_cases(
        report.organization, space=report.space, period_start=report.period_start, period_end=report.period_end
    )
    needles, read = collect_needles(report.organization, cases)
    texts = report_texts(
        report.title if title is None else title,
        report.narrative if narrative is None else narrative,
        report.lines if lines is None else lines,
    )
    hits = [hit for where, text in texts for hit in find_in_text(needles, text, where)]
    audit.record(
        "transparency.identifying_check",
        actor=by,
        organization=report.organization,
        report=report.pk,
        reports_read=read,
        found=len(hits),
    )
    return hits
