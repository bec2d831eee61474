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
