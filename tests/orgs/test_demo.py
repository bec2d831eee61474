"""``manage.py load_demo``: two organizations shaped like the procedures, a full team each, and demo cases."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from cocdesk.cases.domain import content
from cocdesk.cases.models import Case, Message, Receipt, Recusal, Report
from cocdesk.common.models import AuditEvent
from cocdesk.orgs.demo import DEMO_PASSWORD
from cocdesk.orgs.enums import Role
from cocdesk.orgs.models import Membership, Organization, Space

EXPECTED_SPACES = {
    "pynorth": {"PyNorth 2026", "PyNorth Slack"},
    "pycommunity": {"Community forum", "Monthly Python meetup"},
}
COUNTED = [Organization, Space, get_user_model(), Membership, Case, Report, Receipt, Recusal, Message, AuditEvent]


def load():
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def counts():
    return {model.__name__: model.objects.count() for model in COUNTED}


@pytest.fixture
def demo(db):
    return load()


def test_two_organizations_with_their_spaces(demo):
    assert set(Organization.objects.values_list("slug", flat=True)) == set(EXPECTED_SPACES)
    for slug, names in EXPECTED_SPACES.items():
        assert set(Space.objects.filter(organization__slug=slug).values_list("name", flat=True)) == names
    assert Space.objects.count() == 4


@pytest.mark.parametrize("slug", sorted(EXPECTED_SPACES))
@pytest.mark.parametrize("role", [Role.STAFF, Role.RESPONDER, Role.LEAD, Role.ADMIN, Role.FALLBACK])
def test_every_role_in_each_organization(demo, slug, role):
    holders = Membership.objects.active().filter(organization__slug=slug).with_role(role)
    assert holders.exists()
    # Each demo login can actually log in with the printed password.
    for membership in holders:
        assert membership.user.check_password(DEMO_PASSWORD)


def test_enough_leads_to_show_the_fallback(demo):
    for organization in Organization.objects.all():
        leads = Membership.objects.filter(organization=organization, is_lead=True).count()
        assert leads > organization.recusal_threshold


def test_demo_cases_exist_and_are_readable(demo):
    for organization in Organization.objects.all():
        cases = Case.objects.filter(organization=organization)
        assert cases.count() >= 2
        assert cases.filter(is_urgent=True).exists()
        assert cases.filter(is_urgent=False).exists()
        for case in cases:
            assert case.space is not None and case.space.organization == organization
            report = case.reports.get()
            assert content.report_content(report)["description"]
            assert Receipt.objects.filter(report=report).exists()


def test_running_twice_changes_nothing(demo):
    before = counts()
    output = load()
    assert counts() == before
    assert "nothing changed" in output


def test_the_demo_responder_sees_their_organizations_cases(demo):
    responder = get_user_model().objects.get(username="pynorth-responder")
    visible = Case.objects.visible_to(responder)
    assert set(visible) == set(Case.objects.filter(organization__slug="pynorth"))
    staff = get_user_model().objects.get(username="pynorth-staff")
    assert not Case.objects.visible_to(staff).exists()


def test_demo_code_logs_a_demo_account_in_through_both_steps(db, client, settings):
    from io import StringIO

    from django.core.management import CommandError, call_command

    call_command("load_demo", stdout=StringIO())
    settings.DEBUG = True
    out = StringIO()
    call_command("demo_code", "pynorth-lead", stdout=out)
    code = out.getvalue().strip()
    assert len(code) == 6 and code.isdigit()
    response = client.post("/desk/login/", {"username": "pynorth-lead", "password": "coc-desk-demo"})
    assert response["Location"].startswith("/desk/second-factor/")
    response = client.post(response["Location"], {"token": code})
    assert response.status_code == 302
    assert client.get("/desk/").status_code == 200
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("demo_code", "pynorth-lead", stdout=StringIO())
