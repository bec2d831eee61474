"""Who hears about each of a batch of cases, in a fixed number of queries: the deadline sweep's recipients.

It loads the teams of the batch's organizations, their space scopes, the batch's active recusals and
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
