"""The case lifecycle, driven twice: through the domain functions and through the desk views. Each change is checked
for what it saves and audits; each refused or denied change is checked to change nothing."""

import contextlib
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.contrib.messages import ERROR, SUCCESS, get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.utils import timezone

from cocdesk.cases.domain import team as team_domain
from cocdesk.cases.domain import workflow
from cocdesk.cases.domain.content import message_body, unseal
from cocdesk.cases.domain.deadlines import running_clocks
from cocdesk.cases.domain.recusal import recuse, reinstate
from cocdesk.cases.enums import CaseState, DeadlineKind, Finding, MessageKind, RecusalReason, RecusalSource
from cocdesk.cases.models import Case, ImmediateAction, Message, Note, Recusal
from cocdesk.common.models import AuditEvent
from cocdesk.notify.models import Notification
from cocdesk.orgs.models import template_text
from cocdesk.sanctions.domain.decisions import record_decision
from cocdesk.sanctions.enums import Vote
from tests.factories import OrganizationFactory, SpaceFactory, member, report_case
from tests.sanctions.factories_decisions import voters_for
from tests.team import log_in

DESCRIPTION = "Canary-Workflow-3a9f: the sponsor rep cornered me by the coffee stand."
DUPLICATE = "Canary-Duplicate-81bd: I saw the sponsor rep corner someone by the coffee stand."
TO_REPORTER = "Canary-ToReporter-5c2e: could you tell us what time it was?"
TO_WITNESS = "Canary-ToWitness-d07a: thank you for writing in as a witness."
ACTIONS_TAKEN = "Canary-Actions-71f0: the sponsor rep was asked to leave the venue."
NOTE = "Canary-Note-2b6c: the rep was warned at the previous edition too."
TRIAGE_SUMMARY = "Canary-Triage-9e41: cornering near the coffee stand."
BAD_ACTOR = "Canary-BadActor-46aa: sponsor rep in a green hoodie."
IMMEDIATE = "Canary-Immediate-c3d5: venue security walked the rep out."


# --- the team and the case -----------------------------------------------------------------------------------------


@pytest.fixture
def team(organization, space):
    return SimpleNamespace(
        organization=organization,
        space=space,
        lead=member(organization, "lead", username="lena-lead", display_name="Lena Lead"),
        other_lead=member(organization, "lead", username="lars-lead", display_name="Lars Lead"),
        responder=member(organization, "responder", username="rosa-responder", display_name="Rosa Responder"),
        # A lead the reporter excluded: recused from the case, so 404 on everything about it.
        recused=member(organization, "lead", username="xavier-excluded", display_name="Xavier Excluded"),
        staff=member(organization, "staff", username="sam-staff"),
        fallback=member(organization, "fallback", username="fay-fallback"),
    )


@pytest.fixture
def case(team):
    case, receipt = report_case(
        team.organization,
        description=DESCRIPTION,
        reporter_email="reporter-3a9f@example.net",
        excluded_members=[team.recused],
    )
    case.receipt = receipt
    return case


def fresh(case):
    """The case as stored now (keeping the reporter's receipt the fixtures pinned on it)."""
    stored = Case.objects.select_related("organization", "space", "merged_into").get(pk=case.pk)
    if hasattr(case, "receipt"):
        stored.receipt = case.receipt
    return stored


def first_report(case):
    return case.reports.order_by("pk").first()


def acknowledged(case, by):
    """The case once ``by`` thanked its reporter: a case must be acknowledged before it is merged."""
    team_domain.message_reporter(
        fresh(case), first_report(case), author=by.user, body="Thank you", kind="acknowledgement"
    )
    return fresh(case)


