"""Statements of the hot paths (a reporter's submission above all), built and compiled once per worker.

Building a queryset and compiling it to SQL costs the ORM several times what running the statement costs SQLite or
PostgreSQL on a small indexed read or insert. A ``PreparedQuery`` builds its queryset once per database connection
from stand-in values, keeps the SQL, and runs it with each call's own values put in the stand-ins' places. Rows come
back as the queryset's ``values_list`` would give them: the same converters (dates, booleans, JSON) are applied.
Only equality-style parameters can be stand-ins: a value the ORM would expand (a list for ``__in``) or rewrite
(a pattern for ``__contains``) cannot, and a stand-in missing from the compiled parameters is refused at once.

``PreparedInsert`` saves new rows as ``bulk_create`` does, with the INSERT's text kept per number of rows (on
PostgreSQL, one text for any number above one: an array per column), from model instances or, cheaper still, from
plain values (``insert_values``).

On PostgreSQL both also run as the server's prepared statements (``statement_cursor``): planning a small statement
costs PostgreSQL several times what running it does, and a prepared one is planned once per connection. They go
through Django's cursor wrapper all the same, so query counts and debugging see them as any other query.
"""

import datetime
import enum
import secrets
import uuid
import weakref

from django.conf import settings
from django.db import connections, models, router
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models.sql import UpdateQuery
from django.utils import timezone

# Values no caller could pass by chance, so each one is found again among the compiled parameters. An int stands
# within a 32-bit column's range: Django compiles a lookup outside its field's range to no statement at all.
_INT_STAND_IN_BASE = -2_077_707_707


def _stand_in(kind, number):
    if kind is int:
        return _INT_STAND_IN_BASE - number
    if kind is str:
        return f"stand-in-{number}-{secrets.token_hex(12)}"
    raise TypeError(f"a stand-in is an int or a str, not {kind!r}")


# Server-side parameters are bound by PostgreSQL, which takes at most 65,535 per statement: a statement with many
# stays with Django's client-side binding. (An INSERT of several rows there takes one array per column.)
_MOST_PARAMETERS_PREPARED = 1_000
# psycopg prepares a statement when asked (``prepare=True``) only if the connection's threshold is set; Django leaves
# it unset so that its own cursors never prepare, and with this value they still never do on their own.
_PREPARE_ONLY_WHEN_ASKED = 2**31
_STATEMENTS_KEPT_PER_CONNECTION = 300


def statement_cursor(connection, parameter_count=0):
    """A cursor of ``connection`` (Django's wrapper, as ``connection.cursor()``) for the statements of this module.
    On PostgreSQL it has the server bind the parameters and prepare the statement, once per connection; elsewhere,
    or with ``database_prepared_statements`` off, it is ``connection.cursor()``."""
    if (
        connection.vendor != "postgresql"
        or parameter_count > _MOST_PARAMETERS_PREPARED
        or not getattr(settings, "COCDESK_PREPARED_STATEMENTS", True)
    ):
        return connection.cursor()
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        raw.prepare_threshold = _PREPARE_ONLY_WHEN_ASKED
        raw.prepared_max = _STATEMENTS_KEPT_PER_CONNECTION
    preparing, logging = _postgresql_classes()
    # Django's own cursor() makes the cursor, so its time zone and wrapping apply: only the class differs.
    usual, raw.cursor_factory = raw.cursor_factory, preparing
    try:
        cursor = connection.cursor()
    finally:
        raw.cursor_factory = usual
    if connection.queries_logged:
        return logging(cursor.cursor, connection)
    return cursor


_POSTGRESQL_CLASSES = None


def _postgresql_classes():
    """(the cursor that prepares, the wrapper that logs its statements), made once: their bases are PostgreSQL's."""
    global _POSTGRESQL_CLASSES
    if _POSTGRESQL_CLASSES is None:
        from django.db.backends.postgresql.base import CursorDebugWrapper, ServerBindingCursor
        from django.db.backends.utils import CursorWrapper

        class PreparingCursor(ServerBindingCursor):
            def execute(self, query, params=None, *, prepare=None, binary=None):
                return super().execute(query, params, prepare=True, binary=binary)

        class PreparedStatementLog(CursorDebugWrapper):
            """Logs a prepared statement as Django logs any other: psycopg keeps no text of a prepared execution
            to read back, so the statement is composed with its values as it is run."""

            def execute(self, sql, params=None):
                with self.debug_sql(self.db.ops.compose_sql(sql, params)):
                    return CursorWrapper.execute(self, sql, params)

        _POSTGRESQL_CLASSES = (PreparingCursor, PreparedStatementLog)
    return _POSTGRESQL_CLASSES


