"""Access matrix: every role x every case URL and action x the case states, with the exact outcome of each cell.

Cells: 16 roles x (GET case page + GET reporter page + POST reporter page) x 7 states
     + 16 roles x (POST message, GET/POST recuse-me, POST recusals, POST reinstate, GET org audit) x 3 states
     = 336 + 288 = 624 cells (``test_matrix_has_624_cells`` checks the generated list).

Expected rules (docs: DESIGN.md, "Security model"; src/cocdesk/cases/rules.py):
- responders and leads of the case's organization, when not recused, may open the case, message the reporter and
  declare their own recusal; only leads (and fallback members once more leads than the organization's threshold are
  recused, as temporary leads) may recuse others and reinstate;
- staff, admins, fallback members before the threshold, recused members, members of another organization, members
  whose roles are scoped to another space, and accounts whose only distinction is a Django flag (superuser, Django
  staff) get 404 on every case URL; a member scoped to the case's space has the same access as an
  organization-wide one; anonymous visitors (reporters included: they have no account) are sent to the desk login;
- the organization's audit page answers 200 to its admins only, 404 to every other member, login to the anonymous;
- the reporter page shows the reporter's own case only; without a receipt in the session it sends to /follow-up/.

A denied request changes nothing: messages, active recusals, audit events, notifications and case states are
compared before and after. An allowed request does what it should (exactly one new message, the recusal started or
ended, its audit event) and leaves the other case alone.
"""

from dataclasses import dataclass, field
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from cocdesk.cases.domain.recusal import recuse
from cocdesk.cases.enums import CaseState, MessageDirection, RecusalReason, RecusalSource
from cocdesk.cases.models import Case, Message, Recusal
from cocdesk.common.models import AuditEvent
from cocdesk.notify.models import Notification
from tests.factories import OrganizationFactory, SpaceFactory, UserFactory, member, report_case
from tests.team import log_in

# --- the axes -------------------------------------------------------------------------------------------------------

ANONYMOUS = "anonymous"
REPORTER = "reporter"
OTHER_REPORTER = "reporter_other_receipt"
STAFF = "staff"
RESPONDER = "responder"
RECUSED_RESPONDER = "recused_responder"
LEAD = "lead"
RECUSED_LEAD = "recused_lead"
ADMIN = "admin"
FALLBACK_BEFORE = "fallback_before_threshold"
FALLBACK_AFTER = "fallback_after_threshold"
OTHER_ORG = "other_org_member"
SUPERUSER = "superuser_without_membership"
DJANGO_STAFF_STAFF = "staff_member_with_django_staff_flag"
SPACE_RESPONDER = "responder_scoped_to_the_case_space"
OTHER_SPACE_LEAD = "lead_scoped_to_another_space"

ROLES = [
    ANONYMOUS,
    REPORTER,
    OTHER_REPORTER,
    STAFF,
    RESPONDER,
    RECUSED_RESPONDER,
    LEAD,
    RECUSED_LEAD,
    ADMIN,
    FALLBACK_BEFORE,
    FALLBACK_AFTER,
    OTHER_ORG,
    SUPERUSER,
    DJANGO_STAFF_STAFF,
    SPACE_RESPONDER,
    OTHER_SPACE_LEAD,
]
NOT_LOGGED_IN = {ANONYMOUS, REPORTER, OTHER_REPORTER}
MAY_VIEW = {RESPONDER, LEAD, FALLBACK_AFTER, SPACE_RESPONDER}
MAY_LEAD = {LEAD, FALLBACK_AFTER}
MAY_READ_ORG_AUDIT = {ADMIN}

CASE_PAGE = "case_page_get"
MESSAGE = "message_post"
RECUSE_ME_GET = "recuse_me_get"
RECUSE_ME_POST = "recuse_me_post"
RECUSE_OTHER = "recuse_other_post"
REINSTATE = "reinstate_post"
ORG_AUDIT = "org_audit_get"
REPORTER_GET = "reporter_page_get"
REPORTER_POST = "reporter_page_post"

