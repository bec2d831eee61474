"""Recusal and the fallback members: who sees a case as leads recuse themselves, who is told (by real mail through
the task worker and an SMTP server on loopback), automatic recusal at intake, and reinstatement."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from cocdesk.cases.domain import recusal as recusals
from cocdesk.cases.enums import RecusalReason, RecusalSource
from cocdesk.cases.models import Case, Recusal
from cocdesk.common.models import AuditEvent
from cocdesk.notify.models import Notification
from cocdesk.orgs.rules import can
from tests.factories import OrganizationFactory, member, report_case
from tests.formdata import form_fields
from tests.mail_server import mail_server, make_retries_due, no_mail_server, run_worker
from tests.pages import input_value, parse
from tests.team import log_in

DESCRIPTION = "Canary-Fallback-71c3: the chair of the board pushed me against the wall at the party."
REPORTED = "Barnaby Canaryvale-4e0d"


def declare(case, membership, reason=RecusalReason.CO_WORKER):
    return recusals.recuse(case, membership, reason=reason, source=RecusalSource.DECLARED, by=membership.user)


def sees(membership, case):
    """Every way a member could reach the case: the predicate, the queryset and the case page."""
    user = membership.user
    case = Case.objects.get(pk=case.pk)  # the predicates read the case's stored columns, as a request would
    by_rule = can(user, "cases.view_case", case)
    by_query = Case.objects.visible_to(user).filter(pk=case.pk).exists()
    status = log_in(Client(), user).get(f"/desk/cases/{case.reference}/").status_code
    assert (by_rule, by_query) in {(True, True), (False, False)}, "rules.py and visible_to disagree"
    assert status == (200 if by_rule else 404)
    return by_rule


@pytest.fixture
def team(db):
    organization = OrganizationFactory(recusal_threshold=2)
    return {
        "organization": organization,
        "leads": [member(organization, "lead", display_name=f"Lead {n}") for n in (1, 2, 3)],
        "responder": member(organization, "responder", display_name="Rory Responder"),
        "fallback": [member(organization, "fallback", display_name=f"Fallback {n}") for n in (1, 2)],
    }


def fallback_case(team):
    case, _receipt = report_case(team["organization"], description=DESCRIPTION, reported_name=REPORTED)
    return case


def recuse_all_but_the_last_lead(team, case):
    declare(case, team["responder"])
    for lead in team["leads"][:2]:
        declare(case, lead)


# --- who sees the case -------------------------------------------------------------------------------------------


def test_recused_leads_up_to_the_threshold_leave_fallback_members_out(team):
    case = fallback_case(team)
    assert not any(sees(fallback, case) for fallback in team["fallback"])
    recuse_all_but_the_last_lead(team, case)
    assert Recusal.objects.active().filter(case=case).count() == 3  # the responder and two leads
    assert not Case.objects.get(pk=case.pk).under_fallback
    for fallback in team["fallback"]:
        assert not sees(fallback, case)
        queue = log_in(Client(), fallback.user).get("/desk/")
        assert case.reference not in queue.content.decode()
    assert sees(team["leads"][2], case)
    assert not Notification.objects.filter(kind="fallback_engaged").exists()
    assert not AuditEvent.objects.filter(action="case.fallback_engaged").exists()


def test_one_lead_more_than_the_threshold_brings_in_the_fallback_members(team):
    case = fallback_case(team)
    recuse_all_but_the_last_lead(team, case)
    # The third lead declares the conflict on the desk, the fourth recusal in all.
    last = team["leads"][2]
    client = log_in(Client(), last.user)
    page = client.get(f"/desk/cases/{case.reference}/recuse-me/")
    data = {**form_fields(page.content, ""), "reason": RecusalReason.FAMILY}
    assert client.post(f"/desk/cases/{case.reference}/recuse-me/", data).status_code == 302
    assert Case.objects.get(pk=case.pk).under_fallback

    for fallback in team["fallback"]:
        assert sees(fallback, case)
        queue = log_in(Client(), fallback.user).get("/desk/")
        assert case.reference in queue.content.decode()
        assert "Fallback handling" in queue.content.decode()
        page = log_in(Client(), fallback.user).get(f"/desk/cases/{case.reference}/")
        assert DESCRIPTION in page.content.decode()
        told = Notification.objects.filter(recipient=fallback.user, case=case, kind="fallback_engaged")
        assert told.count() == 1
        assert DESCRIPTION not in told.get().body and REPORTED not in told.get().body
    for recused in [team["responder"], *team["leads"]]:
        assert not sees(recused, case)
    assert AuditEvent.objects.filter(case=case, action="case.fallback_engaged").count() == 1


def test_further_recusals_under_fallback_tell_nobody_again(team):
    case = fallback_case(team)
    for lead in team["leads"]:
        declare(case, lead)
    assert Notification.objects.filter(kind="fallback_engaged").count() == 2
    declare(case, team["responder"])
    declare(case, team["leads"][0])  # already recused: nothing happens
    assert Notification.objects.filter(kind="fallback_engaged").count() == 2
    assert AuditEvent.objects.filter(case=case, action="case.fallback_engaged").count() == 1


def test_a_recused_member_is_never_notified_after_the_recusal(team):
    case = fallback_case(team)
    # The reporter excluded the second fallback member: when fallback is engaged, only the first is told.
    excluded = team["fallback"][1]
    recusals.recuse(case, excluded, reason=RecusalReason.REPORTER_REQUEST, source=RecusalSource.REPORTER)
    recuse_all_but_the_last_lead(team, case)
    declare(case, team["leads"][2])
    assert sees(team["fallback"][0], case)
    assert not sees(excluded, case)
    recused = Recusal.objects.filter(case=case).select_related("membership__user")
    for recusal in recused:
        later = Notification.objects.filter(recipient=recusal.membership.user, created_at__gte=recusal.created_at)
        assert list(later) == [], f"{recusal.membership} was told about a case they are recused from"
    assert Notification.objects.filter(kind="fallback_engaged").get().recipient == team["fallback"][0].user


# --- the mail, for real --------------------------------------------------------------------------------------------


@pytest.fixture
def engaged(transactional_db):
    """A case that fell to the fallback members, committed (so the notifications are queued on commit)."""
    organization = OrganizationFactory(recusal_threshold=2)
    team = {
        "organization": organization,
        "leads": [member(organization, "lead", display_name=f"Lead {n}") for n in (1, 2, 3)],
        "responder": member(organization, "responder", display_name="Rory Responder"),
        "fallback": [member(organization, "fallback", display_name=f"Fallback {n}") for n in (1, 2)],
    }
    case = fallback_case(team)
    recuse_all_but_the_last_lead(team, case)
    declare(case, team["leads"][2])
    assert DBTaskResult.objects.filter(status="READY").exists(), "nothing was queued on commit"
    return team, case


def assert_no_failed_tasks():
    failed = DBTaskResult.objects.filter(status="FAILED")
    assert not failed.exists(), failed.first().traceback[-600:]


def fallback_mails(inbox, team, case):
    return {
        fallback.user.email: [mail for mail in inbox.to(fallback.user.email) if case.reference in mail.subject]
        for fallback in team["fallback"]
    }


def test_each_fallback_member_gets_exactly_one_mail_with_the_reference_and_no_content(engaged):
    team, case = engaged
    with mail_server() as inbox:
        run_worker()
        assert_no_failed_tasks()
        for address, mails in fallback_mails(inbox, team, case).items():
            assert len(mails) == 1, address
            (mail,) = mails
            assert mail.recipients == [address]
            assert case.reference in mail.body
            for secret in (DESCRIPTION, "Canary-Fallback-71c3", REPORTED, "Canaryvale"):
                assert secret not in mail.raw
        # Members recused before the fallback was engaged got nothing about it.
        for recused in [team["responder"], *team["leads"]]:
            assert inbox.to(recused.user.email) == []
        delivered = len(inbox.mails)
        run_worker()
        assert len(inbox.mails) == delivered, "a second run of the worker sent mail again"
    for fallback in team["fallback"]:
        notification = Notification.objects.get(recipient=fallback.user, kind="fallback_engaged")
        assert notification.state == Notification.State.SENT and notification.attempts == 1


def test_mail_waits_for_a_down_server_and_arrives_once_when_it_is_back(engaged):
    team, case = engaged
    with no_mail_server():
        run_worker()  # nothing listens on the port
        assert_no_failed_tasks()
        for fallback in team["fallback"]:
            notification = Notification.objects.get(recipient=fallback.user, kind="fallback_engaged")
            assert notification.state == Notification.State.PENDING
            assert notification.attempts == 1
            assert notification.last_error
        retries = DBTaskResult.objects.filter(status="READY")
        assert retries.count() >= 2
        assert all(retry.run_after > timezone.now() for retry in retries), "the retry is not scheduled later"

    with mail_server() as inbox:
        run_worker()
        assert inbox.mails == [], "a retry ran before it was due"
        make_retries_due()
        run_worker()
        for address, mails in fallback_mails(inbox, team, case).items():
            assert len(mails) == 1, address
        delivered = len(inbox.mails)
        run_worker()
        assert len(inbox.mails) == delivered
    for fallback in team["fallback"]:
        notification = Notification.objects.get(recipient=fallback.user, kind="fallback_engaged")
        assert notification.state == Notification.State.SENT and notification.attempts == 2


# --- automatic recusal at intake -----------------------------------------------------------------------------------


def report_through_the_form(organization, **answers):
    client = Client()
    page = client.get(f"/report/{organization.slug}/")
    data = {
        "description": DESCRIPTION,
        "submission_token": input_value(page.content, "submission_token"),
        **answers,
    }
    response = client.post(f"/report/{organization.slug}/", data)
    assert response.status_code == 200
    (reference,) = [
        dd.text() for dd in parse(response.content).find_all("dd") if dd.attrs.get("id") == "case-reference"
    ]
    return Case.objects.get(reference=reference)


@pytest.mark.parametrize(
    ("member_fields", "answers"),
    [
        ({"identifiers": "Slack: @nightowl"}, {"reported_screen_names": "Slack: @nightowl"}),
        ({"identifiers": "Slack: @nightowl"}, {"reported_screen_names": "Discord: NightOwl\nForum: someone"}),
        ({"display_name": "Zoë O’Neil"}, {"reported_name": "zoe oneil"}),
        ({"display_name": "Dana Quist"}, {"reported_nicknames": "the treasurer, Dana Quist"}),
        ({"username": "dquist"}, {"reported_name": "DQuist@example.org"}),
        ({"username": "dquist"}, {"reported_screen_names": "Email: dquist@example.org"}),
    ],
    ids=["handle", "handle-other-platform", "display-name-accents", "display-name-in-list", "email", "email-handle"],
)
def test_a_member_named_as_the_reported_person_is_recused_at_intake(organization, member_fields, answers):
    username = member_fields.pop("username", None)
    named = member(organization, "lead", username=username, **member_fields)
    other_leads = [member(organization, "lead", display_name=f"Other lead {n}") for n in (1, 2)]
    bystander = member(organization, "responder", display_name="Bea Bystander")

    case = report_through_the_form(organization, **answers)

    recusal = Recusal.objects.get(case=case, is_active=True)
    assert recusal.membership == named
    assert recusal.source == RecusalSource.AUTOMATIC
    assert recusal.reason == RecusalReason.NAMED_IN_REPORT
    assert not sees(named, case)
    assert case.reference not in log_in(Client(), named.user).get("/desk/").content.decode()
    assert sees(bystander, case)
    for lead in other_leads:
        told = Notification.objects.filter(recipient=lead.user, case=case, kind="automatic_recusal")
        assert told.count() == 1
        notice = told.get()
        assert DESCRIPTION not in notice.body
        # The notice must not say who was recused: that would say who was reported.
        assert named.display_name not in notice.subject + notice.body
        assert named.user.username not in notice.subject + notice.body
    assert not Notification.objects.filter(recipient=named.user).exists()
    assert AuditEvent.objects.filter(case=case, action="case.recusal", detail__source="automatic").count() == 1


def test_a_member_not_named_is_not_recused(organization):
    member(organization, "lead", display_name="Dana Quist", identifiers="Slack: @nightowl")
    case = report_through_the_form(organization, reported_name="Dan Quisling", reported_screen_names="Slack: @owl")
    assert not Recusal.objects.filter(case=case).exists()
    assert not Notification.objects.filter(kind="automatic_recusal").exists()


def test_a_member_named_while_inactive_still_never_sees_the_case(organization):
    named = member(organization, "lead", identifiers="Slack: @nightowl", is_active=False)
    member(organization, "lead", display_name="Other lead")
    case = report_through_the_form(organization, reported_screen_names="Slack: @nightowl")
    named.is_active = True
    named.save()
    assert not sees(named, case)


# --- reinstatement -------------------------------------------------------------------------------------------------


def test_only_a_lead_reinstates_and_only_with_a_reason(team):
    case = fallback_case(team)
    lead, other_lead = team["leads"][0], team["leads"][1]
    recusal = declare(case, other_lead)
    responder = team["responder"]

    with pytest.raises(PermissionDenied):
        recusals.reinstate(recusal, by=responder.user, reason="They are fine.")
    for reason in ("", "   \n"):
        with pytest.raises(ValidationError):
            recusals.reinstate(recusal, by=lead.user, reason=reason)
    assert Recusal.objects.get(pk=recusal.pk).is_active
    assert not AuditEvent.objects.filter(action="case.recusal_ended").exists()

    # Through the desk: a responder is answered 404, a lead without a reason is refused, with one it works.
    url = f"/desk/cases/{case.reference}/recusals/{recusal.pk}/reinstate/"
    assert log_in(Client(), responder.user).post(url, {"reason": "Because."}).status_code == 404
    assert log_in(Client(), lead.user).post(url, {"reason": ""}).status_code == 302
    assert Recusal.objects.get(pk=recusal.pk).is_active
    assert not sees(other_lead, case)

    assert log_in(Client(), lead.user).post(url, {"reason": "The conflict was a misunderstanding."}).status_code == 302
    recusal.refresh_from_db()
    assert not recusal.is_active and recusal.ended_by == lead.user and recusal.sealed_end_reason
    assert sees(other_lead, case)
    ended = AuditEvent.objects.get(case=case, action="case.recusal_ended")
    assert ended.actor == lead.user and ended.detail["member"] == other_lead.user.username


def test_a_recused_lead_cannot_reinstate(team):
    case = fallback_case(team)
    first, second = team["leads"][0], team["leads"][1]
    declare(case, first)
    recusal = declare(case, second)
    with pytest.raises(PermissionDenied):
        recusals.reinstate(recusal, by=first.user, reason="Let me back in too.")
    assert Recusal.objects.get(pk=recusal.pk).is_active


def test_an_automatic_recusal_can_be_reinstated_by_a_lead(organization):
    named = member(organization, "responder", identifiers="Slack: @nightowl")
    lead = member(organization, "lead")
    case = report_through_the_form(organization, reported_screen_names="Slack: @nightowl")
    recusal = Recusal.objects.get(case=case, membership=named)
    recusals.reinstate(recusal, by=lead.user, reason="Another person with the same handle.")
    assert sees(named, case)
    assert AuditEvent.objects.filter(case=case, action="case.recusal_ended").count() == 1


def test_a_reporters_exclusion_is_never_reinstated(team):
    organization = team["organization"]
    excluded = team["responder"]
    lead = team["leads"][0]
    case = report_through_the_form(organization, excluded_members=[excluded.pk])
    recusal = Recusal.objects.get(case=case, membership=excluded)
    assert recusal.source == RecusalSource.REPORTER
    with pytest.raises(ValidationError):
        recusals.reinstate(recusal, by=lead.user, reason="We need them on this one.")
    url = f"/desk/cases/{case.reference}/recusals/{recusal.pk}/reinstate/"
    assert log_in(Client(), lead.user).post(url, {"reason": "We need them."}).status_code == 302
    assert Recusal.objects.get(pk=recusal.pk).is_active
    assert not sees(excluded, case)
    assert not AuditEvent.objects.filter(action="case.recusal_ended").exists()
