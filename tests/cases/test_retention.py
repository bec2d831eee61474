"""Retention on a controlled clock (``retention.run(now=...)``): a closed case is announced to its leads, can be
held, and is erased past its organization's retention period, never sooner; every step is audited. Also the case
page's hold form, the cost of an idle pass and the clock command that runs it."""

from datetime import timedelta
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cocdesk.cases.domain import content, retention, team, workflow
from cocdesk.cases.domain.clock import sweep
from cocdesk.cases.domain.recusal import recuse
from cocdesk.cases.enums import CaseState, Channel, Finding, MessageKind, RecusalReason, RecusalSource
from cocdesk.cases.models import Case, Message
from cocdesk.common import crypto
from cocdesk.common.models import AuditEvent
from cocdesk.notify.models import Notification
from cocdesk.orgs.domain.team import update_settings
from cocdesk.orgs.forms import OrganizationSettingsForm
from cocdesk.orgs.policy import RETENTION_NOTICE_DAYS
from tests.clock import acknowledge, fresh
from tests.factories import OrganizationFactory, SpaceFactory, member, report_case
from tests.sanctions.factories_decisions import decide
from tests.team import log_in

DESCRIPTION = "Canary-Retention-7b21: he kept messaging me after the workshop."
TEAM_MESSAGE = "Canary-Retention-7b21 team message"
D = timedelta(days=1)
M = timedelta(minutes=1)
NOTICE = RETENTION_NOTICE_DAYS * D
TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "BEGIN", "COMMIT")


@pytest.fixture
def team_of(db):
    organization = OrganizationFactory()  # the procedures' default retention: 3 years
    here = SpaceFactory(organization=organization, name="Here")
    elsewhere = SpaceFactory(organization=organization, name="Elsewhere")
    elsewhere_lead = member(organization, "lead", username="eli-elsewhere-lead")
    elsewhere_lead.spaces.add(elsewhere)
    return SimpleNamespace(
        organization=organization,
        here=here,
        leads=[member(organization, "lead", username=name) for name in ("lea-lead", "leo-lead")],
        recused_lead=member(organization, "lead", username="ros-recused-lead"),
        elsewhere_lead=elsewhere_lead,
        responder=member(organization, "responder", username="rui-responder"),
        fallback=member(organization, "fallback", username="fen-fallback"),
        admin=member(organization, "admin", username="ada-admin"),
    )


def closed_case(team_of, **answers):
    """A case received, answered, decided and closed now, with its recused lead recused."""
    lead = team_of.leads[0].user
    case, _receipt = report_case(team_of.organization, description=DESCRIPTION, space=team_of.here, **answers)
    team.message_reporter(case, case.reports.get(), author=lead, body=TEAM_MESSAGE, kind=MessageKind.ACKNOWLEDGEMENT)
    recuse(fresh(case), team_of.recused_lead, reason=RecusalReason.CO_WORKER, source=RecusalSource.DECLARED)
    workflow.record_triage(fresh(case), {}, by=lead, category="Harassment", space=team_of.here)
    decide(fresh(case), by=lead, finding=Finding.VIOLATION)
    workflow.transition(fresh(case), "close", by=lead)
    return fresh(case)


def told(case):
    notifications = Notification.objects.filter(case=case, kind="retention_notice").select_related("recipient")
    return sorted(notification.recipient.username for notification in notifications)


def events(case, action):
    return list(AuditEvent.objects.filter(case=case, action=action).order_by("id"))


def readable(case):
    case = fresh(case)
    try:
        return content.report_content(case.reports.select_related("case").get())["description"] == DESCRIPTION
    except crypto.KeyMissing:
        return False


def statements(captured):
    return [query["sql"] for query in captured.captured_queries if not query["sql"].startswith(TRANSACTION_CONTROL)]


# --- the erasure date ----------------------------------------------------------------------------------------------


def test_closing_sets_the_erasure_date_and_reopening_clears_it(team_of):
    case = closed_case(team_of)
    assert case.state == CaseState.CLOSED
    assert case.erase_after == case.closed_at + team_of.organization.retention_days * D
    assert case.retention_notice_sent_at is None

    workflow.transition(case, "reopen", by=team_of.leads[0].user)
    case = fresh(case)
    assert case.state == CaseState.REOPENED
    assert case.erase_after is None and case.retention_notice_sent_at is None


# --- notice, then erasure, never early -----------------------------------------------------------------------------


