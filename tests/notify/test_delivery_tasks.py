"""A case's notices and the tasks that deliver them are the rows that saving each notice and
``enqueue_notifications`` write: DELIVERY_BATCH notices at most to a task, each task ready for the worker. On
PostgreSQL both go in one statement, elsewhere one after the other; either way they commit or roll back together."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from cocdesk.common.prepared_insert import PreparedInsert
from cocdesk.notify.delivery_tasks import DELIVERY_BATCH, enqueue_notifications, insert_with_tasks
from cocdesk.notify.domain import notify_members, queue_case_notices
from cocdesk.notify.models import Notification
from cocdesk.notify.tasks import deliver_notifications
from tests.factories import member, report_case

# What differs between any two tasks, or any two notices, written at different moments.
OWN_TASK_COLUMNS = {"id", "enqueued_at"}
OWN_NOTICE_COLUMNS = {"id", "created_at", "next_attempt_at"}
NEW_REPORT = {"kind": "new_report", "subject": "A new report", "lines": ["A report came in."]}
URGENT = {"kind": "urgent_page", "subject": "An urgent report", "lines": ["Someone may be in danger."]}


def columns(row, leave_out):
    return {f.attname: getattr(row, f.attname) for f in row._meta.concrete_fields if f.attname not in leave_out}


def new_tasks(before):
    """The tasks written since ``before`` (the ids of those there were), each with its notification ids."""
    tasks = list(DBTaskResult.objects.exclude(pk__in=before))
    return sorted(tasks, key=lambda task: task.args_kwargs["args"][0])


class Undone(Exception):
    """Raised to roll back rows a test wrote only to read them."""


@pytest.fixture
def case(organization):
    """A case of the organization, taken in before its team exists: its own notices are not the test's."""
    case, _receipt = report_case(organization)
    return case


def team_notices(organization, total):
    """(memberships, notice) of ``queue_case_notices`` telling ``total`` recipients in two notices: everyone of a
    team of the larger half gets the first, the smaller half the second (none, when ``total`` is 1)."""
    team = [member(organization, "responder") for _ in range((total + 1) // 2)]
    return [(team, NEW_REPORT), (team[: total // 2], URGENT)]


@pytest.mark.django_db
@pytest.mark.parametrize("total", [1, DELIVERY_BATCH, DELIVERY_BATCH + 1])
def test_case_notices_and_their_tasks_are_the_rows_queued_notices_and_enqueue_write(organization, case, total):
    notices = team_notices(organization, total)
    before = set(DBTaskResult.objects.values_list("pk", flat=True))
    ids = queue_case_notices(case, notices)
    tasks = new_tasks(before)

    assert len(ids) == len(set(ids)) == total
    batches = [task.args_kwargs["args"][0] for task in tasks]
    assert sorted(pk for batch in batches for pk in batch) == sorted(ids)
    assert all(batch == sorted(batch) and 0 < len(batch) <= DELIVERY_BATCH for batch in batches)
    assert len(tasks) == -(-total // DELIVERY_BATCH)
    assert set(DBTaskResult.objects.ready().values_list("pk", flat=True)) >= {task.pk for task in tasks}
    for task, batch in zip(tasks, batches, strict=True):
        # As django-tasks writes a task's arguments, and a task id as its uuid4 makes one.
        assert task.args_kwargs == {"args": [batch], "kwargs": {}}
        assert task.id.version == 4 and task.enqueued_at is not None
        assert task.task_result.task.func is deliver_notifications.func
        assert (task.task_result.args, task.task_result.kwargs) == ([batch], {})

    with pytest.raises(Undone), transaction.atomic():
        # The tasks enqueue_notifications writes for the same ids in their order, and the notices that saving one
        # instance per member (notify_members, as before) writes; read, then rolled back.
        enqueue_notifications(sorted(ids))
        expected_tasks = new_tasks(before | {task.pk for task in tasks})
        queued = [notify_members(team, case=case, **notice) for team, notice in notices]
        expected_notices = [columns(n, OWN_NOTICE_COLUMNS) for n in Notification.objects.filter(pk__in=_pks(queued))]
        raise Undone
    assert [columns(t, OWN_TASK_COLUMNS) for t in tasks] == [columns(t, OWN_TASK_COLUMNS) for t in expected_tasks]
    saved = [columns(n, OWN_NOTICE_COLUMNS) for n in Notification.objects.filter(pk__in=ids)]
    assert sorted(saved, key=_notice_order) == sorted(expected_notices, key=_notice_order)


def _pks(queued):
    return [notification.pk for notifications in queued for notification in notifications]


def _notice_order(notice):
    return notice["recipient_id"], notice["kind"]


@pytest.mark.django_db
def test_on_postgresql_notices_and_tasks_are_one_statement_elsewhere_two(organization, case):
    notices = team_notices(organization, 3)
    before = set(DBTaskResult.objects.values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        ids = queue_case_notices(case, notices)
    assert Notification.objects.filter(pk__in=ids).count() == 3
    assert [task.args_kwargs["args"][0] for task in new_tasks(before)] == [sorted(ids)]
    if connection.vendor == "postgresql":
        assert len(queries) == 1 and queries[0]["sql"].startswith("WITH notices AS (INSERT")
    else:
        assert len(queries) == 2
        # SQLite cannot run the two inserts as one statement: the caller is told so before anything is written.
        groups = [({"case_id": case.pk, "kind": "direct"}, [notices[0][0][0].user_id])]
        with CaptureQueriesContext(connection) as queries:
            assert insert_with_tasks(PreparedInsert(Notification), groups, using=connection.alias) is None
        assert not queries and not Notification.objects.filter(kind="direct").exists()


@pytest.mark.django_db
def test_members_without_an_address_get_no_notice_and_no_place_in_a_task(organization, case):
    reachable = member(organization, "responder")
    unreachable = [member(organization, "responder") for _ in range(2)]
    for membership in unreachable:
        membership.user.email = ""
        membership.user.save()
    before = set(DBTaskResult.objects.values_list("pk", flat=True))
    ids = queue_case_notices(case, [([reachable, *unreachable], NEW_REPORT), (unreachable, URGENT)])
    assert list(Notification.objects.filter(pk__in=ids).values_list("recipient_id", "kind")) == [
        (reachable.user_id, "new_report")
    ]
    assert [task.args_kwargs["args"][0] for task in new_tasks(before)] == [ids]


@pytest.mark.django_db
@pytest.mark.parametrize("groups", [0, 1, 2], ids=["no notice", "one to nobody", "two to nobody"])
def test_notices_to_nobody_write_nothing_and_ask_the_database_nothing(organization, case, groups):
    notices_before, tasks_before = Notification.objects.count(), DBTaskResult.objects.count()
    with CaptureQueriesContext(connection) as queries:
        assert queue_case_notices(case, [([], NEW_REPORT), ([], URGENT)][:groups]) == []
    assert not queries
    assert (Notification.objects.count(), DBTaskResult.objects.count()) == (notices_before, tasks_before)


@pytest.mark.django_db
def test_notices_and_their_tasks_roll_back_with_the_transaction_around_them(organization, case):
    notices = team_notices(organization, DELIVERY_BATCH + 1)
    notices_before, tasks_before = Notification.objects.count(), DBTaskResult.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        ids = queue_case_notices(case, notices)
        assert DBTaskResult.objects.count() == tasks_before + 2
        raise RuntimeError("the intake failed after telling the team")
    assert not Notification.objects.filter(pk__in=ids).exists()
    assert (Notification.objects.count(), DBTaskResult.objects.count()) == (notices_before, tasks_before)
