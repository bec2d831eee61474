"""Security journeys in a real browser: response headers and CSP on every kind of page, first-login enrolment of the
second factor, recusal and reinstatement, fallback handling, and the organization audit log.

Pages are opened in fresh browser contexts (no shared cookies) that record console errors and document responses;
see ``Audited`` in tests/browser/helpers.py.
"""

import base64
import re

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from cocdesk.cases.domain.recusal import recuse
from cocdesk.cases.enums import RecusalReason, RecusalSource
from tests.browser.helpers import enrolled, log_in, log_in_with_password, open_case, page_opener, queue_row
from tests.factories import member, report_case

pytestmark = [pytest.mark.browser]

DESCRIPTION = "At the hackathon a mentor kept commenting on my body although I asked him to stop."


@pytest.fixture
def open_page(browser, live_server, transactional_db):
    with page_opener(browser, live_server.url) as open_:
        yield open_


def code_for_secret(secret):
    """What an authenticator app shows for the base32 key typed in by hand."""
    return f"{totp(base64.b32decode(secret)):06d}"


def enrol_in_browser(watched):
    """On the enrolment page: read the key, enter the current code, see the recovery codes; returns the codes."""
    page = watched.page
    expect(page.get_by_role("heading", name="Set up your second factor")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]+=*", secret), secret
    page.get_by_label("Code from your authenticator app").fill(code_for_secret(secret))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    return [code.strip() for code in page.locator("#recovery-codes li").all_inner_texts()]


def test_headers_and_csp_on_public_and_desk_pages(open_page, organization, space):
    member(organization, "responder", username="hana")

    # Public side: home, report form, confirmation, follow-up entry and the reporter's case page.
    reporter = open_page()
    page = reporter.page
    assert reporter.goto("/").status == 200
    reporter.check_dom()
    assert reporter.goto(f"/report/{organization.slug}/").status == 200
    reporter.check_dom()
    page.get_by_label("What happened").fill(DESCRIPTION)
    page.get_by_role("button", name="Send the report").click()
    expect(page.get_by_role("heading", name="Thank you. Your report was received.")).to_be_visible()
    reporter.check_dom()
    reference = page.locator("#case-reference").inner_text().strip()
    receipt = page.locator("#receipt").inner_text().strip()
    assert reporter.goto("/follow-up/").status == 200
    reporter.check_dom()
    page.get_by_label("Your receipt").fill(receipt)
    page.get_by_role("button", name="Open my report").click()
    expect(page.get_by_role("heading", name=f"Your report {reference}")).to_be_visible()
    reporter.check_dom()
    reporter.check_all()
    assert {"/", f"/report/{organization.slug}/", "/follow-up/", "/follow-up/case/"} <= reporter.visited_paths()

    # Desk side: login, enrolment, recovery codes, queue and case page.
    team = open_page()
    page = team.page
    assert team.goto("/desk/login/").status == 200
    team.check_dom()
    log_in_with_password(team, "hana")
    expect(page.get_by_role("heading", name="Set up your second factor")).to_be_visible()
    team.check_dom()
    enrol_in_browser(team)
    team.check_dom()
    page.get_by_role("link", name="Continue to the desk").click()
    expect(page.get_by_role("heading", name="Case queue")).to_be_visible()
    team.check_dom()
    open_case(team, reference)
    expect(page.get_by_text(DESCRIPTION)).to_be_visible()
    team.check_dom()
    team.check_all()
    assert {"/desk/login/", "/desk/enrol/", "/desk/", f"/desk/cases/{reference}/"} <= team.visited_paths()


