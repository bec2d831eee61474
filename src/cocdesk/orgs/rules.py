"""Who may manage an organization: its admins. Managing never includes reading case content."""

import rules

from .models import Membership


@rules.predicate
def is_org_admin(user, organization):
    if not user.is_authenticated or organization is None:
        return False
    return Membership.objects.active().filter(user=user, organization=organization, is_admin=True).exists()


rules.add_perm("orgs.read_audit_log", is_org_admin)
rules.add_perm("orgs.manage", is_org_admin)


@rules.predicate
def may_file_for_someone(user, organization):
    """Staff take in-person and phone reports; responders and leads may too."""
    if not user.is_authenticated or organization is None:
        return False
    membership = Membership.objects.active().filter(user=user, organization=organization).first()
    return membership is not None and (membership.is_staff_member or membership.handles_cases)


@rules.predicate
def handles_cases_in(user, organization):
    if not user.is_authenticated or organization is None:
        return False
    membership = Membership.objects.active().filter(user=user, organization=organization).first()
    return membership is not None and membership.handles_cases


rules.add_perm("orgs.file_report", may_file_for_someone)
rules.add_perm("orgs.read_debrief", handles_cases_in)


@rules.predicate
def is_lead_in(user, organization):
    if not user.is_authenticated or organization is None:
        return False
    return Membership.objects.active().filter(user=user, organization=organization, is_lead=True).exists()


# Mail that could not become a report may hold one: the leads look at it, not the admins.
rules.add_perm("orgs.review_set_aside_mail", is_lead_in)
