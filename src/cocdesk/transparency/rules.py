"""Who may do what with an organization's transparency reports. A report holds no case content, so an admin may
read and publish it; a draft is still the team's, so nobody outside the organization's team reaches it."""

import rules

from cocdesk.orgs.rules import grant_in


@rules.predicate
def may_export_report(user, report):
    """The team's responders and leads (a space-scoped one for a report of a space they cover) and the admins may
    download a report in any state: a draft to check it before review, a published one as the public does."""
    grant = grant_in(user, report.organization)
    if grant is None:
        return False
    if grant.is_admin:
        return True
    if not grant.handles_cases:
        return False
    if report.space_id is None:
        return grant.space_ids is None
    return grant.covers_space(report.space_id)


rules.add_perm("transparency.export_report", may_export_report)


def _team_covers(grant, space_id):
    """A responder or lead whose roles reach every case of the report's scope: a space's report for members of
    that space, a period's report (every space) for organization-wide members only."""
    if grant is None or not grant.handles_cases:
        return False
    return grant.space_ids is None if space_id is None else grant.covers_space(space_id)


@rules.predicate
def may_list_reports(user, organization):
    grant = grant_in(user, organization)
    return grant is not None and (grant.is_admin or grant.handles_cases)


@rules.predicate
def may_draft_reports(user, organization):
    grant = grant_in(user, organization)
    return grant is not None and grant.handles_cases


@rules.predicate
def may_work_on_report(user, report):
    """Edit the draft, send it for review: the team members whose roles cover the report's cases."""
    return _team_covers(grant_in(user, report.organization), report.space_id)


@rules.predicate
def may_review_report(user, report):
    """A second member: anyone who may work on the report except the member who drafted it."""
    return may_work_on_report(user, report) and report.drafted_by_id != user.pk


@rules.predicate
def may_publish_report(user, report):
    grant = grant_in(user, report.organization)
    return grant is not None and grant.is_admin


rules.add_perm("transparency.list_reports", may_list_reports)
rules.add_perm("transparency.draft_report", may_draft_reports)
rules.add_perm("transparency.edit_report", may_work_on_report)
rules.add_perm("transparency.review_report", may_review_report)
rules.add_perm("transparency.publish_report", may_publish_report)
# The team's own statistics: counted over the cases the member may see, so any responder or lead may look.
rules.add_perm("transparency.view_statistics", may_draft_reports)