def test_first_login_enrols_the_authenticator(open_page, organization):
    newcomer = member(organization, "responder", username="noor")
    assert not TOTPDevice.objects.filter(user=newcomer.user).exists()
    watched = open_page()
    page = watched.page

    log_in_with_password(watched, "noor")
    expect(page.get_by_role("heading", name="Set up your second factor")).to_be_visible()
    assert page.url.startswith(watched.base_url + "/desk/enrol/")
    expect(page.get_by_role("img", name="QR code to add CoC Desk to your authenticator app")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text().strip()

    # Without the second factor no desk page opens: the queue sends the member back to the same pending key.
    watched.goto("/desk/")
    expect(page.get_by_role("heading", name="Set up your second factor")).to_be_visible()
    assert page.locator("#totp-secret").inner_text().strip() == secret

    codes = enrol_in_browser(watched)
    assert len(codes) == 10, codes
    assert len(set(codes)) == 10, codes
    assert TOTPDevice.objects.filter(user=newcomer.user, confirmed=True).count() == 1
    page.get_by_role("link", name="Continue to the desk").click()
    expect(page.get_by_role("heading", name="Case queue")).to_be_visible()
    expect(page.get_by_text("No cases for you to see.")).to_be_visible()
    watched.check_all()


def test_recused_responder_loses_the_case_until_a_lead_reinstates_them(open_page, organization):
    responder = enrolled(organization, "responder", "rosa")
    enrolled(organization, "lead", "lior")
    case, _ = report_case(organization, description=DESCRIPTION)
    reference = case.reference

    # The responder declares a conflict of interest.
    rosa = open_page()
    page = rosa.page
    log_in(rosa, "rosa")
    open_case(rosa, reference)
    page.get_by_role("link", name="I have a conflict of interest with this case").click()
    expect(page.get_by_role("heading", name=f"Declare a conflict of interest with case {reference}")).to_be_visible()
    rosa.check_dom()
    page.get_by_label("Your conflict of interest").select_option(label="Close co-worker")
    page.get_by_role("button", name="Recuse me from this case").click()
    expect(page.get_by_role("heading", name="Case queue")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("You are recused. That case no longer appears anywhere for you.")
    assert page.url == rosa.base_url + "/desk/"
    expect(page.get_by_text(reference)).to_have_count(0)
    expect(page.get_by_text("No cases for you to see.")).to_be_visible()
    response = rosa.goto(f"/desk/cases/{reference}/")
    assert response.status == 404
    assert DESCRIPTION not in page.content()
    assert rosa.goto(f"/desk/cases/{reference}/recuse-me/").status == 404
    rosa.check_all()

    # A lead sees the recusal and reinstates her, with a reason.
    lior = open_page()
    page = lior.page
    log_in(lior, "lior")
    page.get_by_role("link", name=reference).click()
    conflicts = page.locator("section#recusals")
    expect(conflicts.get_by_role("heading", name="Conflicts of interest")).to_be_visible()
    row = conflicts.locator("tbody tr", has_text=responder.display_name)
    expect(row).to_contain_text("Close co-worker")
    row.get_by_label("Reason", exact=True).fill("She left that company last year.")
    row.get_by_role("button", name="Reinstate").click()
    expect(page.get_by_role("status")).to_contain_text(f"{responder.display_name} is reinstated on this case.")
    expect(conflicts).to_contain_text("Nobody is recused from this case.")
    lior.check_all()

    # The case is back in her queue.
    page = rosa.page
    rosa.goto("/desk/")
    expect(queue_row(page, reference)).to_have_count(1)
    page.get_by_role("link", name=reference).click()
    expect(page.get_by_text(DESCRIPTION)).to_be_visible()
    rosa.check_security()


def test_fallback_member_gets_the_case_when_too_many_leads_are_recused(open_page, organization):
    organization.recusal_threshold = 2
    organization.save(update_fields=["recusal_threshold"])
    leads = [member(organization, "lead", username=f"lead{n}") for n in range(3)]
    enrolled(organization, "fallback", "fay")
    case, _ = report_case(organization, description=DESCRIPTION)
    reference = case.reference
    for lead in leads[:2]:
        recuse(case, lead, reason=RecusalReason.FAMILY, source=RecusalSource.DECLARED, by=lead.user)

    fay = open_page()
    page = fay.page
    log_in(fay, "fay")
    # Two recused leads are not more than the threshold: the fallback member sees nothing yet.
    expect(page.get_by_text("No cases for you to see.")).to_be_visible()
    assert fay.goto(f"/desk/cases/{reference}/").status == 404

    recuse(case, leads[2], reason=RecusalReason.FAMILY, source=RecusalSource.DECLARED, by=leads[2].user)
    fay.goto("/desk/")
    row = queue_row(page, reference)
    expect(row).to_have_count(1)
    expect(row.locator(".flag-fallback")).to_have_text("Fallback handling")
    row.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", name=f"Case {reference}")).to_be_visible()
    expect(page.locator(".fallback-notice")).to_contain_text("Under fallback handling")
    expect(page.get_by_text(DESCRIPTION)).to_be_visible()
    fay.check_all()


def test_org_admin_reads_the_audit_log_without_content(open_page, organization):
    enrolled(organization, "admin", "ada")
    case, _ = report_case(organization, description=DESCRIPTION)

    ada = open_page()
    page = ada.page
    log_in(ada, "ada")
    expect(page.get_by_text(case.reference)).to_have_count(0)
    page.get_by_role("link", name=f"Audit log of {organization.name}").click()
    expect(page.get_by_role("heading", name=f"Audit log of {organization.name}")).to_be_visible()
    received = page.locator("table.queue tbody tr", has_text="case.received")
    expect(received).to_have_count(1)
    expect(received).to_contain_text(case.reference)
    html = page.content()
    assert DESCRIPTION not in html
    assert "hackathon" not in html
    ada.check_all()
