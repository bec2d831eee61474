"""A case from report to closing, as docs/responder-guide.md tells it, photographed on the way: the queue with its
deadlines, the case page, the acknowledgement, triage, a note, a question to the reporter, the reporter's follow-up
page, the 7-day update, the decision with its outcome message, closing, and the pages for a conflict of interest
and for reporters' help.

Screenshots go where ``Camera`` says (tests/browser/test_first_ten_minutes.py): pytest's tmp dir, or
COCDESK_DOCS_SCREENSHOTS under stable names.
"""

import pytest
from playwright.sync_api import expect

from cocdesk.orgs.models import template_text
from tests.browser.helpers import answer_the_team, enrolled, log_in, open_case, open_follow_up, page_opener, queue_row
from tests.browser.test_first_ten_minutes import Camera, sized
from tests.factories import OrganizationFactory, SpaceFactory, report_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESCRIPTION = (
    "At the evening social a man from a sponsor booth kept asking for my hotel room number after I said no twice."
)
SUMMARY = "Repeated unwanted personal questions at the social, after a clear no."
BAD_ACTOR = "Sponsor booth staff member, badge 2041"
NOTE = "Spoke with the venue host: two people at the bar saw it and are willing to talk to us."
QUESTION = "Thank you for your report. Could you tell us roughly what time this happened?"
ANSWER = "Around 21:30, near the bar."
DELAY = "we are still talking with two people who saw it"
RATIONALE = "Two witnesses confirm the account; he went on after a clear no. The sponsor agrees."
ACTIONS_TAKEN = "We spoke with the person and the sponsor; he is not welcome at PyNorth events for a year."


def outcome_message(organization):
    """The outcome as the procedures ask: the team discussed it, whether it was a violation, what was done."""
    return "\n".join(
        [
            template_text(organization, "outcome"),
            "",
            "The Code of Conduct team discussed the situation.",
            "Our finding: a violation of the Code of Conduct.",
            f"What we did: {ACTIONS_TAKEN}",
        ]
    )


@pytest.fixture
def camera(tmp_path):
    return Camera(tmp_path / "screenshots")


@pytest.fixture
def open_page(browser, live_server, transactional_db):
    with page_opener(browser, live_server.url) as open_:
        yield lambda: sized(open_())


@pytest.fixture
def pynorth(transactional_db):
    organization = OrganizationFactory(
        name="PyNorth Conference",
        slug="pynorth",
        reporting_email="conduct@pynorth.example.org",
        non_emergency_number="+44 101",
        crisis_line="Samaritans 116 123",
        is_listed=True,
    )
    conference = SpaceFactory(organization=organization, name="PyNorth 2026")
    slack = SpaceFactory(organization=organization, name="PyNorth Slack", kind="online", platform="slack")
    team = {
        "rae": enrolled(organization, "responder", "rae"),
        "lena": enrolled(organization, "lead", "lena"),
    }
    team["rae"].display_name, team["lena"].display_name = "Rae Lindqvist", "Lena Osei"
    for membership in team.values():
        membership.save(update_fields=["display_name"])
    # Other cases on the queue, so that it shows deadlines and an urgent case.
    report_case(organization, "Someone shared my private address in a Slack thread.", space=slack)
    report_case(organization, "A man is following me between talks.", space=conference, ongoing="yes")
    return organization, conference


