"""The one case a desk page is about, found by its reference within what the member may see.

The same condition as ``Case.objects.visible_to`` (``sight_from_terms``), compiled once per shape of the member's
sight (how many organizations, which of them fallback-only or limited to how many spaces, how many recusals), with
the member's own organizations, spaces and recusals as the statement's values. Members of one team share a shape,
so a worker compiles a handful of statements, not one per page."""

from cocdesk.common.prepared_objects import PreparedObjects

from ..models import Case
from ..models.case import sight_from_terms, sight_terms

# Beyond this many shapes in one worker (members recused from ever more cases), pages compile their statement anew.
MAX_SHAPES = 200

_by_shape = {}


def sight_shape(terms, recused):
    """(the shape of a member's sight, its values in order) for ``sight_terms``' result: what a statement built
    with ``terms_from_values`` takes."""
    shape = (
        tuple((fallback_only, None if space_ids is None else len(space_ids)) for _, fallback_only, space_ids in terms),
        len(recused),
    )
    values = []
    for organization_id, _fallback_only, space_ids in terms:
        values += [organization_id, *(space_ids or ())]
    return shape, [*values, *recused]


def terms_from_values(shape, ids):
    """The (terms, recused) of ``sight_from_terms`` that ``sight_shape`` gave ``shape`` and ``ids`` for."""
    grant_shapes, recused_count = shape
    ids = list(ids)
    terms = []
    for fallback_only, space_count in grant_shapes:
        organization_id = ids.pop(0)
        space_ids = None
        if space_count is not None:
            space_ids, ids = ids[:space_count], ids[space_count:]
        terms.append((organization_id, fallback_only, space_ids))
    return terms, ids[:recused_count]


def _builder(shape):
    def build(reference, *ids):
        return (
            Case.objects.filter(sight_from_terms(*terms_from_values(shape, ids)))
            .select_related("organization", "space")
            .filter(reference=reference)[:1]
        )

    return build


def visible_case(user, reference):
    """The case ``reference`` if ``user`` may see it, with its organization and space; else None."""
    terms, recused = sight_terms(user)
    if not terms:
        return None
    shape, values = sight_shape(terms, recused)
    prepared = _by_shape.get(shape)
    if prepared is None:
        prepared = PreparedObjects(_builder(shape), str, *[int] * len(values))
        if len(_by_shape) < MAX_SHAPES:
            _by_shape[shape] = prepared
    return prepared.first(reference, *values)
