"""Who hears about cases, in a fixed number of queries: each of a batch of cases (the deadline sweep's recipients),
and a case being taken in (``IntakeAudience``).

``BatchAudience`` loads the teams of the batch's organizations, their space scopes, the batch's active recusals and
assignments once, then decides each case with ``rules.grant_sees_case``, the same definition of sight as every
predicate, so a burst of alerts costs the same queries for one case as for five hundred."""

from collections import defaultdict, namedtuple

from django.db import router

from cocdesk.common.prepared import PreparedQuery, field_names
from cocdesk.orgs.access import grant_of, load_grants
from cocdesk.orgs.models import Membership

from ..models import Case, Recusal
from ..rules import grant_leads_case, grant_sees_case


class BatchAudience:
    def __init__(self, cases):
        organization_ids = {case.organization_id for case in cases}
        members = load_grants(
            Membership.objects.active().filter(organization_id__in=organization_ids).select_related("user")
        )
        self._team = defaultdict(list)
        for membership in members:
            self._team[membership.organization_id].append((membership, grant_of(membership)))
        self._recused = set(
            Recusal.objects.filter(is_active=True, case__in=cases).values_list("case_id", "membership_id")
        )
        self._assigned = set(
            Case.assignees.through.objects.filter(case__in=cases).values_list("case_id", "membership_id")
        )

    def _members(self, case, test):
        return [
            membership
            for membership, grant in self._team[case.organization_id]
            if test(grant, case, recused=(case.pk, membership.pk) in self._recused)
        ]

    def handlers(self, case):
        return self._members(case, grant_sees_case)

    def leads(self, case):
        return self._members(case, grant_leads_case)

    def fallback_members(self, case):
        """Call once the case fell to them (``case.under_fallback``)."""
        return [membership for membership in self.handlers(case) if membership.is_fallback]

    def assignees_or_team(self, case):
        handlers = self.handlers(case)
        assigned = [membership for membership in handlers if (case.pk, membership.pk) in self._assigned]
        return assigned or handlers


def _team_query(organization_id):
    # A row per member and space of their scope (one with None for a member of the whole organization), ordered as
    # ``queries.members_who_may_see`` orders them within one organization, without the join to it.
    names = [*_MEMBER_FIELDS, *(f"user__{name}" for name in _USER_FIELDS), "spaces"]
    return Membership.objects.filter(organization_id=organization_id).order_by("display_name", "pk").values_list(*names)


# What sight, notices and recusals read of a membership (not its sealed identifiers, not when it was made or changed)
# and of its account.
_MEMBER_FIELDS = field_names(Membership, leave_out={"sealed_identifiers", "created_at", "updated_at"})
_User = Membership._meta.get_field("user").related_model
_USER_FIELDS = ["id", _User.USERNAME_FIELD, "email", "is_active"]
# A submission reads the whole team: built once per worker (see ``common.prepared``).
_team_rows = PreparedQuery(_team_query, int)
_PK_AT = _MEMBER_FIELDS.index(Membership._meta.pk.attname)


class TeamUser(namedtuple("TeamUser", ["pk", "username", "email", "is_active"])):
    """What intake reads of a member's account, as a row: whom to notify, and what a recusal records."""

    __slots__ = ()

    def get_username(self):
        return self.username


class TeamMember(namedtuple("TeamMember", _MEMBER_FIELDS)):
    """A membership as intake reads it, as a row rather than a model instance: its columns as attributes, ``pk``,
    ``user`` (a ``TeamUser``) and ``scoped_space_ids``, which is all that sight (``access.grant_of``), notices and
    the recused leads' count read. ``membership()`` makes the model instance a recusal is saved with."""

    @property
    def pk(self):
        return self[_PK_AT]

    def membership(self):
        membership = Membership.from_db(self.using, _MEMBER_FIELDS, tuple(self))
        membership.user = _User.from_db(self.using, _USER_FIELDS, tuple(self.user))
        membership.scoped_space_ids = list(self.scoped_space_ids)
        return membership


def team_reading(organization):
    """The query ``IntakeAudience`` reads the team with, and its values, for a caller to run along with its own
    statement (``insert_chain``'s ``reading``)."""
    return _team_rows, (organization.pk,)


def _load_team(organization_id, rows=None):
    """The organization's members as ``TeamMember`` rows, with their users and ``scoped_space_ids`` as
    ``access.load_grants`` gives them, in one prepared query, or from its ``rows`` when the caller read them."""
    using = router.db_for_read(Membership)
    split, user_end = len(_MEMBER_FIELDS), len(_MEMBER_FIELDS) + len(_USER_FIELDS)
    team, by_pk = [], {}
    for row in _team_rows.rows(organization_id, using=using) if rows is None else rows:
        member = by_pk.get(row[_PK_AT])
        if member is None:
            member = TeamMember._make(row[:split])
            member.user = TeamUser._make(row[split:user_end])
            member.scoped_space_ids = []
            member.using = using
            team.append(member)
            by_pk[member.pk] = member
        if row[-1] is not None:
            member.scoped_space_ids.append(row[-1])
    return team, by_pk


class IntakeAudience:
    """The whole team of an organization taking in a report, in one query (the memberships with their users and
    the spaces of the scoped ones): whom the report names, and who hears of the new case, decided by
    ``rules.grant_sees_case`` like every predicate. A new case has no assignee yet and no recusal but the ones
    intake makes, so nothing else needs reading, however large the team."""

    def __init__(self, organization, rows=None):
        """``rows``: what the query of ``team_reading`` gave, when the caller read them along with its own statement."""
        # Inactive members too: a member named while away must not read the report once they are back.
        self.team, self._by_pk = _load_team(organization.pk, rows)
        self._grants = {member.pk: grant_of(member) for member in self.team}

    def membership(self, member):
        """The ``Membership`` (with its user) a recusal of ``member`` is saved with: ``member`` itself when it is
        one, else made from the team's row."""
        return member.membership() if isinstance(member, TeamMember) else member

    def recused_leads(self, case, recused_ids):
        """``queries.recused_lead_count`` of a new case whose recusals are ``recused_ids``."""
        return sum(
            1
            for member in self.team
            if member.pk in recused_ids and member.is_lead and self._grants[member.pk].covers_space(case.space_id)
        )

    def handlers(self, case, recused_ids):
        """``queries.members_who_may_see`` of a new case whose recusals are ``recused_ids``, in the same order, as
        ``TeamMember`` rows."""
        return [
            member
            for member in self.team
            if member.is_active
            and member.user.is_active
            and grant_sees_case(self._grants[member.pk], case, recused=member.pk in recused_ids)
        ]
