"""Staff take reports for someone and keep no access; the debrief lists an event's cases and kept promises."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cocdesk.cases.domain import team, workflow
from cocdesk.cases.domain.clock import sweep
from cocdesk.cases.models import Case, Report
from cocdesk.orgs.enums import SpaceKind
from tests.factories import OrganizationFactory, SpaceFactory, member, report_case
from tests.team import log_in

CANARY = "staff-canary-blue-umbrella-41"


@pytest.fixture
def staff(organization):
    return member(organization, "staff", username="sam")


def test_staff_files_an_in_person_report_and_sees_only_that_they_filed_it(client, organization, space, staff):
    log_in(client, staff.user)
    form_page = client.get(f"/desk/orgs/{organization.slug}/file-report/").content.decode()
    assert "Do not promise any specific action" in form_page and "escort" in form_page
    response = client.post(
        f"/desk/orgs/{organization.slug}/file-report/",
        {"channel": "in_person", "description": CANARY, "space": space.pk, "submission_token": "t-1"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    report = Report.objects.get()
    assert report.filed_by == staff.user and report.channel == "in_person"
    assert report.case.reference in page and 'id="receipt"' in page
    filed = client.get("/desk/filed/").content.decode()
    assert report.case.reference in filed and CANARY not in filed
    assert client.get(f"/desk/cases/{report.case.reference}/").status_code == 404
    assert report.case.reference not in client.get("/desk/").content.decode()


def test_staff_form_keeps_what_was_typed_when_the_description_is_missing(client, organization, staff):
    log_in(client, staff.user)
    response = client.post(
        f"/desk/orgs/{organization.slug}/file-report/",
        {"channel": "phone", "location": "Hallway by room 3", "submission_token": "t-2"},
    )
    assert response.status_code == 200
    assert "Hallway by room 3" in response.content.decode()
    assert not Case.objects.exists()


@pytest.mark.parametrize("role", ["admin", "fallback"])
def test_members_without_intake_duty_cannot_file(client, organization, role):
    someone = member(organization, role)
    log_in(client, someone.user)
    assert client.get(f"/desk/orgs/{organization.slug}/file-report/").status_code == 404


def test_staff_of_another_organization_cannot_file_here(client, organization):
    outsider = member(OrganizationFactory(), "staff")
    log_in(client, outsider.user)
    assert client.get(f"/desk/orgs/{organization.slug}/file-report/").status_code == 404


def test_debrief_lists_cases_with_promises_kept_and_missed(client, organization):
    conference = SpaceFactory(organization=organization, kind=SpaceKind.CONFERENCE, name="ExampleCon")
    lead = member(organization, "lead")
    on_time, _ = report_case(organization, space=conference)
    late, _ = report_case(organization, space=conference)
    team.message_reporter(on_time, on_time.reports.get(), author=lead.user, body="Received, thank you.")
    sweep(now=timezone.now() + timedelta(hours=25))
    workflow.add_note(late, "waiting", by=lead.user)
    log_in(client, lead.user)
    page = client.get(f"/desk/spaces/{conference.pk}/debrief/").content.decode()
    assert on_time.reference in page and late.reference in page
    assert "promise-met" in page and "promise-missed" in page


def test_debrief_is_404_for_staff_and_for_non_conference_spaces(client, organization):
    online = SpaceFactory(organization=organization, kind=SpaceKind.ONLINE)
    conference = SpaceFactory(organization=organization, kind=SpaceKind.CONFERENCE)
    responder = member(organization, "responder")
    staff = member(organization, "staff")
    log_in(client, responder.user)
    assert client.get(f"/desk/spaces/{online.pk}/debrief/").status_code == 404
    log_in(client, staff.user)
    assert client.get(f"/desk/spaces/{conference.pk}/debrief/").status_code == 404


def test_debrief_leaves_out_cases_the_reader_is_recused_from(client, organization):
    conference = SpaceFactory(organization=organization, kind=SpaceKind.CONFERENCE)
    responder = member(organization, "responder")
    hidden, _ = report_case(organization, space=conference, excluded_members=[responder])
    log_in(client, responder.user)
    assert hidden.reference not in client.get(f"/desk/spaces/{conference.pk}/debrief/").content.decode()
