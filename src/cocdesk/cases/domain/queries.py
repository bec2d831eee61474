"""The scoped querysets that every list, count, notification and look-up of cases reads.

Sight itself is defined once, in ``rules.grant_sees_case``; ``Case.objects.visible_to`` (a member's cases) and
``members_who_may_see`` (a case's members) are its two database forms and are tested against it."""

from django.db.models import Exists, OuterRef, Q

from cocdesk.common.prepared import PreparedQuery
from cocdesk.common.prepared_objects import PreparedObjects
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


def queue_page(user, *, show="open", now, page=1, page_size=50, **filters):
    """The member's queue: (the cases of page ``page`` in queue order, with their organization and space, and one
    more when a next page exists; the count per state under the same filters but the state). ``filters``:
    space_id, urgent, overdue, fallback, mine and unassigned, as ``QueueFilterForm.filters`` gives them."""
    states = tuple(QUEUE_SHOWS.get(show, QUEUE_SHOWS["open"]))
    start = (page - 1) * page_size

    def build(cases):
        if set(states) <= set(OPEN_STATES):
            # Every open case has a running promise; saying so lets the database use the queue's partial index.
            cases = cases.filter(state__in=states, next_due_at__isnull=False).order_by(*BY_PROMISE)
        else:
            cases = cases.filter(state__in=states).order_by(*NEWEST_FIRST)
        return cases.select_related("organization", "space")[start : start + page_size + 1]

    rows = _queue_statement(_pages, PreparedObjects, user, now, filters, (states, start, page_size), build)
    return ([] if rows is None else rows.objects()), capped_counts(user, now=now, **filters)


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


# (shape of sight, which filters, what else shapes the SQL) -> the queue's statements, compiled once per worker
_counts, _pages = {}, {}


def capped_counts(user, *, now, **filters):
    """{state: number of the member's cases under ``filters``}, counting at most COUNT_CAP + 1 of each (shown as
    "1,000+"): each count reads an index range and stops there, where one grouped count would read every case of
    the organization. One statement for every state."""

    def build(cases):
        return _CappedCounts([cases.filter(state=state) for state in CaseState.values], COUNT_CAP)

    counts = _queue_statement(_counts, PreparedQuery, user, now, filters, (COUNT_CAP,), build)
    if counts is None:
        return dict.fromkeys(CaseState.values, 0)
    (row,) = counts.rows()
    return dict(zip(CaseState.values, row, strict=True))


class _Bound:
    """A prepared statement with its values: ``rows()`` or ``objects()`` runs it."""

    def __init__(self, statement, values):
        self.statement, self.values = statement, values

    def rows(self):
        return self.statement.rows(*self.values)

    def objects(self):
        return self.statement.objects(*self.values)


def _queue_statement(known, kind, user, now, filters, shaping, build):
    """The statement ``build(cases)`` makes of the member's cases under ``filters``, with its values; None when the
    member sees no case. It is compiled once per worker for each shape of the member's sight, of the filters and of
    ``shaping`` (what else ``build`` puts in the SQL), but under "overdue", whose moment is the request's own."""
    terms, recused = sight_terms(user)
    if not terms:
        return None
    shape, values = sight_shape(terms, recused)
    flags = tuple(
        filters.get(name) is not None if name == "space_id" else bool(filters.get(name)) for name in QUEUE_FILTERS
    )
    has_space, mine = flags[0], flags[4]
    values += [filters["space_id"]] if has_space else []
    values += [user.pk] if mine else []

    def build_from_values(*ids):
        extra = has_space + mine
        sight_ids, rest = ids[: len(ids) - extra], list(ids[len(ids) - extra :])
        chosen = dict(zip(QUEUE_FILTERS, flags, strict=True))
        chosen["space_id"] = rest.pop(0) if has_space else None
        user_id = rest.pop(0) if mine else None
        cases = Case.objects.filter(sight_from_terms(*terms_from_values(shape, sight_ids))).filter(is_erased=False)
        return build(_filtered(cases, user_id=user_id, now=now, **chosen))

    key = (shape, flags, shaping)
    statement = None if flags[2] else known.get(key)
    if statement is None:
        statement = kind(build_from_values, *[int] * len(values))
        if not flags[2] and len(known) < MAX_SHAPES:
            known[key] = statement
    return _Bound(statement, values)


def find_visible_case(user, reference):
    """A case the member may see, by its reference as a person types it; None otherwise."""
    symbols = "".join(ch for ch in reference.upper() if ch.isalnum())
    if not symbols or len(symbols) > 32:
        return None
    grouped = "-".join(symbols[i : i + 4] for i in range(0, len(symbols), 4))
    return Case.objects.visible_to(user).filter(reference=grouped).select_related("organization").first()
