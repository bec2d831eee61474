"""The deadline sweep at the database level, on a controlled clock (``clock.sweep(now=...)``): which cases it reads
(only those whose stored ``next_alert_at`` has come), what it stores for next time, what a burst of due cases costs,
and who hears of it. test_deadlines.py covers the stages of one case; this file covers the sweep as a whole."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cocdesk.cases.domain import clock, workflow
from cocdesk.cases.domain.clock import sweep
from cocdesk.cases.domain.keys import erase_case
from cocdesk.cases.domain.recusal import recuse
from cocdesk.cases.enums import AlertStage, DeadlineKind, Finding, MessageKind, RecusalReason, RecusalSource
from cocdesk.cases.models import DeadlineAlert
from cocdesk.common.models import AuditEvent
from cocdesk.notify.models import Notification
from tests.clock import acknowledge, age, fresh
from tests.factories import OrganizationFactory, SpaceFactory, member, report_case
from tests.sanctions.factories_decisions import decide

DESCRIPTION = "Canary-Sweep-41c7: he followed me to the hotel after the meetup."
H = timedelta(hours=1)
M = timedelta(minutes=1)
D = timedelta(days=1)
ALERT_KINDS = ["deadline_reminder", "deadline_missed", "fallback_escalation"]
TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "BEGIN", "COMMIT")


@pytest.fixture
def team(db):
    organization = OrganizationFactory()  # the procedures' defaults: 24 h, 7 days, fallback 24 h after a miss
    return SimpleNamespace(
        organization=organization,
        leads=[member(organization, "lead", username=name) for name in ("lea-lead", "leo-lead")],
        responder=member(organization, "responder", username="rui-responder"),
        fallback=member(organization, "fallback", username="fen-fallback"),
    )


def new_case(team, **answers):
    case, _receipt = report_case(team.organization, description=DESCRIPTION, **answers)
    return fresh(case)


def told(case, kind):
    notifications = Notification.objects.filter(case=case, kind=kind).select_related("recipient")
    return sorted(notification.recipient.username for notification in notifications)


def alerts(case):
    return sorted((a.deadline, a.stage, a.due_at) for a in DeadlineAlert.objects.filter(case=case))


def statements(captured):
    """The SQL a block ran, without the savepoints that the test's own transaction turns ``atomic()`` into."""
    return [query["sql"] for query in captured.captured_queries if not query["sql"].startswith(TRANSACTION_CONTROL)]


def swept(now):
    """sweep(now) and the statements it ran."""
    with CaptureQueriesContext(connection) as captured:
        sent = sweep(now=now)
    return sent, statements(captured)


# --- an idle sweep -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("open_cases", [1, 30])
def test_an_idle_sweep_reads_no_case_and_runs_one_query(team, open_cases):
    cases = [new_case(team) for _ in range(open_cases)]
    latest = max(case.received_at for case in cases)
    for now in (latest + M, latest + 17 * H):  # every reminder is still hours away
        sent, sql = swept(now)
        assert sent == 0
        assert len(sql) == 1, sql
        assert "next_alert_at" in sql[0]
    assert not DeadlineAlert.objects.exists()
    assert not Notification.objects.filter(kind__in=ALERT_KINDS).exists()


# --- the stored next alert moment ----------------------------------------------------------------------------------


def test_next_alert_at_follows_the_running_promises(team):
    case = new_case(team)
    received = case.received_at
    # After intake: the acknowledgement's reminder, at three quarters of its 24 hours.
    assert case.acknowledge_due == received + 24 * H
    assert case.next_due_at == case.acknowledge_due
    assert case.next_alert_at == received + 0.75 * 24 * H == received + 18 * H

    # The reminder sent, the next moment is the acknowledgement's due time.
    assert sweep(now=received + 19 * H) == 1
    case = fresh(case)
    assert case.next_alert_at == case.acknowledge_due
    assert case.next_due_at == case.acknowledge_due

    # Acknowledged: only the update clock runs, and its reminder is the next moment (75 % of 7 days).
    case = acknowledge(case, team.responder)
    assert case.acknowledged_at is not None
    assert case.next_due_at == case.update_due == received + 7 * D
    assert case.next_alert_at == received + 0.75 * 7 * D

    # An update restarts the clock, and the next moment with it.
    case = acknowledge(case, team.leads[0], kind=MessageKind.UPDATE)
    assert case.next_due_at == case.update_due == case.last_update_at + 7 * D
    assert case.next_alert_at == case.last_update_at + 0.75 * 7 * D

    # The update reminder sent, then the miss, then the fallback stage: each moves the next moment on.
    assert sweep(now=case.next_alert_at + M) == 1
    assert fresh(case).next_alert_at == case.update_due
    assert sweep(now=case.update_due + M) == 1
    escalate_after = team.organization.fallback_escalation_hours * H
    assert fresh(case).next_alert_at == case.update_due + escalate_after
    assert sweep(now=case.update_due + escalate_after + M) == 1
    assert fresh(case).next_alert_at is None, "every stage of every running promise was sent"
    assert sweep(now=case.update_due + 30 * D) == 0


