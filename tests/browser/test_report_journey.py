"""The whole reporting journey in a real browser: report, team reply, reporter follow-up, exclusion.

Forms are posted by a plain browser, with no CSRF or Origin work-arounds: under the site's no-referrer policy
Chromium sends ``Origin: null`` on these posts, so this also guards the project's CSRF middleware.

Every page is watched for Content-Security-Policy violations reported on the console, and every document
response must carry a Content-Security-Policy header.
"""

import re

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.factories import PASSWORD, member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESCRIPTION = "During the evening social a man kept touching my shoulder after I asked him to stop."
LOCATION = "Hallway outside room B"
SCREEN_NAMES = "Slack: @shoulder-guy\nMastodon: @sg@example.social"
TEAM_MESSAGE = "Thank you for telling us. Could you describe what he was wearing?"
REPORTER_ADDITION = "A green hoodie with a conference speaker ribbon."


class Watched:
    """A page in its own browser context, recording console errors and document responses."""

    def __init__(self, browser, base_url):
        self.base_url = base_url
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.console_errors = []
        self.documents = []
        self.page.on("console", self._on_console)
        self.page.on("response", self._on_response)

    def _on_console(self, message):
        if message.type == "error":
            self.console_errors.append(message.text)

    def _on_response(self, response):
        if response.request.resource_type == "document":
            self.documents.append(response)

    def goto(self, path):
        return self.page.goto(self.base_url + path)

    def check_security(self):
        """No CSP violation on the console, and a CSP header on every page the browser loaded."""
        violations = [text for text in self.console_errors if re.search(r"content.security.policy", text, re.I)]
        assert violations == [], violations
        assert self.documents, "no page was loaded"
        for response in self.documents:
            policy = response.header_value("content-security-policy")
            assert policy, f"{response.url} ({response.status}) has no Content-Security-Policy header"
            assert "default-src 'none'" in policy, (response.url, policy)

    def close(self):
        self.context.close()


@pytest.fixture
def open_page(browser, live_server):
    """Opens pages in fresh browser contexts (no shared cookies); closes them all after the test."""
    opened = []

    def open_():
        watched = Watched(browser, live_server.url)
        opened.append(watched)
        return watched

    yield open_
    for watched in opened:
        watched.close()


@pytest.fixture
def team(organization, space):
    memberships = {
        "rae": member(organization, "responder", username="rae"),
        "robin": member(organization, "responder", username="robin"),
        "lead": member(organization, "lead", username="lena"),
    }
    for membership in memberships.values():
        TOTPDevice.objects.create(user=membership.user, name="Authenticator app", confirmed=True)
    return memberships


def current_code(username):
    device = TOTPDevice.objects.get(user__username=username, confirmed=True)
    return f"{totp(device.bin_key, device.step, device.t0, device.digits):0{device.digits}d}"


def log_in(watched, username):
    """Password, then the second factor from the member's already-enrolled authenticator."""
    page = watched.page
    watched.goto("/desk/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    page.get_by_label("Code from your authenticator app").fill(current_code(username))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Case queue")).to_be_visible()