# --- one way to act, two ways in ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What came of an attempt: done (with the confirmation the desk showed), refused (with the message shown),
    invalid (form errors) or denied (404)."""

    result: str
    message: str = ""


def _domain_attempt(call):
    try:
        call()
    except PermissionDenied:
        return Outcome("denied")
    except ValidationError as error:
        return Outcome("refused", " ".join(error.messages))
    return Outcome("done")


class ThroughDomain:
    def __init__(self, membership):
        self.membership = membership
        self.user = membership.user

    def message(self, case, report, body, kind=MessageKind.OTHER):
        return _domain_attempt(
            lambda: team_domain.message_reporter(fresh(case), report, author=self.user, body=body, kind=kind)
        )

    def transition(self, case, name):
        return _domain_attempt(lambda: workflow.transition(fresh(case), name, by=self.user))

    def outcome(self, case, report, finding=Finding.VIOLATION, actions=ACTIONS_TAKEN):
        """The decision, recorded with the votes of the lead and another member, and its outcome message."""

        def call():
            current = fresh(case)
            record_decision(
                current,
                by=self.user,
                finding=finding,
                rationale="The team discussed it.",
                votes={membership: Vote.AGREE for membership in voters_for(current, self.user)[:2]},
                subjects=[],
                actions=[],
                outcome_report=report,
                outcome_body=outcome_body(current.organization, finding, actions),
            )

        return _domain_attempt(call)

    def triage(self, case, *, answers, category, space, violation):
        return _domain_attempt(
            lambda: workflow.record_triage(
                fresh(case), {**answers, "violation": violation}, by=self.user, category=category, space=space
            )
        )

    def note(self, case, body):
        return _domain_attempt(lambda: workflow.add_note(fresh(case), body, by=self.user))

    def assign(self, case, memberships):
        return _domain_attempt(lambda: workflow.assign(fresh(case), list(memberships), by=self.user))

    def assign_to_me(self, case):
        return _domain_attempt(lambda: workflow.assign_to_me(fresh(case), self.membership, by=self.user))

    def merge(self, case, into):
        return _domain_attempt(lambda: workflow.merge(fresh(case), into=fresh(into), by=self.user))

    def immediate_action(self, case, description):
        return _domain_attempt(lambda: workflow.record_immediate_action(fresh(case), description, by=self.user))

    def review(self, case, action):
        return _domain_attempt(
            lambda: workflow.review_immediate_action(ImmediateAction.objects.get(pk=action.pk), by=self.user)
        )


class ThroughDesk:
    def __init__(self, membership):
        self.membership = membership
        self.user = membership.user
        self.client = log_in(Client(), membership.user)

    def post(self, case, action, data=None):
        response = self.client.post(f"/desk/cases/{case.reference}/{action}", data or {})
        if response.status_code == 404:
            return Outcome("denied")
        if response.status_code == 200:
            return Outcome("invalid", response.content.decode())
        assert response.status_code == 302, response.status_code
        shown = list(get_messages(response.wsgi_request))
        errors = [str(message) for message in shown if message.level == ERROR]
        if errors:
            assert not [message for message in shown if message.level == SUCCESS], "refused, yet confirmed"
            return Outcome("refused", " ".join(errors))
        assert all(message.level == SUCCESS for message in shown), shown
        return Outcome("done", " ".join(str(message) for message in shown))

    def message(self, case, report, body, kind=MessageKind.OTHER):
        return self.post(case, "messages/", {"report": report.pk, "kind": kind, "body": body})

    def transition(self, case, name):
        return self.post(case, f"state/{name}/")

    def outcome(self, case, report, finding=Finding.VIOLATION, actions=ACTIONS_TAKEN):
        current = fresh(case)
        data = decision_post(current, report, self.user, finding, actions)
        return self.post(case, "decision/", data)

    def triage(self, case, *, answers, category, space, violation):
        data = {**answers, "category": category, "space": space.pk if space else "", "violation": violation}
        return self.post(case, "triage/", data)

    def note(self, case, body):
        return self.post(case, "notes/", {"body": body})

    def assign(self, case, memberships):
        return self.post(case, "assign/", {"assignees": [m.pk for m in memberships]})

    def assign_to_me(self, case):
        return self.post(case, "assign-me/")

    def merge(self, case, into):
        return self.post(case, "merge/", {"into": into.reference.lower()})

    def immediate_action(self, case, description):
        return self.post(case, "immediate-actions/", {"description": description})

    def review(self, case, action):
        return self.post(case, f"immediate-actions/{action.pk}/review/")


def outcome_body(organization, finding, actions):
    """The outcome message the procedures name: the team discussed it, whether it was a violation, what was done."""
    label = dict(Finding.choices)[finding]
    return "\n".join(
        [
            template_text(organization, MessageKind.OUTCOME),
            "",
            "The Code of Conduct team discussed the situation.",
            f"Our finding: {label[0].lower() + label[1:]}.",
            f"What we did: {actions}",
        ]
    )


def decision_post(case, report, user, finding=Finding.VIOLATION, actions=ACTIONS_TAKEN):
    """What the decision page posts: the finding, two members agreeing, no measure, the outcome message."""
    data = {
        "finding": finding,
        "rationale": "The team discussed it.",
        "subjects": "",
        "report": report.pk,
        "outcome_body": outcome_body(case.organization, finding, actions),
        "actions-TOTAL_FORMS": "0",
        "actions-INITIAL_FORMS": "0",
    }
    for membership in voters_for(case, user)[:2]:
        data[f"vote_{membership.pk}"] = Vote.AGREE
    return data


@pytest.fixture(params=["domain", "desk"])
def via(request):
    """``via(membership)``: someone acting through the domain functions, or through the desk views."""
    return ThroughDomain if request.param == "domain" else ThroughDesk


# --- observing ----------------------------------------------------------------------------------------------------


def _plain(value):
    return bytes(value) if isinstance(value, memoryview) else value


def snapshot():
    """Everything an action on a case could change, in comparable form."""
    cases = {
        case.pk: {field.attname: _plain(getattr(case, field.attname)) for field in Case._meta.concrete_fields}
        for case in Case.objects.all()
    }
    return {
        "cases": cases,
        "assignees": sorted(Case.assignees.through.objects.values_list("case_id", "membership_id")),
        "audit": AuditEvent.objects.count(),
        "messages": Message.objects.count(),
        "notes": Note.objects.count(),
        "actions": list(ImmediateAction.objects.order_by("pk").values_list("pk", "reviewed_by", "reviewed_at")),
        "recusals": list(Recusal.objects.order_by("pk").values_list("pk", "case", "membership", "is_active")),
        "notifications": Notification.objects.count(),
    }


def state_changes(case):
    return [
        (event.action, event.actor.get_username() if event.actor else None)
        for event in AuditEvent.objects.filter(case=case).select_related("actor").order_by("pk")
        if event.action not in {"case.opened", "case.read_by_reporter", "case.recusal", "case.received"}
    ]


def reporter_page(receipt):
    """The reporter's follow-up page, opened with their receipt."""
    client = Client()
    response = client.post("/follow-up/", {"receipt": receipt})
    assert response.status_code == 302, "the receipt did not open the follow-up page"
    page = client.get("/follow-up/case/")
    assert page.status_code == 200
    return page.content.decode()


def desk_page(membership, case):
    return log_in(Client(), membership.user).get(f"/desk/cases/{case.reference}/")


def stored_in_clear(text):
    """The tables whose raw rows contain ``text`` anywhere, as stored by the database."""
    needle = text.encode()
    found = set()
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - names from introspection
            for row in cursor.fetchall():
                for value in row:
                    raw = bytes(value) if isinstance(value, (bytes, memoryview)) else str(value).encode()
                    if needle in raw:
                        found.add(table)
    return found


# --- acknowledgement -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [MessageKind.ACKNOWLEDGEMENT, MessageKind.QUESTION, MessageKind.UPDATE, "other"])
def test_any_team_message_acknowledges_and_stops_the_acknowledgement_clock(via, team, case, kind):
    assert [clock for clock, _start, _due in running_clocks(case)] == [DeadlineKind.ACKNOWLEDGE, DeadlineKind.UPDATE]
    original_update_due = case.update_due
    before = timezone.now()

    assert via(team.responder).message(case, first_report(case), TO_REPORTER, kind=kind).result == "done"

    case = fresh(case)
    assert case.state == CaseState.ACKNOWLEDGED
    assert before <= case.acknowledged_at <= timezone.now()
    assert [clock for clock, _start, _due in running_clocks(case)] == [DeadlineKind.UPDATE]
    message = Message.objects.get(case=case)
    assert message.kind == kind and message.author == team.responder.user
    assert message_body(message) == TO_REPORTER
    # Only an update (or the outcome) restarts the 7-day clock.
    if kind == MessageKind.UPDATE:
        assert case.update_due == case.acknowledged_at + timedelta(days=7)
    else:
        assert case.update_due == original_update_due
    assert state_changes(case) == [("message.to_reporter", "rosa-responder")]
    shown = reporter_page(case.receipt)
    assert TO_REPORTER in shown and "Acknowledged by the team" in shown


def test_a_second_message_keeps_the_first_acknowledgement(via, team, case):
    actor = via(team.responder)
    actor.message(case, first_report(case), "Thank you for your report.", kind=MessageKind.ACKNOWLEDGEMENT)
    acknowledged_at = fresh(case).acknowledged_at
    assert actor.transition(case, "start_investigation").result == "done"
    actor.message(case, first_report(case), TO_REPORTER, kind=MessageKind.QUESTION)
    case = fresh(case)
    assert case.acknowledged_at == acknowledged_at
    assert case.state == CaseState.INVESTIGATING, "a message does not move an investigated case back"


def test_the_outcome_kind_is_not_a_plain_message(team, case):
    """The outcome goes through the decision form: the message form does not offer it."""
    before = snapshot()
    attempt = ThroughDesk(team.lead).message(case, first_report(case), TO_REPORTER, kind=MessageKind.OUTCOME)
    assert attempt.result == "invalid"
    assert TO_REPORTER in attempt.message, "what the member typed is kept"
    assert AuditEvent.objects.latest("pk").action == "case.opened"  # the page shown again is a read
    assert {**snapshot(), "audit": None} == {**before, "audit": None}


