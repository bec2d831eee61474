"""Who hears about cases, in a fixed number of queries: each of a batch of cases (the deadline sweep's recipients),
and a case being taken in (``IntakeAudience``).

``BatchAudience`` loads the teams of the batch's organizations, their space scopes, the batch's active recusals and
assignments once, then decides each case with ``rules.grant_sees_case``, the same definition of sight as every
predicate, so a burst of alerts costs the same queries for one case as for five hundred."""

from collections import defaultdict

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


class IntakeAudience:
    """The whole team of an organization taking in a report, in two queries (the memberships with their users, and
    the space links of the scoped ones): whom the report names, and who hears of the new case, decided by
    ``rules.grant_sees_case`` like every predicate. A new case has no assignee yet and no recusal but the ones
    intake makes, so nothing else needs reading, however large the team."""

    def __init__(self, organization):
        # Inactive members too: a member named while away must not read the report once they are back.
        self.team = load_grants(Membership.objects.filter(organization=organization).select_related("user"))
        self._by_pk = {membership.pk: membership for membership in self.team}

    def own_row(self, membership):
        """The team's row for ``membership`` (it carries the space scope), or ``membership`` if not on the team."""
        return self._by_pk.get(membership.pk, membership)

    def recused_leads(self, case, recused_ids):
        """``queries.recused_lead_count`` of a new case whose recusals are ``recused_ids``."""
        return sum(
            1
            for membership in self.team
            if membership.pk in recused_ids and membership.is_lead and grant_of(membership).covers_space(case.space_id)
        )

    def handlers(self, case, recused_ids):
        """``queries.members_who_may_see`` of a new case whose recusals are ``recused_ids``, in the same order."""
        return [
            membership
            for membership in self.team
            if membership.is_active
            and membership.user.is_active
            and grant_sees_case(grant_of(membership), case, recused=membership.pk in recused_ids)
        ]