def test_report_reply_follow_up_and_exclusion(open_page, organization, space, team):
    # 1. An anonymous reporter files a report and excludes robin.
    reporter = open_page()
    page = reporter.page
    response = reporter.goto(f"/report/{organization.slug}/")
    assert response.status == 200
    guidance = page.get_by_role("region", name="If anyone is in physical danger")
    expect(guidance).to_be_visible()
    expect(guidance).to_contain_text(organization.emergency_number)
    expect(guidance).to_contain_text(organization.crisis_line)

    page.get_by_label("What happened").fill(DESCRIPTION)
    page.get_by_label("Location details").fill(LOCATION)
    page.get_by_label("Where it happened").select_option(label=space.name)
    page.get_by_label("Screen names or handles").fill(SCREEN_NAMES)
    page.get_by_role("group", name="Is it still happening?").get_by_label("No", exact=True).check()
    exclusions = page.get_by_role("group", name="Team members who must not see this report")
    exclusions.get_by_label(team["robin"].display_name, exact=True).check()
    page.get_by_role("button", name="Send the report").click()

    expect(page.get_by_role("heading", name="Thank you. Your report was received.")).to_be_visible()
    reference = page.locator("#case-reference").inner_text().strip()
    receipt = page.locator("#receipt").inner_text().strip()
    assert re.fullmatch(r"[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}", reference), reference
    assert len(receipt.replace("-", "")) == 32, receipt
    reporter.check_security()

    # 2. Rae, a responder, reads the case and writes to the reporter.
    rae = open_page()
    page = rae.page
    log_in(rae, "rae")
    page.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", name=f"Case {reference}")).to_be_visible()
    expect(page.get_by_text(DESCRIPTION)).to_be_visible()
    for screen_name in SCREEN_NAMES.splitlines():
        expect(page.get_by_text(screen_name)).to_be_visible()
    expect(page.locator("article.report")).to_contain_text(LOCATION)
    expect(page.locator("dl.case-meta")).to_contain_text(space.name)
    page.get_by_label("Message to the reporter").fill(TEAM_MESSAGE)
    page.get_by_role("button", name="Send to the reporter").click()
    expect(page.get_by_role("status")).to_contain_text("Message saved")
    expect(page.locator("article.message.from-team")).to_contain_text(TEAM_MESSAGE)
    rae.check_security()

    # 3. The reporter comes back with the receipt, reads the message and adds information.
    follow_up = open_page()
    page = follow_up.page
    follow_up.goto("/follow-up/")
    page.get_by_label("Your receipt").fill(receipt)
    page.get_by_role("button", name="Open my report").click()
    expect(page.get_by_role("heading", name=f"Your report {reference}")).to_be_visible()
    expect(page.locator("article.message.from-team")).to_contain_text(TEAM_MESSAGE)
    page.get_by_label("Add information or answer the team").fill(REPORTER_ADDITION)
    page.get_by_role("button", name="Send to the team").click()
    expect(page.get_by_role("status")).to_contain_text("Your message was sent to the team.")
    expect(page.locator("article.message.from-reporter")).to_contain_text(REPORTER_ADDITION)
    follow_up.check_security()

    # 4. Robin was excluded: no trace of the case in the queue, and its page does not exist for them.
    robin = open_page()
    page = robin.page
    log_in(robin, "robin")
    expect(page.get_by_text("No cases for you to see.")).to_be_visible()
    expect(page.get_by_text(reference)).to_have_count(0)
    response = robin.goto(f"/desk/cases/{reference}/")
    assert response.status == 404
    expect(page.get_by_text(DESCRIPTION)).to_have_count(0)
    assert DESCRIPTION not in page.content()
    assert reference not in page.content()
    robin.check_security()


def test_missing_description_keeps_the_other_answers(open_page, organization, space, team):
    reporter = open_page()
    page = reporter.page
    reporter.goto(f"/report/{organization.slug}/")
    page.get_by_label("Your name").fill("Sam")
    page.get_by_label("Location details").fill(LOCATION)
    page.get_by_label("Where it happened").select_option(label=space.name)
    page.get_by_label("Screen names or handles").fill(SCREEN_NAMES)
    page.get_by_label(team["robin"].display_name, exact=True).check()
    page.get_by_role("button", name="Send the report").click()

    expect(page.get_by_role("heading", name="Your report was not sent yet")).to_be_visible()
    expect(page.get_by_text("Please tell us what happened: this is the one thing we need to act.")).to_be_visible()
    assert page.get_by_label("Your name").input_value() == "Sam"
    assert page.get_by_label("Location details").input_value() == LOCATION
    assert page.get_by_label("Where it happened").input_value() == str(space.pk)
    assert page.get_by_label("Screen names or handles").input_value() == SCREEN_NAMES
    assert page.get_by_label("What happened").input_value() == ""
    expect(page.get_by_label(team["robin"].display_name, exact=True)).to_be_checked()
    reporter.check_security()