def test_a_decided_or_closed_case_has_no_next_alert_and_is_never_read(team):
    lead = team.leads[0]
    decided, closed = new_case(team), new_case(team)
    for case in (decided, closed):
        decide(case, by=lead.user, finding=Finding.VIOLATION)
    workflow.transition(closed, "close", by=lead.user)
    for case in (decided, closed):
        case = age(case, 40 * D)  # every deadline it ever had is long past
        assert case.next_alert_at is None
        assert case.next_due_at is None
    sent, sql = swept(timezone.now())
    assert sent == 0
    assert len(sql) == 1, "the sweep found nothing to lock"
    assert not DeadlineAlert.objects.exists()


def test_an_erased_case_has_no_next_alert(team):
    case = new_case(team)
    erase_case(case)
    assert fresh(case).next_alert_at is None
    sent, sql = swept(case.received_at + 30 * D)
    assert (sent, len(sql)) == (0, 1)


# --- a burst -------------------------------------------------------------------------------------------------------


@pytest.fixture
def burst(team):
    """60 cases received together; every third one is assigned to the responder."""
    cases = [new_case(team) for _ in range(60)]
    for case in cases[::3]:
        workflow.assign(case, [team.responder], by=team.leads[0].user)
    latest = max(case.received_at for case in cases)
    return SimpleNamespace(cases=cases, assigned={case.pk for case in cases[::3]}, latest=latest)


def sweep_events(action):
    return sorted(AuditEvent.objects.filter(action=action).values_list("case_id", flat=True))


def test_a_burst_of_sixty_due_cases_is_alerted_once_each_in_one_sweep(team, burst):
    case_ids = sorted(case.pk for case in burst.cases)
    everyone = ["lea-lead", "leo-lead", "rui-responder"]

    # Every reminder comes due at once.
    reminded_at = burst.latest + 19 * H
    assert sweep(now=reminded_at) == 60
    for case in burst.cases:
        assert alerts(case) == [(DeadlineKind.ACKNOWLEDGE, AlertStage.REMINDER, case.acknowledge_due)]
        assert told(case, "deadline_reminder") == (["rui-responder"] if case.pk in burst.assigned else everyone)
        assert fresh(case).next_alert_at == case.acknowledge_due
    assert sweep_events("deadline.reminder") == case_ids
    call_command("verify_audit")
    notified = Notification.objects.filter(kind__in=ALERT_KINDS).count()
    assert notified == 20 * 1 + 40 * 3

    # The same moment again: nothing new.
    assert sweep(now=reminded_at) == 0
    assert DeadlineAlert.objects.count() == 60
    assert Notification.objects.filter(kind__in=ALERT_KINDS).count() == notified
    assert sweep_events("deadline.reminder") == case_ids

    # Every acknowledgement is missed at once: the leads hear of each case, once.
    missed_at = burst.latest + 24 * H + M
    assert sweep(now=missed_at) == 60
    assert sweep(now=missed_at) == 0
    for case in burst.cases:
        assert told(case, "deadline_missed") == ["lea-lead", "leo-lead"]
        assert not fresh(case).under_fallback
    assert sweep_events("deadline.escalation") == case_ids

    # Still missed a day later: each case falls to the fallback member, who is told of each, once.
    fallback_at = missed_at + team.organization.fallback_escalation_hours * H
    assert sweep(now=fallback_at) == 60
    assert sweep(now=fallback_at) == 0
    for case in burst.cases:
        case = fresh(case)
        assert case.under_fallback and case.fallback_escalated_at == fallback_at
        assert told(case, "fallback_escalation") == ["fen-fallback"]
        assert [stage for _kind, stage, _due in alerts(case)] == [
            AlertStage.ESCALATION,
            AlertStage.FALLBACK,
            AlertStage.REMINDER,
        ]
    assert sweep_events("deadline.fallback") == case_ids
    assert DeadlineAlert.objects.count() == 180
    call_command("verify_audit")
    # Alerts name cases, never their content.
    for notification in Notification.objects.filter(kind__in=ALERT_KINDS):
        assert DESCRIPTION not in notification.subject and DESCRIPTION not in notification.body