ALL_STATES = [state.value for state in CaseState]
SOME_STATES = [CaseState.NEW.value, CaseState.INVESTIGATING.value, CaseState.CLOSED.value]
ACTION_STATES = {
    CASE_PAGE: ALL_STATES,
    REPORTER_GET: ALL_STATES,
    REPORTER_POST: ALL_STATES,
    MESSAGE: SOME_STATES,
    RECUSE_ME_GET: SOME_STATES,
    RECUSE_ME_POST: SOME_STATES,
    RECUSE_OTHER: SOME_STATES,
    REINSTATE: SOME_STATES,
    ORG_AUDIT: SOME_STATES,
}
ACTIONS = list(ACTION_STATES)

# Cells that fail because of a bug in src/: {(role, action, state or None for all states): reason}.
KNOWN_BUGS = {}


def _cells():
    cells = []
    for action in ACTIONS:
        for state in ACTION_STATES[action]:
            for role in ROLES:
                reason = KNOWN_BUGS.get((role, action, state)) or KNOWN_BUGS.get((role, action, None))
                marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
                cells.append(pytest.param(role, action, state, marks=marks, id=f"{action}-{state}-{role}"))
    return cells


CELLS = _cells()
EXPECTED_CELLS = 624


def test_matrix_has_624_cells():
    assert len(CELLS) == EXPECTED_CELLS == len(ROLES) * sum(len(states) for states in ACTION_STATES.values())
    assert len({cell.id for cell in CELLS}) == EXPECTED_CELLS


CASE_DESCRIPTION = "Canary-5f0c: the case under test; only those who may see it ever read this."


# --- the world each cell runs in ------------------------------------------------------------------------------------


@dataclass
class World:
    organization: object
    case: object
    receipt: str
    other_case: object
    other_receipt: str
    target_responder: object  # a responder nobody recused: the one a lead recuses
    declared_recusal: object  # a DECLARED recusal (of another responder) that a lead may end
    actor: object = None  # the acting membership, for team roles
    extra: dict = field(default_factory=dict)


def _recuse(case, membership):
    return recuse(case, membership, reason=RecusalReason.CO_WORKER, source=RecusalSource.DECLARED)


def build_world(organization, role, state):
    space = SpaceFactory(organization=organization, name="Main conference")
    case, receipt = report_case(organization, description=CASE_DESCRIPTION, space=space)
    other_case, other_receipt = report_case(organization, description="Somebody else's case.", space=space)
    target_responder = member(organization, "responder")
    declared_recusal = _recuse(case, member(organization, "responder"))
    world = World(organization, case, receipt, other_case, other_receipt, target_responder, declared_recusal)
    threshold = organization.recusal_threshold
    if role in {STAFF, RESPONDER, LEAD, ADMIN}:
        world.actor = member(organization, role)
    elif role == RECUSED_RESPONDER:
        world.actor = member(organization, "responder")
        _recuse(case, world.actor)
    elif role == RECUSED_LEAD:
        world.actor = member(organization, "lead")
        _recuse(case, world.actor)
    elif role in {FALLBACK_BEFORE, FALLBACK_AFTER}:
        world.actor = member(organization, "fallback")
        # Exactly the threshold (not yet more) before; one more lead than the threshold after.
        for _ in range(threshold + (1 if role == FALLBACK_AFTER else 0)):
            _recuse(case, member(organization, "lead"))
    elif role == SUPERUSER:
        world.actor = SimpleNamespace(user=UserFactory(is_superuser=True, is_staff=True))
    elif role == DJANGO_STAFF_STAFF:
        world.actor = member(organization, "staff")
        world.actor.user.is_staff = True
        world.actor.user.save()
    elif role == SPACE_RESPONDER:
        world.actor = member(organization, "responder")
        world.actor.spaces.add(space)
    elif role == OTHER_SPACE_LEAD:
        world.actor = member(organization, "lead")
        world.actor.spaces.add(SpaceFactory(organization=organization, name="Online forum"))
    elif role == OTHER_ORG:
        other_organization = OrganizationFactory()
        report_case(other_organization, description="A case of the other organization.")
        world.actor = member(other_organization, "lead")
    # The views do not change state yet: set it directly, on both cases so the reporters' pages agree.
    Case.objects.filter(pk__in=[case.pk, other_case.pk]).update(state=state)
    case.refresh_from_db()
    other_case.refresh_from_db()
    return world


def client_for(role, world):
    """One fresh client per cell, logged in as the role."""
    client = Client()
    if role in {REPORTER, OTHER_REPORTER}:
        receipt = world.receipt if role == REPORTER else world.other_receipt
        response = client.post("/follow-up/", {"receipt": receipt})
        assert response.status_code == 302 and response["Location"] == "/follow-up/case/"
    elif role != ANONYMOUS:
        log_in(client, world.actor.user)
    return client