# --- the whole lifecycle -------------------------------------------------------------------------------------------


def test_lifecycle_from_report_to_reopened_investigation(via, team, case):
    responder, lead = via(team.responder), via(team.lead)
    report = first_report(case)

    assert responder.message(case, report, TO_REPORTER, kind=MessageKind.QUESTION).result == "done"
    assert fresh(case).state == CaseState.ACKNOWLEDGED

    assert responder.transition(case, "start_investigation").result == "done"
    assert fresh(case).state == CaseState.INVESTIGATING

    before = timezone.now()
    assert lead.outcome(case, report, finding=Finding.VIOLATION).result == "done"
    after = timezone.now()
    case = fresh(case)
    assert case.state == CaseState.DECIDED
    assert case.violation == Finding.VIOLATION
    assert before <= case.decided_at <= after
    outcome = Message.objects.get(case=case, kind=MessageKind.OUTCOME)
    assert outcome.author == team.lead.user
    body = message_body(outcome)
    assert "discussed" in body
    assert "a violation of the Code of Conduct" in body
    assert ACTIONS_TAKEN in body
    # The outcome is the follow-up the procedures promise: it restarts the update clock.
    assert before <= case.last_update_at <= after
    assert case.update_due == case.last_update_at + timedelta(days=case.organization.update_within_days)
    shown = reporter_page(case.receipt)
    assert ACTIONS_TAKEN in shown and "The team has reached a decision" in shown

    assert lead.transition(case, "close").result == "done"
    case = fresh(case)
    assert case.state == CaseState.CLOSED and case.closed_at is not None
    assert "Closed" in reporter_page(case.receipt)

    before = timezone.now()
    assert lead.transition(case, "reopen").result == "done"
    case = fresh(case)
    assert case.state == CaseState.REOPENED
    # The reporter is owed news again: the update clock starts afresh at the reopening.
    assert before <= case.last_update_at <= timezone.now()
    assert case.update_due == case.last_update_at + timedelta(days=case.organization.update_within_days)
    assert "Reopened" in reporter_page(case.receipt)

    assert responder.transition(case, "start_investigation").result == "done"
    assert fresh(case).state == CaseState.INVESTIGATING

    assert state_changes(case) == [
        ("message.to_reporter", "rosa-responder"),
        ("case.start_investigation", "rosa-responder"),
        ("decision.recorded", "lena-lead"),
        ("message.to_reporter", "lena-lead"),
        ("case.close", "lena-lead"),
        ("case.reopen", "lena-lead"),
        ("case.start_investigation", "rosa-responder"),
    ]
    transitions = AuditEvent.objects.filter(case=case, action__in=["case.close", "case.reopen"]).order_by("pk")
    assert [(event.detail["from"], event.detail["to"]) for event in transitions] == [
        ("decided", "closed"),
        ("closed", "reopened"),
    ]


@pytest.mark.parametrize("start", [CaseState.NEW, CaseState.ACKNOWLEDGED, CaseState.REOPENED])
def test_investigation_starts_from_new_acknowledged_or_reopened(via, team, case, start):
    bring_to(case, start, team)
    assert via(team.responder).transition(case, "start_investigation").result == "done"
    assert fresh(case).state == CaseState.INVESTIGATING
    event = AuditEvent.objects.filter(case=case, action="case.start_investigation").latest("pk")
    assert event.actor == team.responder.user and event.detail == {"from": start, "to": "investigating"}


def test_an_outcome_may_be_decided_straight_from_a_new_case(via, team, case):
    """A lead may decide without the intermediate steps; the outcome also acknowledges the report."""
    assert via(team.lead).outcome(case, first_report(case), finding=Finding.NO_VIOLATION).result == "done"
    case = fresh(case)
    assert case.state == CaseState.DECIDED and case.violation == Finding.NO_VIOLATION
    assert case.acknowledged_at is not None
    assert "Not a violation".lower() in message_body(Message.objects.get(case=case)).lower()


@pytest.mark.parametrize(
    ("missing", "error"),
    [
        ("rationale", "Write why the team decided so."),
        ("outcome_body", "Write the outcome message"),
        ("finding", "Choose the finding"),
    ],
)
def test_the_decision_form_keeps_what_was_typed_and_changes_nothing(team, case, missing, error):
    data = decision_post(case, first_report(case), team.lead.user)
    data["rationale"] = "Canary-Why-77c1: every witness agreed."
    del data[missing]
    before = snapshot()
    response = log_in(Client(), team.lead.user).post(f"/desk/cases/{case.reference}/decision/", data)
    assert response.status_code == 200
    page = response.content.decode()
    assert error in page
    if missing != "outcome_body":
        assert ACTIONS_TAKEN in page, "what the lead typed is kept"
    if missing != "rationale":
        assert "Canary-Why-77c1" in page
    after = snapshot()
    assert after["audit"] == before["audit"] + 1  # the re-rendered page is a read of the case, and audited
    assert AuditEvent.objects.latest("pk").action == "case.opened"
    assert {**after, "audit": 0} == {**before, "audit": 0}


# --- forbidden transitions ----------------------------------------------------------------------------------------

STEPS = [CaseState.NEW, CaseState.ACKNOWLEDGED, CaseState.INVESTIGATING, CaseState.DECIDED, CaseState.CLOSED]


def bring_to(case, state, team):
    """Takes a new case to ``state`` through the domain functions, as the team would."""
    lead = ThroughDomain(team.lead)
    report = first_report(case)
    if state == CaseState.NEW:
        return
    assert lead.message(case, report, "Thank you, we have your report.", MessageKind.ACKNOWLEDGEMENT).result == "done"
    if state == CaseState.ACKNOWLEDGED:
        return
    if state == CaseState.REOPENED:
        assert lead.outcome(case, report).result == "done"
        assert lead.transition(case, "reopen").result == "done"
        return
    assert lead.transition(case, "start_investigation").result == "done"
    if state == CaseState.INVESTIGATING:
        return
    assert lead.outcome(case, report).result == "done"
    if state == CaseState.DECIDED:
        return
    assert lead.transition(case, "close").result == "done"
    assert fresh(case).state == state


FORBIDDEN = [
    (CaseState.NEW, "close"),
    (CaseState.ACKNOWLEDGED, "close"),
    (CaseState.INVESTIGATING, "close"),
    (CaseState.REOPENED, "close"),
    (CaseState.CLOSED, "close"),
    (CaseState.NEW, "reopen"),
    (CaseState.INVESTIGATING, "reopen"),
    (CaseState.REOPENED, "reopen"),
    (CaseState.INVESTIGATING, "start_investigation"),
    (CaseState.DECIDED, "start_investigation"),
    (CaseState.CLOSED, "start_investigation"),
    (CaseState.DECIDED, "outcome"),
    (CaseState.CLOSED, "outcome"),
]


