"""The scoped querysets that every list, count, notification and look-up of cases reads.

Sight itself is defined once, in ``rules.grant_sees_case``; ``Case.objects.visible_to`` (a member's cases) and
``members_who_may_see`` (a case's members) are its two database forms and are tested against it."""

from django.db.models import Exists, OuterRef, Q

from cocdesk.common.prepared import PreparedQuery
from cocdesk.orgs.models import Membership

from ..enums import OPEN_STATES, CaseState
from ..models import Case, Recusal


def _space_scope(space_id):
    """Memberships whose roles reach a case of ``space_id``: organization-wide ones, and those scoped to it."""
    links = Membership.spaces.through.objects.filter(membership_id=OuterRef("pk"))
    scope = ~Exists(links)
    if space_id is not None:
        scope |= Exists(links.filter(space_id=space_id))
    return scope


def members_who_may_see(case):
    """Every active member who may see ``case``, in one query: the recipients of its notifications."""
    return _members_who_may_see(case.organization_id, case.pk, case.space_id, under_fallback=case.under_fallback)


def _members_who_may_see(organization_id, case_id, space_id, *, under_fallback):
    roles = Q(is_responder=True) | Q(is_lead=True)
    if under_fallback:
        roles |= Q(is_fallback=True)
    recused = Recusal.objects.filter(is_active=True, case_id=case_id, membership_id=OuterRef("pk"))
    return (
        Membership.objects.active()
        .filter(organization_id=organization_id)
        .filter(roles, _space_scope(space_id))
        .exclude(Exists(recused))
        .select_related("user")
    )


# (under fallback, has a space) -> the statement of member_choices
_member_choices = {}


def member_choices(case):
    """[(membership id, display name)] of ``members_who_may_see(case)``, in its order, from a statement compiled
    once per worker for each of the four shapes."""
    shape = (case.under_fallback, case.space_id is not None)
    prepared = _member_choices.get(shape)
    if prepared is None:

        def build(organization_id, case_id, *space_id):
            space = space_id[0] if space_id else None
            found = _members_who_may_see(organization_id, case_id, space, under_fallback=shape[0])
            return found.values_list("pk", "display_name")

        kinds = (int, int, int) if shape[1] else (int, int)
        prepared = _member_choices[shape] = PreparedQuery(build, *kinds)
    values = (case.organization_id, case.pk, case.space_id) if shape[1] else (case.organization_id, case.pk)
    return prepared.rows(*values)


def members_who_may_lead(case):
    roles = Q(is_lead=True) | Q(is_fallback=True) if case.under_fallback else Q(is_lead=True)
    return members_who_may_see(case).filter(roles)


def recused_lead_count(case):
    """Recused leads whose roles reach this case: a lead scoped to another space was never on it."""
    return (
        Recusal.objects.filter(is_active=True, case_id=case.pk, membership__is_lead=True)
        .filter(Exists(Membership.objects.filter(pk=OuterRef("membership_id")).filter(_space_scope(case.space_id))))
        .count()
    )


# What the queue shows: a group of states, or one state (the per-state counts link to those). "open" is every
# case with a promise running; decided cases wait for closing under their own count.
QUEUE_SHOWS = {
    **{state: [state] for state in CaseState.values},
    "open": list(OPEN_STATES),
    "finished": [CaseState.CLOSED, CaseState.MERGED],
    "all": list(CaseState.values),
}
# Cases with a running promise are ordered by it (the index case_queue); the others, newest first.
BY_PROMISE = ("-is_urgent", "next_due_at", "pk")
NEWEST_FIRST = ("-received_at", "-pk")


def queue_cases(
    user, *, show="open", space_id=None, urgent=False, overdue=False, fallback=False, mine=False, unassigned=False, now
):
    """The member's queue: (cases in queue order, their count per state under the same filters but the state).
    The cases are sliced by the caller (a page of 50)."""
    cases = Case.objects.visible_to(user).filter(is_erased=False)
    if space_id is not None:
        cases = cases.filter(space_id=space_id)
    if urgent:
        cases = cases.filter(is_urgent=True)
    if overdue:
        cases = cases.filter(next_due_at__lt=now)
    if fallback:
        cases = cases.filter(under_fallback=True)
    assignments = Case.assignees.through.objects.filter(case_id=OuterRef("pk"))
    if mine:
        cases = cases.filter(Exists(assignments.filter(membership__user_id=user.pk)))
    if unassigned:
        cases = cases.exclude(Exists(assignments))
    counts = capped_counts(cases)
    states = QUEUE_SHOWS.get(show, QUEUE_SHOWS["open"])
    if set(states) <= set(OPEN_STATES):
        # Every open case has a running promise; saying so lets the database use the queue's partial index.
        return cases.filter(state__in=states, next_due_at__isnull=False).order_by(*BY_PROMISE), counts
    return cases.filter(state__in=states).order_by(*NEWEST_FIRST), counts


COUNT_CAP = 1_000


def capped_counts(cases):
    """{state: number of cases}, counting at most COUNT_CAP + 1 of each (shown as "1,000+"): each count reads
    an index range and stops there, where one grouped count would read every case of the organization."""
    return {state: cases.filter(state=state).order_by()[: COUNT_CAP + 1].count() for state in CaseState.values}


def find_visible_case(user, reference):
    """A case the member may see, by its reference as a person types it; None otherwise."""
    symbols = "".join(ch for ch in reference.upper() if ch.isalnum())
    if not symbols or len(symbols) > 32:
        return None
    grouped = "-".join(symbols[i : i + 4] for i in range(0, len(symbols), 4))
    return Case.objects.visible_to(user).filter(reference=grouped).select_related("organization").first()
