"""Recording decisions in tests through the real domain function, with the votes the organization's rule needs."""

from cocdesk.cases.domain.queries import members_who_may_see
from cocdesk.cases.enums import Finding
from cocdesk.cases.models import Case
from cocdesk.sanctions.domain.decisions import record_decision
from cocdesk.sanctions.enums import Vote
from tests.factories import member

OUTCOME = "The Code of Conduct team discussed the situation. Our finding: {finding}. What we did: {done}"


def fresh(case):
    return Case.objects.select_related("organization", "space").get(pk=case.pk)


def voters_for(case, by):
    """The member recording it and the others who may see the case; a second voter joins when there is none."""
    seen = list(members_who_may_see(case))
    recorder = [m for m in seen if m.user_id == by.pk]
    others = [m for m in seen if m.user_id != by.pk]
    if not others:
        others = [member(case.organization, "responder", username=f"second-voter-{case.pk}")]
    return recorder + others


def decide(
    case,
    *,
    by,
    finding=Finding.VIOLATION,
    votes=None,
    subjects=(),
    actions=(),
    rationale="The team read every report and agreed.",
    body=None,
    report=None,
    confirms_action=None,
):
    """Records a decision on ``case`` as ``by`` (a user) would; every voter agrees unless ``votes`` says otherwise.
    Returns the case as stored afterwards; its decision is ``case.decisions.get(is_current=True)``."""
    case = fresh(case)
    if votes is None:
        votes = {membership: Vote.AGREE for membership in voters_for(case, by)}
    label = dict(Finding.choices)[finding]
    record_decision(
        case,
        by=by,
        finding=finding,
        rationale=rationale,
        votes=votes,
        subjects=list(subjects),
        actions=list(actions),
        outcome_report=report or case.reports.order_by("pk").first(),
        outcome_body=body or OUTCOME.format(finding=label.lower(), done="no action was taken."),
        confirms_action=confirms_action,
    )
    return fresh(case)