@pytest.mark.parametrize(("state", "action"), FORBIDDEN, ids=[f"{action}-from-{state}" for state, action in FORBIDDEN])
def test_a_forbidden_transition_is_refused_with_a_message_and_changes_nothing(via, team, case, state, action):
    bring_to(case, state, team)
    lead = via(team.lead)
    before = snapshot()
    if action == "outcome":
        attempt = lead.outcome(case, first_report(case), finding=Finding.NO_VIOLATION)
    else:
        attempt = lead.transition(case, action)
    assert attempt.result == "refused"
    assert attempt.message
    assert snapshot() == before


PLAIN_REFUSALS = [
    (CaseState.INVESTIGATING, "reopen", "A case that is investigating cannot be reopened."),
    (CaseState.DECIDED, "start_investigation", "A case that is decided cannot be put under investigation."),
    (CaseState.NEW, "close", "A case that is new cannot be closed before a decision is recorded."),
]


@pytest.mark.parametrize(("state", "action", "said"), PLAIN_REFUSALS, ids=[a for _s, a, _m in PLAIN_REFUSALS])
def test_a_refused_transition_is_explained_in_plain_words(team, case, state, action, said):
    bring_to(case, state, team)
    assert ThroughDesk(team.lead).transition(case, action) == Outcome("refused", said)


CONFIRMATIONS = [
    (CaseState.ACKNOWLEDGED, "start_investigation", "The case is under investigation."),
    (CaseState.DECIDED, "close", "The case is closed."),
    (CaseState.CLOSED, "reopen", "The case is reopened; the reporter is owed news within the update window again."),
]


@pytest.mark.parametrize(("state", "action", "said"), CONFIRMATIONS, ids=[a for _s, a, _m in CONFIRMATIONS])
def test_a_state_change_through_the_desk_is_confirmed_in_plain_words(team, case, state, action, said):
    bring_to(case, state, team)
    desk = ThroughDesk(team.lead)
    assert desk.transition(case, action) == Outcome("done", said)
    # The confirmation is shown once, on the case page the desk goes back to.
    assert said in desk.client.get(f"/desk/cases/{case.reference}/").content.decode()
    assert said not in desk.client.get(f"/desk/cases/{case.reference}/").content.decode()


def test_an_unknown_transition_is_not_found(team, case):
    before = snapshot()
    for name in ("decide", "merge", "delete", "__init__"):
        assert ThroughDesk(team.lead).transition(case, name).result == "denied"
    assert snapshot() == before


# --- who may do what -----------------------------------------------------------------------------------------------


def _lead_only(case, team, actor, other):
    return {
        "close": lambda: actor.transition(case, "close"),
        "reopen": lambda: actor.transition(case, "reopen"),
        "outcome": lambda: actor.outcome(case, first_report(case)),
        "merge": lambda: actor.merge(case, other),
        "immediate action": lambda: actor.immediate_action(case, IMMEDIATE),
    }


LEAD_ONLY = [("close", CaseState.DECIDED), ("reopen", CaseState.CLOSED), ("outcome", CaseState.INVESTIGATING)]
LEAD_ONLY += [("merge", CaseState.INVESTIGATING), ("immediate action", CaseState.ACKNOWLEDGED)]


@pytest.mark.parametrize(("action", "state"), LEAD_ONLY, ids=[action for action, _state in LEAD_ONLY])
def test_a_responder_is_denied_lead_actions_and_nothing_changes(via, team, case, action, state):
    other, _receipt = report_case(team.organization, description=DUPLICATE)
    bring_to(case, state, team)
    before = snapshot()
    attempt = _lead_only(case, team, via(team.responder), other)[action]()
    assert attempt.result == "denied"  # the desk answers 404
    assert snapshot() == before


def test_a_recused_member_gets_404_on_every_action_url_and_nothing_changes(team, case):
    """Even a lead, once recused, cannot reach the case by any URL; nothing it posts changes anything."""
    bring_to(case, CaseState.ACKNOWLEDGED, team)
    action = action_taken(case, team.lead)
    other, _receipt = report_case(team.organization, description=DUPLICATE)
    report = first_report(case)
    posts = {
        "messages/": {"report": report.pk, "kind": "question", "body": TO_REPORTER},
        "decision/": decision_post(case, report, team.lead.user),
        "triage/": {"ongoing": "no", "physical_danger": "no", "what_happened": TRIAGE_SUMMARY},
        "notes/": {"body": NOTE},
        "assign/": {"assignees": [team.recused.pk]},
        "assign-me/": {},
        "merge/": {"into": other.reference},
        "immediate-actions/": {"description": IMMEDIATE},
        f"immediate-actions/{action.pk}/review/": {},
        "state/start_investigation/": {},
        "state/close/": {},
        "state/reopen/": {},
        "recuse-me/": {"reason": "family"},
        "recusals/": {"membership": team.responder.pk, "reason": "family"},
        f"recusals/{Recusal.objects.get(case=case, membership=team.recused).pk}/reinstate/": {"reason": "Let me in."},
    }
    client = log_in(Client(), team.recused.user)
    before = snapshot()
    assert client.get(f"/desk/cases/{case.reference}/decision/").status_code == 404
    for path, data in posts.items():
        response = client.post(f"/desk/cases/{case.reference}/{path}", data)
        assert response.status_code == 404, path
        assert DESCRIPTION not in response.content.decode()
    assert client.get(f"/desk/cases/{case.reference}/").status_code == 404
    assert snapshot() == before
    # And the domain functions refuse the recused lead too.
    recused = ThroughDomain(team.recused)
    attempts = [
        recused.message(case, report, TO_REPORTER),
        recused.transition(case, "start_investigation"),
        recused.outcome(case, report),
        recused.triage(case, answers={"ongoing": "no"}, category="", space=None, violation=""),
        recused.note(case, NOTE),
        recused.assign(case, [team.responder]),
        recused.assign_to_me(case),
        recused.merge(case, other),
        recused.merge(other, case),
        recused.immediate_action(case, IMMEDIATE),
        recused.review(case, action),
    ]
    assert [attempt.result for attempt in attempts] == ["denied"] * len(attempts)
    assert snapshot() == before


# --- triage and notes ----------------------------------------------------------------------------------------------


