"""The team's decision on a case: the finding, who took part and how they voted, the people it concerns and the
measures taken, told to the reporter in the same step. The case's finding is read from its current decision."""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone

from cocdesk.cases.domain import content as sealed
from cocdesk.cases.domain.queries import members_who_may_see
from cocdesk.cases.domain.team import case_reports, message_reporter
from cocdesk.cases.enums import OPEN_STATES, CaseState, Finding, MessageKind
from cocdesk.cases.models import Case, Recusal
from cocdesk.common import audit
from cocdesk.common.prepared_objects import PreparedObjects
from cocdesk.orgs.rules import can
from cocdesk.people.domain import registry
from cocdesk.people.models import Identifier, MemberIdentifier

from ..enums import LASTING_KINDS, DecisionRule, SanctionKind, Vote
from ..models import Decision, DecisionVote, Sanction

RATIONALE = "decision-rationale"
TERMS = "sanction-terms"


@dataclass(frozen=True)
class Tally:
    """The votes that count: members without a conflict. ``took_part`` includes abstentions."""

    agree: int
    disagree: int
    abstain: int
    conflicted: int

    @property
    def took_part(self):
        return self.agree + self.disagree + self.abstain


def rule_met(rule, tally):
    """None when the votes satisfy the organization's rule; otherwise why not, in words."""
    if rule == DecisionRule.TWO_AGREE:
        if tally.agree < 2:
            return "At least two team members without a conflict must agree."
        if tally.agree <= tally.disagree:
            return "More members must agree than disagree."
    elif rule == DecisionRule.CONSENSUS:
        if tally.took_part < 2:
            return "At least two team members without a conflict must take part."
        if tally.disagree:
            return "The organization decides by consensus: nobody without a conflict may disagree."
        if not tally.agree:
            return "Nobody agreed: a decision needs at least one member who agrees."
    elif rule == DecisionRule.TWO_THIRDS:
        if tally.agree < 2:
            return "At least two team members without a conflict must agree."
        if 3 * tally.agree < 2 * tally.took_part:
            return (
                f"Two thirds of the members without a conflict who voted must agree: {tally.agree} of "
                f"{tally.took_part} did."
            )
    else:
        raise ValidationError("The organization's decision rule is not one CoC Desk knows.")
    return None


def _refused(rule, tally):
    reason = rule_met(rule, tally)
    if reason is None:
        return
    counted = f"{tally.agree} agree, {tally.disagree} disagree, {tally.abstain} abstain"
    if tally.conflicted:
        counted += f"; {tally.conflicted} with a conflict, not counted"
    raise ValidationError(f"Not recorded: {reason} ({counted}.) Rule: {DecisionRule(rule).label.lower()}.")


def _check_votes(case, votes):
    if any(vote not in Vote.values for vote in votes.values()):
        raise ValidationError("Each vote is agrees, disagrees or abstains.")
    strangers = [m for m in votes if m.organization_id != case.organization_id or not m.is_active]
    if strangers:
        raise ValidationError("Only active members of this organization's team can take part in its decisions.")


def _conflicted_members(case, memberships, subjects):
    """Members recused from the case, or whose own names, emails or handles are those of a person it concerns."""
    recused = set(
        Recusal.objects.filter(is_active=True, case=case, membership__in=memberships).values_list(
            "membership_id", flat=True
        )
    )
    if subjects:
        organization = case.organization
        digests_of = {}
        # As stored now (the keyed hashes the member's identifiers are kept as): the names and handles a member is
        # known by may have changed since the page was drawn.
        stored = MemberIdentifier.objects.filter(membership__in=[m.pk for m in memberships])
        for membership_id, found in stored.values_list("membership_id", "digest"):
            digests_of.setdefault(membership_id, set()).add(found)
        known = set(
            Identifier.objects.filter(
                organization=organization,
                person__in=subjects,
                digest__in={found for digests in digests_of.values() for found in digests if found},
            ).values_list("digest", flat=True)
        )
        recused |= {member_id for member_id, digests in digests_of.items() if digests & known}
    return recused


