"""What a member may do in an organization as a whole. Managing it never includes reading case content.

Predicates answer from the member's access snapshot (``access.py``): no query per check, and no account flag
(superuser, Django staff) grants anything."""

import rules

from .access import access_for


def grant_in(user, organization):
    if organization is None:
        return None
    return access_for(user).grant_in(organization.pk)


def _holds(test):
    @rules.predicate
    def predicate(user, organization):
        grant = grant_in(user, organization)
        return grant is not None and test(grant)

    return predicate


is_org_admin = _holds(lambda grant: grant.is_admin)
# Mail set aside can concern any space: leads of the whole organization review it.
is_organization_wide_lead = _holds(lambda grant: grant.is_lead and grant.space_ids is None)
handles_cases_in = _holds(lambda grant: grant.handles_cases)
# Staff take in-person and phone reports; responders and leads may too.
may_file_for_someone = _holds(lambda grant: grant.is_staff_member or grant.handles_cases)

rules.add_perm("orgs.read_audit_log", is_org_admin)
rules.add_perm("orgs.manage", is_org_admin)
rules.add_perm("orgs.file_report", may_file_for_someone)
# Mail that could not become a report may hold one: the leads look at it, not the admins.
rules.add_perm("orgs.review_set_aside_mail", is_organization_wide_lead)


@rules.predicate
def handles_cases_of_space(user, space):
    grant = grant_in(user, space.organization)
    return grant is not None and grant.handles_cases and grant.covers_space(space.pk)


rules.add_perm("orgs.read_space_debrief", handles_cases_of_space)


def can(user, permission, obj=None):
    """The one way to ask a permission. Unlike ``user.has_perm`` it never short-circuits for superusers."""
    return rules.has_perm(permission, user, obj)