def test_triage_is_sealed_and_sets_category_and_space_but_never_the_finding(via, team, case):
    answers = {
        "what_happened": TRIAGE_SUMMARY,
        "bad_actor": BAD_ACTOR,
        "ongoing": "no",
        "physical_danger": "yes",
    }
    attempt = via(team.responder).triage(
        case, answers=answers, category="Harassment", space=team.space, violation=Finding.VIOLATION
    )
    assert attempt.result == "done"
    case = fresh(case)
    assert (case.category, case.space) == ("Harassment", team.space)
    # The triager's view of the finding stays in the sealed answers: only a decision records the case's finding.
    assert case.violation == ""
    assert case.is_urgent, "a threat to physical safety makes the case urgent"
    assert case.triaged_at is not None
    assert unseal(case, "triage", case.sealed_triage) == {**answers, "violation": Finding.VIOLATION}
    assert stored_in_clear(TRIAGE_SUMMARY) == set()
    assert stored_in_clear(BAD_ACTOR) == set()
    event = AuditEvent.objects.get(case=case, action="case.triaged")
    assert event.actor == team.responder.user and event.detail == {"category": "Harassment"}
    # The team reads it back in the triage form; the reporter never sees it.
    page = desk_page(team.other_lead, case).content.decode()
    assert TRIAGE_SUMMARY in page and BAD_ACTOR in page
    shown = reporter_page(case.receipt)
    assert TRIAGE_SUMMARY not in shown and BAD_ACTOR not in shown and "Harassment" not in shown


NO_DANGER = {"ongoing": "no", "physical_danger": "no"}


def paged_leads():
    return sorted(
        (n.case_id, n.recipient.username)
        for n in Notification.objects.filter(kind="urgent_page").select_related("recipient")
    )


@pytest.mark.parametrize("danger", ["ongoing", "physical_danger"])
def test_triage_that_finds_danger_makes_the_case_urgent_and_pages_the_leads(via, team, case, danger):
    Notification.objects.all().delete()
    organization = team.organization
    assert not case.is_urgent
    assert case.acknowledge_due == case.received_at + timedelta(hours=organization.acknowledge_within_hours)

    attempt = via(team.responder).triage(
        case, answers={**NO_DANGER, danger: "yes"}, category="", space=None, violation=""
    )

    assert attempt.result == "done"
    case = fresh(case)
    assert case.is_urgent
    # Not yet acknowledged: the urgent window now applies, counted from the triage.
    assert case.acknowledge_due == case.triaged_at + timedelta(hours=organization.urgent_acknowledge_within_hours)
    # Every lead who may see the case is paged; Xavier, excluded by the reporter, is not.
    assert paged_leads() == [(case.pk, "lars-lead"), (case.pk, "lena-lead")]
    assert all(DESCRIPTION not in n.body for n in Notification.objects.filter(kind="urgent_page"))


@pytest.mark.parametrize("situation", ["acknowledged", "due sooner already"])
def test_triage_that_finds_danger_never_moves_the_acknowledgement_deadline_later(team, case, situation):
    if situation == "acknowledged":
        case = acknowledged(case, team.lead)
    else:
        Case.objects.filter(pk=case.pk).update(acknowledge_due=timezone.now() + timedelta(minutes=30))
    due = fresh(case).acknowledge_due
    Notification.objects.all().delete()

    workflow.record_triage(
        fresh(case), {**NO_DANGER, "ongoing": "yes"}, by=team.responder.user, category="", space=None
    )

    case = fresh(case)
    assert case.is_urgent and case.acknowledge_due == due
    assert paged_leads() == [(case.pk, "lars-lead"), (case.pk, "lena-lead")]


@pytest.mark.parametrize(
    ("which", "answers"),
    [("case", NO_DANGER), ("urgent", {"ongoing": "yes", "physical_danger": "yes"})],
    ids=["no danger", "urgent already"],
)
def test_triage_pages_nobody_when_the_case_does_not_become_urgent(request, team, which, answers):
    case = request.getfixturevalue(which)
    Notification.objects.all().delete()
    before = fresh(case)
    workflow.record_triage(fresh(case), answers, by=team.responder.user, category="", space=None)
    after = fresh(case)
    assert (after.is_urgent, after.acknowledge_due) == (before.is_urgent, before.acknowledge_due)
    assert paged_leads() == []


def test_triage_refuses_a_space_of_another_organization(via, team, case):
    elsewhere = SpaceFactory(organization=OrganizationFactory(), name="Someone else's meetup")
    before = snapshot()
    attempt = via(team.responder).triage(
        case, answers={"ongoing": "no", "physical_danger": "no"}, category="", space=elsewhere, violation=""
    )
    assert attempt.result in {"refused", "invalid"}
    assert snapshot()["cases"] == before["cases"]
    assert fresh(case).space is None


def test_notes_are_sealed_and_never_shown_to_the_reporter(via, team, case):
    assert via(team.responder).note(case, NOTE).result == "done"
    note = Note.objects.get(case=case)
    assert note.author == team.responder.user
    assert unseal(case, "note", note.sealed_body) == {"body": NOTE}
    assert stored_in_clear(NOTE) == set()
    event = AuditEvent.objects.get(case=case, action="case.note_added")
    assert event.actor == team.responder.user and event.detail == {"note": note.pk}
    assert NOTE in desk_page(team.lead, case).content.decode()
    assert NOTE not in reporter_page(case.receipt)
    assert ("case.note_added", "rosa-responder") in state_changes(case)


def test_an_empty_note_is_refused_and_changes_nothing(team, case):
    before = snapshot()
    response = log_in(Client(), team.lead.user).post(f"/desk/cases/{case.reference}/notes/", {"body": " "})
    assert response.status_code == 200
    assert "Write the note before saving it." in response.content.decode()
    assert snapshot()["notes"] == before["notes"]


# --- immediate actions ---------------------------------------------------------------------------------------------


@pytest.fixture
def urgent(team):
    case, receipt = report_case(
        team.organization, description=DESCRIPTION, ongoing="yes", excluded_members=[team.recused]
    )
    case.receipt = receipt
    Notification.objects.all().delete()
    return case


def action_taken(case, by):
    action = workflow.record_immediate_action(fresh(case), IMMEDIATE, by=by.user)
    Notification.objects.all().delete()
    return action


def test_only_a_lead_records_an_immediate_action(via, team, urgent):
    before = snapshot()
    assert via(team.responder).immediate_action(urgent, IMMEDIATE).result == "denied"
    assert via(team.staff).immediate_action(urgent, IMMEDIATE).result == "denied"
    assert snapshot() == before


def test_a_lead_records_an_immediate_action_and_the_team_is_asked_to_review_it(via, team, urgent):
    assert via(team.lead).immediate_action(urgent, IMMEDIATE).result == "done"
    action = ImmediateAction.objects.get(case=urgent)
    assert action.taken_by == team.lead.user and action.reviewed_at is None
    assert unseal(urgent, "immediate-action", action.sealed_description) == {"description": IMMEDIATE}
    assert stored_in_clear(IMMEDIATE) == set()
    event = AuditEvent.objects.get(case=urgent, action="case.immediate_action")
    assert event.actor == team.lead.user and event.detail == {"immediate_action": action.pk}
    # The team is asked to review: the other eligible members, not the lead who acted, not the recused lead,
    # not staff or fallback members.
    asked = Notification.objects.filter(case=urgent, kind="review_immediate_action")
    assert sorted(n.recipient.username for n in asked) == ["lars-lead", "rosa-responder"]
    assert all(IMMEDIATE not in n.body and DESCRIPTION not in n.body for n in asked)
    page = desk_page(team.other_lead, urgent).content.decode()
    assert IMMEDIATE in page and "not reviewed yet" in page
    assert IMMEDIATE not in reporter_page(urgent.receipt)