def test_the_leads_who_may_see_the_case_are_told_once_and_it_is_erased_on_its_date_not_sooner(team_of):
    case = closed_case(team_of)
    erase_after = case.erase_after

    # Up to the notice moment: nothing at all.
    for now in (case.closed_at + D, erase_after - NOTICE - M):
        assert retention.run(now=now) == {"noticed": 0, "erased": 0}
    assert told(case) == []
    assert events(case, "case.retention_notice") == []

    # The notice moment: the leads who may see it hear of it, once; nobody recused, scoped elsewhere or not a lead.
    assert retention.run(now=erase_after - NOTICE) == {"noticed": 1, "erased": 0}
    assert told(case) == ["lea-lead", "leo-lead"]
    for notification in Notification.objects.filter(case=case, kind="retention_notice"):
        assert "Canary-Retention" not in notification.subject + notification.body
        assert f"{timezone.localtime(erase_after):%Y-%m-%d}" in notification.subject
    [notice] = events(case, "case.retention_notice")
    assert notice.actor is None and notice.detail["told"] == 2
    case = fresh(case)
    assert case.retention_notice_sent_at == erase_after - NOTICE
    assert case.erase_after == erase_after, "the notice came on time: the date stays"

    # Until the date: no second notice and no erasure.
    for now in (erase_after - NOTICE + D, erase_after - M):
        assert retention.run(now=now) == {"noticed": 0, "erased": 0}
    assert told(case) == ["lea-lead", "leo-lead"]
    assert readable(case)
    assert not fresh(case).is_erased

    # On the date: erased, once.
    assert retention.run(now=erase_after) == {"noticed": 0, "erased": 1}
    assert retention.run(now=erase_after + D) == {"noticed": 0, "erased": 0}
    assert fresh(case).is_erased
    assert len(events(case, "case.erased")) == 1
    assert told(case) == ["lea-lead", "leo-lead"]


def test_erasure_destroys_the_content_keeps_the_metadata_and_is_audited(team_of):
    case = closed_case(team_of)
    before = fresh(case)
    assert readable(case)
    retention.run(now=case.erase_after - NOTICE)
    retention.run(now=case.erase_after)

    case = fresh(case)
    assert case.is_erased and case.wrapped_data_key is None and case.erase_after is None
    assert not readable(case)
    with pytest.raises(crypto.KeyMissing):
        content.message_body(Message.objects.select_related("case").filter(case=case).first())
    # What statistics read stays as it was.
    for field in ("reference", "state", "received_at", "acknowledged_at", "decided_at", "closed_at", "category"):
        assert getattr(case, field) == getattr(before, field), field
    assert (case.space_id, case.channel, case.violation) == (team_of.here.pk, Channel.WEB, Finding.VIOLATION)
    [erased] = events(case, "case.erased")
    assert erased.actor is None and erased.detail == {"reason": "retention"}
    call_command("verify_audit", stdout=StringIO())


def test_a_case_merged_into_an_erased_case_is_erased_with_it(team_of):
    lead = team_of.leads[0].user
    target, _ = report_case(team_of.organization, description=DESCRIPTION)
    duplicate, _ = report_case(team_of.organization, description="Canary-Retention duplicate")
    duplicate = acknowledge(duplicate, team_of.leads[0])
    workflow.merge(duplicate, into=fresh(target), by=lead)
    decide(fresh(target), by=lead, finding=Finding.NO_VIOLATION)
    workflow.transition(fresh(target), "close", by=lead)
    target = fresh(target)

    retention.run(now=target.erase_after - NOTICE)
    assert told(duplicate) == [], "the leads hear of the case they handle"
    assert retention.run(now=target.erase_after) == {"noticed": 0, "erased": 1}
    duplicate = fresh(duplicate)
    assert duplicate.is_erased and duplicate.state == CaseState.MERGED
    with pytest.raises(crypto.KeyMissing):
        content.report_content(duplicate.reports.select_related("case").get())
    [erased] = events(duplicate, "case.erased")
    assert erased.detail["reason"].startswith("retention of " + target.reference)


# --- what is never erased ------------------------------------------------------------------------------------------


def test_cases_that_are_not_closed_are_never_erased(team_of):
    lead = team_of.leads[0].user
    new, _ = report_case(team_of.organization, description=DESCRIPTION)
    investigating, _ = report_case(team_of.organization, description=DESCRIPTION)
    workflow.transition(investigating, "start_investigation", by=lead)
    decided, _ = report_case(team_of.organization, description=DESCRIPTION)
    decide(decided, by=lead, finding=Finding.UNDETERMINED)
    cases = [new, investigating, decided]
    for case in cases:
        assert fresh(case).erase_after is None
    far = timezone.now() + 100 * 365 * D
    assert retention.run(now=far) == {"noticed": 0, "erased": 0}
    for case in cases:
        assert readable(case) and not fresh(case).is_erased
    assert not Notification.objects.filter(kind="retention_notice").exists()


