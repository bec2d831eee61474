"""The sanctions registry: every kind of measure appears as recorded; staff record verbal warnings without seeing any
case or learning what the registry knew; leads end a sanction early; the list is scoped (never a recused member's
case, never another organization's) and costs the same queries for one row as for several."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cocdesk.common.models import AuditEvent
from cocdesk.orgs.rules import can
from cocdesk.sanctions.domain.queries import registry_for, registry_sanctions
from cocdesk.sanctions.domain.registry import end_reason, warning_details
from cocdesk.sanctions.enums import LASTING_KINDS, SanctionKind, SanctionState
from cocdesk.sanctions.models import Sanction
from tests.factories import OrganizationFactory, SpaceFactory, member
from tests.pages import input_value
from tests.sanctions.factories_registry import decided_case, person, recused, sanction
from tests.team import log_in

D = timedelta(days=1)
WHAT_WAS_SAID = "Canary-Warning-2d8a: stop filming people without asking."
PLACE = "Canary-Place-2d8a: the hallway by room B"


def registry_url(organization, **query):
    suffix = "?" + "&".join(f"{key}={value}" for key, value in query.items()) if query else ""
    return f"/desk/orgs/{organization.slug}/sanctions/{suffix}"


def warning_url(organization):
    return f"/desk/orgs/{organization.slug}/warnings/new/"


def end_url(organization, made):
    return f"/desk/orgs/{organization.slug}/sanctions/{made.pk}/end/"


def warning_form(space=None, **changes):
    now = timezone.localtime()
    data = {
        "name": "Wanda Warned",
        "email": "wanda@example.net",
        "handle": "@wanda",
        "badge": "",
        "space": space.pk if space else "",
        "where": PLACE,
        "what_was_said": WHAT_WAS_SAID,
        "given_on": now.date().isoformat(),
        "given_at": now.strftime("%H:%M"),
    }
    return {**data, **changes}


# --- every kind, as recorded ---------------------------------------------------------------------------------------


def variants(kind):
    if kind in LASTING_KINDS:
        return [("all", "temporary"), ("one", "permanent"), ("two", "temporary")]
    return [("none", "once")]


CASES = [(kind, scope, duration) for kind in SanctionKind for scope, duration in variants(kind)]


@pytest.mark.parametrize(("kind", "scope", "duration"), CASES, ids=[f"{k.value}-{s}-{d}" for k, s, d in CASES])
def test_every_kind_appears_in_the_registry_with_its_scope_and_duration(client, organization, kind, scope, duration):
    here = SpaceFactory(organization=organization, name="Here Conf")
    there = SpaceFactory(organization=organization, name="There Forum")
    case, decision = decided_case(organization, space=here)
    spaces = {"all": [], "one": [here], "two": [here, there], "none": []}[scope]
    starts_at = timezone.now() - 2 * D
    ends_at = timezone.now() + 40 * D if duration == "temporary" else None
    made = sanction(
        organization,
        decision=decision,
        kind=kind,
        spaces=spaces,
        all_spaces=scope == "all",
        starts_at=starts_at,
        ends_at=ends_at,
        permanent=duration == "permanent",
    )
    lead = member(organization, "lead")

    [row] = registry_for(lead.user, organization, show="all").rows
    assert (row.pk, row.kind, row.all_spaces, row.is_permanent) == (made.pk, kind, scope == "all", made.is_permanent)
    assert row.starts_at == starts_at and row.ends_at == ends_at
    assert sorted(space.name for space in row.spaces.all()) == sorted(space.name for space in spaces)

    log_in(client, lead.user)
    page = client.get(registry_url(organization)).content.decode()
    assert made.person.code_name in page
    assert kind.label in page
    scope_text = {"all": "All spaces", "one": "Here Conf", "two": "Here Conf, There Forum", "none": "—"}[scope]
    assert f'data-label="Scope">{scope_text}<' in page
    assert timezone.localtime(starts_at).strftime("%Y") in page
    end_text = {"temporary": timezone.localtime(ends_at).strftime("%-d %b %Y") if ends_at else ""}
    expected_end = {"temporary": end_text["temporary"], "permanent": "Permanent", "once": "Given once"}[duration]
    assert expected_end in page
    assert f'href="/desk/cases/{case.reference}/"' in page
    assert "Active" in page


# --- verbal warnings -----------------------------------------------------------------------------------------------


def test_staff_record_a_verbal_warning_and_are_told_only_recorded_thank_you(client, organization, space):
    staff = member(organization, "staff")
    log_in(client, staff.user)
    form = client.get(warning_url(organization))
    assert form.status_code == 200

    response = client.post(warning_url(organization), warning_form(space), follow=True)

    page = response.content.decode()
    assert "Recorded. Thank you." in page
    assert f'href="{warning_url(organization)}"' in page
    assert WHAT_WAS_SAID not in page and "Wanda" not in page
    warning = Sanction.objects.get()
    assert warning.kind == SanctionKind.VERBAL_WARNING and warning.decision is None
    assert warning.recorded_by == staff.user and list(warning.spaces.all()) == [space]
    assert warning_details(warning) == {"place": PLACE, "what_was_said": WHAT_WAS_SAID}
    assert WHAT_WAS_SAID.encode() not in bytes(warning.sealed_terms)
    event = AuditEvent.objects.get(action="sanction.warning_recorded")
    assert event.actor == staff.user and event.detail == {"sanction": warning.pk, "space": space.pk}


def test_the_staff_member_learns_nothing_of_earlier_records_of_that_person(client, organization, space):
    staff = member(organization, "staff")
    case, decision = decided_case(organization, space=space, description="Canary-Earlier-77: an earlier report.")
    known = person(organization, "Known Person", email="known@example.net")
    sanction(organization, subject=known, decision=decision, permanent=True, all_spaces=True)
    log_in(client, staff.user)

    def answer(name, email):
        response = client.post(
            warning_url(organization), warning_form(space, name=name, email=email, handle=""), follow=True
        )
        return response.content.decode().replace(input_value(response.content, "csrfmiddlewaretoken") or "", "")

    about_known = answer("K. Person", "KNOWN@example.net")
    about_unknown = answer("Unknown Person", "unknown@example.net")
    assert about_known == about_unknown
    for secret in (case.reference, "Canary-Earlier-77", known.code_name, "Ban", "Known Person"):
        assert secret not in about_known
    # The registry matched the known person; the staff member was never told.
    assert Sanction.objects.filter(person=known, kind=SanctionKind.VERBAL_WARNING).count() == 1


def test_bad_input_gets_a_clear_message_and_keeps_what_was_typed(client, organization, space):
    log_in(client, member(organization, "staff").user)
    missing = client.post(warning_url(organization), warning_form(space, what_was_said="")).content.decode()
    assert "Write down what you told them." in missing
    assert 'value="Wanda Warned"' in missing and PLACE in missing

    later = timezone.localtime() + 2 * D
    future = client.post(
        warning_url(organization), warning_form(space, given_on=later.date().isoformat())
    ).content.decode()
    assert "That moment is still to come" in future
    assert WHAT_WAS_SAID in future

    nobody = client.post(warning_url(organization), warning_form(space, name="", email="", handle="")).content
    assert b"Say whom you warned" in nobody
    assert not Sanction.objects.exists()


@pytest.mark.parametrize("role", ["staff", "responder", "lead"])
def test_staff_responders_and_leads_may_record_a_warning(organization, role):
    assert can(member(organization, role).user, "sanctions.record_warning", organization)


@pytest.mark.parametrize("who", ["admin", "fallback", "other-organization-staff"])
def test_anyone_else_gets_404_on_the_warning_page_and_nothing_is_recorded(client, organization, space, who):
    user = (
        member(OrganizationFactory(), "staff").user
        if who == "other-organization-staff"
        else member(organization, who).user
    )
    log_in(client, user)
    assert client.get(warning_url(organization)).status_code == 404
    assert client.post(warning_url(organization), warning_form(space)).status_code == 404
    assert not Sanction.objects.exists()
    assert not AuditEvent.objects.filter(action="sanction.warning_recorded").exists()


# --- ending a sanction early ---------------------------------------------------------------------------------------


@pytest.fixture
def ban(organization, space):
    case, decision = decided_case(organization, space=space)
    made = sanction(organization, decision=decision, spaces=[space], ends_at=timezone.now() + 60 * D)
    return case, made


def test_a_lead_ends_a_sanction_early_with_a_reason(client, organization, ban):
    case, made = ban
    lead = member(organization, "lead")
    log_in(client, lead.user)
    assert "End early" in client.get(registry_url(organization)).content.decode()
    assert client.get(end_url(organization, made)).status_code == 200

    empty = client.post(end_url(organization, made), {"reason": "  "})
    assert "Say why the sanction ends early." in empty.content.decode()
    assert Sanction.objects.get(pk=made.pk).state == SanctionState.ACTIVE

    response = client.post(end_url(organization, made), {"reason": "Canary-Reason-4e1: agreed at the meeting."})
    assert response.status_code == 302
    ended = Sanction.objects.get(pk=made.pk)
    assert ended.state == SanctionState.ENDED and ended.ended_at is not None
    assert end_reason(ended) == "Canary-Reason-4e1: agreed at the meeting."
    event = AuditEvent.objects.get(action="sanction.ended")
    assert event.case_id == case.pk and event.actor == lead.user
    assert "Canary-Reason" not in repr(event.detail)

    again = client.post(end_url(organization, made), {"reason": "Once more."})
    assert "already ended early by the team" in again.content.decode()
    assert AuditEvent.objects.filter(action="sanction.ended").count() == 1


@pytest.mark.parametrize("who", ["responder", "recused-lead", "other-organization-lead", "staff"])
def test_anyone_but_a_lead_of_the_case_gets_404_and_nothing_changes(client, organization, ban, who):
    case, made = ban
    if who == "recused-lead":
        user = recused(case, member(organization, "lead")).user
    elif who == "other-organization-lead":
        user = member(OrganizationFactory(), "lead").user
    else:
        user = member(organization, who).user
    log_in(client, user)
    assert client.get(end_url(organization, made)).status_code == 404
    assert client.post(end_url(organization, made), {"reason": "No."}).status_code == 404
    assert Sanction.objects.get(pk=made.pk).state == SanctionState.ACTIVE
    assert not AuditEvent.objects.filter(action="sanction.ended").exists()


def test_a_verbal_warning_cannot_be_ended(client, organization):
    warning = sanction(organization, kind=SanctionKind.VERBAL_WARNING)
    lead = member(organization, "lead")
    log_in(client, lead.user)
    page = client.get(registry_url(organization)).content.decode()
    assert "End early" not in page
    response = client.post(end_url(organization, warning), {"reason": "Withdrawn."})
    assert "given once" in response.content.decode()
    assert Sanction.objects.get(pk=warning.pk).state == SanctionState.ACTIVE


# --- scope and leaks -----------------------------------------------------------------------------------------------


@pytest.fixture
def two_cases(organization, space):
    """Sanctions on two cases, a staff warning, and another organization's ban: all made before anyone looks."""
    secret_case, secret_decision = decided_case(organization, space=space, description="Canary-Secret-a1")
    open_case, open_decision = decided_case(organization, space=space)
    secret = sanction(
        organization, subject=person(organization, "Secret Subject"), decision=secret_decision, permanent=True
    )
    visible = sanction(organization, subject=person(organization, "Open Subject"), decision=open_decision)
    warning = sanction(organization, subject=person(organization, "Warned Subject"), kind=SanctionKind.VERBAL_WARNING)
    warning.spaces.set([space])
    elsewhere = OrganizationFactory()
    _case, foreign_decision = decided_case(elsewhere)
    foreign = sanction(elsewhere, subject=person(elsewhere, "Foreign Subject"), decision=foreign_decision)
    return {
        "secret_case": secret_case,
        "open_case": open_case,
        "secret": secret,
        "visible": visible,
        "warning": warning,
        "foreign": foreign,
        "elsewhere": elsewhere,
    }


