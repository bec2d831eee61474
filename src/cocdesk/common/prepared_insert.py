"""New rows of the hot paths, inserted as ``bulk_create`` inserts them but without its per-call work.

``PreparedInsert`` keeps the INSERT's text per number of rows (on PostgreSQL, one text for any number above one: an
array per column) and takes model instances or, cheaper still, plain values (``insert_values``). Rows that differ in
one column only, such as a notice to each member of a team, go as one set of shared values and one array of the
column's values (``insert_fanned``). Statements run through ``prepared.statement_cursor``.
"""

import datetime
import enum
import json
import weakref

from django.db import connections, models, router
from django.utils import timezone

from .prepared import statement_cursor, unread_statement_cursor
from .prepared_values import SAME_WHEN_EQUAL, saved_unchanged


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
                arrays = ", ".join(f"(%s)::{cast_type(field, connection)}[]" for field in self.fields)
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
            values = self.values_of(instance)
            if values is None:
                # An expression needs the ORM to compile it.
                return self.model.objects.using(using).bulk_create(objects)
            rows.append(values)
        keys = self._execute(connection, self._prepared(rows, connection))
        for instance, key in zip(objects, keys, strict=True):
            self.saved_as(instance, key, using)
        return objects

    def values_of(self, instance):
        """The values saving ``instance`` (new) puts in each column, in the INSERT's order, as ``save`` makes them
        (``pre_save``); None when one is an expression, which only the ORM can compile."""
        instance._prepare_related_fields_for_save(operation_name="bulk_create")
        values = [field.pre_save(instance, add=True) for field in self.fields]
        if any(hasattr(value, "resolve_expression") for value in values):
            return None
        return values

    def saved_as(self, instance, key, using):
        """Marks ``instance`` saved on ``using`` with its new primary key."""
        setattr(instance, self.model._meta.pk.attname, key)
        instance._state.adding = False
        instance._state.db = using

    def prepared_row(self, row, connection):
        """``row`` (as ``insert_values`` takes one, or the list ``values_of`` gives) with every column's value
        prepared for ``connection``, in the INSERT's order."""
        values = row if isinstance(row, list) else self._every_column(row, self._now())
        (prepared,) = self._prepared([values], connection)
        return prepared

    def insert_values(self, rows, *, using=None, along=None, keys=True):
        """Saves new rows given as dicts of column attribute names (``case_id``, not ``case``) to plain values, and
        returns their primary keys in order, without making a model instance per row. A column left out takes what
        the model would give it: its field's default, or for ``auto_now``/``auto_now_add`` (which, as on saving,
        also replace a given value) the time of this call, one for all its rows. Values go through their fields'
        preparation for the database as on saving; expressions are refused.

        ``along``: (a ``PreparedQuery`` that changes rows and returns none, its values), run with the insert, on the
        same database: on PostgreSQL in the same statement (a ``WITH`` query: one round trip to the server instead of
        two), elsewhere just before it.

        ``keys=False``: the keys are not read, and None is returned. Inside ``prepared.sent_together`` the insert is
        then sent without waiting for its answer."""
        rows = list(rows)
        using = using or router.db_for_write(self.model)
        connection = connections[using]
        if along is not None and not (rows and connection.vendor == "postgresql"):
            query, values = along
            query.execute(*values, using=using)
            along = None
        if not rows:
            return []
        now = self._now()
        values = [self._every_column(row, now) for row in rows]
        if not connection.features.can_return_rows_from_bulk_insert:
            objects = self.model.objects.using(using).bulk_create(
                self.model(**dict(zip(self._attnames_in_order, row, strict=True))) for row in values
            )
            return [instance.pk for instance in objects]
        if along is not None:
            query, along_values = along
            along = query.sql_and_params(*along_values, using=using)
        return self._execute(connection, self._prepared(values, connection), along=along, keys=keys)

    def insert_fanned(self, groups, varying, *, using=None):
        """Saves, for each (shared, values) of ``groups``, one row per item of ``values`` in the column ``varying``
        (an attribute name), every other column as ``shared`` gives it (a row as ``insert_values`` takes one, without
        ``varying``): a notice to each member of a team. A group's shared values are prepared and sent once and its
        values as one array (JSON text on SQLite), in one statement for every group, so only the database's own work
        grows with the rows. A column with a callable default (``uuid4``) must be given: one call cannot serve every
        row. Returns the new keys, in no promised order."""
        using = using or router.db_for_write(self.model)
        connection = connections[using]
        groups = [(shared, list(values)) for shared, values in groups]
        if varying not in self._attnames or any(varying in shared for shared, _values in groups):
            raise TypeError(f"{varying!r} must be a column of {self.model.__name__}, and not among the shared values")
        groups = [(shared, values) for shared, values in groups if values]
        if not groups:
            return []
        if not self.fans_out(connection):
            rows = [{**shared, varying: value} for shared, values in groups for value in values]
            return self.insert_values(rows, using=using)
        sql, params = self.fanned_sql_and_params(groups, varying, connection)
        with statement_cursor(connection, len(params)) as cursor:
            cursor.execute(sql, params)
            return [key for (key,) in connection.ops.fetch_returned_insert_rows(cursor)]

    def fanned_sql_and_params(self, groups, varying, connection):
        """The statement ``insert_fanned`` runs for non-empty ``groups`` where the database takes it (``fans_out``),
        and its parameters, for another statement to run it as its ``WITH`` query."""
        at = self._attnames_in_order.index(varying)
        called = [name for name, _field, stamped, default in self._columns() if default is _MISSING and not stamped]
        now, params = self._now(), []
        for shared, values in groups:
            if missing := [attname for attname in called if attname not in shared and attname != varying]:
                raise TypeError(f"insert_fanned needs {missing}: a callable default cannot serve every row")
            (prepared,) = self._prepared([self._every_column({**shared, varying: None}, now)], connection)
            params += prepared[:at] + prepared[at + 1 :] + [self._fan(values, self.fields[at], connection)]
        return self._fanned_statement(connection, varying, len(groups)), params

    def fans_out(self, connection):
        """Whether ``insert_fanned`` sends each group's values as one array on ``connection``."""
        if connection.vendor == "postgresql":
            return self._by_column(connection)
        return connection.vendor == "sqlite" and connection.features.can_return_rows_from_bulk_insert

    def _fan(self, values, field, connection):
        """The parameter holding one column's values: a list for PostgreSQL's UNNEST, JSON for SQLite's json_each."""
        same = saved_unchanged(field, connection)
        prepared = [value if value.__class__ in same else field.get_db_prep_save(value, connection) for value in values]
        if connection.vendor == "postgresql":
            return prepared
        if any(value is not None and value.__class__ not in (int, str) for value in prepared):
            raise TypeError("insert_fanned spreads integers and text over SQLite's rows, nothing else")
        return json.dumps(prepared)

    def _fanned_statement(self, connection, varying, group_count):
        """INSERT ... SELECT for ``group_count`` groups: each group's shared values, and one row per item of its
        array of the ``varying`` column's values."""
        known = self._statements.setdefault(connection, {})
        key = ("fanned", varying, group_count)
        if key not in known:
            ops, meta = connection.ops, self.model._meta
            postgresql = connection.vendor == "postgresql"
            spread = self.fields[self._attnames_in_order.index(varying)]
            chosen = ", ".join(
                "fan.value" if field is spread else f"%s::{cast_type(field, connection)}" if postgresql else "%s"
                for field in self.fields
            )
            source = (
                f"UNNEST((%s)::{cast_type(spread, connection)}[]) AS fan(value)"
                if postgresql
                else "json_each(%s) AS fan"
            )
            one_group = f"SELECT {chosen} FROM {source}"  # noqa: S608 - columns of our own models
            groups = " UNION ALL ".join([one_group] * group_count)
            columns = ", ".join(ops.quote_name(field.column) for field in self.fields)
            returning, _params = ops.return_insert_columns([meta.pk])
            known[key] = f"{ops.insert_statement()} {ops.quote_name(meta.db_table)} ({columns}) {groups} {returning}"
        return known[key]

    def _now(self):
        """The time this call stamps on ``auto_now``/``auto_now_add`` columns, by attribute name."""
        return {attname: _now_for(field) for attname, field, stamped, _default in self._columns() if stamped}

    def _every_column(self, row, now):
        """``row`` (plain values by attribute name) with every column's value, in the INSERT's order."""
        if not row.keys() <= self._attnames:
            raise TypeError(f"{self.model.__name__} has no columns {sorted(row.keys() - self._attnames)}")
        if any(hasattr(value, "resolve_expression") for value in row.values()):
            raise TypeError("insert_values takes plain values, not expressions")
        return [
            now[attname]
            if stamped
            else row[attname]
            if attname in row
            else field.get_default()
            if default is _MISSING
            else default
            for attname, field, stamped, default in self._columns()
        ]

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
                _MISSING if field.has_default() and callable(field.default) else field.get_default(),
            )
            for field in self.fields
        ]
        return self._column_plan

    def _prepared(self, rows, connection):
        """Each value prepared by its field for ``connection``; a value repeated down a column (the case, the time,
        the text of a notice sent to several members) is prepared once."""
        unchanged = self._unchanged.get(connection)
        if unchanged is None:
            unchanged = self._unchanged[connection] = [saved_unchanged(field, connection) for field in self.fields]
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
                if value.__class__ not in SAME_WHEN_EQUAL and not isinstance(value, enum.Enum):
                    out.append(field.get_db_prep_save(value, connection))
                    continue
                key = (at, value.__class__, value)
                ready = known.get(key, _MISSING)
                if ready is _MISSING:
                    ready = known[key] = field.get_db_prep_save(value, connection)
                out.append(ready)
            prepared.append(out)
        return prepared

    def _execute(self, connection, rows, along=None, keys=True):
        """Runs the INSERTs of prepared ``rows`` (in batches the database accepts) and returns the new keys (None
        with ``keys=False``, which leaves them unread). ``along``: the SQL and parameters of a statement the first
        INSERT runs as its ``WITH`` query."""
        wanted = keys
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
            if along is not None:
                (along_sql, along_params), along = along, None
                sql, params = f"WITH along AS ({along_sql}) {sql}", [*along_params, *params]
            opened = statement_cursor if wanted else unread_statement_cursor
            with opened(connection, len(params)) as cursor:
                cursor.execute(sql, params)
                # SQLite keeps a statement whose rows are not all read open, and then refuses to commit.
                if wanted or connection.vendor != "postgresql":
                    keys += [key for (key,) in connection.ops.fetch_returned_insert_rows(cursor)]
        if not wanted:
            return None
        if len(keys) != len(rows):
            raise RuntimeError(f"{len(rows)} rows inserted, {len(keys)} keys returned")
        return keys


_MISSING = object()


def cast_type(field, connection):
    """The column's database type without its size, for a cast: an array of varchar(50) values would be cut to it."""
    return field.db_type(connection).split("(")[0]


def _now_for(field):
    """What the field's ``pre_save`` puts in an ``auto_now``/``auto_now_add`` column."""
    if isinstance(field, models.DateTimeField):
        return timezone.now()
    if isinstance(field, models.DateField):
        return datetime.date.today()
    return datetime.datetime.now().time()