def check_action(organization, action):
    """The action as stored: the kind from the organization's menu, a scope and a duration for lasting kinds."""
    kind = action.get("kind")
    label = SanctionKind(kind).label if kind in SanctionKind.values else "this measure"
    if kind not in organization.sanction_kinds:
        raise ValidationError(f"{label} is not on the organization's menu of resolutions.")
    starts_at = action.get("starts_at") or timezone.now()
    ends_at, permanent = action.get("ends_at"), bool(action.get("permanent"))
    spaces = list(action.get("spaces") or ())
    all_spaces = bool(action.get("all_spaces"))
    if any(space.organization_id != organization.pk for space in spaces):
        raise ValidationError(f"{label}: choose spaces of this organization.")
    if kind in LASTING_KINDS:
        if not all_spaces and not spaces:
            raise ValidationError(f"{label}: choose all spaces, or the spaces it applies to.")
        if permanent and ends_at:
            raise ValidationError(f"{label}: give an end, or make it permanent, not both.")
        if not permanent and not ends_at:
            raise ValidationError(f"{label}: give the date it ends, or make it permanent.")
        if ends_at and ends_at <= starts_at:
            raise ValidationError(f"{label}: the end must come after the start.")
    elif ends_at or permanent:
        raise ValidationError(f"{label} is given once: it has no end and is not permanent.")
    return {
        "kind": kind,
        "all_spaces": all_spaces if kind in LASTING_KINDS else False,
        "spaces": (spaces if not all_spaces else []) if kind in LASTING_KINDS else [],
        "starts_at": starts_at,
        "ends_at": ends_at,
        "permanent": permanent,
        "terms": (action.get("terms") or "").strip(),
        "subject": action.get("subject"),
    }


@transaction.atomic
def record_decision(
    case,
    *,
    by,
    finding,
    rationale,
    votes,
    subjects,
    actions,
    outcome_report,
    outcome_body,
    confirms_action=None,
):
    """Records the team's decision and tells the reporter, in one transaction: nothing is recorded when the outcome
    message cannot be sent, and no outcome is sent for a decision that was not recorded.

    ``votes``: {membership: Vote}; a member recused from the case or named as a subject is recorded as conflicted and
    never counted. ``subjects``: [{"name": ..., "identifiers": [(kind, value)]}]. ``actions``: [{"kind", "all_spaces",
    "spaces", "starts_at", "ends_at", "permanent", "terms", "subject" (an index into subjects; None: all of them)}].
    """
    if not can(by, "sanctions.record_decision", case):
        raise PermissionDenied
    organization = case.organization
    state = Case.objects.select_for_update().filter(pk=case.pk).values_list("state", flat=True).first()
    if state not in OPEN_STATES:
        raise ValidationError("This case already has a decision, or is closed: reopen it to decide again.")
    if finding not in Finding.values:
        raise ValidationError("Choose the finding: whether it was a violation of the Code of Conduct.")
    if not (rationale or "").strip():
        raise ValidationError("Write why the team decided so: the rationale stays with the case.")
    if not (outcome_body or "").strip():
        raise ValidationError("Write the outcome message: the reporter is told what the team decided.")
    if not case_reports(case).filter(pk=outcome_report.pk).exists():
        raise ValidationError("Choose a reporter of this case to send the outcome to.")
    if confirms_action is not None and confirms_action.case_id != case.pk:
        raise ValidationError("That immediate action belongs to another case.")
    _check_votes(case, votes)
    checked = [check_action(organization, action) for action in actions]
    if checked and not subjects:
        raise ValidationError("Name the person the actions concern.")
    if any(a["subject"] is not None and not 0 <= a["subject"] < len(subjects) for a in checked):
        raise ValidationError("An action names a person who is not among the people the decision concerns.")

    people = [
        registry.record_person(organization, name=subject["name"], identifiers=subject.get("identifiers", ()))
        for subject in subjects
    ]
    conflicted = _conflicted_members(case, list(votes), people)
    counted = [vote for membership, vote in votes.items() if membership.pk not in conflicted]
    tally = Tally(
        agree=counted.count(Vote.AGREE),
        disagree=counted.count(Vote.DISAGREE),
        abstain=counted.count(Vote.ABSTAIN),
        conflicted=len(votes) - len(counted),
    )
    _refused(organization.decision_rule, tally)

    now = timezone.now()
    Decision.objects.filter(case=case, is_current=True).update(is_current=False, updated_at=now)
    decision = Decision.objects.create(
        case=case,
        finding=finding,
        rule=organization.decision_rule,
        sealed_rationale=sealed.seal(case, RATIONALE, {"rationale": rationale.strip()}),
        decided_at=now,
        recorded_by=by,
        confirms_action=confirms_action,
    )
    decision.subjects.set(people)
    DecisionVote.objects.bulk_create(
        DecisionVote(decision=decision, membership=membership, vote=vote, conflicted=membership.pk in conflicted)
        for membership, vote in votes.items()
    )
    sanctions = _impose(decision, checked, people, by=by)

    case.violation, case.state, case.decided_at = finding, CaseState.DECIDED, now
    case.save(update_fields=["violation", "state", "decided_at", "updated_at"])
    if confirms_action is not None and confirms_action.reviewed_at is None:
        confirms_action.reviewed_by, confirms_action.reviewed_at = by, now
        confirms_action.save(update_fields=["reviewed_by", "reviewed_at"])

    audit.record_many(
        [
            {
                "action": "decision.recorded",
                "actor": by,
                "case": case,
                "decision": decision.pk,
                "finding": finding,
                "rule": decision.rule,
                "agree": tally.agree,
                "disagree": tally.disagree,
                "abstain": tally.abstain,
                "conflicted": tally.conflicted,
                "subjects": len(people),
                "actions": sorted({action["kind"] for action in checked}),
                "confirms_action": confirms_action.pk if confirms_action else None,
            },
            *(
                {
                    "action": "sanction.imposed",
                    "actor": by,
                    "case": case,
                    "sanction": sanction.pk,
                    "kind": sanction.kind,
                    "permanent": sanction.is_permanent,
                    "all_spaces": sanction.all_spaces,
                }
                for sanction in sanctions
            ),
        ]
    )
    message_reporter(case, outcome_report, author=by, body=outcome_body, kind=MessageKind.OUTCOME)
    return decision