def test_the_lead_who_acted_cannot_review_their_own_action(via, team, urgent):
    action = action_taken(urgent, team.lead)
    page = desk_page(team.lead, urgent).content.decode()
    assert IMMEDIATE in page and "Mark as reviewed by me" not in page
    before = snapshot()
    attempt = via(team.lead).review(urgent, action)
    assert attempt.result == "refused" and "other than the lead who acted" in attempt.message
    assert snapshot() == before


def test_another_member_marks_an_immediate_action_reviewed(via, team, urgent):
    action = action_taken(urgent, team.lead)
    assert "Mark as reviewed by me" in desk_page(team.responder, urgent).content.decode()
    assert via(team.responder).review(urgent, action).result == "done"
    action.refresh_from_db()
    assert action.reviewed_by == team.responder.user and action.reviewed_at is not None
    reviewed = AuditEvent.objects.get(case=urgent, action="case.immediate_action_reviewed")
    assert reviewed.actor == team.responder.user and reviewed.detail == {"immediate_action": action.pk}
    assert "reviewed by rosa-responder" in desk_page(team.other_lead, urgent).content.decode()


def test_a_second_review_is_refused_and_changes_nothing(via, team, urgent):
    action = action_taken(urgent, team.lead)
    workflow.review_immediate_action(action, by=team.responder.user)
    reviewed_at = ImmediateAction.objects.get(pk=action.pk).reviewed_at
    before = snapshot()
    for reviewer in (team.other_lead, team.responder):
        assert via(reviewer).review(urgent, action) == Outcome("refused", "This action was reviewed already.")
    assert snapshot() == before
    action.refresh_from_db()
    assert (action.reviewed_by, action.reviewed_at) == (team.responder.user, reviewed_at)
    assert AuditEvent.objects.filter(action="case.immediate_action_reviewed").count() == 1


def test_an_immediate_action_of_another_case_is_not_found(team, case, urgent):
    action = action_taken(urgent, team.lead)
    before = snapshot()
    assert ThroughDesk(team.responder).review(case, action).result == "denied"
    assert snapshot() == before


# --- assignment ----------------------------------------------------------------------------------------------------


def test_assign_to_me_adds_the_member_and_keeps_the_others(via, team, case):
    assert via(team.responder).assign_to_me(case).result == "done"
    assert list(fresh(case).assignees.all()) == [team.responder]
    assert via(team.lead).assign_to_me(case).result == "done"
    assert set(fresh(case).assignees.all()) == {team.responder, team.lead}
    assert via(team.lead).assign_to_me(case).result == "done"  # twice is once
    assert fresh(case).assignees.count() == 2
    events = AuditEvent.objects.filter(case=case, action="case.assigned").order_by("pk")
    assert [(event.actor.username, event.detail["assignees"]) for event in events] == [
        ("rosa-responder", ["rosa-responder"]),
        ("lena-lead", ["lena-lead", "rosa-responder"]),
        ("lena-lead", ["lena-lead", "rosa-responder"]),
    ]
    assert "Lena Lead, Rosa Responder" in desk_page(team.other_lead, case).content.decode()


@pytest.mark.parametrize("who", ["recused", "staff", "fallback", "other organization"])
def test_assigning_someone_who_may_not_see_the_case_is_refused(via, team, case, who):
    membership = (
        member(OrganizationFactory(), "lead", username="olaf-elsewhere")
        if who == "other organization"
        else getattr(team, who)
    )
    via(team.lead).assign(case, [team.responder])
    before = snapshot()
    attempt = via(team.lead).assign(case, [team.responder, membership])
    assert attempt.result == "refused"
    assert "Only team members who may see this case" in attempt.message
    assert snapshot() == before
    assert list(fresh(case).assignees.all()) == [team.responder]


def test_the_assign_form_does_not_offer_recused_members(team, case):
    page = desk_page(team.lead, case).content.decode()
    assert "Rosa Responder" in page
    assert "Xavier Excluded" not in page.split('id="assignment"')[1].split("</section>")[0]


# --- merging duplicates --------------------------------------------------------------------------------------------


@pytest.fixture
def duplicate(team):
    """A second report of the same incident, by a witness who excluded Rosa."""
    case, receipt = report_case(team.organization, description=DUPLICATE, excluded_members=[team.responder])
    case.receipt = receipt
    return case


def test_merge_folds_the_duplicate_into_the_case_and_keeps_each_reporter_apart(via, team, case, duplicate):
    lead = ThroughDomain(team.lead)
    lead.message(case, first_report(case), TO_REPORTER, MessageKind.ACKNOWLEDGEMENT)
    lead.transition(case, "start_investigation")
    lead.message(duplicate, first_report(duplicate), TO_WITNESS, MessageKind.ACKNOWLEDGEMENT)

    assert via(team.lead).merge(duplicate, into=case).result == "done"

    duplicate, case = fresh(duplicate), fresh(case)
    assert duplicate.state == CaseState.MERGED and duplicate.merged_into == case
    assert case.state == CaseState.INVESTIGATING
    assert state_changes(duplicate)[-1] == ("case.merged", "lena-lead")
    assert AuditEvent.objects.get(case=duplicate, action="case.merged").detail == {"into": case.reference}
    assert AuditEvent.objects.get(case=case, action="case.merge_received").detail == {"merged": duplicate.reference}

    # The duplicate's report and its thread show on the case's page.
    page = desk_page(team.lead, case).content.decode()
    assert DESCRIPTION in page and DUPLICATE in page and TO_WITNESS in page
    assert f"merged from {duplicate.reference}" in page
    assert case.reference in desk_page(team.lead, duplicate).content.decode()

    # The witness's receipt still works: the case's state, their own messages, nothing of the other reporter.
    shown = reporter_page(duplicate.receipt)
    assert "The team is looking into it" in shown
    assert TO_WITNESS in shown
    assert TO_REPORTER not in shown and DESCRIPTION not in shown
    assert TO_WITNESS not in reporter_page(case.receipt)

    # The team answers the witness from the case's page, and the witness reads it.
    answer = "Canary-Answer-4f1e: we are handling your report together with a related one."
    assert ThroughDesk(team.lead).message(case, first_report(duplicate), answer).result == "done"
    assert answer in reporter_page(duplicate.receipt)
    assert answer not in reporter_page(case.receipt)

    # Later states of the case reach the witness too.
    ThroughDomain(team.lead).outcome(case, first_report(case))
    assert "The team has reached a decision" in reporter_page(duplicate.receipt)


