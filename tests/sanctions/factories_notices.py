"""A decided case for the notice and appeal tests, made directly with the models: a reporter and a witness named in
the report, a person the decision concerns, two members who decided, and members who did not."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from cocdesk.cases.domain import content as sealed
from cocdesk.cases.enums import Finding
from cocdesk.people.domain.registry import record_person
from cocdesk.people.enums import IdentifierKind
from cocdesk.sanctions.domain import notices
from cocdesk.sanctions.enums import DecisionRule, SanctionKind, Vote
from cocdesk.sanctions.models import Decision, DecisionVote, Sanction
from tests.factories import OrganizationFactory, SpaceFactory, member, report_case

REPORTER_NAME = "Rosalind Quenby"
REPORTER_EMAIL = "rosalind.quenby@example.net"
WITNESS = "Walter Ashgrove"
WITNESS_EMAIL = "walter.ashgrove@example.com"
PERSON_NAME = "Mallory Offender"
PERSON_EMAIL = "mallory.offender@example.org"

CLEAN_PARTS = {
    "behaviour": "At the evening social you kept touching an attendee's shoulder after being asked to stop.",
    "impact": "People at the social felt unsafe, and some left early.",
    "expected_change": "From now on we expect you to respect a no the first time it is said.",
    "consequences": "You are banned from the conference. If it happens again, the team may ban you more widely.",
}


@dataclass
class Decided:
    organization: object
    space: object
    case: object
    person: object
    decision: object
    recorder: object  # a lead who recorded the decision and voted
    voter: object  # a responder who voted
    reviewer: object  # a responder who took no part
    second_reviewer: object  # a lead who took no part
    sanctions: list = field(default_factory=list)


def decided_case(*, permanent=True, kind=SanctionKind.BAN, like=None):
    """A decided case; ``like``: another Decided whose organization, space and members this one shares."""
    if like is not None:
        organization, space = like.organization, like.space
        recorder, voter, reviewer, second_reviewer = like.recorder, like.voter, like.reviewer, like.second_reviewer
    else:
        organization = OrganizationFactory(name="Pycon Notices")
        space = SpaceFactory(organization=organization, name="Main conference")
        recorder = member(organization, "lead")
        voter = member(organization, "responder")
        reviewer = member(organization, "responder")
        second_reviewer = member(organization, "lead")
    case, _receipt = report_case(
        organization,
        description="He kept touching my shoulder at the social after I said stop.",
        reporter_name=REPORTER_NAME,
        reporter_email=REPORTER_EMAIL,
        others_involved=f"{WITNESS} saw it ({WITNESS_EMAIL})",
        reported_name=PERSON_NAME,
        space=space,
    )
    person = record_person(organization, name=PERSON_NAME, identifiers=[(IdentifierKind.EMAIL, PERSON_EMAIL)])
    now = timezone.now()
    decision = Decision.objects.create(
        case=case,
        finding=Finding.VIOLATION,
        rule=DecisionRule.TWO_AGREE,
        sealed_rationale=sealed.seal(case, "decision-rationale", {"rationale": "Two reports agree."}),
        decided_at=now,
        recorded_by=recorder.user,
    )
    decision.subjects.add(person)
    DecisionVote.objects.create(decision=decision, membership=recorder, vote=Vote.AGREE)
    DecisionVote.objects.create(decision=decision, membership=voter, vote=Vote.AGREE)
    sanction = Sanction.objects.create(
        organization=organization,
        person=person,
        decision=decision,
        kind=kind,
        starts_at=now,
        ends_at=None if permanent else now + timedelta(days=90),
        is_permanent=permanent,
        recorded_by=recorder.user,
    )
    sanction.spaces.add(space)
    return Decided(organization, space, case, person, decision, recorder, voter, reviewer, second_reviewer, [sanction])


def approved_notice(decided, *, address=PERSON_EMAIL):
    notice = notices.draft_notice(
        decided.decision, decided.person, by=decided.recorder.user, address=address, **CLEAN_PARTS
    )
    return notices.approve_notice(notice, by=decided.voter.user)
