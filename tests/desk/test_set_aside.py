"""Mail that could not become a report is kept, and the organization's leads can read it; nobody else."""

import pytest

from cocdesk.cases.domain.email_intake import take_in
from cocdesk.cases.models import SetAsideMail
from cocdesk.common.models import AuditEvent
from tests.factories import OrganizationFactory, member
from tests.team import log_in

GARBAGE = b"\x00\x01 not a mail at all, but someone typed: canary-set-aside-9q"


@pytest.fixture
def set_aside_mail(organization):
    take_in(GARBAGE, organization_slug=organization.slug)
    return SetAsideMail.objects.get()


def test_a_lead_lists_downloads_and_marks_handled(client, organization, set_aside_mail):
    lead = member(organization, "lead")
    log_in(client, lead.user)
    listing = client.get(f"/desk/orgs/{organization.slug}/set-aside/").content.decode()
    assert set_aside_mail.reason in listing and "canary-set-aside-9q" not in listing
    download = client.get(f"/desk/orgs/{organization.slug}/set-aside/{set_aside_mail.pk}/")
    assert download.status_code == 200 and download.content == GARBAGE
    assert download["Content-Disposition"].startswith("attachment")
    assert AuditEvent.objects.filter(action="mail.set_aside_read", actor=lead.user).exists()
    client.post(f"/desk/orgs/{organization.slug}/set-aside/{set_aside_mail.pk}/handled/")
    set_aside_mail.refresh_from_db()
    assert set_aside_mail.handled_at is not None


@pytest.mark.parametrize("role", ["responder", "staff", "admin", "fallback"])
def test_other_roles_get_404_and_read_nothing(client, organization, set_aside_mail, role):
    someone = member(organization, role)
    log_in(client, someone.user)
    before = AuditEvent.objects.count()
    assert client.get(f"/desk/orgs/{organization.slug}/set-aside/").status_code == 404
    assert client.get(f"/desk/orgs/{organization.slug}/set-aside/{set_aside_mail.pk}/").status_code == 404
    assert client.post(f"/desk/orgs/{organization.slug}/set-aside/{set_aside_mail.pk}/handled/").status_code == 404
    assert AuditEvent.objects.count() == before
    set_aside_mail.refresh_from_db()
    assert set_aside_mail.handled_at is None


def test_a_lead_of_another_organization_gets_404(client, organization, set_aside_mail):
    outsider = member(OrganizationFactory(), "lead")
    log_in(client, outsider.user)
    assert client.get(f"/desk/orgs/{organization.slug}/set-aside/{set_aside_mail.pk}/").status_code == 404