def test_merge_applies_the_recusals_of_each_case_to_both(via, team, case, duplicate):
    # The reporter excluded Xavier from the case; the witness excluded Rosa from the duplicate.
    duplicate = acknowledged(duplicate, team.lead)
    assert via(team.lead).merge(duplicate, into=case).result == "done"
    for membership in (team.recused, team.responder):
        for target in (case, duplicate):
            assert not membership.user.has_perm("cases.view_case", target)
            assert not Case.objects.visible_to(membership.user).filter(pk=target.pk).exists()
            assert desk_page(membership, target).status_code == 404
        queue = log_in(Client(), membership.user).get("/desk/?show=closed").content.decode()
        assert duplicate.reference not in queue
    assert Recusal.objects.active().filter(case=case).count() == 2
    assert Recusal.objects.active().filter(case=duplicate).count() == 2
    # Both were the reporters' wishes, and stay so on the other case: no lead can lift them.
    assert set(Recusal.objects.active().values_list("source", flat=True)) == {RecusalSource.REPORTER}
    for membership in (team.lead, team.other_lead):
        assert desk_page(membership, case).status_code == 200


NOT_ACKNOWLEDGED = "Acknowledge this report first, so its reporter hears from you, then merge it."


@pytest.mark.parametrize("target_acknowledged", [False, True], ids=["target new", "target acknowledged"])
def test_merging_a_report_nobody_acknowledged_is_refused_and_changes_nothing(
    via, team, case, duplicate, target_acknowledged
):
    if target_acknowledged:
        case = acknowledged(case, team.lead)
    before = snapshot()
    assert via(team.lead).merge(duplicate, into=case) == Outcome("refused", NOT_ACKNOWLEDGED)
    assert snapshot() == before
    assert (fresh(duplicate).state, fresh(duplicate).merged_into) == (CaseState.NEW, None)
    # Once the team wrote to the duplicate's reporter, the same merge goes through, whatever the other case's state.
    acknowledged(duplicate, team.lead)
    assert via(team.lead).merge(duplicate, into=case).result == "done"
    assert fresh(duplicate).merged_into == fresh(case)


MERGE_URGENCY = [(True, False), (True, True), (False, True), (False, False)]


@pytest.mark.parametrize(
    ("duplicate_urgent", "target_urgent"),
    MERGE_URGENCY,
    ids=[f"duplicate {'urgent' if d else 'calm'}-case {'urgent' if t else 'calm'}" for d, t in MERGE_URGENCY],
)
def test_merge_keeps_the_urgency_and_pages_the_leads_when_the_case_becomes_urgent(
    via, team, duplicate_urgent, target_urgent
):
    target, _receipt = report_case(
        team.organization,
        description=DESCRIPTION,
        excluded_members=[team.recused],
        **({"ongoing": "yes"} if target_urgent else {}),
    )
    duplicate, _receipt = report_case(
        team.organization, description=DUPLICATE, **({"physical_danger": "yes"} if duplicate_urgent else {})
    )
    duplicate = acknowledged(duplicate, team.lead)
    Notification.objects.all().delete()

    assert via(team.lead).merge(duplicate, into=target).result == "done"

    assert fresh(target).is_urgent == (duplicate_urgent or target_urgent)
    paged = Notification.objects.filter(kind="urgent_page").select_related("recipient")
    if duplicate_urgent and not target_urgent:
        # Every lead who may see the case, about the case merged into: not Xavier, whom its reporter excluded.
        assert sorted((n.case_id, n.recipient.username) for n in paged) == [
            (target.pk, "lars-lead"),
            (target.pk, "lena-lead"),
        ]
        assert all(DESCRIPTION not in n.body and DUPLICATE not in n.body for n in paged)
    else:
        assert not paged.exists()


MERGE_REFUSALS = {
    "merged case again": "A merged case cannot be merged again; merge into the case it went to.",
    "into a merged case": "A merged case cannot be merged again; merge into the case it went to.",
    "into itself": "Choose another case of the same organization.",
    "into another organization": "Choose another case of the same organization.",
}


@pytest.mark.parametrize("scenario", MERGE_REFUSALS)
def test_a_forbidden_merge_is_refused_with_a_message_and_changes_nothing(via, team, case, duplicate, scenario):
    # Every case is acknowledged, so each refusal is for the reason the scenario names.
    third = acknowledged(report_case(team.organization, description="A third report.")[0], team.lead)
    case, duplicate = acknowledged(case, team.lead), acknowledged(duplicate, team.lead)
    if scenario == "into another organization":
        # A lead of both organizations still cannot mix their cases.
        elsewhere = OrganizationFactory()
        member(elsewhere, "lead", user=team.lead.user)
        source, into = duplicate, report_case(elsewhere, description="Another organization's case.")[0]
    else:
        workflow.merge(fresh(duplicate), into=fresh(case), by=team.lead.user)
        source, into = {
            "merged case again": (duplicate, third),
            "into a merged case": (third, duplicate),
            "into itself": (case, case),
        }[scenario]
    before = snapshot()
    assert via(team.lead).merge(source, into) == Outcome("refused", MERGE_REFUSALS[scenario])
    assert snapshot() == before


def test_merging_into_a_case_of_an_organization_one_does_not_lead_says_no_such_case(team, case):
    elsewhere = OrganizationFactory()
    foreign, _receipt = report_case(elsewhere, description="Another organization's case.")
    case = acknowledged(case, team.lead)
    before = snapshot()
    attempt = ThroughDesk(team.lead).merge(case, foreign)
    assert attempt.result == "refused"
    assert "no case with that reference that you lead" in attempt.message
    assert ThroughDesk(team.lead).post(case, "merge/", {"into": "NOPE-NOPE-NOPE"}).result == "refused"
    assert snapshot() == before


def test_a_merge_that_recuses_an_assignee_unassigns_them(team, case, duplicate):
    workflow.assign(fresh(case), [team.responder], by=team.lead.user)
    workflow.merge(acknowledged(duplicate, team.lead), into=fresh(case), by=team.lead.user)
    assert ThroughDomain(team.lead).assign_to_me(case).result == "done"
    assert list(fresh(case).assignees.all()) == [team.lead]


def test_reinstating_a_member_never_shows_them_a_report_whose_reporter_excluded_them(team, case, duplicate):
    # Rosa declared a conflict on the case; the witness, independently, excluded her from the duplicate.
    recuse(case, team.responder, reason=RecusalReason.CO_WORKER, source=RecusalSource.DECLARED, by=team.responder.user)
    workflow.merge(acknowledged(duplicate, team.lead), into=fresh(case), by=team.lead.user)
    recusal = Recusal.objects.active().get(case=case, membership=team.responder)
    with contextlib.suppress(ValidationError):  # refusing to reinstate her is one way to keep the witness's wish
        reinstate(recusal, by=team.lead.user, reason="The conflict on the case is over.")
    page = desk_page(team.responder, case)
    assert page.status_code == 404 or DUPLICATE not in page.content.decode()