def burst_queries(case_count, stage):
    """The statements of one sweep that sends ``stage`` for ``case_count`` cases, in a fresh organization.
    One lead and one fallback member, so each alert is one notification: 60 of them fit in one INSERT even under
    SQLite's limit of 999 parameters."""
    organization = OrganizationFactory()
    lead = member(organization, "lead")
    member(organization, "fallback")
    cases = [report_case(organization, description=f"Case {n}")[0] for n in range(case_count)]
    workflow.assign(cases[0], [lead], by=lead.user)
    due = max(case.acknowledge_due for case in cases)
    moments = {
        AlertStage.REMINDER: due - 5 * H,
        AlertStage.ESCALATION: due + M,
        AlertStage.FALLBACK: due + organization.fallback_escalation_hours * H + 2 * M,
    }
    if stage == AlertStage.FALLBACK:
        assert sweep(now=moments[AlertStage.ESCALATION]) == case_count
    sent, sql = swept(moments[stage])
    assert sent == case_count
    assert DeadlineAlert.objects.filter(case__organization=organization, stage=stage).count() == case_count
    return len(sql)


@pytest.mark.django_db
@pytest.mark.parametrize("stage", [AlertStage.REMINDER, AlertStage.ESCALATION])
def test_a_burst_costs_the_same_queries_for_one_and_for_sixty_due_cases(stage):
    assert burst_queries(1, stage) == burst_queries(60, stage)


@pytest.mark.django_db
def test_a_burst_of_fallback_escalations_costs_the_same_queries_for_one_and_for_sixty_due_cases():
    assert burst_queries(1, AlertStage.FALLBACK) == burst_queries(60, AlertStage.FALLBACK)


# --- who never hears of it -----------------------------------------------------------------------------------------


def test_recused_members_and_members_of_other_spaces_never_get_a_sweep_notification(team):
    organization = team.organization
    here = SpaceFactory(organization=organization, name="Here")
    elsewhere = SpaceFactory(organization=organization, name="Elsewhere")

    def scoped(role, username, space):
        membership = member(organization, role, username=username)
        membership.spaces.add(space)
        return membership

    here_lead = scoped("lead", "hal-here-lead", here)
    away = [
        scoped("responder", "elsa-elsewhere", elsewhere),
        scoped("lead", "eli-elsewhere-lead", elsewhere),
        scoped("fallback", "efa-elsewhere-fallback", elsewhere),
    ]
    excluded = member(organization, "lead", username="xena-excluded-lead")
    recused = [
        member(organization, "responder", username="rex-recused"),
        member(organization, "lead", username="ros-recused-lead"),
        member(organization, "fallback", username="ria-recused-fallback"),
    ]
    case = new_case(team, space=here, excluded_members=[excluded])
    elsewhere_case = new_case(team, space=elsewhere)
    spaceless_case = new_case(team)
    for membership in recused:
        recuse(case, membership, reason=RecusalReason.CO_WORKER, source=RecusalSource.DECLARED)
    assert not fresh(case).under_fallback, "two recused leads are within the threshold"

    start = max(c.received_at for c in (case, elsewhere_case, spaceless_case))
    for now in (start + 19 * H, start + 24 * H + M, start + 49 * H, start + 6 * D, start + 7 * D + M, start + 9 * D):
        sweep(now=now)

    # Everyone who may see the case heard of it (the fallback member once it fell to them, after 49 h)...
    assert sorted(set(told(case, "deadline_reminder"))) == [
        "fen-fallback",
        "hal-here-lead",
        "lea-lead",
        "leo-lead",
        "rui-responder",
    ]
    assert sorted(set(told(case, "deadline_missed"))) == ["fen-fallback", "hal-here-lead", "lea-lead", "leo-lead"]
    assert sorted(set(told(case, "fallback_escalation"))) == ["fen-fallback"]
    # ...and nobody else: not the recused members, not the excluded lead, not those of another space. (The members
    # recused after intake were told of the new report before their recusal; the sweep never told them anything.)
    for membership in [*recused, excluded, *away]:
        sent = Notification.objects.filter(recipient=membership.user, case=case, kind__in=ALERT_KINDS)
        assert not sent.exists(), membership.user.username
    for membership in [excluded, *away]:
        assert not Notification.objects.filter(recipient=membership.user, case=case).exists()
    # A case without a space stays with the organization-wide team: scoped members never hear of it either.
    for membership in [here_lead, *away]:
        assert not Notification.objects.filter(recipient=membership.user, case=spaceless_case).exists()
    assert sorted(set(told(spaceless_case, "fallback_escalation"))) == ["fen-fallback", "ria-recused-fallback"]
    # The members of the other space do hear of their own space's case (the test could not pass by silence).
    assert "elsa-elsewhere" in told(elsewhere_case, "deadline_reminder")
    assert "eli-elsewhere-lead" in told(elsewhere_case, "deadline_missed")
    assert "efa-elsewhere-fallback" in told(elsewhere_case, "fallback_escalation")
    assert "hal-here-lead" not in told(elsewhere_case, "deadline_missed")


