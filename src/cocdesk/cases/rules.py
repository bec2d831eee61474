"""Who may see and act on a case. Every case view checks these; ``Case.objects.visible_to`` must agree."""

import rules

from cocdesk.orgs.models import Membership

from .models import Recusal


def _membership(user, organization):
    if not user.is_authenticated:
        return None
    return Membership.objects.active().filter(user=user, organization=organization).first()


def recused_lead_count(case):
    return Recusal.objects.active().filter(case=case, membership__is_lead=True).count()


def is_under_fallback(case):
    """More leads recused than the organization's threshold: its fallback members step in on this case."""
    return recused_lead_count(case) > case.organization.recusal_threshold


@rules.predicate
def is_recused(user, case):
    return Recusal.objects.active().filter(case=case, membership__user=user).exists()


@rules.predicate
def handles_cases_of_org(user, case):
    membership = _membership(user, case.organization)
    return membership is not None and membership.handles_cases


@rules.predicate
def is_fallback_on_case(user, case):
    membership = _membership(user, case.organization)
    if membership is None or not membership.is_fallback:
        return False
    return case.fallback_escalated_at is not None or is_under_fallback(case)


@rules.predicate
def is_lead_of_org(user, case):
    membership = _membership(user, case.organization)
    return membership is not None and membership.is_lead


can_view_case = (handles_cases_of_org | is_fallback_on_case) & ~is_recused
# Fallback members act as temporary leads on the cases that fell to them.
can_lead_case = can_view_case & (is_lead_of_org | is_fallback_on_case)

rules.add_perm("cases.view_case", can_view_case)
rules.add_perm("cases.message_reporter", can_view_case)
rules.add_perm("cases.declare_recusal", can_view_case)
rules.add_perm("cases.work_on_case", can_view_case)
rules.add_perm("cases.lead_case", can_lead_case)
rules.add_perm("cases.manage_recusals", can_lead_case)
rules.add_perm("cases.read_audit_trail", can_lead_case)
