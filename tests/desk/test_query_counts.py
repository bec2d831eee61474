"""Query counts: each desk page runs the same number of queries with one item as with many (members, reports,
messages, notes, cases), so a page's cost does not grow with the organization."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cocdesk.cases.domain import team, workflow
from cocdesk.cases.domain.intake import submit_report
from cocdesk.cases.domain.reporter import add_reporter_message, find_receipt
from cocdesk.cases.enums import MessageKind
from cocdesk.cases.models import Case
from tests.factories import OrganizationFactory, SpaceFactory, member, report_case
from tests.team import log_in


def queries_for(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


def add_team(organization, size):
    """A team of ``size`` handlers: a third leads, the rest responders (at least the reader and one lead)."""
    leads = max(1, size // 3)
    members = [member(organization, "lead") for _ in range(leads)]
    members += [member(organization, "responder") for _ in range(size - leads)]
    return members


def busy_case(organization, *, reports, messages, notes, lead):
    case, _receipt = report_case(organization, description="First report.", reporter_email="r@example.org")
    for n in range(reports - 1):
        duplicate, _ = report_case(organization, description=f"Duplicate {n}.")
        team.message_reporter(duplicate, duplicate.reports.get(), author=lead.user, body="Thanks.")
        workflow.merge(Case.objects.get(pk=duplicate.pk), into=Case.objects.get(pk=case.pk), by=lead.user)
    report = case.reports.get()
    for n in range(messages):
        team.message_reporter(
            Case.objects.get(pk=case.pk), report, author=lead.user, body=f"Message {n}", kind=MessageKind.QUESTION
        )
    for n in range(notes):
        workflow.add_note(case, f"Note {n}", by=lead.user)
    workflow.assign(case, [lead], by=lead.user)
    return case


def case_page_queries(size, reports, messages, notes, viewer_role):
    organization = OrganizationFactory()
    SpaceFactory(organization=organization)
    members = add_team(organization, size)
    lead = members[0]
    viewer = lead if viewer_role == "lead" else members[-1]
    case = busy_case(organization, reports=reports, messages=messages, notes=notes, lead=lead)
    client = log_in(Client(), viewer.user)
    url = f"/desk/cases/{case.reference}/"
    client.get(url)  # warm: the session's first save
    return queries_for(client, url)


@pytest.mark.django_db
@pytest.mark.parametrize("viewer_role", ["responder", "lead"])
def test_case_page_costs_the_same_for_a_small_and_a_large_case(viewer_role):
    small = case_page_queries(size=5, reports=1, messages=1, notes=1, viewer_role=viewer_role)
    large = case_page_queries(size=30, reports=5, messages=40, notes=12, viewer_role=viewer_role)
    assert small == large
    assert small <= 40


def queue_queries(case_count, url="/desk/"):
    organization = OrganizationFactory()
    spaces = [SpaceFactory(organization=organization) for _ in range(3)]
    responder, lead = member(organization, "responder"), member(organization, "lead")
    for n in range(case_count):
        case, _receipt = report_case(organization, description=f"Case {n}", space=spaces[n % 3], ongoing="yes")
        workflow.assign(case, [responder, lead], by=lead.user)
    client = log_in(Client(), responder.user)
    client.get(url)
    return queries_for(client, url)


QUEUE_URLS = [
    "/desk/",
    "/desk/?show=all",
    "/desk/?show=finished",
    "/desk/?show=new&urgent=on",
    "/desk/?overdue=on",
    "/desk/?fallback=on",
    "/desk/?mine=on",
    "/desk/?unassigned=on",
    "/desk/?page=2",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", QUEUE_URLS)
def test_queue_costs_the_same_with_one_case_and_with_several(url):
    assert queue_queries(1, url) == queue_queries(6, url)


@pytest.mark.django_db
def test_queue_filter_by_space_costs_the_same():
    def count(case_count):
        organization = OrganizationFactory()
        space = SpaceFactory(organization=organization)
        responder = member(organization, "responder")
        for n in range(case_count):
            report_case(organization, description=f"Case {n}", space=space)
        client = log_in(Client(), responder.user)
        client.get(f"/desk/?space={space.pk}")
        return queries_for(client, f"/desk/?space={space.pk}")

    assert count(1) == count(5)


@pytest.mark.django_db
def test_debrief_costs_the_same_with_one_case_and_with_several():
    def count(case_count):
        organization = OrganizationFactory()
        conference = SpaceFactory(organization=organization)
        lead = member(organization, "lead")
        for n in range(case_count):
            case, receipt = report_case(organization, description=f"Case {n}", space=conference)
            team.message_reporter(case, case.reports.get(), author=lead.user, body="Thanks.")
            add_reporter_message(find_receipt(receipt), "More from the reporter.")
        client = log_in(Client(), lead.user)
        client.get(f"/desk/spaces/{conference.pk}/debrief/")
        return queries_for(client, f"/desk/spaces/{conference.pk}/debrief/")

    assert count(1) == count(4)


@pytest.mark.django_db
def test_audit_pages_cost_the_same_with_one_event_and_with_many():
    def count(events):
        organization = OrganizationFactory()
        admin, lead = member(organization, "admin"), member(organization, "lead")
        case, _receipt = report_case(organization)
        for _ in range(events):
            workflow.add_note(case, "A note.", by=lead.user)
        admin_client = log_in(Client(), admin.user)
        lead_client = log_in(Client(), lead.user)
        org_url = f"/desk/orgs/{organization.slug}/audit/"
        admin_client.get(org_url)
        lead_client.get(f"/desk/cases/{case.reference}/")
        return queries_for(admin_client, org_url), queries_for(lead_client, f"/desk/cases/{case.reference}/")

    assert count(1) == count(8)


@pytest.mark.django_db
@pytest.mark.parametrize("team_size", [3, 25])
def test_intake_runs_at_most_fifteen_queries_whatever_the_team(team_size):
    organization = OrganizationFactory()
    add_team(organization, team_size)
    member(organization, "fallback")
    excluded = member(organization, "responder")
    report_case(organization, description="The organization's first report also starts its audit chain.")
    with CaptureQueriesContext(connection) as captured:
        submit_report(
            organization=organization,
            answers={"description": "He kept following me.", "ongoing": "yes"},
            excluded_members=[excluded],
        )
    assert len(captured) <= 15, [query["sql"][:120] for query in captured]


@pytest.mark.django_db
def test_intake_costs_the_same_for_a_small_and_a_large_team():
    def count(team_size):
        organization = OrganizationFactory()
        add_team(organization, team_size)
        with CaptureQueriesContext(connection) as captured:
            submit_report(organization=organization, answers={"description": "It happened again."})
        return len(captured)

    assert count(3) == count(25)


def sweep_queries(case_count, *, due):
    from cocdesk.cases.domain.clock import sweep

    organization = OrganizationFactory()
    lead = member(organization, "lead")
    member(organization, "responder")
    cases = [report_case(organization, description=f"Case {n}")[0] for n in range(case_count)]
    workflow.assign(cases[0], [lead], by=lead.user)
    moment = timezone.now() + (timezone.timedelta(hours=20) if due else timezone.timedelta(minutes=1))
    with CaptureQueriesContext(connection) as captured:
        sent = sweep(now=moment)
    assert sent == (case_count if due else 0)
    return len(captured)


@pytest.mark.django_db
@pytest.mark.parametrize("due", [False, True], ids=["idle", "alerts due"])
def test_sweep_costs_the_same_for_one_case_and_for_many(due):
    assert sweep_queries(1, due=due) == sweep_queries(7, due=due)