def test_a_reopened_case_is_not_erased_even_after_its_notice(team_of):
    case = closed_case(team_of)
    erase_after = case.erase_after
    assert retention.run(now=erase_after - NOTICE)["noticed"] == 1
    workflow.transition(case, "reopen", by=team_of.leads[1].user)
    assert retention.run(now=erase_after + D) == {"noticed": 0, "erased": 0}
    assert readable(case)
    assert events(case, "case.erased") == []

    # Closed again, it starts a new period and a new notice.
    decide(fresh(case), by=team_of.leads[1].user, finding=Finding.VIOLATION)
    workflow.transition(fresh(case), "close", by=team_of.leads[1].user)
    case = fresh(case)
    assert case.erase_after == case.closed_at + team_of.organization.retention_days * D
    assert case.retention_notice_sent_at is None


# --- holds ---------------------------------------------------------------------------------------------------------


def test_a_held_case_is_neither_announced_nor_erased_and_lifting_the_hold_erases_it_at_the_next_pass(team_of):
    lead = team_of.leads[0].user
    case = closed_case(team_of)
    erase_after = case.erase_after
    assert retention.run(now=erase_after - NOTICE)["noticed"] == 1

    retention.hold(case, by=lead, reason="Canary-Retention-7b21 legal proceedings")
    case = fresh(case)
    assert case.retention_held_at is not None and case.retention_held_by == lead
    assert retention.hold_reason(case) == "Canary-Retention-7b21 legal proceedings"
    [held] = events(case, "case.retention_held")
    assert held.actor == lead
    assert "Canary" not in str(held.detail)

    for now in (erase_after, erase_after + 400 * D):
        assert retention.run(now=now) == {"noticed": 0, "erased": 0}
    assert readable(case)

    retention.release_hold(case, by=team_of.leads[1].user)
    assert events(case, "case.retention_released")[0].actor == team_of.leads[1].user
    assert fresh(case).retention_held_at is None
    assert retention.run(now=erase_after + 400 * D) == {"noticed": 0, "erased": 1}
    assert fresh(case).is_erased


def test_a_case_held_before_its_notice_is_announced_after_the_hold_is_lifted(team_of):
    case = closed_case(team_of)
    erase_after = case.erase_after
    retention.hold(case, by=team_of.leads[0].user, reason="A related case is still open.")
    assert retention.run(now=erase_after - NOTICE) == {"noticed": 0, "erased": 0}
    assert told(case) == []
    retention.release_hold(case, by=team_of.leads[0].user)

    late = erase_after + 30 * D
    assert retention.run(now=late) == {"noticed": 1, "erased": 0}, "told first, never erased without notice"
    assert fresh(case).erase_after == late + NOTICE
    assert retention.run(now=late + NOTICE - M)["erased"] == 0
    assert retention.run(now=late + NOTICE)["erased"] == 1


def test_holds_are_refused_on_open_cases_without_reason_or_twice(team_of):
    from django.core.exceptions import ValidationError

    lead = team_of.leads[0].user
    open_case, _ = report_case(team_of.organization, description=DESCRIPTION)
    with pytest.raises(ValidationError, match="Only a closed case"):
        retention.hold(open_case, by=lead, reason="Keep it.")
    case = closed_case(team_of)
    with pytest.raises(ValidationError, match="Say why"):
        retention.hold(case, by=lead, reason="   ")
    retention.hold(case, by=lead, reason="Keep it.")
    with pytest.raises(ValidationError, match="held already"):
        retention.hold(case, by=lead, reason="Keep it again.")
    assert len(events(case, "case.retention_held")) == 1


# --- a change of the retention period ------------------------------------------------------------------------------


def change_retention(team_of, days):
    unbound = OrganizationSettingsForm(instance=team_of.organization)
    data = {name: unbound[name].value() for name in unbound.fields}
    data = {name: "" if value is None else value for name, value in data.items()}
    data["retention_days"] = days
    form = OrganizationSettingsForm(data, instance=team_of.organization)
    assert form.is_valid(), form.errors
    update_settings(form, by=team_of.admin.user)
    team_of.organization.refresh_from_db()


