"""Who may see and act on a case. Every case view checks these; ``Case.objects.visible_to`` must agree.

Each predicate answers from the member's access snapshot (``cocdesk.orgs.access``) and the case's own columns:
checking many permissions on a page costs no query per check."""

import rules

from cocdesk.orgs.access import access_for


def grant_sees_case(grant, case, *, recused):
    """The one definition of sight, shared by the predicates and the batch look-ups of the deadline sweep."""
    if grant is None or recused or not grant.covers_space(case.space_id):
        return False
    return grant.handles_cases or (grant.is_fallback and case.under_fallback)


def grant_leads_case(grant, case, *, recused):
    """Leads, and fallback members on the cases that fell to them (they act as temporary leads)."""
    if not grant_sees_case(grant, case, recused=recused):
        return False
    return grant.is_lead or (grant.is_fallback and case.under_fallback)


def _grant_and_recusal(user, case):
    access = access_for(user)
    return access.grant_in(case.organization_id), case.pk in access.recused_case_ids


@rules.predicate
def is_recused(user, case):
    return case.pk in access_for(user).recused_case_ids


@rules.predicate
def can_view_case(user, case):
    grant, recused = _grant_and_recusal(user, case)
    return grant_sees_case(grant, case, recused=recused)


@rules.predicate
def can_lead_case(user, case):
    grant, recused = _grant_and_recusal(user, case)
    return grant_leads_case(grant, case, recused=recused)


@rules.predicate
def is_fallback_on_case(user, case):
    grant, recused = _grant_and_recusal(user, case)
    return grant_sees_case(grant, case, recused=recused) and grant.is_fallback and not grant.handles_cases


rules.add_perm("cases.view_case", can_view_case)
rules.add_perm("cases.message_reporter", can_view_case)
rules.add_perm("cases.declare_recusal", can_view_case)
rules.add_perm("cases.work_on_case", can_view_case)
rules.add_perm("cases.lead_case", can_lead_case)
rules.add_perm("cases.manage_recusals", can_lead_case)
rules.add_perm("cases.read_audit_trail", can_lead_case)
# Keeping a closed case past its retention date, or letting it go: the leads who may see it.
rules.add_perm("cases.hold_retention", can_lead_case)