def request_for(action, world):
    """(method, path, data) of one cell."""
    reference = world.case.reference
    case_url = f"/desk/cases/{reference}/"
    return {
        CASE_PAGE: ("get", case_url, None),
        MESSAGE: (
            "post",
            f"{case_url}messages/",
            # ``kind`` for the message form that asks for one; a form without the field ignores it.
            {"report": str(world.case.reports.get().pk), "kind": "other", "body": "Can we call you tomorrow?"},
        ),
        RECUSE_ME_GET: ("get", f"{case_url}recuse-me/", None),
        RECUSE_ME_POST: ("post", f"{case_url}recuse-me/", {"reason": RecusalReason.CO_WORKER}),
        RECUSE_OTHER: (
            "post",
            f"{case_url}recusals/",
            {"membership": str(world.target_responder.pk), "reason": RecusalReason.CO_WORKER},
        ),
        REINSTATE: (
            "post",
            f"{case_url}recusals/{world.declared_recusal.pk}/reinstate/",
            {"reason": "The conflict was a misunderstanding."},
        ),
        ORG_AUDIT: ("get", f"/desk/orgs/{world.organization.slug}/audit/", None),
        REPORTER_GET: ("get", "/follow-up/case/", None),
        REPORTER_POST: ("post", "/follow-up/case/", {"body": "One more thing I remembered."}),
    }[action]


# --- what a request can change --------------------------------------------------------------------------------------


def snapshot():
    """Every row a case request could add, remove or change, in comparable form; each tuple starts with its case."""
    return {
        "cases": set(Case.objects.values_list("pk", "state", "acknowledged_at", "updated_at")),
        "messages": set(Message.objects.values_list("case_id", "pk", "report_id", "direction", "author_id")),
        "recusals": set(Recusal.objects.active().values_list("case_id", "pk", "membership_id")),
        "audit": set(AuditEvent.objects.values_list("case_id", "pk", "action", "actor_id", "actor_kind")),
        "notifications": set(Notification.objects.values_list("case_id", "pk", "kind", "state")),
    }


def about(rows, case):
    """The part of a snapshot that concerns one case."""
    return {kind: {row for row in kind_rows if row[0] == case.pk} for kind, kind_rows in rows.items()}


def changes(before, after):
    """{kind: (removed, added)} for every kind that changed."""
    return {
        kind: (before[kind] - after[kind], after[kind] - before[kind]) for kind in before if before[kind] != after[kind]
    }


def assert_unchanged(before):
    assert changes(before, snapshot()) == {}


def assert_effect(before, *, untouched, messages=(), audit=(), recused=(), reinstated=()):
    """The request did what it should: exactly these new messages, as (case, direction, author); at least these
    new audit events, as (case, action, actor), and none removed; exactly these recusals started and ended (by
    membership). Cases in ``untouched`` did not change at all. Other side effects (notifications, the case's
    clocks) belong to the workflow's own tests."""
    after = snapshot()
    diff = changes(before, after)
    removed, added = diff.get("messages", (set(), set()))
    assert removed == set()
    assert sorted((case_id, direction, author_id) for case_id, _pk, _report, direction, author_id in added) == sorted(
        messages
    )
    removed, added = diff.get("audit", (set(), set()))
    assert removed == set(), "audit events are never removed"
    new_events = [(case_id, action, actor_id) for case_id, _pk, action, actor_id, _kind in added]
    for event in audit:
        assert event in new_events
    removed, added = diff.get("recusals", (set(), set()))
    assert {membership_id for _case, _pk, membership_id in added} == set(recused)
    assert {membership_id for _case, _pk, membership_id in removed} == set(reinstated)
    for case in untouched:
        assert about(after, case) == about(before, case)


# --- the matrix ------------------------------------------------------------------------------------------------------


def expected_team_outcome(role, action):
    """'allowed', 'login', or 'not_found' for the desk URLs."""
    if role in NOT_LOGGED_IN:
        return "login"
    if action == ORG_AUDIT:
        return "allowed" if role in MAY_READ_ORG_AUDIT else "not_found"
    if action in {RECUSE_OTHER, REINSTATE}:
        return "allowed" if role in MAY_LEAD else "not_found"
    return "allowed" if role in MAY_VIEW else "not_found"


