"""Recording a decision: the organization's rule checked against the votes of members without a conflict, the
measures with their scope and duration, the outcome told to the reporter in the same transaction, and the finding
that only a decision writes."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from cocdesk.cases.domain import workflow
from cocdesk.cases.domain.content import message_body
from cocdesk.cases.domain.recusal import recuse
from cocdesk.cases.enums import CaseState, Finding, MessageKind, RecusalReason, RecusalSource
from cocdesk.cases.models import Case, ImmediateAction, Message, Report
from cocdesk.common.models import AuditEvent
from cocdesk.people.domain.members import set_member_identifiers
from cocdesk.people.models import Person
from cocdesk.sanctions.domain.decisions import rationale_of, record_decision, terms_of
from cocdesk.sanctions.domain.history import person_history
from cocdesk.sanctions.enums import LASTING_KINDS, DecisionRule, SanctionKind, SanctionState, Vote
from cocdesk.sanctions.models import Decision, DecisionVote, Sanction
from tests.factories import OrganizationFactory, SpaceFactory, member, report_case
from tests.sanctions.factories_decisions import decide, fresh

RATIONALE = "Canary-Rationale-6d1e: three witnesses saw it."
TERMS = "Canary-Terms-90ab: keep away from the speaker lounge."
SUBJECT = {"name": "Morgan Canary", "identifiers": [("email", "morgan@example.org"), ("badge", "B-4411")]}


@pytest.fixture
def team(organization, space):
    return SimpleNamespace(
        organization=organization,
        space=space,
        other_space=SpaceFactory(organization=organization, name="The forum"),
        lead=member(organization, "lead", username="lena-lead", display_name="Lena Lead"),
        other_lead=member(organization, "lead", username="lars-lead", display_name="Lars Lead"),
        responder=member(organization, "responder", username="rosa-responder", display_name="Rosa Responder"),
        third=member(organization, "responder", username="tom-third", display_name="Tom Third"),
        recused=member(organization, "lead", username="xavier-excluded", display_name="Xavier Excluded"),
    )


@pytest.fixture
def case(team):
    case, _receipt = report_case(
        team.organization, reporter_email="reporter@example.net", excluded_members=[team.recused]
    )
    return fresh(case)


def votes(team, **chosen):
    return {getattr(team, name): vote for name, vote in chosen.items()}


def record(
    case, team, *, by=None, votes_cast=None, actions=(), subjects=(SUBJECT,), finding=Finding.VIOLATION, **extra
):
    case = fresh(case)
    return record_decision(
        case,
        by=(by or team.lead).user,
        finding=finding,
        rationale=RATIONALE,
        votes=votes_cast if votes_cast is not None else votes(team, lead=Vote.AGREE, other_lead=Vote.AGREE),
        subjects=list(subjects),
        actions=list(actions),
        outcome_report=case.reports.get(),
        outcome_body="The team discussed it. It was a violation. What we did: a ban.",
        **extra,
    )


def everything():
    return {
        "cases": list(Case.objects.order_by("pk").values_list("pk", "state", "violation", "decided_at")),
        "decisions": list(Decision.objects.order_by("pk").values_list("pk", "is_current")),
        "votes": DecisionVote.objects.count(),
        "sanctions": Sanction.objects.count(),
        "people": Person.objects.count(),
        "messages": Message.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


# --- the decision and what it records ------------------------------------------------------------------------------


def test_a_decision_records_the_finding_votes_subject_and_tells_the_reporter(team, case):
    decision = record(case, team, votes_cast=votes(team, lead=Vote.AGREE, other_lead=Vote.AGREE, third=Vote.ABSTAIN))
    case = fresh(case)
    assert (case.state, case.violation) == (CaseState.DECIDED, Finding.VIOLATION)
    assert case.decided_at == decision.decided_at and decision.is_current
    assert decision.rule == DecisionRule.TWO_AGREE and decision.recorded_by == team.lead.user
    assert rationale_of(decision) == RATIONALE
    assert RATIONALE.encode() not in bytes(decision.sealed_rationale)
    assert sorted(decision.votes.values_list("membership__display_name", "vote", "conflicted")) == [
        ("Lars Lead", "agree", False),
        ("Lena Lead", "agree", False),
        ("Tom Third", "abstain", False),
    ]
    person = decision.subjects.get()
    assert person.identifiers.count() == 3  # the name, the email, the badge
    outcome = Message.objects.get(case=case, kind=MessageKind.OUTCOME)
    assert message_body(outcome).startswith("The team discussed it.")
    assert case.acknowledged_at is not None and case.last_update_at == outcome.created_at
    event = AuditEvent.objects.get(case=case, action="decision.recorded")
    assert event.detail == {
        "decision": decision.pk,
        "finding": "yes",
        "rule": "two_agree",
        "agree": 2,
        "disagree": 0,
        "abstain": 1,
        "conflicted": 0,
        "subjects": 1,
        "actions": [],
        "confirms_action": None,
    }
    assert "Morgan" not in str(event.detail) and "Canary" not in str(event.detail)


MEASURES = [(kind, "some spaces, until a date") for kind in LASTING_KINDS]
MEASURES += [(kind, "all spaces, permanent") for kind in LASTING_KINDS]
MEASURES += [(kind, "given once") for kind in SanctionKind if kind not in LASTING_KINDS]


@pytest.mark.parametrize(("kind", "shape"), MEASURES, ids=[f"{kind}-{shape}" for kind, shape in MEASURES])
def test_every_measure_is_recorded_with_its_scope_and_duration(team, case, kind, shape):
    starts = timezone.now() + timedelta(days=1)
    ends = starts + timedelta(days=30)
    action = {"kind": kind, "starts_at": starts, "terms": TERMS}
    if shape == "some spaces, until a date":
        action.update(spaces=[team.space, team.other_space], ends_at=ends)
    elif shape == "all spaces, permanent":
        action.update(all_spaces=True, permanent=True)
    decision = record(case, team, actions=[action])
    sanction = Sanction.objects.get(decision=decision)
    assert (sanction.kind, sanction.state, sanction.person) == (kind, SanctionState.ACTIVE, decision.subjects.get())
    assert sanction.starts_at == starts and sanction.recorded_by == team.lead.user
    if shape == "some spaces, until a date":
        assert not sanction.all_spaces and set(sanction.spaces.all()) == {team.space, team.other_space}
        assert (sanction.ends_at, sanction.is_permanent) == (ends, False)
    elif shape == "all spaces, permanent":
        assert sanction.all_spaces and not sanction.spaces.exists()
        assert (sanction.ends_at, sanction.is_permanent) == (None, True)
    else:
        assert (sanction.ends_at, sanction.is_permanent, sanction.all_spaces) == (None, False, False)
    assert terms_of(sanction) == TERMS and TERMS.encode() not in bytes(sanction.sealed_terms)
    imposed = AuditEvent.objects.get(action="sanction.imposed")
    assert imposed.case == fresh(case) and imposed.detail["kind"] == kind and imposed.detail["sanction"] == sanction.pk
    assert AuditEvent.objects.get(action="decision.recorded").detail["actions"] == [kind]


def test_an_action_for_one_person_only_concerns_that_person(team, case):
    other = {"name": "Riley Other", "identifiers": [("handle", "@riley")]}
    decision = record(
        case,
        team,
        subjects=[SUBJECT, other],
        actions=[{"kind": SanctionKind.PRIVATE_REPRIMAND}, {"kind": SanctionKind.VERBAL_WARNING, "subject": 1}],
    )
    reprimanded = set(decision.sanctions.filter(kind=SanctionKind.PRIVATE_REPRIMAND).values_list("person", flat=True))
    warned = list(decision.sanctions.filter(kind=SanctionKind.VERBAL_WARNING).values_list("person__pk", flat=True))
    assert reprimanded == set(decision.subjects.values_list("pk", flat=True)) and len(reprimanded) == 2
    assert len(warned) == 1 and warned[0] != Person.objects.get(identifiers__kind="email").pk


BAD_ACTIONS = [
    ({"kind": SanctionKind.BAN, "permanent": True}, "choose all spaces, or the spaces it applies to"),
    ({"kind": SanctionKind.BAN, "all_spaces": True}, "give the date it ends, or make it permanent"),
    ({"kind": SanctionKind.BAN, "all_spaces": True, "ends_at": "past"}, "the end must come after the start"),
    (
        {"kind": SanctionKind.BAN, "all_spaces": True, "permanent": True, "ends_at": "future"},
        "give an end, or make it permanent, not both",
    ),
    ({"kind": SanctionKind.VERBAL_WARNING, "ends_at": "future"}, "is given once"),
    ({"kind": SanctionKind.PRIVATE_REPRIMAND, "permanent": True}, "is given once"),
    ({"kind": "spanking"}, "not on the organization's menu"),
    ({"kind": SanctionKind.BAN, "spaces": "elsewhere", "permanent": True}, "choose spaces of this organization"),
]


@pytest.mark.parametrize(("action", "said"), BAD_ACTIONS, ids=[said for _a, said in BAD_ACTIONS])
def test_a_measure_without_its_scope_or_duration_is_refused_and_nothing_changes(team, case, action, said):
    now = timezone.now()
    action = dict(action)
    if action.get("ends_at") == "past":
        action["ends_at"] = now - timedelta(days=1)
    elif action.get("ends_at") == "future":
        action["ends_at"] = now + timedelta(days=3)
    if action.get("spaces") == "elsewhere":
        action["spaces"] = [SpaceFactory(organization=OrganizationFactory(), name="Not ours")]
    before = everything()
    with pytest.raises(ValidationError) as refused:
        record(case, team, actions=[action])
    assert said in " ".join(refused.value.messages)
    assert everything() == before


def test_a_measure_taken_off_the_menu_is_refused(team, case):
    team.organization.sanction_kinds = [SanctionKind.VERBAL_WARNING]
    team.organization.save()
    with pytest.raises(ValidationError, match="Ban is not on the organization's menu"):
        record(case, team, actions=[{"kind": SanctionKind.BAN, "all_spaces": True, "permanent": True}])
    assert not Decision.objects.exists()


def test_actions_need_someone_they_concern(team, case):
    with pytest.raises(ValidationError, match="Name the person the actions concern"):
        record(case, team, subjects=[], actions=[{"kind": SanctionKind.VERBAL_WARNING}])


# --- the decision rule ----------------------------------------------------------------------------------------------

RULES = [
    # rule, votes, recorded?
    (DecisionRule.TWO_AGREE, {"lead": "agree"}, False),
    (DecisionRule.TWO_AGREE, {"lead": "agree", "other_lead": "abstain", "third": "abstain"}, False),
    (
        DecisionRule.TWO_AGREE,
        {"lead": "agree", "other_lead": "agree", "third": "disagree", "responder": "disagree"},
        False,
    ),
    (DecisionRule.TWO_AGREE, {"lead": "agree", "other_lead": "agree", "third": "disagree"}, True),
    (DecisionRule.CONSENSUS, {"lead": "agree"}, False),
    (DecisionRule.CONSENSUS, {"lead": "agree", "other_lead": "agree", "third": "disagree"}, False),
    (DecisionRule.CONSENSUS, {"lead": "abstain", "other_lead": "abstain"}, False),
    (DecisionRule.CONSENSUS, {"lead": "agree", "other_lead": "abstain"}, True),
    (DecisionRule.TWO_THIRDS, {"lead": "agree", "other_lead": "disagree", "third": "abstain"}, False),
    (DecisionRule.TWO_THIRDS, {"lead": "agree"}, False),
    (
        DecisionRule.TWO_THIRDS,
        {"lead": "agree", "other_lead": "agree", "third": "abstain", "responder": "abstain"},
        False,
    ),
    (DecisionRule.TWO_THIRDS, {"lead": "agree", "other_lead": "agree", "third": "disagree"}, True),
]


@pytest.mark.parametrize(
    ("rule", "cast", "recorded"),
    RULES,
    ids=[f"{r}-{'ok' if ok else 'refused'}-{i}" for i, (r, _c, ok) in enumerate(RULES)],
)
def test_the_organizations_rule_is_checked_against_the_votes(team, case, rule, cast, recorded):
    team.organization.decision_rule = rule
    team.organization.save()
    before = everything()
    if recorded:
        assert record(case, team, votes_cast=votes(team, **cast)).rule == rule
        return
    with pytest.raises(ValidationError) as refused:
        record(case, team, votes_cast=votes(team, **cast))
    assert refused.value.messages[0].startswith("Not recorded: ")
    assert everything() == before


@pytest.mark.parametrize("rule", list(DecisionRule))
def test_a_recused_members_vote_is_recorded_and_never_counted(team, case, rule):
    team.organization.decision_rule = rule
    team.organization.save()
    cast = votes(team, lead=Vote.AGREE, recused=Vote.AGREE)
    before = everything()
    with pytest.raises(ValidationError, match="1 with a conflict, not counted"):
        record(case, team, votes_cast=cast)
    assert everything() == before
    decision = record(case, team, votes_cast={**cast, team.other_lead: Vote.AGREE})
    assert decision.votes.get(membership=team.recused).conflicted
    assert AuditEvent.objects.get(action="decision.recorded").detail["conflicted"] == 1


def test_a_member_named_as_a_subject_has_a_conflict(team, case):
    set_member_identifiers(team.other_lead, "Slack: @morgan.canary", by=team.lead.user)
    named = {"name": "Someone", "identifiers": [("handle", "@morgan.canary")]}
    with pytest.raises(ValidationError, match="1 with a conflict"):
        record(case, team, subjects=[named])
    decision = record(
        case, team, subjects=[named], votes_cast=votes(team, lead="agree", other_lead="agree", third="agree")
    )
    assert decision.votes.get(membership=team.other_lead).conflicted


def test_only_this_organizations_active_members_take_part(team, case):
    stranger = member(OrganizationFactory(), "lead", username="olaf-elsewhere")
    with pytest.raises(ValidationError, match="Only active members of this organization"):
        record(case, team, votes_cast={team.lead: Vote.AGREE, team.other_lead: Vote.AGREE, stranger: Vote.AGREE})


# --- who may decide -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["responder", "recused", "other organization"])
def test_only_a_lead_of_the_case_records_a_decision_and_nothing_changes(team, case, who):
    actor = (
        member(OrganizationFactory(), "lead", username="olaf-elsewhere")
        if who == "other organization"
        else getattr(team, who)
    )
    before = everything()
    with pytest.raises(PermissionDenied):
        record(case, team, by=actor)
    assert everything() == before


# --- one transaction, one current decision, the finding ---------------------------------------------------------


def test_an_outcome_that_cannot_be_sent_leaves_no_decision_and_no_message(team, case):
    from cocdesk.cases.domain import content
    from cocdesk.common.crypto import KeyMissing

    content.data_key(case)  # the decision's own instance holds its key; the report's case is read afresh
    Case.objects.filter(pk=case.pk).update(key_id="a-retired-key")
    before = everything()
    with pytest.raises(KeyMissing):
        record_decision(
            case,
            by=team.lead.user,
            finding=Finding.VIOLATION,
            rationale=RATIONALE,
            votes=votes(team, lead=Vote.AGREE, other_lead=Vote.AGREE),
            subjects=[SUBJECT],
            actions=[{"kind": SanctionKind.BAN, "all_spaces": True, "permanent": True}],
            outcome_report=Report.objects.get(case_id=case.pk),
            outcome_body="We decided.",
        )
    assert everything() == before
    stored = Case.objects.get(pk=case.pk)
    assert (stored.state, stored.decided_at, stored.violation) == (CaseState.NEW, None, "")


def test_a_new_decision_replaces_the_current_one(team, case):
    first = record(case, team, finding=Finding.UNDETERMINED)
    workflow.transition(fresh(case), "reopen", by=team.lead.user)
    second = record(case, team, finding=Finding.VIOLATION)
    first.refresh_from_db()
    assert not first.is_current and second.is_current
    assert Decision.objects.get(case=case, is_current=True) == second
    assert fresh(case).violation == Finding.VIOLATION


@pytest.mark.parametrize("state", [CaseState.DECIDED, CaseState.CLOSED])
def test_a_decided_or_closed_case_must_be_reopened_first(team, case, state):
    record(case, team)
    if state == CaseState.CLOSED:
        workflow.transition(fresh(case), "close", by=team.lead.user)
    before = everything()
    with pytest.raises(ValidationError, match="reopen it to decide again"):
        record(case, team)
    assert everything() == before


def test_triage_after_a_decision_leaves_the_finding(team, case):
    record(case, team, finding=Finding.NO_VIOLATION)
    workflow.record_triage(
        fresh(case),
        {"violation": Finding.VIOLATION, "ongoing": "no", "physical_danger": "no"},
        by=team.responder.user,
        category="Harassment",
        space=None,
    )
    stored = fresh(case)
    assert stored.violation == Finding.NO_VIOLATION and stored.category == "Harassment"
    assert Decision.objects.get(case=case).finding == Finding.NO_VIOLATION


def test_a_decision_confirms_a_leads_immediate_action(team, organization):
    urgent, _receipt = report_case(organization, ongoing="yes")
    action = workflow.record_immediate_action(fresh(urgent), "Security walked them out.", by=team.lead.user)
    decision = record(
        urgent,
        team,
        confirms_action=action,
        actions=[{"kind": SanctionKind.EXPULSION, "spaces": [team.space], "permanent": True}],
    )
    action = ImmediateAction.objects.get(pk=action.pk)
    assert decision.confirms_action == action
    assert (action.reviewed_by, action.reviewed_at) == (team.lead.user, decision.decided_at)


def test_an_immediate_action_of_another_case_is_refused(team, case, organization):
    urgent, _receipt = report_case(organization, ongoing="yes")
    action = workflow.record_immediate_action(fresh(urgent), "Security walked them out.", by=team.lead.user)
    with pytest.raises(ValidationError, match="another case"):
        record(case, team, confirms_action=action)


# --- the history beside a decision ------------------------------------------------------------------------------


def test_history_shows_earlier_warnings_and_reads_the_guidelines(team, case):
    earlier, _r = report_case(team.organization, description="The first time.")
    decide(earlier, by=team.lead.user, subjects=[SUBJECT], actions=[{"kind": SanctionKind.VERBAL_WARNING}])
    again, _r = report_case(team.organization, description="The second time.")
    decide(again, by=team.lead.user, subjects=[SUBJECT], actions=[{"kind": SanctionKind.PRIVATE_REPRIMAND}])
    history = person_history(case, viewer=team.lead.user, values=["morgan@example.org"])
    assert [s.kind for s in history.sanctions] == [SanctionKind.PRIVATE_REPRIMAND, SanctionKind.VERBAL_WARNING]
    assert {item["case"].pk for item in history.other_cases} == {earlier.pk, again.pk}
    third = history.guidelines[0]
    assert third.verdict == "applies" and third.because == "2 earlier warnings: a third offence is a reason to expel."
    assert history.guidelines[2].verdict == "applies"  # a pattern: two earlier incidents


def test_history_leaves_out_what_the_viewer_may_not_see(team, case):
    hidden, _r = report_case(team.organization, description="A case Rosa is recused from.")
    decide(
        hidden,
        by=team.lead.user,
        subjects=[SUBJECT],
        actions=[{"kind": SanctionKind.BAN, "all_spaces": True, "permanent": True}],
    )
    recuse(fresh(hidden), team.responder, reason=RecusalReason.FAMILY, source=RecusalSource.DECLARED, by=team.lead.user)
    assert person_history(case, viewer=team.lead.user, values=["B-4411"]).sanctions  # the data is there
    history = person_history(case, viewer=team.responder.user, values=["B-4411"])
    assert history.sanctions == [] and history.other_cases == []
    assert [g.verdict for g in history.guidelines[:3]] == ["not_shown", "judge", "not_shown"]


def test_history_of_nobody_known_is_empty(team, case):
    history = person_history(case, viewer=team.lead.user, values=["nobody@example.org"])
    assert history.is_empty and history.people == [] and len(history.guidelines) == 5
