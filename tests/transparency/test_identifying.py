"""The identifying-detail check over a generated conference: a reported person's nickname, a badge number, a handle,
a witness's name, a company, a registry identifier or a phrase from a report is found, whatever its spelling; the
labels a report is made of and phrases every reporter uses are not."""

import pytest

from cocdesk.common.models import AuditEvent
from cocdesk.people.domain.registry import add_identifiers
from cocdesk.people.enums import IdentifierKind
from cocdesk.sanctions.models import Decision
from cocdesk.transparency.domain.drafts import draft_report
from cocdesk.transparency.domain.identifying import IDENTIFIER, PHRASE, identifying_details
from tests.transparency.conference import BADGE, build_conference

pytestmark = pytest.mark.django_db


@pytest.fixture
def conference():
    world = build_conference()
    world.report = draft_report(
        world.organization,
        by=world.lead.user,
        title="PyNorth 2026 transparency report",
        space=world.space,
        period_start=world.start,
        period_end=world.end,
    )
    return world


def found(world, text, where="narrative"):
    hits = identifying_details(world.report, by=world.lead.user, **{where: text})
    return [(hit.words, hit.what) for hit in hits]


def test_the_prefilled_draft_passes(conference):
    assert identifying_details(conference.report, by=conference.lead.user) == []


@pytest.mark.parametrize(
    "text, words",
    [
        ("A participant known as blatherBOT was warned.", "blatherBOT"),
        ("The person with badge b-4471 was banned.", "b-4471"),
        ("The person with badge number 4471 was banned.", "4471"),
        ("Someone posted as @Corny_XQ on Slack.", "@Corny_XQ"),
        ("Cornelius was asked to leave.", "Cornelius"),
        ("Thanks to Ottoline for her help.", "Ottoline"),
        ("An employee of quillfeather analytics was warned.", "quillfeather analytics"),
        ("It happened in the main hall.", "the main hall"),
    ],
)
def test_identifiers_of_the_cases_are_found(conference, text, words):
    assert (words, IDENTIFIER) in found(conference, text)


def test_a_phrase_from_a_report_is_found(conference):
    hits = found(conference, "One person spilled Purple paint across the registration desk on the first day.")
    assert hits == [("spilled Purple paint across", PHRASE)]


def test_a_line_holding_a_nickname_badge_or_phrase_is_found(conference):
    lines = [dict(line) for line in conference.report.lines]
    lines[0]["text"] = f"Harassment by Blatherbot (badge {BADGE}); he spilled purple paint across the desk"
    hits = identifying_details(conference.report, by=conference.lead.user, lines=lines)
    assert {hit.where for hit in hits} == {"line 1"}
    assert {hit.words for hit in hits} >= {"Blatherbot", BADGE}
    assert any(hit.what == PHRASE for hit in hits)


def test_a_registry_identifier_is_found(conference):
    decision = Decision.objects.get(case=conference.cases[0], is_current=True)
    person = decision.subjects.get()
    add_identifiers(person, [(IdentifierKind.EMAIL, "cb.private@quokka.example")])

    assert found(conference, "Write to CB.Private@quokka.example for details.") == [
        ("CB.Private@quokka.example", IDENTIFIER)
    ]


def test_labels_names_of_places_and_common_phrases_are_not_found(conference):
    text = (
        "PyNorth 2026 had 40 cases. Harassment was the most common category; most ended with a verbal warning. "
        "Several people wrote that someone made comments about my appearance during the break, which we took "
        "seriously. A violation of the Code of Conduct was found in 20 cases."
    )
    assert found(conference, text) == []


def test_the_check_is_audited_without_content(conference):
    identifying_details(conference.report, by=conference.lead.user, narrative="Blatherbot")
    event = AuditEvent.objects.filter(action="transparency.identifying_check").latest("pk")
    assert event.detail == {"report": conference.report.pk, "reports_read": 40, "found": 1}
    assert "Blatherbot" not in str(event.detail)
