import rules
from django.http import Http404
from rules.contrib.views import PermissionRequiredMixin


class NotFoundWhenDeniedMixin(PermissionRequiredMixin):
    """Checks an object permission from rules.py; a denied request answers 404, because even the existence of a
    case is confidential. Desk views put VerifiedMemberRequiredMixin first, so a logged-out member is sent to the
    login page before any object is looked up."""

    raise_exception = True

    def has_permission(self):
        # rules' own check, never ``user.has_perms``: Django answers True to a superuser before asking any rule.
        obj = self.get_permission_object()
        return all(rules.has_perm(permission, self.request.user, obj) for permission in self.get_permission_required())

    def handle_no_permission(self):
        raise Http404("Not found")
