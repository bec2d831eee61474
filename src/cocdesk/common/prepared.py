"""Statements of the hot paths (a reporter's submission above all), built and compiled once per worker.

Building a queryset and compiling it to SQL costs the ORM several times what running the statement costs SQLite or
PostgreSQL on a small indexed read or insert. A ``PreparedQuery`` builds its queryset once per database connection
from stand-in values, keeps the SQL, and runs it with each call's own values put in the stand-ins' places. Rows come
back as the queryset's ``values_list`` would give them: the same converters (dates, booleans, JSON) are applied.
Only equality-style parameters can be stand-ins: a value the ORM would expand (a list for ``__in``) or rewrite
(a pattern for ``__contains``) cannot, and a stand-in missing from the compiled parameters is refused at once.

Inserts have their own module, ``prepared_insert``, and run through the same cursor.

On PostgreSQL these statements also run as the server's prepared statements (``statement_cursor``): planning a small
statement costs PostgreSQL several times what running it does, and a prepared one is planned once per connection.
They go through Django's cursor wrapper all the same, so query counts and debugging see them as any other query.
"""

import secrets
import weakref
from contextlib import contextmanager

from django.conf import settings
from django.db import connections
from django.db.backends.utils import CursorWrapper
from django.db.models.sql import UpdateQuery

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


def statement_cursor(connection, parameter_count=0, *, slot=0):
    """A cursor of ``connection`` (Django's wrapper, as ``connection.cursor()``) for the statements of this module.
    On PostgreSQL it has the server bind the parameters and prepare the statement, once per connection; elsewhere,
    or with ``database_prepared_statements`` off, it is made as ``connection.cursor()`` makes one.

    The cursor is kept open for the connection's next statement (``with`` leaves it open): making one costs Django
    more than a small statement costs SQLite. Django's health check still runs before a request's first statement,
    as ``connection.cursor()`` runs it, and a connection it finds broken is replaced, with a new cursor. While
    queries are logged (``DEBUG``, query counts) each statement gets a new cursor, logged as any other. ``slot``: which
    of the kept cursors, for a statement whose rows are read after another statement ran (``PreparedQuery.sent``)."""
    preparing = (
        connection.vendor == "postgresql"
        and parameter_count <= _MOST_PARAMETERS_PREPARED
        and getattr(settings, "COCDESK_PREPARED_STATEMENTS", True)
    )
    if connection.queries_logged:
        return _new_cursor(connection, preparing)
    if connection.health_check_enabled and not connection.health_check_done:
        connection.close_if_health_check_failed()
    kept = _KEPT_CURSORS.setdefault(connection, {})
    cursor = kept.get((preparing, slot))
    if cursor is None or cursor.cursor.connection is not connection.connection:
        cursor = kept[(preparing, slot)] = _KeptCursor(_new_cursor(connection, preparing).cursor, connection)
    return cursor


def unread_statement_cursor(connection, parameter_count=0):
    """``statement_cursor`` for a statement whose answer is not read (inside ``sent_together`` it waits for nothing):
    a cursor of its own, so that the answer, when it comes, is never taken for another statement's."""
    return statement_cursor(connection, parameter_count, slot=_UNREAD_SLOT)


@contextmanager
def sent_together(using="default", *, ending_transaction=False):
    """Statements run in this block go to PostgreSQL at once but without waiting for each one's answer (psycopg's
    pipeline mode): the answers come back together with the next statement whose rows are read, or when the block
    ends, in one round trip. So statements whose answers nobody reads (an INSERT whose keys the caller does not need,
    run with ``keys=False``) cost no round trip of their own. An error is raised, as Django raises it, when the next
    answer is read or at the latest when the block ends, and the server skips every statement after it: code inside
    must not catch a database error and go on (``get_or_create`` does). Elsewhere (SQLite answers in the worker's own
    process) the block changes nothing.

    ``ending_transaction``: the caller's promise that nothing follows the block in its transaction. When that
    transaction is an outermost ``atomic`` block bound to commit, its COMMIT goes with the block's statements, in
    the same round trip, and Django's own commit at the end of the ``atomic`` block finds nothing left to do. Nested
    in another transaction (a caller's, a test's), the block leaves committing to Django."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    connection.ensure_connection()
    with connection.wrap_database_errors, connection.connection.pipeline():
        yield
        if ending_transaction and _ends_outermost_transaction(connection):
            connection.connection.execute("COMMIT")


def _ends_outermost_transaction(connection):
    """Whether the transaction open is one outermost ``atomic`` block that will commit when it ends."""
    return (
        connection.in_atomic_block
        and len(connection.atomic_blocks) == 1
        and not connection.savepoint_ids
        and connection.commit_on_exit
        and not connection.needs_rollback
        and not connection.closed_in_transaction
    )


class _KeptCursor(CursorWrapper):
    """Django's cursor wrapper, which a ``with`` block leaves open for the next statement."""

    def __exit__(self, kind, value, traceback):
        return None


