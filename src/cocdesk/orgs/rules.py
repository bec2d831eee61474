"""What a member may do in an organization as a whole. Managing it never includes reading case content."""

import rules

from .models import Membership


def membership_in(user, organization):
    if not user.is_authenticated or organization is None:
        return None
    return Membership.objects.active().filter(user=user, organization=organization).first()


def _holds(test):
    @rules.predicate
    def predicate(user, organization):
        membership = membership_in(user, organization)
        return membership is not None and test(membership)

    return predicate


is_org_admin = _holds(lambda membership: membership.is_admin)
is_lead_in = _holds(lambda membership: membership.is_lead)
handles_cases_in = _holds(lambda membership: membership.handles_cases)
# Staff take in-person and phone reports; responders and leads may too.
may_file_for_someone = _holds(lambda membership: membership.is_staff_member or membership.handles_cases)

rules.add_perm("orgs.read_audit_log", is_org_admin)
rules.add_perm("orgs.manage", is_org_admin)
rules.add_perm("orgs.file_report", may_file_for_someone)
rules.add_perm("orgs.read_debrief", handles_cases_in)
# Mail that could not become a report may hold one: the leads look at it, not the admins.
rules.add_perm("orgs.review_set_aside_mail", is_lead_in)