# One incident reported four times: D went into C; A went into B; then B, holding A, went into C. Each case came with
# its own exclusion: A's reporter excluded Rosa, a lead recused Bo from B, C's reporter excluded Xavier, D's reporter
# excluded Dora.

SECOND = "Canary-Second-0e77: the rep followed me to the hallway afterwards."
FOURTH = "Canary-Fourth-95c3: I was there when the rep cornered her."


@pytest.fixture
def chain(team):
    bo = member(team.organization, "responder", username="bo-conflicted", display_name="Bo Conflicted")
    dora = member(team.organization, "responder", username="dora-excluded", display_name="Dora Excluded")
    a, receipt_a = report_case(
        team.organization, description=DUPLICATE, reporter_email="a@example.net", excluded_members=[team.responder]
    )
    b, _receipt = report_case(team.organization, description=SECOND)
    recuse(b, bo, reason=RecusalReason.CO_WORKER, source=RecusalSource.DECLARED, by=team.lead.user)
    c, _receipt = report_case(team.organization, description=DESCRIPTION, excluded_members=[team.recused])
    d, _receipt = report_case(team.organization, description=FOURTH, excluded_members=[dora])
    for source, into in ((d, c), (a, b), (b, c)):
        workflow.merge(acknowledged(source, team.lead), into=fresh(into), by=team.lead.user)
    ThroughDomain(team.lead).transition(c, "start_investigation")
    return SimpleNamespace(a=fresh(a), b=fresh(b), c=fresh(c), d=fresh(d), receipt_a=receipt_a, bo=bo, dora=dora)


def in_chain(chain):
    return [chain.a, chain.b, chain.c, chain.d]


def test_a_chain_of_merges_is_flattened_onto_the_final_case(chain):
    for merged in (chain.a, chain.b, chain.d):
        assert (merged.state, merged.merged_into) == (CaseState.MERGED, chain.c)
    assert set(chain.c.merged_cases.all()) == {chain.a, chain.b, chain.d}
    assert chain.c.merged_into is None


def test_a_report_merged_twice_still_shows_on_the_final_case(team, chain):
    page = desk_page(team.lead, chain.c).content.decode()
    for description in (DESCRIPTION, DUPLICATE, SECOND, FOURTH):
        assert description in page


def test_a_reporter_whose_case_was_merged_twice_follows_the_final_case(team, chain):
    shown = reporter_page(chain.receipt_a)
    assert "The team is looking into it" in shown
    assert DESCRIPTION not in shown and SECOND not in shown and FOURTH not in shown


def test_a_member_recused_from_the_final_case_cannot_read_a_report_merged_twice(team, chain):
    assert desk_page(team.recused, chain.a).status_code == 404


def test_every_exclusion_in_a_chain_of_merges_reaches_every_case_of_it(team, chain):
    excluded = {team.responder, chain.bo, team.recused, chain.dora}
    for case in in_chain(chain):
        recusals = Recusal.objects.active().filter(case=case)
        assert {recusal.membership for recusal in recusals} == excluded, case.reference
        # What a reporter asked stays the reporter's wish on every case: no lead can lift it.
        for membership in (team.responder, team.recused, chain.dora):
            assert recusals.get(membership=membership).source == RecusalSource.REPORTER
        for membership in excluded:
            assert not membership.user.has_perm("cases.view_case", case)
            assert not Case.objects.visible_to(membership.user).filter(pk=case.pk).exists()
            assert desk_page(membership, case).status_code == 404
    for membership in (team.lead, team.other_lead):
        assert desk_page(membership, chain.c).status_code == 200


@pytest.mark.parametrize("on", ["a", "b", "c"])
def test_recusing_a_member_on_any_case_of_a_merge_group_recuses_and_unassigns_them_on_every_case(team, chain, on):
    lars = team.other_lead
    workflow.assign(chain.c, [lars, team.lead], by=team.lead.user)
    chain.a.assignees.add(lars)  # as if Lars had been assigned to A before it was merged
    recused_on = getattr(chain, on)

    recuse(recused_on, lars, reason=RecusalReason.FAMILY, source=RecusalSource.DECLARED, by=lars.user)

    for case in in_chain(chain):
        assert Recusal.objects.active().filter(case=case, membership=lars).count() == 1
        assert not lars.user.has_perm("cases.view_case", case)
        assert desk_page(lars, case).status_code == 404
        assert lars not in case.assignees.all()
        events = AuditEvent.objects.filter(case=case, action="case.recusal", detail__member="lars-lead")
        expected = {"member": "lars-lead", "reason": "family", "source": "declared"}
        if case.pk != recused_on.pk:
            expected["through"] = recused_on.reference
        assert [event.detail for event in events] == [expected]
    assert list(fresh(chain.c).assignees.all()) == [team.lead]


def test_reinstating_a_member_ends_their_recusal_on_every_case_of_the_group(team, chain):
    lars = team.other_lead
    recuse(chain.a, lars, reason=RecusalReason.FAMILY, source=RecusalSource.DECLARED, by=lars.user)
    reinstate(Recusal.objects.active().get(case=chain.c, membership=lars), by=team.lead.user, reason="Not family.")
    # Bo's conflict, declared on B before the merges, is lifted across the group the same way.
    reinstate(Recusal.objects.active().get(case=chain.d, membership=chain.bo), by=team.lead.user, reason="Moved on.")
    for case in in_chain(chain):
        for membership in (lars, chain.bo):
            assert not Recusal.objects.active().filter(case=case, membership=membership).exists()
            assert membership.user.has_perm("cases.view_case", case)
        # The others' recusals are untouched.
        assert {r.membership for r in Recusal.objects.active().filter(case=case)} == {
            team.responder,
            team.recused,
            chain.dora,
        }
    assert DUPLICATE in desk_page(lars, chain.c).content.decode()


@pytest.mark.parametrize("on", ["a", "c"])
def test_a_reporters_exclusion_is_never_lifted_on_any_case_of_the_group(via, team, chain, on):
    recusal = Recusal.objects.active().get(case=getattr(chain, on), membership=team.responder)
    before = snapshot()
    if via is ThroughDomain:
        with pytest.raises(ValidationError, match="The reporter asked that this member never see the report"):
            reinstate(recusal, by=team.lead.user, reason="Rosa is needed.")
    else:
        path = f"recusals/{recusal.pk}/reinstate/"
        attempt = ThroughDesk(team.lead).post(getattr(chain, on), path, {"reason": "Rosa is needed."})
        assert attempt.result == "refused" and "The reporter asked" in attempt.message
    assert snapshot() == before
    for case in in_chain(chain):
        assert desk_page(team.responder, case).status_code == 404
