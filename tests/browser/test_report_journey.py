"""The whole reporting journey in a real browser: report, team reply, reporter follow-up, exclusion.

Forms are posted by a plain browser, with no CSRF or Origin work-arounds: under the site's no-referrer policy
Chromium sends ``Origin: null`` on these posts, so this also guards the project's CSRF middleware.

Every page is watched for Content-Security-Policy violations reported on the console, and every document
response must carry a Content-Security-Policy header.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import Watched, answer_the_team, enrolled, log_in, open_case, open_follow_up, page_opener

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESCRIPTION = "During the evening social a man kept touching my shoulder after I asked him to stop."
LOCATION = "Hallway outside room B"
SCREEN_NAMES = "Slack: @shoulder-guy\nMastodon: @sg@example.social"
TEAM_MESSAGE = "Thank you for telling us. Could you describe what he was wearing?"
REPORTER_ADDITION = "A green hoodie with a conference speaker ribbon."


@pytest.fixture
def open_page(browser, live_server):
    """Opens pages in fresh browser contexts (no shared cookies); closes them all after the test."""
    with page_opener(browser, live_server.url, kind=Watched) as open_:
        yield open_


@pytest.fixture
def team(organization, space):
    return {
        "rae": enrolled(organization, "responder", "rae"),
        "robin": enrolled(organization, "responder", "robin"),
        "lead": enrolled(organization, "lead", "lena"),
    }


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
    open_case(rae, reference)
    expect(page.get_by_text(DESCRIPTION)).to_be_visible()
    for screen_name in SCREEN_NAMES.splitlines():
        # In the report as written, and again among the reported person's identifiers.
        expect(page.locator("article.report")).to_contain_text(screen_name)
        expect(page.get_by_text(screen_name, exact=True).first).to_be_visible()
    expect(page.locator("article.report")).to_contain_text(LOCATION)
    expect(page.locator("dl.case-meta").first).to_contain_text(space.name)
    page.get_by_label("Message to the reporter").fill(TEAM_MESSAGE)
    page.get_by_role("button", name="Send to the reporter").click()
    expect(page.get_by_role("status")).to_contain_text("Message saved")
    expect(page.locator("article.message.from-team")).to_contain_text(TEAM_MESSAGE)
    rae.check_security()

    # 3. The reporter comes back with the receipt, reads the message and adds information.
    follow_up = open_page()
    page = open_follow_up(follow_up, receipt, reference)
    expect(page.locator("article.message.from-team")).to_contain_text(TEAM_MESSAGE)
    answer_the_team(follow_up, REPORTER_ADDITION)
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
    error = "Please tell us what happened: this is the one thing we need to act."
    expect(page.get_by_text(error, exact=True)).to_be_visible()
    # The summary has the keyboard, and its entry leads to the field.
    expect(page.locator(".error-summary")).to_be_focused()
    page.get_by_role("link", name=f"What happened: {error}").click()
    expect(page.get_by_label("What happened")).to_be_focused()
    assert page.get_by_label("Your name").input_value() == "Sam"
    assert page.get_by_label("Location details").input_value() == LOCATION
    assert page.get_by_label("Where it happened").input_value() == str(space.pk)
    assert page.get_by_label("Screen names or handles").input_value() == SCREEN_NAMES
    assert page.get_by_label("What happened").input_value() == ""
    expect(page.get_by_label(team["robin"].display_name, exact=True)).to_be_checked()
    reporter.check_security()