def _impose(decision, checked, people, *, by):
    organization = decision.case.organization
    sanctions = []
    for action in checked:
        concerned = people if action["subject"] is None else [people[action["subject"]]]
        for person in concerned:
            sanction = Sanction.objects.create(
                organization=organization,
                person=person,
                decision=decision,
                kind=action["kind"],
                all_spaces=action["all_spaces"],
                starts_at=action["starts_at"],
                ends_at=action["ends_at"],
                is_permanent=action["permanent"],
                sealed_terms=registry.seal(organization, TERMS, {"terms": action["terms"]})
                if action["terms"]
                else None,
                recorded_by=by,
            )
            if action["spaces"]:
                sanction.spaces.set(action["spaces"])
            sanctions.append(sanction)
    return sanctions


def rationale_of(decision):
    return sealed.unseal(decision.case, RATIONALE, decision.sealed_rationale)["rationale"]


def terms_of(sanction):
    if not sanction.sealed_terms:
        return ""
    return registry.unseal(sanction.organization, TERMS, sanction.sealed_terms)["terms"]


_current_decision = PreparedObjects(
    lambda case_id: Decision.objects.filter(case_id=case_id, is_current=True).select_related(
        "recorded_by", "confirms_action"
    )[:1],
    int,
)


def current_decision(case):
    """The case's current decision with its votes, subjects and sanctions, in a fixed number of queries (one
    while the case has none: the case page's usual read, from a prepared statement)."""
    decision = _current_decision.first(case.pk)
    if decision is not None:
        decision.case = case
        prefetch_related_objects([decision], "votes__membership", "subjects", "sanctions__spaces", "sanctions__person")
    return decision


def members_for_votes(case):
    """The members who may take part: those who may see the case (a recused member never sees it)."""
    return members_who_may_see(case).order_by("display_name", "pk")
