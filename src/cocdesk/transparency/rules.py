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
