"""A new team's first ten minutes, in a real browser, through the real pages:

``create_organization`` prints a link -> the first admin chooses a password, enrols an authenticator and keeps the
recovery codes -> adds the Code of Conduct link, a conference and an online space, a contact for a conflict of
interest, lists the organization on the home page -> invites a responder, whose invitation the real task worker
mails to an SMTP server on loopback -> the responder chooses a password and enrols -> a reporter finds the
organization from ``/`` and files a report -> the responder reads it.

The pages are photographed on the way for docs/admin-guide.md and the reporter's part of the guides: into pytest's
tmp dir, or into COCDESK_DOCS_SCREENSHOTS (``make docs-screenshots`` sets docs/images) under stable names.
"""

import base64
import os
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings
from django_otp.oath import totp
from playwright.sync_api import expect

from tests.browser.helpers import open_case, page_opener, queue_row
from tests.mail_server import mail_server, run_worker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS_ENV = "COCDESK_DOCS_SCREENSHOTS"
VIEWPORT = {"width": 1280, "height": 800}
PASSWORD_LINK = re.compile(r"https?://[^/\s]+(/desk/password-reset/\S+/)")

ORGANIZATION = "PyRiver Conference"
SLUG = "pyriver"
REPORTING_EMAIL = "conduct@pyriver.example.org"
ADMIN_EMAIL = "alex@pyriver.example.org"
RESPONDER_EMAIL = "sam@pyriver.example.org"
DESCRIPTION = "During the lightning talks a man in the third row kept making remarks about the speaker's accent."


class Camera:
    """Screenshots under stable names: into COCDESK_DOCS_SCREENSHOTS when it is set (the guides' images), else
    into ``fallback``. Viewport shots of the top of the page, unless an element is given."""

    def __init__(self, fallback):
        target = os.environ.get(SCREENSHOTS_ENV)
        self.directory = Path(target) if target else Path(fallback)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.taken = []

    def shoot(self, page, name, element=None):
        path = self.directory / f"{name}.png"
        # No focus ring, caret or hover state from the last click: the same page looks the same on every run.
        # (Playwright's caret="hide" would leave style attributes on the inputs, which check_dom rejects.)
        page.evaluate("document.activeElement && document.activeElement.blur()")
        page.mouse.move(0, 0)
        if element is None:
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(path), animations="disabled", caret="initial")
        else:
            element.scroll_into_view_if_needed()
            element.screenshot(path=str(path), animations="disabled", caret="initial")
        self.taken.append(path)
        return path

    def check(self):
        assert self.taken, "no screenshot was taken"
        for path in self.taken:
            assert path.stat().st_size > 1000, path


def sized(watched):
    """A watched page at the guides' fixed viewport."""
    watched.page.set_viewport_size(VIEWPORT)
    return watched


def code_for_secret(secret):
    """What an authenticator app shows for the key typed in by hand."""
    return f"{totp(base64.b32decode(secret)):06d}"


def choose_password(watched, path, password, camera=None, shot=None):
    page = watched.page
    watched.goto(path)
    expect(page.get_by_role("heading", name="Choose a password")).to_be_visible()
    page.locator("#id_new_password1").fill(password)
    page.locator("#id_new_password2").fill(password)
    if camera:
        camera.shoot(page, shot)
    page.get_by_role("button", name="Save the password").click()
    expect(page.get_by_role("heading", name="Your password is saved")).to_be_visible()


