"""What one team member may reach, loaded once per request.

Every predicate in ``rules.py`` answers from a :class:`MemberAccess`: the member's active memberships (with the
spaces a space-scoped role covers) and the cases they are recused from. Inside a request the snapshot is loaded
once and shared by every check; outside a request (commands, tasks, tests) each check loads it afresh, so a
change is always seen. Domain functions that change memberships or recusals call :func:`forget`.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.apps import apps

from cocdesk.common.prepared import PreparedQuery

_request_scope = ContextVar("cocdesk_access_scope", default=None)


@dataclass(frozen=True)
class Grant:
    """One active membership, reduced to what permission checks need."""

    membership_id: int
    organization_id: int
    is_staff_member: bool
    is_responder: bool
    is_lead: bool
    is_admin: bool
    is_fallback: bool
    # None: the roles cover the whole organization; otherwise only the cases of these spaces.
    space_ids: frozenset | None

    @property
    def handles_cases(self):
        return self.is_responder or self.is_lead

    def covers_space(self, space_id):
        """A case without a space stays with the organization-wide team."""
        return self.space_ids is None or (space_id is not None and space_id in self.space_ids)


@dataclass(frozen=True)
class MemberAccess:
    grants: dict
    recused_case_ids: frozenset

    def grant_in(self, organization_id):
        return self.grants.get(organization_id)


NO_ACCESS = MemberAccess(grants={}, recused_case_ids=frozenset())


def grant_of(membership):
    """The grant of a membership row that carries ``scoped_space_ids`` (see load_grants)."""
    return Grant(
        membership_id=membership.pk,
        organization_id=membership.organization_id,
        is_staff_member=membership.is_staff_member,
        is_responder=membership.is_responder,
        is_lead=membership.is_lead,
        is_admin=membership.is_admin,
        is_fallback=membership.is_fallback,
        space_ids=frozenset(membership.scoped_space_ids) if membership.scoped_space_ids else None,
    )


def grants_of(memberships):
    return {membership.organization_id: grant_of(membership) for membership in memberships}


def load_grants(memberships):
    """Attaches ``scoped_space_ids`` to each membership of ``memberships`` with one query; returns the list."""
    Membership = apps.get_model("orgs", "Membership")
    rows = list(memberships)
    by_id = {membership.pk: membership for membership in rows}
    for membership in rows:
        membership.scoped_space_ids = []
    links = Membership.spaces.through.objects.filter(membership_id__in=list(by_id)).values_list(
        "membership_id", "space_id"
    )
    for membership_id, space_id in links:
        by_id[membership_id].scoped_space_ids.append(space_id)
    return rows


def _memberships_query(user_id):
    Membership = apps.get_model("orgs", "Membership")
    return (
        Membership.objects.active()
        .filter(user_id=user_id)
        .values_list("pk", "organization_id", "is_staff_member", "is_responder", "is_lead", "is_admin", "is_fallback")
    )


def _space_links_query(user_id):
    Membership = apps.get_model("orgs", "Membership")
    links = Membership.spaces.through.objects.filter(membership__user_id=user_id)
    return links.values_list("membership_id", "space_id")


def _recusals_query(user_id):
    Recusal = apps.get_model("cases", "Recusal")
    return Recusal.objects.filter(is_active=True, membership__user_id=user_id).values_list("case_id")


# Every request of a member reads these three: compiled once per worker.
_memberships = PreparedQuery(_memberships_query, int)
_space_links = PreparedQuery(_space_links_query, int)
_recusals = PreparedQuery(_recusals_query, int)


def _load(user):
    rows = _memberships.rows(user.pk)
    if not rows:
        return NO_ACCESS
    spaces = {}
    for membership_id, space_id in _space_links.rows(user.pk):
        spaces.setdefault(membership_id, set()).add(space_id)
    grants = {}
    for membership_id, organization_id, staff, responder, lead, admin, fallback in rows:
        grants[organization_id] = Grant(
            membership_id=membership_id,
            organization_id=organization_id,
            is_staff_member=staff,
            is_responder=responder,
            is_lead=lead,
            is_admin=admin,
            is_fallback=fallback,
            space_ids=frozenset(spaces[membership_id]) if membership_id in spaces else None,
        )
    recused = frozenset(case_id for (case_id,) in _recusals.rows(user.pk))
    return MemberAccess(grants=grants, recused_case_ids=recused)


def access_for(user):
    """The member's access. Accounts with no membership reach nothing, whatever their Django flags say."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NO_ACCESS
    scope = _request_scope.get()
    if scope is None:
        return _load(user)
    if user.pk not in scope:
        scope[user.pk] = _load(user)
    return scope[user.pk]


def forget():
    """Drops what this request loaded: the next check reads memberships and recusals again."""
    scope = _request_scope.get()
    if scope is not None:
        scope.clear()


@contextmanager
def request_scope():
    token = _request_scope.set({})
    try:
        yield
    finally:
        _request_scope.reset(token)


class AccessScopeMiddleware:
    """Loads each member's access at most once per request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with request_scope():
            return self.get_response(request)
