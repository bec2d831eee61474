"""What the browser journeys share: pages in their own browser contexts that record console errors and document
responses (``Watched``) and also check the security headers and the DOM (``Audited``), team members with an
enrolled authenticator, logging in with the second factor, and the case queue's rows."""

import re
from contextlib import contextmanager

from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.factories import PASSWORD, member


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


class Audited(Watched):
    """A watched page that also checks the security headers of every document and the DOM of the current page."""

    def check_headers(self):
        assert self.documents, "no page was loaded"
        for response in self.documents:
            where = f"{response.url} ({response.status})"
            policy = response.header_value("content-security-policy")
            assert policy, f"{where} has no Content-Security-Policy header"
            directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
            assert directives.get("default-src") == ["'none'"], (where, policy)
            assert directives.get("script-src") == ["'self'"], (where, policy)
            assert "'unsafe-inline'" not in policy, (where, policy)
            assert response.header_value("referrer-policy") == "no-referrer", where
            assert response.header_value("x-frame-options") == "DENY", where

    def check_dom(self):
        url = self.page.url
        assert self.page.evaluate("document.querySelectorAll('script:not([src])').length") == 0, url
        styled = self.page.evaluate("Array.from(document.querySelectorAll('[style]'), e => e.outerHTML.slice(0, 120))")
        assert styled == [], (url, styled)

    def check_all(self):
        self.check_dom()
        self.check_headers()
        self.check_security()

    def visited_paths(self):
        return {re.sub(r"^https?://[^/]+", "", response.url).split("?")[0] for response in self.documents}


@contextmanager
def page_opener(browser, base_url, kind=Audited):
    """Yields a function that opens a page of ``kind`` in a fresh browser context (no shared cookies); closes
    them all on exit. For a module's ``open_page`` fixture."""
    opened = []

    def open_():
        watched = kind(browser, base_url)
        opened.append(watched)
        return watched

    try:
        yield open_
    finally:
        for watched in opened:
            watched.close()


def enrolled(organization, role, username):
    """A member whose authenticator app is already confirmed (log in with ``log_in``)."""
    membership = member(organization, role, username=username)
    TOTPDevice.objects.create(user=membership.user, name="Authenticator app", confirmed=True)
    return membership


def current_code(username):
    device = TOTPDevice.objects.get(user__username=username, confirmed=True)
    return f"{totp(device.bin_key, device.step, device.t0, device.digits):0{device.digits}d}"


def log_in_with_password(watched, username):
    page = watched.page
    watched.goto("/desk/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def log_in(watched, username):
    """Password, then the second factor from the member's already-enrolled authenticator."""
    page = watched.page
    log_in_with_password(watched, username)
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    page.get_by_label("Code from your authenticator app").fill(current_code(username))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Case queue")).to_be_visible()


def queue_row(page, reference):
    return page.locator("table.queue tbody tr", has_text=reference)


def open_case(watched, reference):
    """From the queue, the case page."""
    page = watched.page
    page.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", name=f"Case {reference}")).to_be_visible()
    return page


def open_follow_up(watched, receipt, reference):
    """The reporter's case page, opened with the receipt."""
    page = watched.page
    watched.goto("/follow-up/")
    page.get_by_label("Your receipt").fill(receipt)
    page.get_by_role("button", name="Open my report").click()
    expect(page.get_by_role("heading", name=f"Your report {reference}")).to_be_visible()
    return page


def answer_the_team(watched, text):
    """On the reporter's case page: send ``text`` to the team and see it among the reporter's messages."""
    page = watched.page
    page.get_by_label("Add information or answer the team").fill(text)
    page.get_by_role("button", name="Send to the team").click()
    expect(page.get_by_role("status")).to_contain_text("Your message was sent to the team.")
    expect(page.locator("article.message.from-reporter")).to_contain_text(text)
