"""An urgent case handled from start to end in a real browser, with the real task worker delivering mail to an SMTP
server on loopback and urgent pages to a chat webhook on loopback.

Report (urgent, with an email) -> leads paged by mail and chat, responders told -> a lead records an immediate action
and acknowledges -> a responder reviews the action and asks a question -> the reporter is told by mail (without the
message) and answers with the receipt -> another lead records the outcome and closes -> the reporter reads the outcome.

Every page is watched for Content-Security-Policy violations on the console and checked for the security headers
(see ``Audited`` in tests/browser/helpers.py).
"""

import pytest
from django.test import override_settings
from playwright.sync_api import expect

from cocdesk.orgs.models import template_text
from tests.browser.helpers import (
    answer_the_team,
    enrolled,
    log_in,
    open_case,
    open_follow_up,
    page_opener,
    queue_row,
)
from tests.factories import member
from tests.mail_server import mail_server, run_worker, webhook_receiver

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REPORTER_EMAIL = "reporter@example.org"
DESCRIPTION = "A man is following me between the talks and keeps blocking the door of the quiet room."
IMMEDIATE_ACTION = "Venue security called"
QUESTION = "Can you tell us where exactly this happened?"
ANSWER = "It was in room 4"
ACTIONS_TAKEN = "Removed from the event"
FINDING = "A violation of the Code of Conduct"
# What the team and the reporter wrote: none of it may leave the server by mail or chat.
CONTENT = [DESCRIPTION, IMMEDIATE_ACTION, QUESTION, ANSWER, ACTIONS_TAKEN, "room 4", "quiet room"]


@pytest.fixture
def delivery(live_server):
    """A loopback SMTP server and chat webhook, with Django's SMTP backend and BASE_URL pointed at them."""
    with mail_server() as inbox, webhook_receiver() as chat, override_settings(BASE_URL=live_server.url):
        yield inbox, chat


@pytest.fixture
def open_page(browser, live_server, transactional_db):
    with page_opener(browser, live_server.url) as open_:
        yield open_


@pytest.fixture
def urgent_team(organization, space, delivery):
    _inbox, chat = delivery
    organization.chat_webhook_url = chat.url
    organization.save(update_fields=["chat_webhook_url"])
    return {
        "lena": enrolled(organization, "lead", "lena"),
        "leo": enrolled(organization, "lead", "leo"),
        "rae": enrolled(organization, "responder", "rae"),
        "fay": member(organization, "fallback", username="fay"),
    }


def leaked(text):
    return [snippet for snippet in CONTENT if snippet.lower() in text.lower()]


