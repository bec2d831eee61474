"""Deadlines on a controlled clock: ``clock.sweep(now=...)`` with explicit datetimes. Reminders before a deadline,
escalation to the leads when it is missed, the fallback members when it stays missed; each exactly once, never to
a recused member. And the queue's order."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from cocdesk.cases.domain import workflow
from cocdesk.cases.domain.clock import sweep
from cocdesk.cases.domain.recusal import recuse
from cocdesk.cases.domain.reporter import add_reporter_message, find_receipt
from cocdesk.cases.enums import AlertStage, CaseState, DeadlineKind, Finding, MessageKind, RecusalReason, RecusalSource
from cocdesk.cases.models import Case, DeadlineAlert
from cocdesk.common.models import AuditEvent
from cocdesk.notify.models import Notification
from cocdesk.notify.tasks import STALLED_AFTER, requeue_stalled
from cocdesk.orgs.models import Membership
from tests.clock import acknowledge, age, fresh
from tests.factories import OrganizationFactory, member, report_case
from tests.pages import queue_rows
from tests.sanctions.factories_decisions import decide
from tests.team import log_in

DESCRIPTION = "Canary-Deadline-6d2a: he kept messaging me after I asked him to stop."
H = timedelta(hours=1)
M = timedelta(minutes=1)
D = timedelta(days=1)
ALERT_KINDS = ["deadline_reminder", "deadline_missed", "fallback_escalation"]


@pytest.fixture
def team(db):
    organization = OrganizationFactory()  # the procedures' defaults: 24 h, urgent 2 h, 7 days, fallback after 24 h
    return SimpleNamespace(
        organization=organization,
        leads=[member(organization, "lead", username=name) for name in ("lea-lead", "leo-lead")],
        responder=member(organization, "responder", username="rui-responder"),
        # The reporter excluded one lead and one responder: they must never hear of the case.
        recused_lead=member(organization, "lead", username="xena-recused-lead"),
        recused_responder=member(organization, "responder", username="rex-recused"),
        fallback=member(organization, "fallback", username="fen-fallback"),
        recused_fallback=member(organization, "fallback", username="fiona-recused-fallback"),
        staff=member(organization, "staff", username="sid-staff"),
        admin=member(organization, "admin", username="ada-admin"),
        inactive=member(organization, "responder", username="ivo-inactive", is_active=False),
    )


def new_case(team, **answers):
    excluded = [team.recused_lead, team.recused_responder, team.recused_fallback]
    case, _receipt = report_case(team.organization, description=DESCRIPTION, excluded_members=excluded, **answers)
    return case


def told(case, kind):
    """Who got a notification of ``kind`` about ``case``, sorted by username."""
    notifications = Notification.objects.filter(case=case, kind=kind).select_related("recipient")
    return sorted(notification.recipient.username for notification in notifications)


def alerts(case):
    return sorted((alert.deadline, alert.stage, alert.due_at) for alert in DeadlineAlert.objects.filter(case=case))


def alert_notifications(case=None):
    notifications = Notification.objects.filter(kind__in=ALERT_KINDS)
    return notifications.filter(case=case) if case else notifications


def can_see(membership, case):
    user = membership.user
    by_rule = user.has_perm("cases.view_case", case)
    by_query = Case.objects.visible_to(user).filter(pk=case.pk).exists()
    assert by_rule == by_query, "rules.py and visible_to disagree"
    return by_rule


# --- the acknowledgement deadline ----------------------------------------------------------------------------------


def test_acknowledgement_deadline_reminds_then_escalates_then_falls_back_each_once(team):
    case = new_case(team)
    start = case.received_at
    assert case.acknowledge_due == start + 24 * H

    assert sweep(now=start + 17 * H) == 0
    assert not alert_notifications().exists()

    # The 75 % mark is at 18 h: a reminder to every eligible responder and lead, as nobody is assigned.
    assert sweep(now=start + 19 * H) == 1
    assert told(case, "deadline_reminder") == ["lea-lead", "leo-lead", "rui-responder"]
    assert alerts(case) == [(DeadlineKind.ACKNOWLEDGE, AlertStage.REMINDER, case.acknowledge_due)]

    assert sweep(now=start + 19 * H + 30 * M) == 0
    assert alert_notifications().count() == 3

    # Missed: the leads are told, nobody else.
    assert sweep(now=start + 24 * H + M) == 1
    assert told(case, "deadline_missed") == ["lea-lead", "leo-lead"]
    assert alert_notifications().count() == 5
    assert sweep(now=start + 24 * H + 2 * M) == 0

    # Still missed after the organization's fallback delay: the fallback members step in, on this case only.
    other = acknowledge(new_case(team), team.responder)  # received at the same time, but on time
    assert not can_see(team.fallback, case)
    fallback_at = start + 24 * H + team.organization.fallback_escalation_hours * H + M
    assert sweep(now=fallback_at) == 1
    case = fresh(case)
    assert case.fallback_escalated_at == fallback_at, "the sweep's clock, not the wall clock"
    assert can_see(team.fallback, case)
    assert log_in(Client(), team.fallback.user).get(f"/desk/cases/{case.reference}/").status_code == 200
    assert not can_see(team.fallback, other)
    assert not can_see(team.recused_fallback, case)
    assert told(case, "fallback_escalation") == ["fen-fallback"]

    assert sweep(now=fallback_at + M) == 0
    assert sweep(now=fallback_at + 2 * H) == 0
    assert alert_notifications(case).count() == 6
    assert [stage for _kind, stage, _due in alerts(case)] == [
        AlertStage.ESCALATION,
        AlertStage.FALLBACK,
        AlertStage.REMINDER,
    ]
    events = AuditEvent.objects.filter(case=case, action__startswith="deadline.").order_by("pk")
    assert [(event.action, event.actor_kind) for event in events] == [
        ("deadline.reminder", "system"),
        ("deadline.escalation", "system"),
        ("deadline.fallback", "system"),
    ]
    # Alerts name the case, never its content.
    assert all(DESCRIPTION not in n.body and DESCRIPTION not in n.subject for n in alert_notifications())


def test_recused_and_non_handling_members_never_get_an_alert(team):
    case = new_case(team)
    start = case.received_at
    for now in (start + 19 * H, start + 24 * H + M, start + 49 * H, start + 6 * D, start + 7 * D + M, start + 9 * D):
        sweep(now=now)
    never = [
        team.recused_lead,
        team.recused_responder,
        team.recused_fallback,
        team.staff,
        team.admin,
        team.inactive,
    ]
    for membership in never:
        assert not Notification.objects.filter(recipient=membership.user).exists(), membership.user.username


def test_a_reminder_goes_to_the_assignees_when_there_are_any(team):
    case = new_case(team)
    workflow.assign(case, [team.responder], by=team.leads[0].user)
    sweep(now=case.received_at + 19 * H)
    assert told(case, "deadline_reminder") == ["rui-responder"]
    sweep(now=case.received_at + 24 * H + M)
    assert told(case, "deadline_missed") == ["lea-lead", "leo-lead"]


def test_a_reminder_still_reaches_the_team_when_the_only_assignee_was_recused(team):
    case = new_case(team)
    workflow.assign(case, [team.responder], by=team.leads[0].user)
    recuse(case, team.responder, reason=RecusalReason.CO_WORKER, source=RecusalSource.DECLARED, by=team.responder.user)
    assert list(case.assignees.all()) == [], "recusal ends the assignment"
    assert sweep(now=case.received_at + 19 * H) == 1
    assert told(case, "deadline_reminder") == ["lea-lead", "leo-lead"]


@pytest.mark.parametrize(
    ("leaving", "reminded"), [(["rui-responder"], ["leo-lead"]), (["rui-responder", "leo-lead"], ["lea-lead"])]
)
def test_a_reminder_goes_to_the_assignees_still_on_the_team_else_to_the_team(team, leaving, reminded):
    """An assignee whose membership ended keeps the assignment but may no longer see the case: the reminder goes
    to the assignees left, and to everyone who handles cases when none is."""
    case = new_case(team)
    workflow.assign(case, [team.responder, team.leads[1]], by=team.leads[0].user)
    Membership.objects.filter(user__username__in=leaving).update(is_active=False)
    assert sweep(now=case.received_at + 19 * H) == 1
    assert told(case, "deadline_reminder") == reminded


@pytest.mark.parametrize("assigned", ["nobody", "rui", "rui, recused since"])
def test_the_reporter_wrote_notice_goes_to_the_assignees_who_may_still_see_the_case_else_to_the_team(team, assigned):
    excluded = [team.recused_lead, team.recused_responder, team.recused_fallback]
    case, receipt = report_case(team.organization, description=DESCRIPTION, excluded_members=excluded)
    if assigned != "nobody":
        workflow.assign(case, [team.responder], by=team.leads[0].user)
    if assigned == "rui, recused since":
        recuse(case, team.responder, reason=RecusalReason.FAMILY, source=RecusalSource.DECLARED, by=team.leads[0].user)
    add_reporter_message(find_receipt(receipt), "Canary-Wrote-1b0c: he wrote to me again this morning.")
    expected = {
        "nobody": ["lea-lead", "leo-lead", "rui-responder"],
        "rui": ["rui-responder"],
        "rui, recused since": ["lea-lead", "leo-lead"],
    }[assigned]
    assert told(case, "reporter_wrote") == expected
    assert all("Canary-Wrote" not in n.body for n in Notification.objects.filter(kind="reporter_wrote"))


def test_acknowledging_before_the_deadline_stops_the_acknowledgement_clock(team):
    case = new_case(team)
    start = case.received_at
    assert sweep(now=start + 19 * H) == 1  # the reminder went out
    case = acknowledge(case, team.responder, kind=MessageKind.QUESTION)
    assert case.acknowledged_at < case.acknowledge_due
    for now in (start + 19 * H + 30 * M, start + 24 * H + M, start + 49 * H, start + 72 * H):
        assert sweep(now=now) == 0
    assert [stage for _kind, stage, _due in alerts(case)] == [AlertStage.REMINDER]
    assert not Notification.objects.filter(kind__in=["deadline_missed", "fallback_escalation"]).exists()
    assert fresh(case).fallback_escalated_at is None
    assert not can_see(team.fallback, case)


@pytest.mark.parametrize(("hours", "answers"), [(None, {"ongoing": "yes"}), (3, {"physical_danger": "yes"})])
def test_an_urgent_case_uses_the_urgent_acknowledgement_window(team, hours, answers):
    if hours is not None:
        team.organization.urgent_acknowledge_within_hours = hours
        team.organization.save()
    window = (hours or 2) * H
    case = new_case(team, **answers)
    start = case.received_at
    assert case.is_urgent
    assert case.acknowledge_due == start + window
    assert sweep(now=start + window * 0.7) == 0
    assert sweep(now=start + window * 0.8) == 1
    assert told(case, "deadline_reminder") == ["lea-lead", "leo-lead", "rui-responder"]
    assert sweep(now=start + window + M) == 1
    assert told(case, "deadline_missed") == ["lea-lead", "leo-lead"]
    assert sweep(now=start + window + 24 * H + M) == 1
    assert told(case, "fallback_escalation") == ["fen-fallback"]
    assert sweep(now=start + window + 25 * H) == 0


# --- the update deadline -------------------------------------------------------------------------------------------


def test_an_update_restarts_the_seven_day_clock_and_alerts_follow_the_new_due_date(team):
    case = acknowledge(new_case(team), team.responder)
    case = age(case, 6 * D)  # received and acknowledged six days ago: an update is due tomorrow
    start, first_due = case.received_at, case.update_due
    assert first_due == start + 7 * D

    now = timezone.now()
    assert sweep(now=now) == 1
    assert alerts(case) == [(DeadlineKind.UPDATE, AlertStage.REMINDER, first_due)]

    before = timezone.now()
    case = acknowledge(case, team.leads[0], kind=MessageKind.UPDATE)
    after = timezone.now()
    assert before <= case.last_update_at <= after
    assert case.update_due == case.last_update_at + 7 * D
    new_due = case.update_due

    # The first due date passes without an escalation: the update met it.
    assert sweep(now=first_due + M) == 0
    assert sweep(now=first_due + 25 * H) == 0
    # The new due date is reminded and escalated in its turn.
    assert sweep(now=case.last_update_at + 5 * D + 7 * H) == 1
    assert sweep(now=new_due + M) == 1
    assert alerts(case) == sorted(
        [
            (DeadlineKind.UPDATE, AlertStage.REMINDER, first_due),
            (DeadlineKind.UPDATE, AlertStage.REMINDER, new_due),
            (DeadlineKind.UPDATE, AlertStage.ESCALATION, new_due),
        ]
    )
    assert told(case, "deadline_missed") == ["lea-lead", "leo-lead"]
    assert fresh(case).fallback_escalated_at is None


@pytest.mark.parametrize("kind", [MessageKind.ACKNOWLEDGEMENT, MessageKind.QUESTION, MessageKind.OTHER])
def test_other_messages_do_not_restart_the_update_clock(team, kind):
    case = acknowledge(new_case(team), team.responder)
    case = age(case, 6 * D)
    due = case.update_due
    case = acknowledge(case, team.responder, kind=kind)
    assert case.update_due == due
    assert sweep(now=due + M) == 1
    assert alerts(case)[0] == (DeadlineKind.UPDATE, AlertStage.ESCALATION, due)


def test_the_outcome_restarts_the_update_clock_and_a_decided_case_gets_no_alerts(team):
    case = acknowledge(new_case(team), team.responder)
    case = age(case, 6 * D)
    lead = team.leads[0]
    decide(case, by=lead.user, finding=Finding.NO_VIOLATION, body="Outcome.")
    case = fresh(case)
    assert case.update_due == case.last_update_at + 7 * D
    for now in (timezone.now(), case.update_due + M, case.update_due + 30 * D):
        assert sweep(now=now) == 0
    assert alerts(case) == []


def test_closed_decided_and_merged_cases_get_no_alerts(team):
    lead = team.leads[0]
    decided, closed, merged, target = (new_case(team) for _ in range(4))
    for case in (decided, closed):
        decide(case, by=lead.user, finding=Finding.VIOLATION)
    workflow.transition(closed, "close", by=lead.user)
    workflow.merge(acknowledge(merged, lead), into=target, by=lead.user)
    target = acknowledge(target, lead)
    for case in (decided, closed, merged, target):
        age(case, 40 * D)
    start = timezone.now()
    for now in (start, start + 2 * D, start + 40 * D):
        sweep(now=now)
    for case in (decided, closed, merged):
        assert alerts(case) == [], fresh(case).state
        assert not alert_notifications(case).exists()
        assert fresh(case).fallback_escalated_at is None
    # The case the duplicate went into is open, and its missed update is escalated.
    assert {stage for _kind, stage, _due in alerts(target)} == {AlertStage.ESCALATION, AlertStage.FALLBACK}


def test_a_case_reopened_long_after_its_outcome_is_not_overdue_at_once(team):
    case = acknowledge(new_case(team), team.responder)
    lead = team.leads[0]
    decide(case, by=lead.user, finding=Finding.NO_VIOLATION, body="Outcome.")
    case = age(case, 30 * D)
    before = timezone.now()
    case = workflow.transition(case, "reopen", by=lead.user)
    assert case.state == CaseState.REOPENED
    # The update clock restarts at the reopening.
    case = fresh(case)
    assert before <= case.last_update_at <= timezone.now()
    assert case.update_due == case.last_update_at + 7 * D
    assert sweep(now=timezone.now() + M) == 0
    assert fresh(case).fallback_escalated_at is None
    assert not can_see(team.fallback, case)
    # Its alerts follow the new due date.
    assert sweep(now=case.update_due + M) == 1
    assert alerts(case) == [(DeadlineKind.UPDATE, AlertStage.ESCALATION, case.update_due)]


# --- stalled notifications: the clock's other round -----------------------------------------------------------------


def test_requeueing_a_stalled_notification_moves_its_next_attempt_so_a_second_round_requeues_nothing(team):
    new_case(team)  # its notices wait, pending: no worker runs here
    DBTaskResult.objects.all().delete()  # and their delivery task was lost (a worker stopped while holding it)
    now = timezone.now() + 3 * D  # a controlled clock, well apart from the wall clock
    stalled, recent, sent = Notification.objects.order_by("pk")[:3]
    Notification.objects.filter(pk=stalled.pk).update(next_attempt_at=now - STALLED_AFTER - M)
    Notification.objects.filter(pk=recent.pk).update(next_attempt_at=now - STALLED_AFTER + 2 * M)
    Notification.objects.filter(pk=sent.pk).update(next_attempt_at=now - D, state=Notification.State.SENT)
    Notification.objects.exclude(pk__in=[stalled.pk, recent.pk, sent.pk]).update(next_attempt_at=now)
    attempts_before = dict(Notification.objects.values_list("pk", "next_attempt_at"))

    assert requeue_stalled(now) == 1
    assert [task.args_kwargs["args"] for task in DBTaskResult.objects.all()] == [[[stalled.pk]]]
    attempts = dict(Notification.objects.values_list("pk", "next_attempt_at"))
    assert attempts == {**attempts_before, stalled.pk: now + STALLED_AFTER}

    # Right after, it is not put on the queue again.
    assert requeue_stalled(now) == 0
    assert requeue_stalled(now + M) == 0
    assert DBTaskResult.objects.count() == 1
    # Still pending long after (the worker never ran): queued once more, not forgotten.
    assert requeue_stalled(now + 2 * STALLED_AFTER + M) == 2  # the recent one is overdue by now too
    assert DBTaskResult.objects.count() == 2  # both in one batch task
    batches = sorted(sorted(task.args_kwargs["args"][0]) for task in DBTaskResult.objects.all())
    assert batches == [[stalled.pk], sorted([stalled.pk, recent.pk])]
    assert Notification.objects.get(pk=sent.pk).state == Notification.State.SENT


# --- the queue -----------------------------------------------------------------------------------------------------


def test_the_queue_lists_urgent_cases_first_then_by_time_left_to_the_next_deadline(team, client):
    lead = team.leads[0]
    expected = {}

    # Created in the reverse of the expected order, so an unordered queue cannot pass by luck.
    def make(name, *, urgent=False, acknowledged=False, aged=timedelta(0)):
        case = new_case(team, **({"ongoing": "yes"} if urgent else {}))
        if acknowledged:
            case = acknowledge(case, lead)
        expected[name] = age(case, aged)

    make("update in 2 days", acknowledged=True, aged=5 * D)
    make("acknowledge in 24 h")
    make("update in 10 h", acknowledged=True, aged=7 * D - 10 * H)
    make("acknowledge in 4 h", aged=20 * H)
    make("urgent, update in 6 days", urgent=True, acknowledged=True, aged=1 * D)
    make("urgent, acknowledge in 2 h", urgent=True)
    make("urgent, acknowledge overdue by 1 h", urgent=True, aged=3 * H)
    order = list(reversed(expected))

    log_in(client, team.responder.user)
    rows = queue_rows(client.get("/desk/").content)
    assert [row["Reference"] for row in rows] == [expected[name].reference for name in order]
    shown = {row["Reference"]: row for row in rows}
    overdue = shown[expected["urgent, acknowledge overdue by 1 h"].reference]
    assert "overdue" in overdue["_classes"] and overdue["Time left"].startswith("overdue by")
    assert shown[expected["update in 10 h"].reference]["Next deadline"].startswith("Update by")
    assert shown[expected["acknowledge in 4 h"].reference]["Next deadline"].startswith("Acknowledge by")
    # A recused member does not see the case at all.
    log_in(client, team.recused_responder.user)
    assert queue_rows(client.get("/desk/").content) == []
