"""prune_records deletes delivered notifications, finished task results and expired throttle counts once they are
older than keep_delivered_days; pending work, recent rows and the notices mail intake threads replies by stay."""

import subprocess
import sys
import time
import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from cocdesk.common.models import ThrottleCount
from cocdesk.common.pruning import PruneSchedule, delete_in_batches, prune_records
from cocdesk.notify.models import Notification
from tests.common.processes import PROJECT_ROOT, environment
from tests.factories import OrganizationFactory, report_case

NOW = timezone.now()
OLD = NOW - timedelta(days=31)
RECENT = NOW - timedelta(days=29)
SENT, CANCELLED, PENDING = Notification.State.SENT, Notification.State.CANCELLED, Notification.State.PENDING


def notification(organization, *, state, created_at, sent_at=None, kind="deadline_reminder", report=None):
    row = Notification.objects.create(
        organization=organization, kind=kind, subject="s", body="", state=state, report=report
    )
    # created_at is set on insert (auto_now_add): put it in the past afterwards.
    Notification.objects.filter(pk=row.pk).update(created_at=created_at, sent_at=sent_at)
    return row.pk


def task_result(*, status, finished_at=None, enqueued_at=OLD):
    row = DBTaskResult.objects.create(
        id=uuid.uuid4(),
        status=status,
        finished_at=finished_at,
        args_kwargs={"args": [1], "kwargs": {}},
        task_path="cocdesk.notify.tasks.deliver_notification",
        backend_name="default",
        run_after=enqueued_at,
    )
    DBTaskResult.objects.filter(pk=row.pk).update(enqueued_at=enqueued_at)
    return row.pk


@pytest.fixture
def notifications(organization):
    case, _receipt = report_case(organization, reporter_email="sam@example.org")
    Notification.objects.all().delete()  # the new-report notices of that case are not under test
    report = case.reports.get()
    return {
        "old sent": notification(organization, state=SENT, created_at=OLD, sent_at=OLD),
        "old cancelled": notification(organization, state=CANCELLED, created_at=OLD),
        "old pending": notification(organization, state=PENDING, created_at=OLD),
        "sent recently after an old creation": notification(organization, state=SENT, created_at=OLD, sent_at=RECENT),
        "recent cancelled": notification(organization, state=CANCELLED, created_at=RECENT),
        "recent sent": notification(organization, state=SENT, created_at=RECENT, sent_at=RECENT),
        "old sent reporter notice": notification(
            organization, state=SENT, created_at=OLD, sent_at=OLD, kind="reporter_notice", report=report
        ),
        "old cancelled reporter notice": notification(
            organization, state=CANCELLED, created_at=OLD, kind="reporter_notice", report=report
        ),
    }


@pytest.fixture
def task_results(db):
    return {
        "old successful": task_result(status="SUCCESSFUL", finished_at=OLD),
        "old failed": task_result(status="FAILED", finished_at=OLD),
        "recent successful": task_result(status="SUCCESSFUL", finished_at=RECENT),
        "recent failed": task_result(status="FAILED", finished_at=RECENT),
        "old waiting": task_result(status="READY"),
        "old running": task_result(status="RUNNING"),
    }


@pytest.fixture
def throttle_counts(db):
    ThrottleCount.objects.create(key="throttle:test:expired", count=5, window_ends_at=NOW - timedelta(seconds=1))
    ThrottleCount.objects.create(key="throttle:test:live", count=5, window_ends_at=NOW + timedelta(minutes=10))


def remaining(model, rows):
    present = set(model.objects.values_list("pk", flat=True))
    return {name for name, pk in rows.items() if pk in present}


def test_old_delivered_records_go_and_pending_or_recent_ones_stay(notifications, task_results, throttle_counts):
    deleted = prune_records(now=NOW)

    assert deleted == {"notifications": 3, "task results": 2, "throttle counts": 1}
    assert remaining(Notification, notifications) == {
        "old pending",
        "sent recently after an old creation",
        "recent cancelled",
        "recent sent",
        "old sent reporter notice",
    }
    assert remaining(DBTaskResult, task_results) == {"recent successful", "recent failed", "old waiting", "old running"}
    assert list(ThrottleCount.objects.values_list("key", flat=True)) == ["throttle:test:live"]
    # Nothing more is due: a second run deletes nothing.
    assert prune_records(now=NOW) == {"notifications": 0, "task results": 0, "throttle counts": 0}


def test_the_kept_days_follow_the_setting(notifications, task_results):
    with override_settings(COCDESK_KEEP_DELIVERED_DAYS=60):
        assert prune_records(now=NOW) == {"notifications": 0, "task results": 0, "throttle counts": 0}
    with override_settings(COCDESK_KEEP_DELIVERED_DAYS=7):
        deleted = prune_records(now=NOW)
    assert deleted["notifications"] == 6 and deleted["task results"] == 4
    assert remaining(Notification, notifications) == {"old pending", "old sent reporter notice"}


def test_rows_go_in_batches(organization):
    for _ in range(7):
        notification(organization, state=SENT, created_at=OLD, sent_at=OLD)
    notification(organization, state=PENDING, created_at=OLD)
    assert delete_in_batches(Notification.objects.exclude(state=PENDING), batch_size=3) == 7
    assert list(Notification.objects.values_list("state", flat=True)) == [PENDING]


def test_the_command_prints_what_it_deleted(notifications, task_results, throttle_counts):
    out = StringIO()
    call_command("prune_records", stdout=out)
    assert out.getvalue().splitlines() == [
        "3 notifications deleted.",
        "2 task results deleted.",
        "1 throttle counts deleted.",
    ]


def test_the_command_can_keep_fewer_days(notifications):
    out = StringIO()
    call_command("prune_records", "--keep-days", "7", stdout=out)
    assert "6 notifications deleted." in out.getvalue()


class Clock:
    """Stands in for time.monotonic: the test moves it."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_the_schedule_prunes_at_once_then_once_per_interval(organization, throttle_counts):
    clock = Clock()
    schedule = PruneSchedule(every_seconds=3600, clock=clock)
    assert schedule.run_if_due() == {"notifications": 0, "task results": 0, "throttle counts": 1}

    notification(organization, state=SENT, created_at=OLD, sent_at=OLD)
    clock.now += 3599
    assert schedule.run_if_due() is None
    assert Notification.objects.exists()
    clock.now += 1
    assert schedule.run_if_due()["notifications"] == 1
    assert not Notification.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_deadline_clock_prunes_as_it_starts(tmp_path):
    """``sweep_deadlines --every N`` (a real process on the test database) prunes on its first round."""
    organization = OrganizationFactory()
    old_sent = notification(organization, state=SENT, created_at=OLD, sent_at=OLD)
    pending = notification(organization, state=PENDING, created_at=OLD)
    command = [sys.executable, "manage.py", "sweep_deadlines", "--every", "1"]
    with (tmp_path / "clock.log").open("wb") as log:
        clock = subprocess.Popen(command, cwd=PROJECT_ROOT, env=environment(), stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while Notification.objects.filter(pk=old_sent).exists() and time.monotonic() < deadline:
            assert clock.poll() is None, (tmp_path / "clock.log").read_text()
            time.sleep(0.2)
        assert not Notification.objects.filter(pk=old_sent).exists()
        assert Notification.objects.filter(pk=pending).exists()
    finally:
        clock.terminate()
        try:
            clock.wait(timeout=15)
        except subprocess.TimeoutExpired:
            clock.kill()
            clock.wait(timeout=15)
