"""Every main page fits a phone (390 px) and a laptop (1280 px) with no sideways scrolling, even with a pasted
10,000-character word and a right-to-left override (U+202E) in the report."""

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import Watched, enrolled, log_in, open_case, page_opener
from tests.factories import report_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG_WORD = "token" + "x" * 10_000
BIDI = "He wrote \u202etxet desrever\u202c in the chat."
SIZES = [(390, 844), (1280, 800)]


@pytest.fixture
def open_page(browser, live_server):
    with page_opener(browser, live_server.url, kind=Watched) as open_:
        yield open_


def fits(watched, viewport):
    watched.page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    overflow = watched.page.evaluate("() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    assert overflow["scroll"] <= overflow["inner"], (watched.page.url, viewport, overflow)


@pytest.mark.parametrize("viewport", SIZES, ids=["phone", "laptop"])
def test_the_reporters_pages_fit(open_page, organization, space, viewport):
    reporter = open_page()
    reporter.page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    reporter.goto(f"/report/{organization.slug}/")
    fits(reporter, viewport)
    reporter.page.get_by_label("What happened").fill(f"{LONG_WORD}\n{BIDI}")
    reporter.page.get_by_role("button", name="Send the report").click()
    expect(reporter.page.get_by_role("heading", name="Thank you. Your report was received.")).to_be_visible()
    fits(reporter, viewport)
    # The receipt can be copied and printed with a button each (a static script: the page works without it).
    expect(reporter.page.get_by_role("button", name="Copy the receipt")).to_be_visible()
    expect(reporter.page.get_by_role("button", name="Print this page")).to_be_visible()
    receipt = reporter.page.locator("#receipt").inner_text().strip()
    reporter.goto("/follow-up/")
    fits(reporter, viewport)
    reporter.page.get_by_label("Your receipt").fill(receipt)
    reporter.page.get_by_role("button", name="Open my report").click()
    fits(reporter, viewport)


@pytest.mark.parametrize("viewport", SIZES, ids=["phone", "laptop"])
def test_the_queue_and_the_case_page_fit(open_page, organization, space, viewport):
    enrolled(organization, "responder", "rae")
    case, _receipt = report_case(organization, description=f"{LONG_WORD}\n{BIDI}", space=space, ongoing="yes")
    for n in range(3):
        report_case(organization, description=f"Another report {n}", space=space)
    member_page = open_page()
    member_page.page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    log_in(member_page, "rae")
    fits(member_page, viewport)
    open_case(member_page, case.reference)
    fits(member_page, viewport)
