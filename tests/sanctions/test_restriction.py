"""The restriction check: the desk learns only "no active restriction" or "restricted from these spaces until then:
contact the CoC team"; nothing of the case, the reason, the reporter or the person's code name. Every check is
recorded without what was typed, each member's checks are throttled, and only staff, responders and leads reach it."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cocdesk.common.models import AuditEvent
from cocdesk.orgs.rules import can
from cocdesk.people.domain.registry import person_name
from cocdesk.sanctions.domain.restriction import NO_RESTRICTION, check_restriction
from cocdesk.sanctions.enums import SanctionKind, SanctionState
from cocdesk.sanctions.models import RestrictionCheck, Sanction
from tests.browser.helpers import Audited, enrolled
from tests.browser.helpers import log_in as log_in_browser
from tests.factories import OrganizationFactory, SpaceFactory, member
from tests.sanctions.factories_registry import decided_case, person, sanction
from tests.team import log_in

D = timedelta(days=1)
NAME = "Quentin Canaryfield"
EMAIL = "quentin.canary@example.net"
HANDLE = "@qcanary"
BADGE = "B-40417"
REPORTER_NAME = "Rosalind Reportwright"
REPORTER_EMAIL = "rosalind.reportwright@example.org"
DESCRIPTION = "Canary-Restriction-91f3: he grabbed my arm at the after-party."
RATIONALE = "Canary-Rationale-91f3: three witnesses confirmed it."
TERMS = "Canary-Terms-91f3: may not attend any social event."


def url(organization):
    return f"/desk/orgs/{organization.slug}/restrictions/"


def check(client, organization, value):
    return client.post(url(organization), {"value": value})


@pytest.fixture
def banned(organization, space):
    """A ban from one space on a case with a reporter, a description and a rationale, all made first."""
    case, decision = decided_case(
        organization,
        space=space,
        description=DESCRIPTION,
        reporter_name=REPORTER_NAME,
        reporter_email=REPORTER_EMAIL,
        rationale=RATIONALE,
    )
    subject = person(organization, NAME, email=EMAIL, handle=HANDLE, badge=BADGE)
    ends_at = timezone.now() + 30 * D
    made = sanction(organization, subject=subject, decision=decision, spaces=[space], ends_at=ends_at, terms=TERMS)
    return case, made


@pytest.mark.parametrize("value", [NAME, EMAIL, HANDLE, BADGE, "  quentin  CANARYFIELD ", "QCanary"])
def test_a_restricted_person_is_named_by_any_identifier_and_the_answer_holds_nothing_else(
    client, organization, space, banned, value
):
    case, made = banned
    staff = member(organization, "staff")
    log_in(client, staff.user)

    response = check(client, organization, value)

    assert response.status_code == 200
    page = response.content.decode()
    until = timezone.localtime(made.ends_at)
    expected = f"Restricted from {space.name} until {until.day} {until:%B %Y, %H:%M}: contact the CoC team."
    assert expected in page
    forbidden = [
        case.reference,
        DESCRIPTION,
        RATIONALE,
        TERMS,
        REPORTER_NAME,
        REPORTER_EMAIL,
        made.person.code_name,
        SanctionKind.BAN.label,
        "Ban",
        "ban",
        value.strip(),
    ]
    if case.code_name:
        forbidden.append(case.code_name)
    for secret in forbidden:
        assert secret not in page, secret


@pytest.mark.parametrize("value", [BADGE, "b 40417", "B40417", "Badge B-40417"])
def test_a_badge_number_that_reads_like_a_name_is_found_as_a_badge(organization, space, banned, value):
    """'B-40417' has no badge prefix, so a guess by its shape takes it for a name; the check reads it as a badge
    number too."""
    staff = member(organization, "staff")
    answer = check_restriction(organization, by=staff.user, value=value)
    assert answer.restricted, value


@pytest.mark.parametrize("typed", ["@mquill", "mquill", "Slack: @mquill", "slack: MQuill"])
def test_a_handle_recorded_with_its_platform_is_found_typed_bare(organization, space, typed):
    """A moderator rarely knows where a handle was recorded: a false "no restriction" is the answer to avoid."""
    subject = person(organization, "Morgan Quill", handle="Slack: @mquill")
    sanction(organization, subject=subject, kind=SanctionKind.BAN, all_spaces=True, permanent=True)
    staff = member(organization, "staff")
    assert check_restriction(organization, by=staff.user, value=typed).restricted, typed


def test_no_match_says_no_active_restriction(client, organization, banned):
    log_in(client, member(organization, "staff").user)
    response = check(client, organization, "Somebody Else Entirely")
    assert NO_RESTRICTION in response.content.decode()
    assert "Restricted from" not in response.content.decode()


@pytest.mark.parametrize(
    "change",
    [
        {"state": SanctionState.OVERTURNED},
        {"state": SanctionState.EXPIRED},
        {"state": SanctionState.MODIFIED},
        # Its end passed; the clock has not marked it expired yet: the check goes by the time, not the state.
        {"ends_at": timezone.now() - timedelta(minutes=1)},
        # Not started yet.
        {"starts_at": timezone.now() + D},
        # Not a measure that keeps someone out.
        {"kind": SanctionKind.NO_CONTACT},
        {"kind": SanctionKind.PUBLIC_REPRIMAND},
    ],
    ids=["overturned", "expired", "modified", "end-passed", "not-started", "no-contact", "reprimand"],
)
def test_a_sanction_not_in_force_no_longer_shows(client, organization, banned, change):
    _case, made = banned
    Sanction.objects.filter(pk=made.pk).update(**change)
    log_in(client, member(organization, "staff").user)
    page = check(client, organization, EMAIL).content.decode()
    assert NO_RESTRICTION in page
    assert "Restricted" not in page


def test_permanent_and_all_spaces_are_said_so_and_several_scopes_each_have_their_line(organization, space):
    subject = person(organization, NAME, email=EMAIL)
    other = SpaceFactory(organization=organization, name="Community forum")
    sanction(organization, subject=subject, kind=SanctionKind.EXPULSION, spaces=[other], permanent=True)
    sanction(organization, subject=subject, kind=SanctionKind.BARRED_FROM_SOCIAL, spaces=[space], ends_at=None)
    staff = member(organization, "staff")
    answer = check_restriction(organization, by=staff.user, value=EMAIL)
    assert answer.restricted
    assert answer.lines == (
        "Restricted from Community forum permanently: contact the CoC team.",
        f"Restricted from {space.name} permanently: contact the CoC team.",
    )

    sanction(organization, subject=subject, kind=SanctionKind.IMPOSED_VACATION, all_spaces=True, permanent=True)
    answer = check_restriction(organization, by=staff.user, value=NAME)
    assert answer.lines[0] == "Restricted from all spaces permanently: contact the CoC team."


def test_another_organizations_sanctions_never_answer(organization, banned):
    elsewhere = OrganizationFactory()
    staff = member(elsewhere, "staff")
    answer = check_restriction(elsewhere, by=staff.user, value=EMAIL)
    assert not answer.restricted


def test_every_check_is_recorded_and_audited_without_what_was_typed(client, organization, banned):
    staff = member(organization, "staff")
    log_in(client, staff.user)
    check(client, organization, EMAIL)
    check(client, organization, "nobody-at-all@example.com")

    checks = list(RestrictionCheck.objects.filter(organization=organization).order_by("checked_at", "pk"))
    assert [(c.checked_by_id, c.restricted) for c in checks] == [(staff.user.pk, True), (staff.user.pk, False)]
    events = list(AuditEvent.objects.filter(action="restriction.checked").order_by("id"))
    assert [event.detail["restricted"] for event in events] == [True, False]
    assert all(event.actor_id == staff.user.pk and event.organization_id == organization.pk for event in events)
    for event in events:
        text = repr(event.detail)
        assert "example" not in text and "quentin" not in text.lower()


def test_empty_or_too_short_input_gets_a_message_and_nothing_is_recorded(client, organization):
    log_in(client, member(organization, "staff").user)
    empty = check(client, organization, "   ").content.decode()
    assert "Type a name, email address, handle or badge number." in empty
    short = check(client, organization, "x").content.decode()
    assert "Type at least two letters or digits." in short
    assert 'value="x"' in short  # what was typed stays
    assert not RestrictionCheck.objects.exists()


def test_checks_are_throttled_per_member_with_a_clear_message(client, organization, banned, settings):
    settings.COCDESK_RESTRICTION_CHECKS = 3
    staff, colleague = member(organization, "staff"), member(organization, "staff")
    log_in(client, staff.user)
    for _ in range(3):
        assert "Restricted from" in check(client, organization, EMAIL).content.decode()

    blocked = check(client, organization, EMAIL).content.decode()
    assert "You have made 3 checks in the last 15 minutes" in blocked
    assert "Restricted from" not in blocked
    assert RestrictionCheck.objects.count() == 3

    # Another member's count is their own.
    log_in(client, colleague.user)
    assert "Restricted from" in check(client, organization, EMAIL).content.decode()


@pytest.mark.parametrize("role", ["staff", "responder", "lead"])
def test_staff_responders_and_leads_may_check(client, organization, role):
    holder = member(organization, role)
    assert can(holder.user, "sanctions.check_restriction", organization)
    log_in(client, holder.user)
    assert client.get(url(organization)).status_code == 200


def test_a_space_scoped_staff_member_may_check_too(client, organization, space, banned):
    scoped = member(organization, "staff")
    scoped.spaces.add(space)
    assert check_restriction(organization, by=scoped.user, value=EMAIL).restricted


@pytest.mark.parametrize("who", ["admin", "fallback", "other-organization-staff", "no-membership"])
def test_anyone_else_gets_404_and_nothing_is_recorded(client, organization, banned, who):
    if who == "other-organization-staff":
        user = member(OrganizationFactory(), "staff").user
    elif who == "no-membership":
        user = member(OrganizationFactory(), "lead").user
        user.memberships.update(is_active=False)
    else:
        user = member(organization, who).user
    log_in(client, user)
    assert client.get(url(organization)).status_code == 404
    response = check(client, organization, EMAIL)
    assert response.status_code == 404
    assert b"Restricted" not in response.content
    assert not RestrictionCheck.objects.exists()
    assert not AuditEvent.objects.filter(action="restriction.checked").exists()


def test_a_logged_out_visitor_is_sent_to_the_login(client, organization):
    response = check(client, organization, EMAIL)
    assert response.status_code == 302 and "/desk/login/" in response["Location"]
    assert not RestrictionCheck.objects.exists()


def test_the_person_is_still_named_in_the_registry_for_the_team(organization, banned):
    """The check reads the registry without changing it."""
    _case, made = banned
    check_restriction(organization, by=member(organization, "staff").user, value=EMAIL)
    assert person_name(made.person) == NAME


# --- at the registration desk, on a phone --------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_volunteer_checks_on_a_phone_and_records_a_warning(browser, live_server):
    organization = OrganizationFactory()
    space = SpaceFactory(organization=organization, name="Main conference")
    subject = person(organization, NAME, email=EMAIL)
    sanction(organization, subject=subject, spaces=[space], permanent=True)
    enrolled(organization, "staff", "vic-volunteer")
    desk = Audited(browser, live_server.url)
    try:
        desk.page.set_viewport_size({"width": 390, "height": 844})
        log_in_browser(desk, "vic-volunteer")
        desk.page.get_by_role("link", name="Check a restriction").click()
        field = desk.page.get_by_label("Name, email, handle or badge number")
        field.fill(EMAIL.upper())
        desk.page.get_by_role("button", name="Check").click()
        answer = desk.page.locator("#check-answer")
        expect(answer).to_have_text("Restricted from Main conference permanently: contact the CoC team.")
        expect(field).to_have_value("")
        field.fill("Nobody We Know")
        desk.page.get_by_role("button", name="Check").click()
        expect(answer).to_have_text("No active restriction.")
        width = desk.page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1]
        desk.check_all()

        desk.page.get_by_role("link", name="Record a verbal warning you gave").click()
        desk.page.get_by_label("Their name").fill("Walter Warned")
        desk.page.get_by_label("Space").select_option(label="Main conference")
        desk.page.get_by_label("What you told them").fill("Please stop interrupting the speakers.")
        desk.page.get_by_role("button", name="Record the warning").click()
        expect(desk.page.get_by_role("heading", name="Recorded. Thank you.")).to_be_visible()
        expect(desk.page.get_by_role("link", name="Record another warning")).to_be_visible()
        desk.check_all()
    finally:
        desk.close()
    assert RestrictionCheck.objects.filter(organization=organization).count() == 2
    assert Sanction.objects.filter(kind=SanctionKind.VERBAL_WARNING, spaces=space).count() == 1
