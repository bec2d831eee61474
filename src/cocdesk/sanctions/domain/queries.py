"""The scoped querysets every list of the sanctions app reads. They are built on the access layer
(``cocdesk.orgs.access``) and ``Case.objects.visible_to``: a member never lists a sanction, decision or appeal of a
case they may not see or are recused from, and each list costs the same queries for one row as for fifty."""

from dataclasses import dataclass

from django.db.models import Q

from cocdesk.cases.models import Case
from cocdesk.cases.models.case import sight_condition, sight_from_terms
from cocdesk.orgs.access import access_for

from ..enums import SanctionState
from ..models import Sanction

# --- the registry --------------------------------------------------------------------------------------------------

REGISTRY_PAGE_SIZE = 50
REGISTRY_SHOWS = {
    "active": Q(state=SanctionState.ACTIVE),
    "ended": ~Q(state=SanctionState.ACTIVE),
    "all": Q(),
}


def registry_sanctions(user, organization, show="active"):
    """The organization's sanctions ``user`` may see, newest first; ``rules.grant_sees_sanction`` must agree.

    A sanction from a decision is seen by whoever sees the decision's case (responders and leads, fallback members
    on the cases that fell to them, never a recused member). A verbal warning has no case: the organization's
    responders and leads see it, a space-scoped one only when it concerns one of their spaces."""
    grant = access_for(user).grant_in(organization.pk)
    if grant is None:
        return Sanction.objects.none()
    sight = Q(decision__case__in=Case.objects.visible_to(user).filter(organization=organization).values("pk"))
    if grant.handles_cases:
        caseless = Q(decision__isnull=True)
        if grant.space_ids is not None:
            in_scope = Sanction.spaces.through.objects.filter(space_id__in=sorted(grant.space_ids))
            caseless &= Q(all_spaces=True) | Q(pk__in=in_scope.values("sanction_id"))
        sight |= caseless
    return (
        Sanction.objects.filter(organization=organization)
        .filter(sight)
        .filter(REGISTRY_SHOWS.get(show, REGISTRY_SHOWS["active"]))
        .order_by("-starts_at", "-pk")
    )


@dataclass(frozen=True)
class RegistryPage:
    rows: list
    show: str
    page: int
    has_next: bool

    @property
    def has_previous(self):
        return self.page > 1


def registry_for(user, organization, show="active", page=1):
    """One page of the registry (50 rows), with what each row shows loaded: two queries whatever the rows."""
    show = show if show in REGISTRY_SHOWS else "active"
    page = max(int(page or 1), 1)
    start = (page - 1) * REGISTRY_PAGE_SIZE
    rows = list(
        registry_sanctions(user, organization, show)
        .select_related("person", "decision__case")
        .prefetch_related("spaces")[start : start + REGISTRY_PAGE_SIZE + 1]
    )
    return RegistryPage(rows=rows[:REGISTRY_PAGE_SIZE], show=show, page=page, has_next=len(rows) > REGISTRY_PAGE_SIZE)


# --- appeals -------------------------------------------------------------------------------------------------------

APPEALS_SHOWN = 50


def visible_appeals(user):
    """The appeals of the cases ``user`` may see (never of a case they are recused from)."""
    from ..models import Appeal

    # On the case's own columns, and the appeal's organization first: an IN over every visible case made SQLite
    # list 100,000 cases for the queue's few pending appeals.
    organizations = sorted(access_for(user).grants)
    return Appeal.objects.filter(organization_id__in=organizations).filter(
        sight_condition(user, "notice__decision__case__")
    )


def appeals_to_review(user):
    """Pending appeals ``user`` may review, the nearest review deadline first: of cases they may see, about
    decisions they neither recorded nor voted on (``rules.may_review_appeal`` must agree). One query."""
    from django.db.models import Exists, OuterRef

    from ..enums import AppealState
    from ..models import DecisionVote

    membership_ids = sorted(grant.membership_id for grant in access_for(user).grants.values())
    voted = DecisionVote.objects.filter(decision_id=OuterRef("notice__decision_id"), membership_id__in=membership_ids)
    return (
        visible_appeals(user)
        .filter(state=AppealState.PENDING)
        .exclude(notice__decision__recorded_by_id=user.pk)
        .exclude(Exists(voted))
        .select_related("notice__decision__case", "organization")
        .order_by("review_due_at", "pk")
    )


def _awaiting(user_id, sight, organization_ids, membership_ids):
    from django.db.models import Exists, OuterRef

    from ..enums import AppealState
    from ..models import Appeal, DecisionVote

    voted = DecisionVote.objects.filter(decision_id=OuterRef("notice__decision_id"), membership_id__in=membership_ids)
    return (
        Appeal.objects.filter(organization_id__in=organization_ids)
        .filter(sight_from_terms(*sight, "notice__decision__case__"))
        .filter(state=AppealState.PENDING)
        .exclude(notice__decision__recorded_by_id=user_id)
        .exclude(Exists(voted))
        .select_related("notice__decision__case", "organization")
        .order_by("review_due_at", "pk")
    )


# (shape of sight, number of organizations, number of memberships) -> the statement of the queue's appeals
_awaiting_by_shape = {}


def appeals_awaiting_review(user):
    """The first APPEALS_SHOWN of ``appeals_to_review(user)``, with their case, decision and organization, from a
    statement compiled once per worker for each shape of the member's sight: the queue shows them on every view."""
    from cocdesk.cases.domain.visible import MAX_SHAPES, sight_shape, terms_from_values
    from cocdesk.cases.models.case import sight_terms
    from cocdesk.common.prepared_objects import PreparedObjects

    terms, recused = sight_terms(user)
    if not terms:
        return []
    grants = access_for(user).grants
    organizations = sorted(grants)
    memberships = sorted(grant.membership_id for grant in grants.values())
    shape, sight_values = sight_shape(terms, recused)
    key = (shape, len(organizations), len(memberships))
    statement = _awaiting_by_shape.get(key)
    if statement is None:

        def build(user_id, *ids):
            sight_ids = ids[: len(sight_values)]
            organization_ids = ids[len(sight_values) : len(sight_values) + len(organizations)]
            membership_ids = ids[len(sight_values) + len(organizations) :]
            return _awaiting(user_id, terms_from_values(shape, sight_ids), organization_ids, membership_ids)[
                :APPEALS_SHOWN
            ]

        statement = PreparedObjects(build, int, *[int] * (len(sight_values) + len(organizations) + len(memberships)))
        if len(_awaiting_by_shape) < MAX_SHAPES:
            _awaiting_by_shape[key] = statement
    return statement.objects(user.pk, *sight_values, *organizations, *memberships)
