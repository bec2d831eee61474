"""Who may decide, sanction, check restrictions, review appeals and publish statements. Like ``cases/rules.py``,
each predicate answers from the member's access snapshot (``cocdesk.orgs.access``) and the objects' own columns."""

import rules  # noqa: F401

from cocdesk.cases.rules import can_lead_case  # noqa: E402

# Recording a decision (and the sanctions it imposes): the leads of the case, like every lead action on it.
rules.add_perm("sanctions.record_decision", can_lead_case)


# --- the registry, verbal warnings and the restriction check ----------------------------------------------------
from cocdesk.cases.rules import grant_leads_case, grant_sees_case  # noqa: E402
from cocdesk.orgs.access import access_for  # noqa: E402

from .enums import LASTING_KINDS, SanctionState  # noqa: E402


def sanction_is_ongoing(sanction):
    """An active measure that lasts: a lead may still end it early. The others are done once given."""
    return sanction.state == SanctionState.ACTIVE and sanction.kind in LASTING_KINDS


def _organization_grant(user, organization):
    return access_for(user).grant_in(organization.pk) if organization is not None else None


@rules.predicate
def works_at_the_desk(user, organization):
    """Staff at a registration desk or moderating a space, and the team: any staff, responder or lead role."""
    grant = _organization_grant(user, organization)
    return grant is not None and (grant.is_staff_member or grant.handles_cases)


@rules.predicate
def may_read_registry(user, organization):
    """Responders and leads; fallback members too, who then see only the sanctions of cases that fell to them."""
    grant = _organization_grant(user, organization)
    return grant is not None and (grant.handles_cases or grant.is_fallback)


def _covers_sanction(grant, sanction):
    """A sanction without a case (a verbal warning) follows its spaces, as a case follows its space; read from
    ``sanction.spaces.all()``, so lists prefetch them."""
    if grant.space_ids is None or sanction.all_spaces:
        return True
    return any(space.pk in grant.space_ids for space in sanction.spaces.all())


def grant_sees_sanction(grant, sanction, *, recused_case_ids):
    """The one definition of a sanction's sight; ``sanctions.domain.queries.registry_sanctions`` must agree. A
    sanction from a decision is seen by whoever sees the decision's case (never by a member recused from it)."""
    if grant is None or grant.organization_id != sanction.organization_id:
        return False
    if sanction.decision_id is not None:
        case = sanction.decision.case
        return grant_sees_case(grant, case, recused=case.pk in recused_case_ids)
    return grant.handles_cases and _covers_sanction(grant, sanction)


def grant_leads_sanction(grant, sanction, *, recused_case_ids):
    if not grant_sees_sanction(grant, sanction, recused_case_ids=recused_case_ids):
        return False
    if sanction.decision_id is not None:
        case = sanction.decision.case
        return grant_leads_case(grant, case, recused=case.pk in recused_case_ids)
    return grant.is_lead


def _sanction_test(test):
    @rules.predicate
    def predicate(user, sanction):
        access = access_for(user)
        return test(access.grant_in(sanction.organization_id), sanction, recused_case_ids=access.recused_case_ids)

    return predicate


can_view_sanction = _sanction_test(grant_sees_sanction)
can_lead_sanction = _sanction_test(grant_leads_sanction)

rules.add_perm("sanctions.check_restriction", works_at_the_desk)
rules.add_perm("sanctions.record_warning", works_at_the_desk)
rules.add_perm("sanctions.view_registry", may_read_registry)
rules.add_perm("sanctions.view_sanction", can_view_sanction)
# Ending a sanction early: the leads of its case (a verbal warning's: the organization's leads covering its spaces).
rules.add_perm("sanctions.end_sanction", can_lead_sanction)


# --- public statements -----------------------------------------------------------------------------------------
from cocdesk.cases.rules import can_view_case  # noqa: E402


@rules.predicate
def may_approve_statement(user, statement):
    """The organization's admins, except on a case they are recused from. They read the statement, not the case."""
    access = access_for(user)
    grant = access.grant_in(statement.organization_id)
    return grant is not None and grant.is_admin and statement.case_id not in access.recused_case_ids


@rules.predicate
def sees_statement_case(user, statement):
    return can_view_case(user, statement.case)


@rules.predicate
def approves_statements_of(user, organization):
    grant = _organization_grant(user, organization)
    return grant is not None and grant.is_admin


# Drafting: the members who may see the case. Publishing: an admin. Withdrawing: either.
rules.add_perm("sanctions.draft_statement", can_view_case)
rules.add_perm("sanctions.approve_statements", approves_statements_of)
rules.add_perm("sanctions.publish_statement", may_approve_statement)
rules.add_perm("sanctions.withdraw_statement", may_approve_statement | sees_statement_case)


# --- notices to sanctioned people and appeals ----------------------------------------------------------------------
from .enums import NoticeState  # noqa: E402


def _sight_of_case(user, case):
    """(grant, sees): the member's grant in the case's organization and whether it sees the case."""
    access = access_for(user)
    grant = access.grant_in(case.organization_id)
    return grant, grant_sees_case(grant, case, recused=case.pk in access.recused_case_ids)


def took_part_in(grant, user, decision):
    """Whether the member recorded the decision or voted on it; read from ``decision.votes.all()``, so lists
    prefetch the votes."""
    if decision.recorded_by_id is not None and decision.recorded_by_id == user.pk:
        return True
    return grant is not None and any(vote.membership_id == grant.membership_id for vote in decision.votes.all())


@rules.predicate
def may_draft_notice(user, decision):
    return decision.is_current and _sight_of_case(user, decision.case)[1]


@rules.predicate
def sees_notice(user, notice):
    return _sight_of_case(user, notice.decision.case)[1]


@rules.predicate
def may_approve_notice(user, notice):
    """A second member: one who may see the case and did not draft the notice."""
    return notice.state == NoticeState.DRAFT and notice.drafted_by_id != user.pk and sees_notice(user, notice)


@rules.predicate
def may_deliver_notice(user, notice):
    return notice.state == NoticeState.APPROVED and sees_notice(user, notice)


@rules.predicate
def may_review_appeal(user, appeal):
    """Members who may see the case and took no part in the decision appealed: a decider never reviews it."""
    decision = appeal.notice.decision
    grant, sees = _sight_of_case(user, decision.case)
    return sees and not took_part_in(grant, user, decision)


rules.add_perm("sanctions.view_notice", sees_notice)
rules.add_perm("sanctions.draft_notice", may_draft_notice)
rules.add_perm("sanctions.approve_notice", may_approve_notice)
rules.add_perm("sanctions.deliver_notice", may_deliver_notice)
rules.add_perm("sanctions.review_appeal", may_review_appeal)