# Per connection object (one per thread), then (whether the cursor prepares its statements, its slot). Besides the
# first slot, for statements whose rows are read at once: one for a query whose rows are read later
# (``PreparedQuery.sent``), and one for statements whose answers are never read (``unread_statement_cursor``), so that
# no read is ever given another statement's answer.
_SENT_SLOT, _UNREAD_SLOT = 1, 2
_UNREAD_SENT = weakref.WeakKeyDictionary()
_KEPT_CURSORS = weakref.WeakKeyDictionary()


def _new_cursor(connection, preparing):
    if not preparing:
        return connection.cursor()
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        raw.prepare_threshold = _PREPARE_ONLY_WHEN_ASKED
        raw.prepared_max = _STATEMENTS_KEPT_PER_CONNECTION
    preparing_class, logging_class = _postgresql_classes()
    # Django's own cursor() makes the cursor, so its time zone and wrapping apply: only the class differs.
    usual, raw.cursor_factory = raw.cursor_factory, preparing_class
    try:
        cursor = connection.cursor()
    finally:
        raw.cursor_factory = usual
    if connection.queries_logged:
        return logging_class(cursor.cursor, connection)
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
            return _converted(compiler, converters, cursor.fetchall())

    def sent(self, *values, using="default"):
        """Runs the query and returns a function giving its rows, as ``rows`` gives them. Inside ``sent_together`` its
        answer comes back with the next statement whose rows are read, in the same round trip (the server runs it at
        once: a lock it takes is taken then). A query sent while another's rows are unread has those read first: the
        two share a cursor."""
        (compiler, *_rest, converters), connection, sql, params = self._statement(values, using)
        unread = _UNREAD_SENT.pop(connection, None)
        if unread is not None:
            unread()
        cursor = statement_cursor(connection, len(params), slot=_SENT_SLOT)
        cursor.execute(sql, params)
        read = []

        def rows():
            if not read:
                read.append(_converted(compiler, converters, cursor.fetchall()))
                if _UNREAD_SENT.get(connection) is rows:
                    del _UNREAD_SENT[connection]
            return read[0]

        _UNREAD_SENT[connection] = rows
        if connection.vendor != "postgresql":
            rows()  # SQLite keeps a statement whose rows are not all read open, and then refuses to commit.
        return rows

    def converted(self, rows, *, using="default"):
        """Rows of this query read by another statement, as ``rows`` gives them."""
        connection = connections[using]
        compiler, *_rest, converters = self._compiled.get(connection) or self._compile(connection, using)
        return [tuple(row) for row in _converted(compiler, converters, rows)]

    def sql_and_params(self, *values, using="default"):
        """The statement's SQL and its parameters for these values, for another statement to run it with it."""
        _compiled, _connection, sql, params = self._statement(values, using)
        return sql, params

    def execute(self, *values, using="default"):
        """Runs a statement that returns no rows (see ``update_query``); returns the number of rows it changed."""
        _compiled, connection, sql, params = self._statement(values, using)
        with statement_cursor(connection, len(params)) as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount


def _converted(compiler, converters, rows):
    """Rows as the queryset's ``values_list`` gives them: its converters applied (dates, booleans, JSON)."""
    if converters:
        return [tuple(row) for row in compiler.apply_converters(rows, converters)]
    return rows


def update_query(queryset, **values):
    """The UPDATE that ``queryset.update(**values)`` would run, for a ``PreparedQuery`` to build."""
    query = queryset.query.chain(UpdateQuery)
    query.add_update_values(values)
    return query


def field_names(model, *, leave_out=()):
    """The attribute names of ``model``'s columns, for ``values_list`` and ``Model.from_db``."""
    return [field.attname for field in model._meta.concrete_fields if field.name not in leave_out]