def test_changing_the_retention_period_recomputes_the_dates_and_still_tells_the_leads_first(team_of):
    case = closed_case(team_of)
    other_organization = OrganizationFactory()
    other_lead = member(other_organization, "lead").user
    other_organization_case, _ = report_case(other_organization, description=DESCRIPTION)
    decide(other_organization_case, by=other_lead, finding=Finding.VIOLATION)
    workflow.transition(fresh(other_organization_case), "close", by=other_lead)
    kept_date = fresh(other_organization_case).erase_after
    # Closed 100 days ago.
    closed_at = case.closed_at - 100 * D
    Case.objects.filter(pk=case.pk).update(closed_at=closed_at)

    change_retention(team_of, 30)
    case = fresh(case)
    assert case.erase_after == closed_at + 30 * D
    assert fresh(other_organization_case).erase_after == kept_date

    # Past its new date, but the leads were never told: told now, erased a notice period later.
    now = timezone.now()
    assert retention.run(now=now) == {"noticed": 1, "erased": 0}
    assert fresh(case).erase_after == now + NOTICE
    assert retention.run(now=now + NOTICE - M)["erased"] == 0
    assert readable(case)

    # Lengthened again after the notice: the date moves away and a fresh notice will come.
    change_retention(team_of, 365)
    case = fresh(case)
    assert case.erase_after == closed_at + 365 * D
    assert case.retention_notice_sent_at is None
    assert retention.run(now=now + NOTICE)["erased"] == 0
    assert retention.run(now=case.erase_after - NOTICE) == {"noticed": 1, "erased": 0}
    assert retention.run(now=case.erase_after) == {"noticed": 0, "erased": 1}


def test_shortening_the_period_after_the_notice_keeps_the_notice_days(team_of):
    case = closed_case(team_of)
    noticed_at = case.erase_after - NOTICE
    retention.run(now=noticed_at)
    change_retention(team_of, 10)
    case = fresh(case)
    assert case.erase_after == noticed_at + NOTICE, "the date the leads were given"
    assert retention.run(now=noticed_at + NOTICE - M)["erased"] == 0
    assert retention.run(now=noticed_at + NOTICE)["erased"] == 1


# --- cost and the clock --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("closed_cases", [1, 12])
def test_an_idle_pass_costs_two_indexed_queries_and_the_minute_sweep_one(team_of, closed_cases):
    cases = [closed_case(team_of) for _ in range(closed_cases)]
    earliest = min(case.erase_after for case in cases)
    with CaptureQueriesContext(connection) as captured:
        assert retention.run(now=earliest - NOTICE - M) == {"noticed": 0, "erased": 0}
    sql = statements(captured)
    assert len(sql) == 2, sql
    assert all("erase_after" in statement for statement in sql)
    # The deadline sweep of every minute never reads closed cases, whatever their retention.
    with CaptureQueriesContext(connection) as captured:
        assert sweep(now=earliest + D) == 0
    assert len(statements(captured)) == 1
    assert not any(fresh(case).is_erased for case in cases)


def test_a_notice_pass_costs_the_same_queries_for_one_and_for_several_cases(team_of):
    def notice_queries(count):
        cases = [closed_case(team_of) for _ in range(count)]
        with CaptureQueriesContext(connection) as captured:
            assert retention.run(now=max(case.erase_after for case in cases) - NOTICE)["noticed"] == count
        return len(statements(captured))

    assert notice_queries(1) == notice_queries(8)


def test_more_due_cases_than_a_batch_are_all_handled_in_one_pass(team_of, monkeypatch):
    monkeypatch.setattr(retention, "BATCH_SIZE", 2)
    cases = [closed_case(team_of) for _ in range(5)]
    latest = max(case.erase_after for case in cases)
    assert retention.run(now=latest - NOTICE) == {"noticed": 5, "erased": 0}
    for case in cases:
        assert told(case) == ["lea-lead", "leo-lead"]
    assert retention.run(now=latest) == {"noticed": 0, "erased": 5}
    assert all(fresh(case).is_erased for case in cases)


def test_the_clock_command_runs_the_retention_pass(team_of):
    due, coming = closed_case(team_of), closed_case(team_of)
    now = timezone.now()
    Case.objects.filter(pk=due.pk).update(erase_after=now - D, retention_notice_sent_at=now - NOTICE - D)
    Case.objects.filter(pk=coming.pk).update(erase_after=now + 3 * D)
    out = StringIO()
    call_command("sweep_deadlines", stdout=out)
    assert "Retention: 1 notice(s) sent, 1 case(s) erased." in out.getvalue()
    assert fresh(due).is_erased and not fresh(coming).is_erased
    assert told(coming) == ["lea-lead", "leo-lead"]


