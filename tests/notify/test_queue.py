"""Queued notifications and their delivery tasks are written together, in the caller's transaction: the task rows
are those django-tasks' database backend writes, and a notice never exists without the task that delivers it."""

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from cocdesk.cases.domain import alerts
from cocdesk.notify.delivery_tasks import DELIVERY_BATCH, enqueue_notifications
from cocdesk.notify.domain import notify_members, queue_case_notices
from cocdesk.notify.models import Notification
from cocdesk.notify.tasks import deliver_notifications
from tests.factories import OrganizationFactory, member, report_case

# What the backend fills in itself, and differs between any two tasks.
OWN_COLUMNS = {"id", "enqueued_at", "args_kwargs"}


def columns(task):
    return {
        field.attname: getattr(task, field.attname)
        for field in DBTaskResult._meta.concrete_fields
        if field.attname not in OWN_COLUMNS
    }


@pytest.mark.django_db
def test_a_task_row_is_the_one_the_backend_writes_on_enqueue():
    written_by_backend = deliver_notifications.enqueue([7, 8]).db_result
    enqueue_notifications([7, 8])
    ours = DBTaskResult.objects.exclude(pk=written_by_backend.pk).get()
    written_by_backend.refresh_from_db()
    assert columns(ours) == columns(written_by_backend)
    assert ours.args_kwargs == written_by_backend.args_kwargs == {"args": [[7, 8]], "kwargs": {}}
    assert ours.task_result.task.func is deliver_notifications.func
    assert ours.enqueued_at is not None and ours.id != written_by_backend.id
    assert DBTaskResult.objects.ready().count() == 2  # the worker takes both alike


@pytest.mark.django_db
def test_notifications_go_to_the_worker_in_batches():
    ids = list(range(1, 2 * DELIVERY_BATCH + 2))
    enqueue_notifications(ids)
    batches = sorted((task.args_kwargs["args"][0] for task in DBTaskResult.objects.all()), key=lambda b: b[0])
    assert batches == [ids[:DELIVERY_BATCH], ids[DELIVERY_BATCH : 2 * DELIVERY_BATCH], ids[2 * DELIVERY_BATCH :]]
    enqueue_notifications([])
    assert DBTaskResult.objects.count() == 3


@pytest.mark.django_db
def test_notices_and_their_tasks_commit_or_roll_back_together(organization):
    members = [member(organization, "responder") for _ in range(3)]
    case, _receipt = report_case(organization)
    notices_before, tasks_before = Notification.objects.count(), DBTaskResult.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        notify_members(members, case=case, kind="test", subject="A test", lines=["A line."])
        assert Notification.objects.count() == notices_before + 3
        assert DBTaskResult.objects.count() == tasks_before + 1
        raise RuntimeError("the step that queued them failed")
    assert Notification.objects.count() == notices_before
    assert DBTaskResult.objects.count() == tasks_before


@pytest.mark.django_db
def test_a_new_report_s_notices_are_queued_with_their_task_at_once(organization):
    lead = member(organization, "lead")
    responder = member(organization, "responder")
    case, _receipt = report_case(organization, ongoing="yes")
    notices = Notification.objects.filter(case=case)
    assert sorted(notices.values_list("recipient_id", "kind")) == sorted(
        [(lead.user_id, "new_report"), (responder.user_id, "new_report"), (lead.user_id, "urgent_page")]
    )
    (task,) = [
        t
        for t in DBTaskResult.objects.all()
        if set(t.args_kwargs["args"][0]) & set(notices.values_list("pk", flat=True))
    ]
    assert sorted(task.args_kwargs["args"][0]) == sorted(notices.values_list("pk", flat=True))
    first = notices.first()
    assert first.state == Notification.State.PENDING and first.channel == Notification.Channel.EMAIL
    assert first.attempts == 0 and first.created_at is not None and first.next_attempt_at is not None
    assert case.reference in first.subject and case.reference in first.body


@pytest.mark.django_db
def test_case_notices_leave_out_members_without_an_address_as_queue_does(organization):
    reachable = member(organization, "responder")
    unreachable = member(organization, "responder")
    unreachable.user.email = ""
    unreachable.user.save()
    case, _receipt = report_case(OrganizationFactory())
    ids = queue_case_notices(case, [([reachable, unreachable], alerts.new_report_notice(case))])
    assert list(Notification.objects.filter(pk__in=ids).values_list("recipient_id", flat=True)) == [reachable.user_id]
