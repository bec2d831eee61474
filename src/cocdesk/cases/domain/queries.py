"""The scoped querysets that every list, count, notification and look-up of cases reads.

Sight itself is defined once, in ``rules.grant_sees_case``; ``Case.objects.visible_to`` (a member's cases) and
``members_who_may_see`` (a case's members) are its two database forms and are tested against it."""

from django.db.models import Exists, OuterRef, Q

from cocdesk.common.prepared import PreparedQuery
from cocdesk.orgs.models import Membership

from ..enums import OPEN_STATES, CaseState
from ..models import Case, Recusal
from ..models.case import sight_from_terms, sight_terms
from .visible import MAX_SHAPES, sight_shape, terms_from_values


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


def _filtered(cases, *, user_id, space_id, urgent, overdue, fallback, mine, unassigned, now):
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
        cases = cases.filter(Exists(assignments.filter(membership__user_id=user_id)))
    if unassigned:
        cases = cases.exclude(Exists(assignments))
    return cases


def queue_cases(user, *, show="open", now, **filters):
    """The member's queue: (cases in queue order, their count per state under the same filters but the state).
    The cases are sliced by the caller (a page of 50). ``filters``: space_id, urgent, overdue, fallback, mine and
    unassigned, as ``QueueFilterForm.filters`` gives them."""
    cases = _filtered(Case.objects.visible_to(user).filter(is_erased=False), user_id=user.pk, now=now, **filters)
    counts = capped_counts(user, now=now, **filters)
    states = QUEUE_SHOWS.get(show, QUEUE_SHOWS["open"])
    if set(states) <= set(OPEN_STATES):
        # Every open case has a running promise; saying so lets the database use the queue's partial index.
        return cases.filter(state__in=states, next_due_at__isnull=False).order_by(*BY_PROMISE), counts
    return cases.filter(state__in=states).order_by(*NEWEST_FIRST), counts


COUNT_CAP = 1_000
QUEUE_FILTERS = ("space_id", "urgent", "overdue", "fallback", "mine", "unassigned")


class _CappedCounts:
    """One statement of one row: the number of cases of each queryset, counting at most COUNT_CAP + 1 of each.
    ``PreparedQuery`` compiles it like a queryset's query."""

    def __init__(self, querysets, cap):
        self.querysets, self.cap = querysets, cap

    def get_compiler(self, using):
        self.using = using
        return self

    def as_sql(self):
        parts, params = [], []
        for queryset in self.querysets:
            capped = queryset.order_by().values("pk")[: self.cap + 1]
            sql, capped_params = capped.query.get_compiler(self.using).as_sql()
            parts.append(f"(SELECT COUNT(*) FROM ({sql}) capped)")  # noqa: S608 - the ORM's SQL; values are parameters
            params += capped_params
        return "SELECT " + ", ".join(parts), params

    def get_converters(self, expressions):
        return {}


# (shape of sight, which filters, cap) -> the statement of capped_counts
_counts_by_shape = {}


def capped_counts(user, *, now, **filters):
    """{state: number of the member's cases under ``filters``}, counting at most COUNT_CAP + 1 of each (shown as
    "1,000+"): each count reads an index range and stops there, where one grouped count would read every case of
    the organization. One statement for every state, compiled once per worker for each shape of the member's
    sight and of the filters (but "overdue", whose moment is the request's)."""
    terms, recused = sight_terms(user)
    if not terms:
        return dict.fromkeys(CaseState.values, 0)
    shape, values = sight_shape(terms, recused)
    space_id, mine = filters.get("space_id"), filters.get("mine")
    flags = tuple(bool(filters.get(name)) if name != "space_id" else space_id is not None for name in QUEUE_FILTERS)
    values += [space_id] if space_id is not None else []
    values += [user.pk] if mine else []
    key = (shape, flags, COUNT_CAP)

    def build(*ids):
        sight_ids = ids[: len(ids) - flags[0] - flags[4]]
        rest = list(ids[len(sight_ids) :])
        chosen = dict(zip(QUEUE_FILTERS, flags, strict=True))
        chosen["space_id"] = rest.pop(0) if flags[0] else None
        user_id = rest.pop(0) if flags[4] else None
        cases = Case.objects.filter(sight_from_terms(*terms_from_values(shape, sight_ids))).filter(is_erased=False)
        cases = _filtered(cases, user_id=user_id, now=now, **chosen)
        return _CappedCounts([cases.filter(state=state) for state in CaseState.values], COUNT_CAP)

    if filters.get("overdue"):
        # The moment is no stand-in: compiled for this request alone.
        statement = PreparedQuery(build, *[int] * len(values))
    else:
        statement = _counts_by_shape.get(key)
        if statement is None:
            statement = PreparedQuery(build, *[int] * len(values))
            if len(_counts_by_shape) < MAX_SHAPES:
                _counts_by_shape[key] = statement
    (row,) = statement.rows(*values)
    return dict(zip(CaseState.values, row, strict=True))


def find_visible_case(user, reference):
    """A case the member may see, by its reference as a person types it; None otherwise."""
    symbols = "".join(ch for ch in reference.upper() if ch.isalnum())
    if not symbols or len(symbols) > 32:
        return None
    grouped = "-".join(symbols[i : i + 4] for i in range(0, len(symbols), 4))
    return Case.objects.visible_to(user).filter(reference=grouped).select_related("organization").first()