def test_a_case_from_report_to_closing(open_page, pynorth, camera):
    organization, conference = pynorth

    # The reporter files the report on the web and keeps the receipt.
    reporter = open_page()
    page = reporter.page
    reporter.goto(f"/report/{organization.slug}/")
    page.get_by_label("Where it happened").select_option(label=conference.name)
    page.get_by_label("What happened").fill(DESCRIPTION)
    page.get_by_role("button", name="Send the report").click()
    expect(page.get_by_role("heading", name="Thank you. Your report was received.")).to_be_visible()
    reference = page.locator("#case-reference").inner_text().strip()
    receipt = page.locator("#receipt").inner_text().strip()

    # Rae finds it on the queue, opens it, takes it and acknowledges it from the template.
    rae = open_page()
    page = rae.page
    log_in(rae, "rae")
    expect(queue_row(page, reference)).to_contain_text("Acknowledge by")
    expect(page.locator(".flag-urgent").first).to_be_visible()
    camera.shoot(page, "responder-01-queue")
    open_case(rae, reference)
    expect(page.get_by_text(DESCRIPTION)).to_be_visible()
    camera.shoot(page, "responder-02-case")
    page.get_by_role("button", name="Assign to me").click()
    page.get_by_role("link", name="acknowledgement", exact=True).click()
    form = page.locator("#message-form")
    expect(page.get_by_label("Message to the reporter")).to_have_value(template_text(organization, "acknowledgement"))
    page.get_by_label("Kind", exact=True).select_option(label="Acknowledgement")
    camera.shoot(page, "responder-03-acknowledge", form)
    page.get_by_role("button", name="Send to the reporter").click()
    expect(page.locator("#case-state")).to_have_text("Acknowledged")

    # Triage with the playbook's questions, and an internal note.
    page.get_by_role("button", name="Start investigating").click()
    expect(page.locator("#case-state")).to_have_text("Investigating")
    triage = page.locator("section#triage")
    triage.get_by_label("What happened (the team's summary)").fill(SUMMARY)
    triage.get_by_label("Who the bad actor was").fill(BAD_ACTOR)
    triage.get_by_label("Category").select_option(label="Unwelcome sexual attention")
    triage.get_by_role("button", name="Save triage").click()
    expect(page.locator("section#triage")).to_contain_text("Last saved")
    camera.shoot(page, "responder-04-triage", page.locator("section#triage"))
    notes = page.locator("section#notes")
    notes.get_by_label("Internal note (the reporter never sees it)").fill(NOTE)
    notes.get_by_role("button", name="Save the note").click()
    expect(page.locator("section#notes article.message")).to_contain_text(NOTE)
    camera.shoot(page, "responder-05-note", page.locator("section#notes"))

    # A question to the reporter.
    page.get_by_label("Kind", exact=True).select_option(label="Question")
    page.get_by_label("Message to the reporter").fill(QUESTION)
    page.get_by_role("button", name="Send to the reporter").click()
    expect(page.locator("article.message.from-team").last).to_contain_text(QUESTION)
    camera.shoot(page, "responder-06-messages", page.locator("article.report section.thread"))
    rae.check_all()

    # The reporter opens the follow-up page with the receipt and answers.
    page = reporter.page
    reporter.goto("/follow-up/")
    camera.shoot(page, "reporter-05-follow-up-entry")
    open_follow_up(reporter, receipt, reference)
    answer_the_team(reporter, ANSWER)
    camera.shoot(page, "reporter-06-follow-up")
    reporter.goto("/help/")
    expect(page.get_by_role("heading", name="How reporting works")).to_be_visible()
    camera.shoot(page, "reporter-07-help")
    reporter.check_all()

    # Lena, a lead, writes the 7-day update, then records the decision with the outcome and closes the case.
    lena = open_page()
    page = lena.page
    log_in(lena, "lena")
    open_case(lena, reference)
    expect(page.locator("article.message.from-reporter")).to_contain_text(ANSWER)
    page.get_by_role("link", name="update", exact=True).click()
    update = template_text(organization, "update")
    expect(page.get_by_label("Message to the reporter")).to_have_value(update)
    page.get_by_label("Message to the reporter").fill(update.replace("[[the reason for the delay]]", DELAY))
    page.get_by_label("Kind", exact=True).select_option(label="Update (restarts the 7-day clock)")
    camera.shoot(page, "responder-07-update", page.locator("#message-form"))
    page.get_by_role("button", name="Send to the reporter").click()
    expect(page.locator("article.message.from-team").last).to_contain_text(DELAY)

    page.get_by_role("link", name="Record the decision").click()
    expect(page.get_by_role("heading", name=f"Record the decision on case {reference}")).to_be_visible()
    page.get_by_label("The finding").select_option(label="A violation of the Code of Conduct")
    page.get_by_label("Why the team decided so").fill(RATIONALE)
    votes = page.locator("#votes")
    votes.get_by_label("Lena Osei").select_option(label="Agrees")
    votes.get_by_label("Rae Lindqvist").select_option(label="Agrees")
    page.get_by_label("The outcome message to the reporter").fill(outcome_message(organization))
    camera.shoot(page, "responder-08-decision")
    camera.shoot(page, "responder-09-outcome-message", page.locator("section#outcome"))
    page.get_by_role("button", name="Record the decision and send the outcome").click()
    expect(page.get_by_role("status")).to_contain_text("The decision is recorded and the outcome sent to the reporter.")
    expect(page.locator("#case-state")).to_have_text("Decided")
    page.get_by_role("button", name="Close the case").click()
    expect(page.locator("#case-state")).to_have_text("Closed")
    expect(page.get_by_role("button", name="Reopen")).to_be_visible()
    camera.shoot(page, "responder-10-closed")
    lena.check_all()

    # The page where a member declares a conflict of interest (not sent: Lena has none).
    page.get_by_role("link", name="I have a conflict of interest with this case").click()
    expect(page.get_by_role("heading", name=f"Declare a conflict of interest with case {reference}")).to_be_visible()
    camera.shoot(page, "responder-11-recusal")

    # The reporter reads the outcome.
    page = reporter.page
    reporter.goto("/follow-up/case/")
    expect(page.locator("#reporter-state")).to_have_text("Closed")
    expect(page.locator("article.message.from-team").last).to_contain_text(ACTIONS_TAKEN)
    camera.shoot(page, "reporter-08-outcome", page.locator("article.message.from-team").last)
    reporter.check_all()
    camera.check()