def test_urgent_case_from_report_to_closed_outcome(open_page, live_server, organization, space, urgent_team, delivery):
    inbox, chat = delivery

    # 1-2. A reporter files an urgent report, leaving an email, and reads the receipt.
    reporter = open_page()
    page = reporter.page
    reporter.goto(f"/report/{organization.slug}/")
    page.get_by_label("Your email").fill(REPORTER_EMAIL)
    page.get_by_label("Where it happened").select_option(label=space.name)
    page.get_by_role("group", name="Is it still happening?").get_by_label("Yes, it is still happening").check()
    page.get_by_label("What happened").fill(DESCRIPTION)
    page.get_by_role("button", name="Send the report").click()
    expect(page.get_by_role("heading", name="Thank you. Your report was received.")).to_be_visible()
    reference = page.locator("#case-reference").inner_text().strip()
    receipt = page.locator("#receipt").inner_text().strip()
    expect(page.locator("ul.promises")).to_contain_text(
        f"because you told us it is ongoing or someone is in danger, we aim for "
        f"{organization.urgent_acknowledge_within_hours} hours"
    )
    reporter.check_all()

    # 3. The worker pages every lead once by mail and the chat once; responders hear of a new report.
    assert inbox.mails == [], "nothing may be sent before the worker runs"
    run_worker()
    for lead in ("lena", "leo"):
        pages = [mail for mail in inbox.to(f"{lead}@example.org") if "URGENT" in mail.subject]
        assert len(pages) == 1, [mail.subject for mail in inbox.to(f"{lead}@example.org")]
        assert reference in pages[0].subject
        assert f"{live_server.url}/desk/cases/{reference}/" in pages[0].body
    for handler in ("lena", "leo", "rae"):
        new = [mail for mail in inbox.to(f"{handler}@example.org") if "New report" in mail.subject]
        assert len(new) == 1, [mail.subject for mail in inbox.to(f"{handler}@example.org")]
        assert reference in new[0].subject
    assert not any("URGENT" in mail.subject for mail in inbox.to("rae@example.org"))
    assert inbox.to("fay@example.org") == []
    assert inbox.to(REPORTER_EMAIL) == []
    assert [leaked(mail.raw) for mail in inbox.mails] == [[]] * len(inbox.mails)
    posts = chat.delivered()
    assert len(posts) == 1, posts
    assert reference in posts[0]["text"]
    assert "URGENT" in posts[0]["text"]
    assert leaked(posts[0]["text"]) == [], posts[0]

    # 4. Lena opens the case, records what she did at once and acknowledges with the template.
    lena = open_page()
    page = lena.page
    log_in(lena, "lena")
    row = queue_row(page, reference)
    expect(row.locator(".flag-urgent")).to_have_text("Urgent")
    expect(row).to_contain_text("Acknowledge by")
    open_case(lena, reference)
    guidance = page.get_by_role("region", name="If anyone is in physical danger")
    expect(guidance).to_be_visible()
    expect(guidance).to_contain_text(organization.emergency_number)
    expect(page.get_by_text(DESCRIPTION)).to_be_visible()
    actions = page.locator("section#immediate-actions")
    expect(actions.get_by_role("heading", name="Immediate actions")).to_be_visible()
    expect(actions).to_contain_text("None recorded.")
    actions.get_by_label("What you did to keep people safe").fill(IMMEDIATE_ACTION)
    with page.expect_response(lambda r: r.request.method == "POST" and "/immediate-actions/" in r.url) as posted:
        actions.get_by_role("button", name="Record the action").click()
    assert posted.value.status == 302, f"recording the immediate action answered {posted.value.status}"
    expect(page.get_by_role("status")).to_contain_text("Recorded. The team is asked to review it.")
    expect(actions.locator("article.message")).to_contain_text(IMMEDIATE_ACTION)
    expect(actions.locator("article.message")).to_contain_text("not reviewed yet")

    page.get_by_role("link", name="acknowledgement", exact=True).click()
    expect(page.get_by_label("Message to the reporter")).to_have_value(template_text(organization, "acknowledgement"))
    kind = page.get_by_label("Kind", exact=True)
    if kind.input_value() != "acknowledgement":
        kind.select_option(label="Acknowledgement")
    page.get_by_role("button", name="Send to the reporter").click()
    expect(page.get_by_role("status")).to_contain_text("Message saved")
    expect(page.locator("#case-state")).to_have_text("Acknowledged")
    expect(page.locator("article.message.from-team")).to_contain_text("Acknowledgement")
    lena.goto("/desk/")
    row = queue_row(page, reference)
    expect(row).to_have_count(1)
    expect(row).not_to_contain_text("Acknowledge by")
    expect(row).to_contain_text("Update by")
    lena.check_all()

    # 5. Rae reviews the immediate action and asks the reporter a question.
    rae = open_page()
    page = rae.page
    log_in(rae, "rae")
    open_case(rae, reference)
    actions = page.locator("section#immediate-actions")
    expect(actions.locator("article.message")).to_contain_text(IMMEDIATE_ACTION)
    with page.expect_response(lambda r: r.request.method == "POST" and "/review/" in r.url) as posted:
        actions.get_by_role("button", name="Mark as reviewed by me").click()
    assert posted.value.status == 302, f"reviewing the immediate action answered {posted.value.status}"
    expect(page.get_by_role("status")).to_contain_text("Marked as reviewed.")
    expect(actions.locator("article.message")).to_contain_text("reviewed by rae")
    expect(actions.get_by_role("button", name="Mark as reviewed by me")).to_have_count(0)
    page.get_by_label("Kind", exact=True).select_option(label="Question")
    page.get_by_label("Message to the reporter").fill(QUESTION)
    page.get_by_role("button", name="Send to the reporter").click()
    expect(page.get_by_role("status")).to_contain_text("Message saved")
    expect(page.locator("article.message.from-team").last).to_contain_text(QUESTION)
    expect(page.locator("article.message.from-team").last).to_contain_text("Question")
    rae.check_all()

    # 6. The reporter is told twice that a message waits, never what it says; the team is asked to review.
    run_worker()
    notices = inbox.to(REPORTER_EMAIL)
    assert len(notices) == 2, [mail.subject for mail in notices]
    for notice in notices:
        assert notice.subject == f"A message from the Code of Conduct team of {organization.name}"
        assert f"{live_server.url}/follow-up/" in notice.body
        assert leaked(notice.raw) == []
        assert template_text(organization, "acknowledgement")[:40] not in notice.raw
    reviews = [mail for mail in inbox.mails if "review an immediate action" in mail.subject]
    asked = sorted(address for mail in reviews for address in mail.recipients)
    assert asked == ["leo@example.org", "rae@example.org"], asked

    # 7. The reporter opens the follow-up page with the receipt, reads both messages and answers.
    page = open_follow_up(reporter, receipt, reference)
    expect(page.locator("#reporter-state")).to_have_text("Acknowledged by the team")
    from_team = page.locator("article.message.from-team")
    expect(from_team).to_have_count(2)
    expect(from_team.first).to_contain_text("Thank you for your report.")
    expect(from_team.last).to_contain_text(QUESTION)
    answer_the_team(reporter, ANSWER)
    reporter.check_all()

    # 8. Leo reads the answer, records the decision with the outcome, and closes the case.
    leo = open_page()
    page = leo.page
    log_in(leo, "leo")
    open_case(leo, reference)
    expect(page.locator("article.message.from-reporter")).to_contain_text(ANSWER)
    page.get_by_role("link", name="Record the decision").click()
    page.get_by_label("The finding").select_option(label=FINDING)
    page.get_by_label("Why the team decided so").fill("Leo and Lena read the answer together.")
    votes = page.locator("#votes")
    votes.get_by_label(urgent_team["leo"].display_name).select_option(label="Agrees")
    votes.get_by_label(urgent_team["lena"].display_name).select_option(label="Agrees")
    opening = template_text(organization, "outcome")
    finding_words = f"Our finding: {FINDING[0].lower() + FINDING[1:]}."
    outcome_text = f"{opening}\n\nThe Code of Conduct team discussed the situation.\n{finding_words}\n"
    page.get_by_label("The outcome message to the reporter").fill(f"{outcome_text}What we did: {ACTIONS_TAKEN}")
    page.get_by_role("button", name="Record the decision and send the outcome").click()
    expect(page.get_by_role("status")).to_contain_text("The decision is recorded and the outcome sent to the reporter.")
    expect(page.locator("#case-state")).to_have_text("Decided")
    expect(page.locator("article.message.from-team").last).to_contain_text(ACTIONS_TAKEN)
    page.get_by_role("button", name="Close the case").click()
    expect(page.locator("#case-state")).to_have_text("Closed")
    expect(page.get_by_role("button", name="Close the case")).to_have_count(0)
    leo.goto("/desk/")
    expect(page.get_by_text("No cases for you to see.")).to_be_visible()
    expect(page.get_by_text(reference)).to_have_count(0)
    page.get_by_role("link", name="Closed and merged").click()
    row = queue_row(page, reference)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Closed")
    leo.check_all()

    # 9. The reporter reloads the follow-up page and reads the outcome.
    page = reporter.page
    page.reload()
    expect(page.get_by_role("heading", name=f"Your report {reference}")).to_be_visible()
    expect(page.locator("#reporter-state")).to_have_text("Closed")
    from_team = page.locator("article.message.from-team")
    expect(from_team).to_have_count(3)
    expect(from_team.last).to_contain_text("The Code of Conduct team discussed the situation.")
    expect(from_team.last).to_contain_text(f"Our finding: {FINDING[0].lower() + FINDING[1:]}.")
    expect(from_team.last).to_contain_text(f"What we did: {ACTIONS_TAKEN}")
    reporter.check_all()

    # Afterwards: one more content-free notice for the outcome, and nothing sent anywhere carried the content.
    run_worker()
    assert len(inbox.to(REPORTER_EMAIL)) == 3
    assert [leaked(mail.raw) for mail in inbox.mails] == [[]] * len(inbox.mails)
    assert len(chat.delivered()) == 1
    assert inbox.to("fay@example.org") == []