class PreparedQuery:
    """``build(*values)`` returns a queryset ending in ``values_list``; ``kinds`` are the types of its values."""

    def __init__(self, build, *kinds):
        self._build = build
        self._kinds = kinds
        self._stand_ins = [_stand_in(kind, number) for number, kind in enumerate(kinds)]
        # Per connection object: each thread has its own, and the converters are bound to it.
        self._compiled = weakref.WeakKeyDictionary()

    def _compile(self, connection, using):
        built = self._build(*self._stand_ins)
        compiler = getattr(built, "query", built).get_compiler(using)
        sql, params = compiler.as_sql()
        slots = [self._stand_ins.index(param) if param in self._stand_ins else None for param in params]
        missing = set(range(len(self._stand_ins))) - set(slots)
        if missing:
            raise ValueError(f"values {sorted(missing)} of this prepared query are not parameters of its SQL")
        selected = getattr(compiler, "select", None) or []
        converters = compiler.get_converters([expression for expression, _sql, _alias in selected])
        compiled = self._compiled[connection] = (compiler, sql, params, slots, converters)
        return compiled

    def _statement(self, values, using):
        """(compiled, connection, SQL, parameters) for these values."""
        if len(values) != len(self._kinds):
            raise TypeError(f"this query takes {len(self._kinds)} values, not {len(values)}")
        connection = connections[using]
        compiled = self._compiled.get(connection) or self._compile(connection, using)
        _compiler, sql, params, slots, _converters = compiled
        values = [kind(value) for kind, value in zip(self._kinds, values, strict=True)]
        return (
            compiled,
            connection,
            sql,
            [param if at is None else values[at] for param, at in zip(params, slots, strict=True)],
        )

    def rows(self, *values, using="default"):
        """The rows for these values, as a list of tuples."""
        (compiler, *_rest, converters), connection, sql, params = self._statement(values, using)
        with statement_cursor(connection, len(params)) as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if converters:
            return [tuple(row) for row in compiler.apply_converters(rows, converters)]
        return rows

    def execute(self, *values, using="default"):
        """Runs a statement that returns no rows (see ``update_query``); returns the number of rows it changed."""
        _compiled, connection, sql, params = self._statement(values, using)
        with statement_cursor(connection, len(params)) as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount


def update_query(queryset, **values):
    """The UPDATE that ``queryset.update(**values)`` would run, for a ``PreparedQuery`` to build."""
    query = queryset.query.chain(UpdateQuery)
    query.add_update_values(values)
    return query


