"""Model instances from statements compiled once per worker: ``PreparedQuery`` (``common.prepared``) for the reads of
the busiest pages that need whole objects, not ``values_list`` rows.

A page such as the case page reads some twenty querysets whose shape never changes: only the case, the organization
or the member differ. Compiling each to SQL costs the ORM more than SQLite or PostgreSQL spend running it, so
``PreparedObjects`` compiles it once with stand-in values and builds the instances from each call's rows as the ORM
does (``select_related`` objects included). What it cannot do, it refuses when the statement is first compiled:
prefetching (a second query), ``values``/``values_list`` (use ``PreparedQuery``) and annotations are not taken.

``shaped`` keys one ``PreparedObjects`` per shape of a queryset whose SQL depends on the size of some lists (an
``__in`` over a member's spaces): each list's items become stand-ins of their own, so a shape is compiled once."""

import weakref

from django.db import connections
from django.db.models.query import ModelIterable, get_related_populators

from .prepared import PreparedQuery


class PreparedObjects(PreparedQuery):
    """``build(*values)`` returns a queryset of model instances; ``kinds`` are the types of its values."""

    def __init__(self, build, *kinds):
        super().__init__(build, *kinds)
        self._shapes = weakref.WeakKeyDictionary()

    def _compile(self, connection, using):
        built = self._build(*self._stand_ins)
        if built._iterable_class is not ModelIterable or built._prefetch_related_lookups:
            raise ValueError("PreparedObjects takes a plain queryset of instances: no values(), no prefetch")
        if built.query.annotation_select or built._known_related_objects:
            raise ValueError("PreparedObjects takes no annotations and no related manager's queryset")
        compiled = super()._compile(connection, using)
        compiler = compiled[0]
        klass_info = compiler.klass_info
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        init_list = [column[0].target.attname for column in compiler.select[start:end]]
        populators = get_related_populators(klass_info, compiler.select, using)
        self._shapes[connection] = (klass_info["model"], start, end, init_list, populators)
        return compiled

    def objects(self, *values, using="default"):
        """The instances for these values, as a list, in the queryset's order."""
        rows = self.rows(*values, using=using)
        model, start, end, init_list, populators = self._shapes[connections[using]]
        found = []
        for row in rows:
            instance = model.from_db(using, init_list, row[start:end])
            for populator in populators:
                populator.populate(row, instance)
            found.append(instance)
        return found

    def first(self, *values, using="default"):
        """The first instance, or None (build the queryset with ``[:1]``)."""
        found = self.objects(*values, using=using)
        return found[0] if found else None


def set_prefetched(instance, name, items):
    """What ``prefetch_related(name)`` leaves on ``instance``: ``instance.<name>.all()`` gives ``items`` without a
    query."""
    found = getattr(instance, name).get_queryset()
    found._result_cache = list(items)
    found._prefetch_done = True
    if not hasattr(instance, "_prefetched_objects_cache"):
        instance._prefetched_objects_cache = {}
    instance._prefetched_objects_cache[name] = found