# --- batches -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("due_cases", [12, 10])
def test_more_due_cases_than_a_batch_are_all_handled_in_one_sweep(team, monkeypatch, due_cases):
    monkeypatch.setattr(clock, "BATCH_SIZE", 5)
    cases = [new_case(team) for _ in range(due_cases)]
    now = max(case.received_at for case in cases) + 19 * H
    assert sweep(now=now) == due_cases
    for case in cases:
        assert alerts(case) == [(DeadlineKind.ACKNOWLEDGE, AlertStage.REMINDER, case.acknowledge_due)]
        assert fresh(case).next_alert_at == case.acknowledge_due
    assert sorted(AuditEvent.objects.filter(action="deadline.reminder").values_list("case_id", flat=True)) == sorted(
        case.pk for case in cases
    )
    assert sweep(now=now) == 0
    assert DeadlineAlert.objects.count() == due_cases


# --- a case changed after its alert --------------------------------------------------------------------------------


def test_a_case_acknowledged_after_its_reminder_gets_a_new_next_alert_and_no_repeat(team):
    case = new_case(team)
    start = case.received_at
    assert sweep(now=start + 19 * H) == 1
    reminders = Notification.objects.filter(kind="deadline_reminder").count()

    case = acknowledge(case, team.responder)
    assert case.next_alert_at == start + 0.75 * 7 * D, "recomputed from the update clock"
    for now in (start + 19 * H + 30 * M, start + 24 * H + M, start + 49 * H, start + 5 * D):
        assert sweep(now=now) == 0
    assert alerts(case) == [(DeadlineKind.ACKNOWLEDGE, AlertStage.REMINDER, case.acknowledge_due)]
    assert Notification.objects.filter(kind="deadline_reminder").count() == reminders
    assert not Notification.objects.filter(kind__in=["deadline_missed", "fallback_escalation"]).exists()

    # The update clock's own reminder still comes, once.
    assert sweep(now=start + 5 * D + 19 * H) == 1
    assert sweep(now=start + 5 * D + 20 * H) == 0
    assert alerts(case)[-1] == (DeadlineKind.UPDATE, AlertStage.REMINDER, case.update_due)


def test_a_case_acknowledged_after_its_miss_never_falls_to_the_fallback_members(team):
    case = new_case(team)
    start = case.received_at
    assert sweep(now=start + 24 * H + M) == 1  # the leads hear of the miss
    assert fresh(case).next_alert_at == case.acknowledge_due + team.organization.fallback_escalation_hours * H
    case = acknowledge(case, team.leads[0])
    assert case.next_alert_at == start + 0.75 * 7 * D
    assert sweep(now=start + 49 * H) == 0
    case = fresh(case)
    assert case.fallback_escalated_at is None and not case.under_fallback
    assert told(case, "fallback_escalation") == []


def test_a_change_that_keeps_the_deadlines_repeats_no_alert(team):
    """Any save recomputes next_alert_at from the deadline columns: back to the reminder moment, already past.
    The sweep looks once more, finds it sent, and stores the next moment again."""
    case = new_case(team)
    start = case.received_at
    assert sweep(now=start + 19 * H) == 1
    workflow.transition(case, "start_investigation", by=team.leads[0].user)
    case = fresh(case)
    assert case.next_alert_at == start + 18 * H
    notified = Notification.objects.filter(kind__in=ALERT_KINDS).count()

    sent, sql = swept(start + 19 * H + 30 * M)
    assert sent == 0
    assert len(sql) > 1, "the case was read again"
    assert fresh(case).next_alert_at == case.acknowledge_due
    sent, sql = swept(start + 19 * H + 31 * M)
    assert (sent, len(sql)) == (0, 1), "and then left alone until its due time"
    assert Notification.objects.filter(kind__in=ALERT_KINDS).count() == notified
    assert len(alerts(case)) == 1


def test_a_case_made_urgent_at_triage_gets_an_earlier_next_alert(team):
    case = new_case(team)
    assert case.next_alert_at == case.received_at + 18 * H
    lead = team.leads[0]
    case = workflow.record_triage(case, {"ongoing": "yes"}, by=lead.user, category="", space=None)
    case = fresh(case)
    window = team.organization.urgent_acknowledge_within_hours * H
    assert case.acknowledge_due == case.triaged_at + window
    assert case.next_due_at == case.acknowledge_due
    assert case.next_alert_at == case.received_at + (case.acknowledge_due - case.received_at) * 0.75
    assert sweep(now=case.next_alert_at + M) == 1
    assert alerts(case) == [(DeadlineKind.ACKNOWLEDGE, AlertStage.REMINDER, case.acknowledge_due)]
