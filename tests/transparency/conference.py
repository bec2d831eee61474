"""A generated conference for the transparency tests: 40 cases filed through the real intake, with categories,
findings, decisions, sanctions, an appeal, acknowledgements and follow-ups set afterwards, and canary identifiers
(a reported person's nickname, a badge number, a distinctive phrase) seeded into some of the reports."""

import datetime
from dataclasses import dataclass, field

from django.utils import timezone

from cocdesk.cases.domain import content
from cocdesk.cases.enums import CaseState, Finding, MessageDirection, MessageKind
from cocdesk.cases.models import Case, Message
from cocdesk.people.domain.registry import record_person
from cocdesk.people.enums import IdentifierKind
from cocdesk.sanctions.enums import AppealState, SanctionKind
from cocdesk.sanctions.models import Appeal, Decision, Notice, Sanction
from tests.factories import OrganizationFactory, SpaceFactory, member, report_case

CATEGORIES = [
    ("Harassment", 14),
    ("Unwelcome sexual attention", 8),
    ("Discriminatory language or jokes", 6),
    ("Intimidation or threats", 5),
    ("Disruption of talks or events", 4),
    ("Stalking or following", 2),
    ("Unwanted photography or recording", 1),
]
# The first 30 cases are decided: 20 violations, 6 not, 2 undetermined, 2 out of scope (the last two pairs leave a
# recoverable pair, so the figures merge them).
FINDINGS = (
    [Finding.VIOLATION] * 20 + [Finding.NO_VIOLATION] * 6 + [Finding.UNDETERMINED] * 2 + [Finding.OUT_OF_SCOPE] * 2
)
# Actions of the violations: 10 verbal warnings, 4 private reprimands, 3 bans, 2 expulsions, 1 presentation stopped.
ACTIONS = (
    [SanctionKind.VERBAL_WARNING] * 10
    + [SanctionKind.PRIVATE_REPRIMAND] * 4
    + [SanctionKind.BAN] * 3
    + [SanctionKind.EXPULSION] * 2
    + [SanctionKind.PRESENTATION_STOPPED]
)

NICKNAME = "Blatherbot"
REPORTED_NAME = "Cornelius Blatherwick"
BADGE = "B-4471"
HANDLE = "@corny_xq"
PHRASE = "spilled purple paint across the registration desk"
WITNESS = "Ottoline Wraxall"
COMPANY = "Quillfeather Analytics"
DESCRIPTIONS = [
    "Someone made comments about my appearance during the break.",
    "A person kept interrupting me at the hallway track.",
    "I was followed after the evening social.",
]


@dataclass
class Conference:
    organization: object
    space: object
    lead: object
    responder: object
    admin: object
    cases: list = field(default_factory=list)
    start: datetime.date = datetime.date(2026, 6, 1)
    end: datetime.date = datetime.date(2026, 6, 30)


def _at(day, hour):
    return timezone.make_aware(datetime.datetime(2026, 6, day, hour, 0))


def build_conference():
    organization = OrganizationFactory(name="PyNorth Society")
    space = SpaceFactory(
        organization=organization,
        name="PyNorth 2026",
        starts_on=datetime.date(2026, 6, 10),
        ends_on=datetime.date(2026, 6, 12),
    )
    world = Conference(
        organization=organization,
        space=space,
        lead=member(organization, "lead", username="pn-lead"),
        responder=member(organization, "responder", username="pn-responder"),
        admin=member(organization, "admin", username="pn-admin"),
    )
    categories = [name for name, count in CATEGORIES for _ in range(count)]
    canary = {
        "reported_name": REPORTED_NAME,
        "reported_nicknames": NICKNAME,
        "reported_badge_number": BADGE,
        "reported_screen_names": f"Slack: {HANDLE}",
        "reported_company": COMPANY,
        "others_involved": f"{WITNESS} saw it from the stage.",
    }
    for index, category in enumerate(categories):
        answers = {"location": "The main hall"}
        description = DESCRIPTIONS[index % len(DESCRIPTIONS)]
        if index == 0:
            answers.update(canary)
            description = f"During the keynote he {PHRASE} and laughed about it."
        case, _receipt = report_case(organization, description=description, space=space, **answers)
        received = _at(10 + index % 3, 9 + index % 8)
        Case.objects.filter(pk=case.pk).update(
            received_at=received,
            acknowledge_due=received + datetime.timedelta(hours=24),
            acknowledged_at=received + datetime.timedelta(hours=2 + index % 30),
            category=category,
            state=CaseState.ACKNOWLEDGED,
        )
        case.refresh_from_db()
        report = case.reports.get()
        Message.objects.create(
            case=case,
            report=report,
            direction=MessageDirection.TO_REPORTER,
            kind=MessageKind.UPDATE,
            created_at=received + datetime.timedelta(days=1 + index % 10),
            sealed_body=content.seal(case, "message", {"body": "An update on your report."}),
        )
        world.cases.append(case)
    _decide(world)
    return world


def _decide(world):
    organization = world.organization
    subject = record_person(
        organization,
        name=REPORTED_NAME,
        identifiers=[(IdentifierKind.NAME, NICKNAME), (IdentifierKind.BADGE, BADGE)],
    )
    actions = list(ACTIONS)
    appealed = False
    for index, finding in enumerate(FINDINGS):
        case = world.cases[index]
        decided = _at(20, 12)
        decision = Decision.objects.create(
            case=case,
            finding=finding,
            rule="two_agree",
            sealed_rationale=content.seal(case, "decision-rationale", {"rationale": "Two members agreed."}),
            decided_at=decided,
            recorded_by=world.lead.user,
        )
        person = subject if index == 0 else record_person(organization, name=f"Attendee {index:02d}")
        decision.subjects.add(person)
        Case.objects.filter(pk=case.pk).update(violation=finding, state=CaseState.DECIDED, decided_at=decided)
        if finding == Finding.VIOLATION:
            sanction = Sanction.objects.create(
                organization=organization, person=person, decision=decision, kind=actions.pop(0), starts_at=decided
            )
            if sanction.kind == SanctionKind.BAN and not appealed:
                _appeal(decision, person, decided)
                appealed = True


def _appeal(decision, person, decided):
    notice = Notice.objects.create(
        decision=decision, person=person, sealed_body=content.seal(decision.case, "notice", {"body": "Notice."})
    )
    Appeal.objects.create(
        notice=notice,
        organization=decision.case.organization,
        received_at=decided,
        review_due_at=decided + datetime.timedelta(days=14),
        sealed_statement=content.seal(decision.case, "appeal", {"statement": "I disagree."}),
        state=AppealState.UPHELD,
    )
