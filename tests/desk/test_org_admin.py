"""Organization admins manage settings and the team, and see no case content while doing it."""

import pytest
from django.contrib.auth import get_user_model

from cocdesk.common.models import AuditEvent
from cocdesk.notify.models import Notification
from cocdesk.orgs.models import Membership
from tests.factories import OrganizationFactory, member, report_case
from tests.team import log_in

CANARY = "canary-admin-must-not-read-7f3a"


@pytest.fixture
def admin(organization):
    return member(organization, "admin", username="ada")


@pytest.fixture
def admin_client(client, admin):
    return log_in(client, admin.user)


def settings_payload(organization, **changes):
    data = {
        "name": organization.name,
        "reporting_email": organization.reporting_email,
        "coc_url": "",
        "emergency_number": organization.emergency_number,
        "non_emergency_number": organization.non_emergency_number,
        "crisis_line": organization.crisis_line,
        "emergency_guidance": "",
        "acknowledge_within_hours": 24,
        "urgent_acknowledge_within_hours": 2,
        "update_within_days": 7,
        "recusal_threshold": 2,
        "fallback_escalation_hours": 24,
        "chat_webhook_url": "",
        "appeal_window_days": 30,
        "retention_days": 1000,
        "categories_text": "Harassment\nOther",
        "decision_rule": organization.decision_rule,
        "sanction_kinds": list(organization.sanction_kinds),
        "sanction_notice_days": organization.sanction_notice_days,
        "appeal_review_days": organization.appeal_review_days,
    }
    data.update(changes)
    return data


def test_admin_changes_policy_and_the_report_form_promises_follow(admin_client, organization):
    response = admin_client.post(
        f"/desk/orgs/{organization.slug}/settings/",
        settings_payload(organization, acknowledge_within_hours=12, update_within_days=5, emergency_number="999"),
    )
    assert response.status_code == 302
    organization.refresh_from_db()
    assert (organization.acknowledge_within_hours, organization.update_within_days) == (12, 5)
    assert organization.categories == ["Harassment", "Other"]
    assert "999" in admin_client.get(f"/report/{organization.slug}/").content.decode()
    event = AuditEvent.objects.get(action="org.settings_changed")
    assert "acknowledge_within_hours" in event.detail["fields"]


