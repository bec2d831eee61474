"""The worker's tasks that deliver saved notifications, written in the caller's transaction.

With django-tasks' database backend a task is a row, written here as the backend's ``enqueue`` writes it: it commits
with the notifications (a notice never exists without the task that delivers it) and rolls back with them. A new
report's notices and their tasks go to PostgreSQL as one statement (``insert_with_tasks``).
"""

import uuid
import weakref

from django.db import connections, router, transaction
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult, get_date_max

from cocdesk.common.prepared import statement_cursor, unread_statement_cursor
from cocdesk.common.prepared_insert import PreparedInsert, cast_type

from .models import Notification

DELIVERY_BATCH = 50
_insert_tasks = PreparedInsert(DBTaskResult)


def enqueue_notifications(notification_ids):
    """Hands saved notifications to the worker, DELIVERY_BATCH to a task. With a backend other than the database's
    the tasks are enqueued once the transaction commits."""
    from .tasks import deliver_notifications

    batches = [
        notification_ids[start : start + DELIVERY_BATCH] for start in range(0, len(notification_ids), DELIVERY_BATCH)
    ]
    if not batches:
        return
    backend = _database_backend(deliver_notifications)
    if backend is None:
        for batch in batches:
            transaction.on_commit(lambda batch=batch: deliver_notifications.enqueue(batch))
        return
    rows = [_task_row(deliver_notifications, backend, uuid.uuid4(), list(batch)) for batch in batches]
    _insert_tasks.insert_values(rows, using=router.db_for_write(DBTaskResult))


def _task_row(task, backend, task_id, batch):
    return {
        "id": task_id,
        # What django-tasks' normalize_json makes of the arguments: the ids are integers already.
        "args_kwargs": {"args": [batch], "kwargs": {}},
        "priority": task.priority,
        "task_path": task.module_path,
        "queue_name": task.queue_name,
        "run_after": task.run_after if task.run_after is not None else get_date_max(),
        "backend_name": backend.alias,
    }


def insert_with_tasks(inserter, groups, *, using, ids=True):
    """``inserter.insert_fanned(groups, "recipient_id")`` of notifications, then ``enqueue_notifications`` of their
    ids, as one statement where the database allows it (PostgreSQL, the database backend, notices and tasks in one
    database): the notices' insert is the ``WITH`` query of the tasks', which number the new ids in batches and write
    a row per batch. Returns the new notifications' ids (with ``ids=False`` they are not read: an empty list), or None
    where the two must be written one after the other."""
    from .tasks import deliver_notifications

    connection = connections[using]
    backend = _database_backend(deliver_notifications)
    groups = [(shared, values) for shared, values in groups if values]
    if (
        not groups
        or backend is None
        or connection.vendor != "postgresql"
        or not inserter.fans_out(connection)
        or router.db_for_write(DBTaskResult) != using
    ):
        return None
    notices_sql, params = inserter.fanned_sql_and_params(groups, "recipient_id", connection)
    template = _insert_tasks.prepared_row(_task_row(deliver_notifications, backend, None, []), connection)
    params += [value for field, value in zip(_insert_tasks.fields, template, strict=True) if field.attname in _GIVEN]
    opened = statement_cursor if ids else unread_statement_cursor
    with opened(connection, len(params)) as cursor:
        cursor.execute(_together_statement(connection, notices_sql), params)
        return [key for (key,) in cursor.fetchall()] if ids else []


# The task's columns given as parameters; the statement makes its id and arguments.
_MADE = ("id", "args_kwargs")
_GIVEN = frozenset(field.attname for field in _insert_tasks.fields) - set(_MADE)
_together_statements = weakref.WeakKeyDictionary()


def _together_statement(connection, notices_sql):
    known = _together_statements.setdefault(connection, {})
    if notices_sql not in known:
        ops = connection.ops
        pk = ops.quote_name(Notification._meta.pk.column)
        made = {
            # A version 4 UUID, as uuid4 makes one.
            "id": "gen_random_uuid()",
            # {"args": [[ids]], "kwargs": {}}, as _task_row writes it.
            "args_kwargs": f"jsonb_build_object('args', jsonb_build_array(jsonb_agg({pk} ORDER BY {pk})), "
            "'kwargs', '{}'::jsonb)",
        }
        columns = ", ".join(ops.quote_name(field.column) for field in _insert_tasks.fields)
        chosen = ", ".join(
            made[field.attname] if field.attname in made else f"%s::{cast_type(field, connection)}"
            for field in _insert_tasks.fields
        )
        numbered = f"SELECT {pk}, (row_number() OVER (ORDER BY {pk}) - 1) / {DELIVERY_BATCH} AS batch FROM notices"  # noqa: S608
        tasks = (
            f"INSERT INTO {ops.quote_name(DBTaskResult._meta.db_table)} ({columns}) "  # noqa: S608 - our own columns
            f"SELECT {chosen} FROM ({numbered}) AS numbered GROUP BY batch"
        )
        known[notices_sql] = f"WITH notices AS ({notices_sql}), tasks AS ({tasks}) SELECT {pk} FROM notices"  # noqa: S608
    return known[notices_sql]


_checked_backends = weakref.WeakSet()


def _database_backend(task):
    """The task's backend if it is django-tasks' database backend with its own ids (whose rows this module can write
    as it does), having checked once that it accepts the task; None for any other backend."""
    backend = task.get_backend()
    if type(backend) is not DatabaseBackend or backend.options.get("id_function"):
        return None
    if backend not in _checked_backends:
        backend.validate_task(task)
        _checked_backends.add(backend)
    return backend