class PreparedInsert:
    """Inserts new rows of ``model`` as ``bulk_create`` does: every column but the automatic primary key, each value
    prepared by its field (``pre_save`` fills ``auto_now_add``), the keys read back into the objects. No signals are
    sent, as with ``bulk_create``: use it for models whose ``save`` does nothing more than save."""

    def __init__(self, model):
        self.model = model
        meta = model._meta
        self.fields = [field for field in meta.local_concrete_fields if field is not meta.auto_field]
        self._attnames_in_order = [field.attname for field in self.fields]
        self._attnames = frozenset(self._attnames_in_order)
        self._column_plan = None
        self._statements = weakref.WeakKeyDictionary()
        self._unchanged = weakref.WeakKeyDictionary()

    def _statement(self, connection, count):
        """The INSERT of ``count`` rows, and whether it takes each column's values as one array (``_by_column``)."""
        known = self._statements.setdefault(connection, {})
        by_column = count > 1 and self._by_column(connection)
        key = "columns" if by_column else count
        if key not in known:
            ops, meta = connection.ops, self.model._meta
            columns = ", ".join(ops.quote_name(field.column) for field in self.fields)
            if by_column:
                # Each column's database type without its size: an array of varchar(50) values would be cut to it.
                arrays = ", ".join(f"(%s)::{field.db_type(connection).split('(')[0]}[]" for field in self.fields)
                values = f"SELECT * FROM UNNEST({arrays})"  # noqa: S608 - column types of our own models
            else:
                values = ops.bulk_insert_sql(self.fields, [["%s"] * len(self.fields)] * count)
            returning, _params = ops.return_insert_columns([meta.pk])
            known[key] = f"{ops.insert_statement()} {ops.quote_name(meta.db_table)} ({columns}) {values} {returning}"
        return known[key], by_column

    def _by_column(self, connection):
        """Whether rows go to PostgreSQL as one array per column (``INSERT ... SELECT * FROM UNNEST``), as Django's
        ``bulk_create`` sends them where it can: one statement text, and one parameter per column, whatever the number
        of rows, so the driver and the server reuse one prepared statement. Only for columns of Django's own types
        whose values need no placeholder of their own."""
        if connection.vendor != "postgresql":
            return False
        return all(
            not hasattr(field, "get_placeholder")
            and (field.target_field if field.is_relation else field).get_internal_type() in connection.data_types
            for field in self.fields
        )

    def insert(self, objects, *, using=None):
        """Saves ``objects`` (new instances of the model) and returns them."""
        objects = list(objects)
        using = using or router.db_for_write(self.model)
        connection = connections[using]
        if not objects:
            return objects
        if not connection.features.can_return_rows_from_bulk_insert:
            return self.model.objects.using(using).bulk_create(objects)
        rows = []
        for instance in objects:
            instance._prepare_related_fields_for_save(operation_name="bulk_create")
            values = [field.pre_save(instance, add=True) for field in self.fields]
            if any(hasattr(value, "resolve_expression") for value in values):
                # An expression needs the ORM to compile it.
                return self.model.objects.using(using).bulk_create(objects)
            rows.append(values)
        pk_name = self.model._meta.pk.attname
        keys = self._execute(connection, self._prepared(rows, connection))
        for instance, key in zip(objects, keys, strict=True):
            setattr(instance, pk_name, key)
            instance._state.adding = False
            instance._state.db = using
        return objects

    def insert_values(self, rows, *, using=None):
        """Saves new rows given as dicts of column attribute names (``case_id``, not ``case``) to plain values, and
        returns their primary keys in order, without making a model instance per row. A column left out takes what
        the model would give it: its field's default, or for ``auto_now``/``auto_now_add`` (which, as on saving,
        also replace a given value) the time of this call, one for all its rows. Values go through their fields'
        preparation for the database as on saving; expressions are refused."""
        rows = list(rows)
        using = using or router.db_for_write(self.model)
        connection = connections[using]
        if not rows:
            return []
        columns = self._columns()
        now = {attname: _now_for(field) for attname, field, stamped, _default in columns if stamped}
        values = []
        for row in rows:
            if not row.keys() <= self._attnames:
                raise TypeError(f"{self.model.__name__} has no columns {sorted(row.keys() - self._attnames)}")
            if any(hasattr(value, "resolve_expression") for value in row.values()):
                raise TypeError("insert_values takes plain values, not expressions")
            values.append(
                [
                    now[attname]
                    if stamped
                    else row[attname]
                    if attname in row
                    else field.get_default()
                    if default is _MISSING
                    else default
                    for attname, field, stamped, default in columns
                ]
            )
        if not connection.features.can_return_rows_from_bulk_insert:
            objects = self.model.objects.using(using).bulk_create(
                self.model(**dict(zip(self._attnames_in_order, row, strict=True))) for row in values
            )
            return [instance.pk for instance in objects]
        return self._execute(connection, self._prepared(values, connection))

    def _columns(self):
        """(attribute name, field, whether saving stamps it with the time, its default) of each column, in the
        INSERT's order. The default is the field's own when it is a value, which ``get_default`` gives every time;
        ``_MISSING`` when it is a callable (``uuid4``, ``timezone.now``), called for each row."""
        if self._column_plan is not None:
            return self._column_plan
        for field in self.fields:
            if field.has_db_default():
                raise TypeError(f"{field.attname}: insert_values cannot give a column its database default")
        self._column_plan = [
            (
                field.attname,
                field,
                bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)),
                _MISSING if callable(field.default) else field.get_default(),
            )
            for field in self.fields
        ]
        return self._column_plan

    def _prepared(self, rows, connection):
        """Each value prepared by its field for ``connection``; a value repeated down a column (the case, the time,
        the text of a notice sent to several members) is prepared once."""
        unchanged = self._unchanged.get(connection)
        if unchanged is None:
            unchanged = self._unchanged[connection] = [_saved_unchanged(field, connection) for field in self.fields]
        if len(rows) == 1:
            return [
                [
                    value if value.__class__ in same else field.get_db_prep_save(value, connection)
                    for field, same, value in zip(self.fields, unchanged, rows[0], strict=True)
                ]
            ]
        known, prepared = {}, []
        for row in rows:
            out = []
            for at, (field, same, value) in enumerate(zip(self.fields, unchanged, row, strict=True)):
                if value.__class__ in same:
                    out.append(value)
                    continue
                if value.__class__ not in _SAME_WHEN_EQUAL and not isinstance(value, enum.Enum):
                    out.append(field.get_db_prep_save(value, connection))
                    continue
                key = (at, value.__class__, value)
                ready = known.get(key, _MISSING)
                if ready is _MISSING:
                    ready = known[key] = field.get_db_prep_save(value, connection)
                out.append(ready)
            prepared.append(out)
        return prepared

    def _execute(self, connection, rows):
        """Runs the INSERTs of prepared ``rows`` (in batches the database accepts) and returns the new keys."""
        # One row always fits; the batch size is worked out over every field.
        batch = 1 if len(rows) == 1 else connection.ops.bulk_batch_size(self.fields, rows) or len(rows)
        keys = []
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            sql, by_column = self._statement(connection, len(chunk))
            if by_column:
                params = [list(column) for column in zip(*chunk, strict=True)]
            else:
                params = [value for row in chunk for value in row]
            with statement_cursor(connection, len(params)) as cursor:
                cursor.execute(sql, params)
                keys += [key for (key,) in connection.ops.fetch_returned_insert_rows(cursor)]
        if len(keys) != len(rows):
            raise RuntimeError(f"{len(rows)} rows inserted, {len(keys)} keys returned")
        return keys