def test_invalid_settings_keep_what_was_typed(admin_client, organization):
    response = admin_client.post(
        f"/desk/orgs/{organization.slug}/settings/",
        settings_payload(organization, acknowledge_within_hours=0, crisis_line="Line 42 typed"),
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Use a number of hours from 1 to 336." in page
    assert "Line 42 typed" in page
    organization.refresh_from_db()
    assert organization.acknowledge_within_hours == 24


def test_admin_adds_a_member_who_gets_an_invitation_without_a_stored_link(admin_client, organization):
    response = admin_client.post(
        f"/desk/orgs/{organization.slug}/team/",
        {
            "username": "newbie",
            "display_name": "New Bie",
            "email": "newbie@example.org",
            "roles": ["lead"],
            "identifiers": "Slack: @newbie",
        },
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user__username="newbie", organization=organization)
    assert membership.is_lead and membership.is_responder
    assert not membership.user.has_usable_password()
    invitation = Notification.objects.get(recipient=membership.user, kind="invitation")
    assert "password-reset" not in invitation.body


def test_adding_a_member_without_roles_keeps_the_form(admin_client, organization):
    response = admin_client.post(
        f"/desk/orgs/{organization.slug}/team/",
        {"username": "nobody", "display_name": "No Roles", "email": "no@example.org"},
    )
    assert response.status_code == 200
    assert "Choose at least one role." in response.content.decode()
    assert "No Roles" in response.content.decode()
    assert not get_user_model().objects.filter(username="nobody").exists()


def test_admin_changes_roles_and_removes_access(admin_client, organization):
    responder = member(organization, "responder", username="rae")
    url = f"/desk/orgs/{organization.slug}/team/{responder.pk}/"
    admin_client.post(url, {f"m{responder.pk}-roles": ["responder", "fallback"], "action": "roles"})
    responder.refresh_from_db()
    assert responder.is_fallback and responder.is_responder
    admin_client.post(url, {"action": "deactivate"})
    responder.refresh_from_db()
    assert not responder.is_active


def test_the_last_admin_cannot_remove_themselves(admin_client, organization, admin):
    admin_client.post(f"/desk/orgs/{organization.slug}/team/{admin.pk}/", {"action": "deactivate"})
    admin.refresh_from_db()
    assert admin.is_active


def test_admin_pages_show_no_case_content(admin_client, organization):
    case, _receipt = report_case(organization, description=CANARY)
    for path in ("settings", "team", "audit"):
        response = admin_client.get(f"/desk/orgs/{organization.slug}/{path}/")
        assert response.status_code == 200
        assert CANARY not in response.content.decode()
    assert admin_client.get(f"/desk/cases/{case.reference}/").status_code == 404


@pytest.mark.parametrize("role", ["responder", "lead", "staff", "fallback"])
def test_non_admins_get_404_and_change_nothing(client, organization, role):
    someone = member(organization, role)
    log_in(client, someone.user)
    before = (Membership.objects.count(), AuditEvent.objects.count())
    for path in ("settings", "team", "audit"):
        assert client.get(f"/desk/orgs/{organization.slug}/{path}/").status_code == 404
    response = client.post(
        f"/desk/orgs/{organization.slug}/team/",
        {"username": "intruder", "display_name": "I", "email": "i@example.org", "roles": ["lead"]},
    )
    assert response.status_code == 404
    assert (Membership.objects.count(), AuditEvent.objects.count()) == before


def test_admin_of_another_organization_gets_404(client, organization):
    outsider = member(OrganizationFactory(), "admin")
    log_in(client, outsider.user)
    assert client.get(f"/desk/orgs/{organization.slug}/settings/").status_code == 404


def test_password_reset_queues_a_mail_for_team_members_only(client, organization):
    responder = member(organization, "responder", username="resetme")
    response = client.post("/desk/password-reset/", {"email": responder.user.email})
    assert response.status_code == 200
    assert Notification.objects.filter(recipient=responder.user, kind="password_reset").count() == 1
    response = client.post("/desk/password-reset/", {"email": "stranger@example.org"})
    assert "If a team account uses that address" in response.content.decode()


def test_the_link_made_at_sending_time_lets_the_member_choose_a_password(client, organization):
    from cocdesk.notify.domain import account_mail_body

    responder = member(organization, "responder", username="linkuser")
    client.post("/desk/password-reset/", {"email": responder.user.email})
    notification = Notification.objects.get(recipient=responder.user, kind="password_reset")
    link = next(line for line in account_mail_body(notification).splitlines() if "/desk/password-reset/" in line)
    path = link.split("://", 1)[1].split("/", 1)[1]
    form_page = client.get("/" + path, follow=True)
    assert form_page.status_code == 200 and "Choose a password" in form_page.content.decode()
    new_password = "a-much-longer-new-passphrase-42"
    done = client.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else "/" + path,
        {"new_password1": new_password, "new_password2": new_password},
        follow=True,
    )
    assert "Your password is saved" in done.content.decode()
    responder.user.refresh_from_db()
    assert responder.user.check_password(new_password)


def test_admin_edits_templates_and_responders_start_from_them(admin_client, client, organization):
    bodies = {
        "acknowledgement": "We got it, {organization}. Update within {update_within_days} days.",
        "question": "A question:",
        "update": "Still on it.",
        "outcome": "Decision reached.",
    }
    response = admin_client.post(f"/desk/orgs/{organization.slug}/templates/", bodies)
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="org.templates_changed").exists()
    responder = member(organization, "responder")
    case, _receipt = report_case(organization)
    log_in(client, responder.user)
    page = client.get(f"/desk/cases/{case.reference}/?template=acknowledgement").content.decode()
    assert f"We got it, {organization.name}. Update within {organization.update_within_days} days." in page


def test_an_empty_template_is_refused_and_the_others_are_kept(admin_client, organization):
    response = admin_client.post(
        f"/desk/orgs/{organization.slug}/templates/",
        {"acknowledgement": "", "question": "Typed question text", "update": "u", "outcome": "o"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "A template cannot be empty." in page and "Typed question text" in page
    assert not organization.templates.exists()