def log_in_first_time(watched, username, password):
    page = watched.page
    page.get_by_role("link", name="Log in").click()
    expect(page.get_by_role("heading", name="Team login")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Set up your second factor")).to_be_visible()


def enrol(watched, camera=None, shots=()):
    """Types the key into the 'authenticator', confirms, keeps the recovery codes and continues to the desk."""
    page = watched.page
    secret = page.locator("#totp-secret").inner_text().strip()
    page.get_by_label("Code from your authenticator app").fill(code_for_secret(secret))
    if camera:
        camera.shoot(page, shots[0])
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    if camera:
        camera.shoot(page, shots[1])
    page.get_by_role("link", name="Continue to the desk").click()
    expect(page.get_by_role("heading", name="Case queue")).to_be_visible()


def link_path(text):
    """The path of the password link in a printed or mailed text (its host is the live server's anyway)."""
    match = PASSWORD_LINK.search(text)
    assert match, text
    return match.group(1)


@pytest.fixture
def camera(tmp_path):
    return Camera(tmp_path / "screenshots")


@pytest.fixture
def open_page(browser, live_server, transactional_db):
    with page_opener(browser, live_server.url) as open_:
        yield lambda: sized(open_())


@pytest.fixture
def inbox(live_server):
    """A loopback SMTP server, with BASE_URL at the live server so that printed and mailed links open there."""
    with mail_server() as handler, override_settings(BASE_URL=live_server.url):
        yield handler


def test_a_new_teams_first_ten_minutes(open_page, inbox, camera):
    # 1. The operator creates the organization; the command prints the first admin's one-time link.
    output = StringIO()
    call_command(
        "create_organization",
        name=ORGANIZATION,
        slug=SLUG,
        reporting_email=REPORTING_EMAIL,
        admin_email=ADMIN_EMAIL,
        admin_name="Alex Rivera",
        stdout=output,
    )
    admin_link = link_path(output.getvalue())

    # 2. Alex follows the link, chooses a password, logs in and enrols an authenticator app.
    alex = open_page()
    page = alex.page
    choose_password(alex, admin_link, "river-lantern-harbour-42", camera, "admin-01-set-password")
    log_in_first_time(alex, "alex", "river-lantern-harbour-42")
    enrol(alex, camera, ("admin-02-second-factor", "admin-03-recovery-codes"))
    organizations = page.locator("#your-organizations")
    expect(organizations).to_contain_text(ORGANIZATION)
    camera.shoot(page, "admin-04-desk", organizations)

    # 3. The settings: the Code of Conduct's address.
    organizations.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name=f"Settings of {ORGANIZATION}")).to_be_visible()
    page.get_by_label("Code of Conduct URL").fill("https://pyriver.example.org/code-of-conduct")
    page.get_by_label("Non emergency number").fill("+44 101")
    camera.shoot(page, "admin-05-settings")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status")).to_contain_text("Settings saved.")

    # 4. Spaces: the conference and its chat.
    page.get_by_role("navigation").get_by_role("link", name="Spaces").click()
    expect(page.get_by_role("heading", name=f"Spaces of {ORGANIZATION}")).to_be_visible()
    page.locator("#id_name").fill("PyRiver 2027")
    page.get_by_role("radio", name="Conference").check()
    page.get_by_label("First day").fill("2027-06-14")
    page.get_by_label("Last day").fill("2027-06-16")
    page.get_by_label("Venue").fill("Riverside Conference Centre")
    page.get_by_role("button", name="Add the space").click()
    expect(page.get_by_role("status")).to_contain_text("PyRiver 2027 was added.")
    page.locator("#id_name").fill("PyRiver Discord")
    page.get_by_role("radio", name="Online space").check()
    page.get_by_label("Platform").select_option(label="Discord")
    page.get_by_role("button", name="Add the space").click()
    expect(page.get_by_role("status")).to_contain_text("PyRiver Discord was added.")
    expect(page.locator("table.spaces tbody tr")).to_have_count(2)
    camera.shoot(page, "admin-06-spaces")

    # 5. A contact for a concern about a team member, with an intake address of its own.
    page.get_by_role("link", name="Team", exact=True).click()
    page.get_by_role("link", name="Contacts for a conflict of interest").click()
    expect(page.get_by_role("heading", name="Contacts for a concern about a team member")).to_be_visible()
    page.get_by_label("Name shown to reporters").fill("Conference chairs")
    page.get_by_label("Who this is, for reporters").fill("Write here if your report concerns the CoC team.")
    page.get_by_label("Its own intake address").fill("chairs@pyriver.example.org")
    page.get_by_role("button", name="Add the contact").click()
    expect(page.get_by_role("status")).to_contain_text("Conference chairs was added.")
    camera.shoot(page, "admin-07-conflict-contacts")

    # 6. The public page: how to find the team in person, and listed on the home page.
    page.get_by_role("navigation").get_by_role("link", name="Public page").click()
    expect(page.get_by_role("heading", name=f"Public page of {ORGANIZATION}")).to_be_visible()
    page.get_by_label("Listed on the home page").check()
    page.get_by_label("Introduction").fill("We look after PyRiver 2027 and the PyRiver Discord.")
    page.get_by_label("How to find the team in person").fill(
        "Volunteers in green lanyards at the registration desk, and the CoC room next to the main hall."
    )
    page.get_by_role("button", name="Save the public page").click()
    expect(page.get_by_role("status")).to_contain_text("The public page was saved.")
    camera.shoot(page, "admin-08-public-page")

    # 7. The team: Sam is invited as a responder; the worker mails the invitation.
    alex.goto(f"/desk/orgs/{SLUG}/team/")
    add = page.locator("form", has=page.get_by_role("button", name="Add to the team"))
    add.get_by_label("Username").fill("sam")
    add.get_by_label("Name shown to the team and to reporters").fill("Sam Okafor")
    add.get_by_label("Email (for the invitation and notifications)").fill(RESPONDER_EMAIL)
    add.get_by_label("Responder", exact=True).check()
    page.get_by_role("button", name="Add to the team").click()
    expect(page.get_by_role("status")).to_contain_text("Sam Okafor was added to the team.")
    expect(page.locator("table.team tbody tr")).to_have_count(2)
    camera.shoot(page, "admin-09-team")
    page.get_by_role("link", name="Message templates").click()
    expect(page.get_by_role("heading", name=f"Message templates of {ORGANIZATION}")).to_be_visible()
    camera.shoot(page, "admin-10-templates")
    alex.goto(f"/desk/orgs/{SLUG}/audit/")
    camera.shoot(page, "admin-11-audit-log")
    alex.check_all()

    assert inbox.to(RESPONDER_EMAIL) == [], "nothing is sent before the worker runs"
    run_worker()
    (invitation,) = inbox.to(RESPONDER_EMAIL)
    assert ORGANIZATION in invitation.subject

    # 8. Sam follows the mailed link, chooses a password and enrols.
    sam = open_page()
    choose_password(sam, link_path(invitation.body), "otter-meadow-candle-17")
    log_in_first_time(sam, "sam", "otter-meadow-candle-17")
    enrol(sam)
    expect(sam.page.get_by_text("No cases for you to see.")).to_be_visible()

    # 9. A reporter finds the organization from the home page and files a report.
    reporter = open_page()
    page = reporter.page
    reporter.goto("/")
    expect(page.get_by_role("heading", name="Report a Code of Conduct incident")).to_be_visible()
    camera.shoot(page, "reporter-01-home")
    page.get_by_role("link", name=ORGANIZATION).click()
    expect(page.get_by_role("heading", name=f"Report a Code of Conduct concern to {ORGANIZATION}")).to_be_visible()
    expect(page.locator("#conflict-of-interest")).to_contain_text("Conference chairs")
    expect(page.locator("#in-person-contacts")).to_contain_text("green lanyards")
    camera.shoot(page, "reporter-02-public-page")
    page.get_by_role("link", name="Report online").click()
    expect(page.get_by_role("heading", name=f"Report an incident to {ORGANIZATION}")).to_be_visible()
    page.get_by_label("Where it happened").select_option(label="PyRiver 2027")
    page.get_by_label("What happened").fill(DESCRIPTION)
    camera.shoot(page, "reporter-03-form")
    page.get_by_role("button", name="Send the report").click()
    expect(page.get_by_role("heading", name="Thank you. Your report was received.")).to_be_visible()
    reference = page.locator("#case-reference").inner_text().strip()
    camera.shoot(page, "reporter-04-receipt")
    reporter.check_all()

    # 10. Sam sees the new case in the queue and reads the report.
    page = sam.page
    sam.goto("/desk/")
    expect(queue_row(page, reference)).to_have_count(1)
    open_case(sam, reference)
    expect(page.get_by_text(DESCRIPTION)).to_be_visible()
    sam.check_all()
    camera.check()