def listed(user, organization):
    return set(registry_sanctions(user, organization, show="all").values_list("pk", flat=True))


def test_a_recused_member_sees_nothing_of_that_cases_sanctions(client, organization, two_cases):
    responder = recused(two_cases["secret_case"], member(organization, "responder"))
    lead = member(organization, "lead")
    assert listed(responder.user, organization) == {two_cases["visible"].pk, two_cases["warning"].pk}
    assert listed(lead.user, organization) == {
        two_cases["visible"].pk,
        two_cases["warning"].pk,
        two_cases["secret"].pk,
    }
    assert not can(responder.user, "sanctions.view_sanction", two_cases["secret"])

    log_in(client, responder.user)
    page = client.get(registry_url(organization, show="all")).content.decode()
    assert two_cases["visible"].person.code_name in page
    for secret in (two_cases["secret"].person.code_name, two_cases["secret_case"].reference, "Permanent"):
        assert secret not in page
    assert client.get(end_url(organization, two_cases["secret"])).status_code == 404


def test_another_organizations_sanctions_never_show(client, organization, two_cases):
    lead = member(organization, "lead")
    assert two_cases["foreign"].pk not in listed(lead.user, organization)
    assert not can(lead.user, "sanctions.view_sanction", two_cases["foreign"])
    log_in(client, lead.user)
    assert (
        two_cases["foreign"].person.code_name not in client.get(registry_url(organization, show="all")).content.decode()
    )
    assert client.get(registry_url(two_cases["elsewhere"])).status_code == 404
    assert client.get(end_url(organization, two_cases["foreign"])).status_code == 404


