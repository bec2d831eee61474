"""The people pages in Chromium: a lead opens a case naming someone who is in another case, reads the suggestion,
confirms the link, follows the person to their pattern (the timeline) and the organization's people list, and
names a witness in the case, whose page shows the suggestions for them. axe-core checks every page on the way,
as test_accessibility does."""

import pytest
from playwright.sync_api import expect

from cocdesk.people.models import CaseParty
from tests.browser.helpers import Watched, enrolled, log_in, open_case, page_opener
from tests.browser.test_accessibility import Findings
from tests.factories import report_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def open_page(browser, live_server):
    with page_opener(browser, live_server.url, kind=Watched) as open_:
        yield open_


def test_a_lead_links_a_suggested_person_and_reads_their_pattern(open_page, organization, space):
    findings = Findings()
    enrolled(organization, "lead", "lena")
    earlier, _ = report_case(
        organization,
        description="He kept touching my shoulder at the party.",
        space=space,
        reported_name="Viktor Hollis",
        reported_screen_names="viktor.hollis@example.org\n+44 20 7946 0958",
    )
    current, _ = report_case(
        organization,
        description="He would not let me leave the booth.",
        space=space,
        reported_name="V. Hollis",
        reported_screen_names="Viktor.Hollis@EXAMPLE.org",
    )
    elsewhere, _ = report_case(
        organization,
        description="Someone shouted at the speaker.",
        space=space,
        others_involved="Witness: Rita Stone, rita.stone@example.org",
    )
    rita = CaseParty.objects.get(case=elsewhere, role="witness").person.code_name
    earlier_person = CaseParty.objects.get(case=earlier).person.code_name
    current_person = CaseParty.objects.get(case=current).person.code_name

    desk = open_page()
    desk.page.set_viewport_size({"width": 1280, "height": 800})
    page = desk.page
    log_in(desk, "lena")
    open_case(desk, current.reference)
    people = page.locator("#people")
    expect(people).to_contain_text("Possibly the same person as in 1 other case.")
    expect(people.get_by_role("link", name=earlier.reference)).to_be_visible()
    findings.check(desk, "case page with a suggestion")

    people.get_by_role("button", name=f"Same person: link {current_person} and {earlier_person}").click()
    expect(page.get_by_text(f"Linked: they are now one person, {earlier_person}.")).to_be_visible()
    expect(page.locator("#people")).to_contain_text(f"Linked to the same person in {earlier.reference}")
    page.locator("#people").get_by_role("link", name=earlier_person).first.click()

    expect(page.get_by_role("heading", name=earlier_person)).to_be_visible()
    timeline = page.locator("#timeline")
    expect(timeline.get_by_role("link", name=earlier.reference)).to_be_visible()
    expect(timeline.get_by_role("link", name=current.reference)).to_be_visible()
    findings.check(desk, "person's pattern")

    page.get_by_role("link", name="People seen in several cases").click()
    expect(page.get_by_role("link", name=earlier_person)).to_be_visible()
    findings.check(desk, "organization's people")

    desk.goto(f"/desk/cases/{current.reference}/")
    page.get_by_role("link", name="Name someone else in this case").click()
    findings.check(desk, "naming someone")
    page.get_by_role("button", name="Add and look for matches").click()
    expect(page.locator(".field-error")).to_contain_text("Give a name, an email")
    findings.check(desk, "naming someone, with errors")
    page.get_by_label("How are they involved?").select_option("witness")
    page.get_by_label("Their name").fill("Rita")
    page.get_by_label("What else they are known by").fill("Rita.Stone@EXAMPLE.org")
    page.get_by_role("button", name="Add and look for matches").click()
    suggestions = page.locator("#suggestions")
    expect(suggestions).to_contain_text("Possibly the same person as in 1 other case.")
    expect(suggestions.get_by_role("link", name=rita)).to_be_visible()
    expect(suggestions.get_by_role("link", name=elsewhere.reference)).to_be_visible()
    findings.check(desk, "suggestions for the person named")
    findings.assert_none()
    desk.check_security()