def path_of(response):
    return urlsplit(response["Location"]).path


@pytest.mark.parametrize(("role", "action", "state"), CELLS)
def test_access(organization, role, action, state):
    world = build_world(organization, role, state)
    client = client_for(role, world)
    method, path, data = request_for(action, world)
    case = world.case
    before = snapshot()

    response = getattr(client, method)(path, data) if data is not None else getattr(client, method)(path)

    if action in {REPORTER_GET, REPORTER_POST}:
        check_reporter_page(role, action, world, response, before)
        return

    outcome = expected_team_outcome(role, action)
    if action == CASE_PAGE and world.actor is not None:
        # The queryset scoping behind the queue must agree with the rules the views check.
        visible = Case.objects.visible_to(world.actor.user).filter(pk=case.pk).exists()
        assert visible == (outcome == "allowed")
    if outcome == "login":
        assert response.status_code == 302
        assert path_of(response) == "/desk/login/"
        assert CASE_DESCRIPTION.encode() not in response.content
        assert parse_qs(urlsplit(response["Location"]).query) == {"next": [path]}
        assert_unchanged(before)
        return
    if outcome == "not_found":
        assert response.status_code == 404
        assert case.reference.encode() not in response.content
        assert CASE_DESCRIPTION.encode() not in response.content
        assert_unchanged(before)
        return

    user = world.actor.user
    others = [world.other_case]
    if action == CASE_PAGE:
        assert response.status_code == 200
        assert case.reference.encode() in response.content and CASE_DESCRIPTION.encode() in response.content
        assert_effect(before, audit=[(case.pk, "case.opened", user.pk)], untouched=others)
    elif action == MESSAGE:
        assert response.status_code == 302 and path_of(response) == f"/desk/cases/{case.reference}/"
        assert_effect(
            before,
            messages=[(case.pk, MessageDirection.TO_REPORTER, user.pk)],
            audit=[(case.pk, "message.to_reporter", user.pk)],
            untouched=others,
        )
    elif action == RECUSE_ME_GET:
        assert response.status_code == 200
        assert case.reference.encode() in response.content
        assert_effect(before, untouched=others)
    elif action == RECUSE_ME_POST:
        assert response.status_code == 302 and path_of(response) == "/desk/"
        assert_effect(before, recused=[world.actor.pk], audit=[(case.pk, "case.recusal", user.pk)], untouched=others)
    elif action == RECUSE_OTHER:
        assert response.status_code == 302 and path_of(response) == f"/desk/cases/{case.reference}/"
        assert_effect(
            before, recused=[world.target_responder.pk], audit=[(case.pk, "case.recusal", user.pk)], untouched=others
        )
    elif action == REINSTATE:
        assert response.status_code == 302 and path_of(response) == f"/desk/cases/{case.reference}/"
        assert_effect(
            before,
            reinstated=[world.declared_recusal.membership_id],
            audit=[(case.pk, "case.recusal_ended", user.pk)],
            untouched=others,
        )
    elif action == ORG_AUDIT:
        assert response.status_code == 200
        assert world.organization.name.encode() in response.content
        assert_effect(before, untouched=[case, *others])
    else:  # pragma: no cover
        raise AssertionError(action)


def check_reporter_page(role, action, world, response, before):
    """Reporters see their own case only; everyone else (team members included) is asked for a receipt."""
    if role not in {REPORTER, OTHER_REPORTER}:
        assert response.status_code == 302 and path_of(response) == "/follow-up/"
        assert world.case.reference.encode() not in response.content
        assert_unchanged(before)
        return
    own, foreign = (world.case, world.other_case) if role == REPORTER else (world.other_case, world.case)
    if action == REPORTER_GET:
        assert response.status_code == 200
        assert own.reference.encode() in response.content
        assert foreign.reference.encode() not in response.content
        if role == OTHER_REPORTER:
            assert CASE_DESCRIPTION.encode() not in response.content
        assert_effect(before, audit=[(own.pk, "case.read_by_reporter", None)], untouched=[foreign])
    else:
        assert response.status_code == 302 and path_of(response) == "/follow-up/case/"
        assert_effect(
            before,
            messages=[(own.pk, MessageDirection.FROM_REPORTER, None)],
            audit=[(own.pk, "message.from_reporter", None)],
            untouched=[foreign],
        )