def test_fallback_members_see_only_the_cases_that_fell_to_them_and_staff_nothing(client, organization, two_cases):
    fallback = member(organization, "fallback")
    assert listed(fallback.user, organization) == set()
    two_cases["open_case"].__class__.objects.filter(pk=two_cases["open_case"].pk).update(under_fallback=True)
    assert listed(fallback.user, organization) == {two_cases["visible"].pk}

    staff = member(organization, "staff")
    log_in(client, staff.user)
    assert client.get(registry_url(organization)).status_code == 404


def test_a_space_scoped_responder_sees_the_warnings_of_their_spaces_only(organization, space, two_cases):
    other = SpaceFactory(organization=organization, name="Other")
    scoped_here, scoped_other = member(organization, "responder"), member(organization, "responder")
    scoped_here.spaces.add(space)
    scoped_other.spaces.add(other)
    assert two_cases["warning"].pk in listed(scoped_here.user, organization)
    assert listed(scoped_other.user, organization) == set()


def test_the_list_agrees_with_the_predicate(organization, space, two_cases):
    members = [
        member(organization, "lead"),
        recused(two_cases["secret_case"], member(organization, "lead")),
        member(organization, "responder"),
        member(organization, "fallback"),
        member(organization, "staff"),
        member(organization, "admin"),
    ]
    sanctions = list(Sanction.objects.select_related("decision__case").prefetch_related("spaces").order_by("pk"))
    for membership in members:
        in_list = listed(membership.user, organization)
        for made in sanctions:
            assert can(membership.user, "sanctions.view_sanction", made) == (made.pk in in_list), (membership, made)