def test_a_failed_pass_is_logged_and_tried_again_after_the_interval(team_of, monkeypatch):
    moments = iter([0, 10, 3600])
    schedule = retention.RetentionSchedule(every_seconds=3600, clock=lambda: next(moments))

    def broken(now=None):
        raise RuntimeError("database went away")

    monkeypatch.setattr(retention, "run", broken)
    assert schedule.run_if_due() is None
    monkeypatch.undo()
    assert schedule.run_if_due() is None, "not due yet"
    assert schedule.run_if_due() == {"noticed": 0, "erased": 0}


# --- the case page -------------------------------------------------------------------------------------------------


def hold_url(case):
    return f"/desk/cases/{case.reference}/retention/hold/"


def release_url(case):
    return f"/desk/cases/{case.reference}/retention/release/"


def test_a_lead_sees_the_date_and_holds_then_releases_the_case_on_its_page(client, team_of):
    case = closed_case(team_of)
    lead = log_in(client, team_of.leads[0].user)
    page = lead.get(f"/desk/cases/{case.reference}/").content.decode()
    assert f"Erased on {timezone.localtime(case.erase_after):%-d %b %Y} unless held." in page
    assert 'action="' + hold_url(case) + '"' in page

    response = lead.post(hold_url(case), {"reason": "Canary-Hold-Reason: a court case is pending"})
    assert response.status_code == 302
    case = fresh(case)
    assert case.retention_held_at is not None
    page = lead.get(f"/desk/cases/{case.reference}/").content.decode()
    assert "Held" in page and "Canary-Hold-Reason: a court case is pending" in page
    assert 'action="' + release_url(case) + '"' in page

    assert lead.post(release_url(case)).status_code == 302
    assert fresh(case).retention_held_at is None
    assert [e.action for e in AuditEvent.objects.filter(case=case, action__startswith="case.retention_")] == [
        "case.retention_held",
        "case.retention_released",
    ]


def test_a_responder_sees_the_date_but_no_hold_form(client, team_of):
    case = closed_case(team_of)
    page = log_in(client, team_of.responder.user).get(f"/desk/cases/{case.reference}/").content.decode()
    assert "unless held" in page
    assert hold_url(case) not in page


def test_a_refused_hold_keeps_what_was_typed(client, team_of):
    case = closed_case(team_of)
    lead = log_in(client, team_of.leads[0].user)
    typed = "Canary-Typed " + "x" * 2100
    response = lead.post(hold_url(case), {"reason": typed})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Keep the reason under 2000 characters" in page
    assert typed in page
    assert fresh(case).retention_held_at is None
    response = lead.post(hold_url(case), {"reason": ""})
    assert "Say why the case must be kept." in response.content.decode()
    assert fresh(case).retention_held_at is None


@pytest.mark.parametrize("who", ["responder", "recused_lead", "elsewhere_lead", "admin", "fallback", "other_lead"])
def test_anyone_but_a_lead_who_may_see_the_case_gets_404_and_nothing_changes(client, team_of, who):
    held, open_for_hold = closed_case(team_of), closed_case(team_of)
    retention.hold(held, by=team_of.leads[0].user, reason="Kept for a reason.")
    if who == "other_lead":
        outsider = member(OrganizationFactory(), "lead", username="oli-other-org-lead")
    else:
        outsider = getattr(team_of, who)
    before = AuditEvent.objects.count()
    browser = log_in(client, outsider.user)

    assert browser.post(hold_url(open_for_hold), {"reason": "Mine now."}).status_code == 404
    assert browser.post(release_url(held)).status_code == 404
    assert fresh(open_for_hold).retention_held_at is None
    assert fresh(held).retention_held_at is not None
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize(
    "typed",
    [{"reason": "nul \x00 byte"}, {"reason": "\u202eevil bidi " * 300}, {"reason": "   "}, {}],
    ids=["nul", "long-bidi", "blank", "missing"],
)
def test_hostile_hold_posts_are_refused_in_words_and_hold_nothing(client, team_of, typed):
    case = closed_case(team_of)
    client.raise_request_exception = False
    response = log_in(client, team_of.leads[0].user).post(hold_url(case), typed)
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert fresh(case).retention_held_at is None
    assert events(case, "case.retention_held") == []
