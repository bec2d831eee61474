"""New rows that each take the key of a row inserted just before them, sent to PostgreSQL as one statement.

A report taken in is a case, the report (which takes the case's key) and its receipt (which takes the report's). One
INSERT after another they cost a round trip to the server each, and round trips, not the inserts, are most of what
they cost. As one statement of ``WITH`` queries, each ``INSERT ... RETURNING`` its key for the next, they cost one.
SQLite answers in the worker's own process: there they run one after another.
"""

import weakref
from typing import NamedTuple

from django.db import connections, models, router

from .prepared import statement_cursor
from .prepared_insert import PreparedInsert


class Link(NamedTuple):
    """One row of a chain: ``row`` is a new instance of the inserter's model or plain values by attribute name (as
    ``PreparedInsert.insert_values`` takes them); ``keys`` maps a column of it (an attribute name) to the position in
    the chain of an earlier row whose new key it takes."""

    inserter: PreparedInsert
    row: object
    keys: dict


def insert_chain(links, *, using=None, reading=None):
    """Saves each row of ``links`` (``Link``s) in order and returns their new keys; an instance among them is marked
    saved with its key, as ``PreparedInsert.insert`` marks it. On PostgreSQL in one statement.

    ``reading``: (a ``PreparedQuery`` that only reads, its values), whose rows the caller needs next: on PostgreSQL
    they are read in the same statement, from its snapshot (so without the chain's own rows), elsewhere by a query
    of their own after the chain. Then (the keys, the rows) is returned."""
    links = [Link(*link) for link in links]
    for at, link in enumerate(links):
        columns = {field.attname for field in link.inserter.fields}
        if not link.keys.keys() <= columns or any(not 0 <= earlier < at for earlier in link.keys.values()):
            raise TypeError(f"link {at}: its keys must be its own columns and take earlier links' keys")
        if isinstance(link.row, models.Model) and link.keys:
            raise TypeError(f"link {at}: an instance comes with its own keys; give plain values to take others'")
    if not links:
        return [] if reading is None else ([], reading[0].rows(*reading[1], using=using or "default"))
    using = using or router.db_for_write(links[0].inserter.model)
    connection = connections[using]
    values = [_values(link) for link in links]
    if connection.vendor != "postgresql" or any(value is None for value in values):
        keys = _one_after_another(links, using)
        return keys if reading is None else (keys, reading[0].rows(*reading[1], using=using))
    params = []
    for link, row in zip(links, values, strict=True):
        prepared = link.inserter.prepared_row(row, connection)
        fields = link.inserter.fields
        params += [value for field, value in zip(fields, prepared, strict=True) if field.attname not in link.keys]
    queries, keys = _statement(connection, links)
    sql = f"{queries} SELECT {keys}"
    if reading is not None:
        query, query_values = reading
        read_sql, read_params = query.sql_and_params(*query_values, using=using)
        # The keys are one row, the outer side of a nested loop, which keeps the read's own order; a read of no rows
        # still returns them, with a NULL where "found" is true for each row read.
        sql = (
            f"{sql}, reading.* FROM (SELECT 1) AS one "  # noqa: S608 - our own statements
            f"LEFT JOIN (SELECT true AS found, chain_read.* FROM ({read_sql}) AS chain_read) AS reading ON true"
        )
        params = [*params, *read_params]
    with statement_cursor(connection, len(params)) as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    keys = list(rows[0][: len(links)])
    for link, key in zip(links, keys, strict=True):
        if isinstance(link.row, models.Model):
            link.inserter.saved_as(link.row, key, using)
    if reading is None:
        return keys
    read = [row[len(links) + 1 :] for row in rows if row[len(links)]]
    return keys, query.converted(read, using=using)


def _values(link):
    """What ``prepared_row`` takes for the link's row, a stand-in for each key it takes; None when the ORM must save
    it (an instance with an expression)."""
    if isinstance(link.row, models.Model):
        return link.inserter.values_of(link.row)
    return {**link.row, **dict.fromkeys(link.keys)}


def _one_after_another(links, using):
    keys = []
    for link in links:
        if isinstance(link.row, models.Model):
            link.inserter.insert([link.row], using=using)
            keys.append(link.row.pk)
        else:
            row = {**link.row, **{attname: keys[at] for attname, at in link.keys.items()}}
            keys += link.inserter.insert_values([row], using=using)
    return keys


_statements = weakref.WeakKeyDictionary()


def _statement(connection, links):
    """(``WITH link0 AS (INSERT ... RETURNING id), link1 AS (INSERT ... VALUES ((SELECT id FROM link0), ...)) ...``,
    each link's key as a value to select), built once per connection and shape of chain."""
    shape = tuple((link.inserter, tuple(sorted(link.keys.items()))) for link in links)
    known = _statements.setdefault(connection, {})
    if shape not in known:
        ops = connection.ops
        queries, keys = [], []
        for at, link in enumerate(links):
            meta = link.inserter.model._meta
            pk = ops.quote_name(meta.pk.column)
            columns = ", ".join(ops.quote_name(field.column) for field in link.inserter.fields)
            values = ", ".join(
                _key_of(links, link.keys[field.attname], ops) if field.attname in link.keys else "%s"
                for field in link.inserter.fields
            )
            table = ops.quote_name(meta.db_table)
            insert = f"INSERT INTO {table} ({columns}) VALUES ({values}) RETURNING {pk}"  # noqa: S608 - our models
            queries.append(f"link{at} AS ({insert})")
            keys.append(_key_of(links, at, ops))
        known[shape] = (f"WITH {', '.join(queries)}", ", ".join(keys))
    return known[shape]


def _key_of(links, at, ops):
    """The new key of the chain's row at ``at``, as a value in a later query of the statement."""
    pk = ops.quote_name(links[at].inserter.model._meta.pk.column)
    return f"(SELECT {pk} FROM link{at})"  # noqa: S608 - a column of our own models