_TEXT_FIELDS = frozenset({models.CharField, models.TextField})
_INTEGER_FIELDS = frozenset(
    {
        models.IntegerField,
        models.BigIntegerField,
        models.SmallIntegerField,
        models.PositiveIntegerField,
        models.PositiveBigIntegerField,
        models.PositiveSmallIntegerField,
        models.AutoField,
        models.BigAutoField,
        models.SmallAutoField,
    }
)


def _saved_unchanged(field, connection):
    """The classes of value that ``field.get_db_prep_save`` returns unchanged on ``connection`` (text to a text
    column, a bool to a boolean one, an int to an integer one where the backend does not wrap it, None to any):
    their preparation is skipped. Only Django's own field classes, whose preparation is known."""
    kind = type(field)
    if kind in (models.ForeignKey, models.OneToOneField):
        return _saved_unchanged(field.target_field, connection)
    if kind in _TEXT_FIELDS:
        return frozenset({str, type(None)})
    if kind is models.BooleanField:
        return frozenset({bool, type(None)})
    operations = type(connection.ops)
    if (
        kind in _INTEGER_FIELDS
        and operations.adapt_integerfield_value is BaseDatabaseOperations.adapt_integerfield_value
        and operations.validate_autopk_value is BaseDatabaseOperations.validate_autopk_value
    ):
        return frozenset({int, type(None)})
    return frozenset()


# Types whose equal values a field always prepares alike (not floats: 0.0 == -0.0; not containers: mutable), and
# enumerations' members (a ``TextChoices`` default), each the only one of its value.
_SAME_WHEN_EQUAL = frozenset({str, int, bool, type(None), bytes, datetime.datetime, datetime.date, uuid.UUID})
_MISSING = object()


def _now_for(field):
    """What the field's ``pre_save`` puts in an ``auto_now``/``auto_now_add`` column."""
    if isinstance(field, models.DateTimeField):
        return timezone.now()
    if isinstance(field, models.DateField):
        return datetime.date.today()
    return datetime.datetime.now().time()


def field_names(model, *, leave_out=()):
    """The attribute names of ``model``'s columns, for ``values_list`` and ``Model.from_db``."""
    return [field.attname for field in model._meta.concrete_fields if field.name not in leave_out]