def test_active_and_ended_show_what_they_say(organization, space):
    lead = member(organization, "lead")
    active = sanction(organization, all_spaces=True, ends_at=timezone.now() + D)
    ended = sanction(organization, all_spaces=True, state=SanctionState.OVERTURNED)
    assert [row.pk for row in registry_for(lead.user, organization).rows] == [active.pk]
    assert [row.pk for row in registry_for(lead.user, organization, show="ended").rows] == [ended.pk]
    assert {row.pk for row in registry_for(lead.user, organization, show="all").rows} == {active.pk, ended.pk}


def test_the_registry_pages_by_fifty(organization):
    lead = member(organization, "lead")
    subject = person(organization)
    for _ in range(51):
        sanction(organization, subject=subject, kind=SanctionKind.VERBAL_WARNING)
    first = registry_for(lead.user, organization, show="all")
    second = registry_for(lead.user, organization, show="all", page=2)
    assert (len(first.rows), first.has_next, len(second.rows), second.has_next) == (50, True, 1, False)


def test_the_registry_page_costs_the_same_queries_for_one_and_several_rows(client, organization, space):
    lead = member(organization, "lead")
    log_in(client, lead.user)

    def add_rows(count):
        for index in range(count):
            _case, decision = decided_case(organization, space=space)
            sanction(organization, subject=person(organization, f"Subject {index}"), decision=decision, spaces=[space])
            warning = sanction(organization, subject=person(organization, f"Warned {index}"), kind="verbal_warning")
            warning.spaces.set([space])

    def page_queries():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(registry_url(organization, show="all"))
        assert response.status_code == 200
        return len(captured.captured_queries)

    add_rows(1)
    one = page_queries()
    add_rows(4)
    assert page_queries() == one
