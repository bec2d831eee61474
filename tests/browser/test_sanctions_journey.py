"""A decision, its sanction, the notice and an appeal, from a public report to the restriction check, in a real
browser, with the real task worker delivering mail to an SMTP server on loopback.

A reporter files a report naming the person -> a lead records a decision with two votes and a permanent ban from one
space -> she drafts the notice and a second lead approves it and sends it by email -> staff at the registration desk
learn the person is restricted from that space permanently -> the person appeals through the private link in the
mail -> a lead who decided is refused the review (404) -> a responder who took no part overturns the ban -> the
person reads the answer, the registry shows the ban overturned, and the restriction check says no restriction.

Every page is checked for the security headers and CSP (``Audited`` in tests/browser/helpers.py), and axe-core runs
on the decision, notice, appeal, appeal review, registry and restriction check pages.
"""

import re

import pytest
from django.test import override_settings
from playwright.sync_api import expect

from cocdesk.sanctions.enums import SanctionState
from cocdesk.sanctions.models import Appeal, Sanction
from tests.browser.helpers import enrolled, log_in, open_case, page_opener
from tests.browser.test_accessibility import Findings
from tests.mail_server import mail_server, run_worker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REPORTER_NAME = "Rosalind Okafor"
REPORTER_EMAIL = "rosalind@example.org"
DESCRIPTION = "He kept putting his arm around me at the speakers' dinner after I told him to stop."
PERSON_NAME = "Marcus Quill"
PERSON_BADGE = "B-4471"
PERSON_HANDLE = "Slack: @mquill"
PERSON_EMAIL = "marcus.quill@example.net"
RATIONALE = "He was told to stop and continued; the team found it intentional."
NOTICE_BEHAVIOUR = "you touched another attendee repeatedly at the speakers' dinner after being asked to stop"
NOTICE_IMPACT = "People at the dinner did not feel safe"
NOTICE_CHANGE = "respect a no the first time it is said"
NOTICE_CONSEQUENCES = "a permanent ban from the Main conference"
STATEMENT = "I misread the situation and I would like the chance to explain it to the team."
REVIEW_REASON = "The reviewers found the ban too strong for a first offence; a written warning stands instead."
RESTRICTED = "Restricted from Main conference permanently: contact the CoC team."
NO_RESTRICTION = "No active restriction."
APPEAL_LINK = re.compile(r"https?://[^\s]+/appeal/[A-Za-z0-9_-]{40,}/")
# What the reporter wrote or who they are: none of it may reach the person the notice goes to.
REPORTER_DETAILS = [REPORTER_NAME, "Rosalind", REPORTER_EMAIL, DESCRIPTION, "arm around me"]


@pytest.fixture
def inbox(live_server):
    """A loopback SMTP server, with Django's SMTP backend and BASE_URL pointed at it and the live server."""
    with mail_server() as handler, override_settings(BASE_URL=live_server.url):
        yield handler


@pytest.fixture
def open_page(browser, live_server, transactional_db):
    with page_opener(browser, live_server.url) as open_:
        yield open_


@pytest.fixture
def team(organization, space):
    return {
        "lena": enrolled(organization, "lead", "lena"),
        "leo": enrolled(organization, "lead", "leo"),
        "rae": enrolled(organization, "responder", "rae"),
        "sam": enrolled(organization, "staff", "sam"),
    }


def leaked(text):
    return [detail for detail in REPORTER_DETAILS if detail.lower() in text.lower()]


def file_report(watched, organization, space):
    """Through the public form, naming the person; returns the case's reference."""
    page = watched.page
    watched.goto(f"/report/{organization.slug}/")
    page.get_by_label("Your name").fill(REPORTER_NAME)
    page.get_by_label("Your email").fill(REPORTER_EMAIL)
    page.get_by_label("Where it happened").select_option(label=space.name)
    page.get_by_label("What happened").fill(DESCRIPTION)
    page.get_by_label("Their name").fill(PERSON_NAME)
    page.get_by_label("Screen names or handles").fill(PERSON_HANDLE)
    page.get_by_label("Badge number or badge details").fill(PERSON_BADGE)
    page.get_by_role("button", name="Send the report").click()
    expect(page.get_by_role("heading", name="Thank you. Your report was received.")).to_be_visible()
    return page.locator("#case-reference").inner_text().strip()


def check_restriction(watched, organization, value):
    """The staff member's check; returns the answer's text."""
    page = watched.page
    watched.goto(f"/desk/orgs/{organization.slug}/restrictions/")
    expect(page.get_by_role("heading", name="Is this person restricted?")).to_be_visible()
    page.get_by_label("Name, email, handle or badge number").fill(value)
    page.get_by_role("button", name="Check").click()
    answer = page.locator("#check-answer")
    expect(answer).to_be_visible()
    expect(page.get_by_label("Name, email, handle or badge number")).to_have_value("")
    return answer.inner_text().strip()


def test_a_permanent_ban_appealed_and_overturned_lifts_the_restriction(
    open_page, live_server, organization, space, team, inbox
):
    findings = Findings()

    # 1. A reporter files a report through the public form, naming the person and their badge.
    reporter = open_page()
    reference = file_report(reporter, organization, space)
    reporter.check_all()

    # 2. Lena records the decision: a violation, Lena and Leo agree, a permanent ban from the Main conference.
    lena = open_page()
    page = lena.page
    log_in(lena, "lena")
    open_case(lena, reference)
    page.get_by_role("link", name="Record the decision").click()
    expect(page.get_by_role("heading", name=f"Record the decision on case {reference}")).to_be_visible()
    subjects = page.get_by_label("The people the decision concerns")
    expect(subjects).to_have_value(re.compile(rf"^{PERSON_NAME}\n"))
    expect(subjects).to_have_value(re.compile(rf"badge: {PERSON_BADGE}"))
    page.get_by_label("The finding").select_option(label="A violation of the Code of Conduct")
    page.get_by_label("Why the team decided so").fill(RATIONALE)
    votes = page.locator("#votes")
    votes.get_by_label(team["lena"].display_name, exact=True).select_option(label="Agrees")
    measure = page.locator("#measure-1")
    measure.get_by_label("Measure", exact=True).select_option(label="Ban")
    measure.get_by_label(space.name, exact=True).check()
    measure.get_by_label("Permanent", exact=True).check()
    page.get_by_role("button", name="Write the message from the finding and measures").click()
    outcome = page.get_by_label("The outcome message to the reporter")
    expect(outcome).to_have_value(re.compile(r"What we did: ban from Main conference, permanently\."))

    # One vote does not meet the organization's rule: nothing is recorded and everything typed is kept.
    page.get_by_role("button", name="Record the decision and send the outcome").click()
    expect(page.locator(".error-summary")).to_contain_text("At least two team members without a conflict must agree.")
    expect(page.get_by_label("Why the team decided so")).to_have_value(RATIONALE)
    expect(page.locator("#votes").get_by_label(team["lena"].display_name, exact=True)).to_have_value("agree")
    expect(page.locator("#measure-1").get_by_label(space.name, exact=True)).to_be_checked()
    expect(page.locator("#measure-1").get_by_label("Permanent", exact=True)).to_be_checked()
    expect(outcome).to_have_value(re.compile(r"What we did: ban from Main conference, permanently\."))
    assert not Sanction.objects.exists()
    findings.check(lena, "decision page, refused")

    # Leo agrees too: two votes.
    page.locator("#votes").get_by_label(team["leo"].display_name, exact=True).select_option(label="Agrees")
    findings.check(lena, "decision page")
    page.get_by_role("button", name="Record the decision and send the outcome").click()
    expect(page.get_by_role("status")).to_contain_text("The decision is recorded and the outcome sent to the reporter.")
    expect(page.locator("#case-state")).to_have_text("Decided")
    sanction = Sanction.objects.get(decision__case__reference=reference)
    code_name = sanction.person.code_name
    decision = page.locator("section#decision")
    expect(decision.locator("#decision-finding")).to_have_text("A violation of the Code of Conduct")
    expect(decision).to_contain_text("Lena: agrees")
    expect(decision).to_contain_text("Leo: agrees")
    expect(decision.locator("#decision-measures")).to_contain_text(f"Ban for {code_name}")
    expect(decision.locator("#decision-measures")).to_contain_text(f"in {space.name}")
    expect(decision.locator("#decision-measures")).to_contain_text("permanent · active")
    assert sanction.is_permanent and not sanction.all_spaces
    assert list(sanction.spaces.values_list("name", flat=True)) == [space.name]

    # 3. Lena drafts the notice to the person from the template, with the address to send it to.
    notices = page.locator("section#notices")
    row = notices.locator("tbody tr", has_text=code_name)
    expect(row).to_contain_text(f"Ban ({space.name}, permanent)")
    row.get_by_role("link", name="Draft the notice").click()
    expect(page.get_by_role("heading", name=f"Notice to {code_name}")).to_be_visible()
    for label, words in [
        ("Behaviour", NOTICE_BEHAVIOUR),
        ("Impact", NOTICE_IMPACT),
        ("Expected change", NOTICE_CHANGE),
        ("Consequences", NOTICE_CONSEQUENCES),
    ]:
        field = page.get_by_label(re.compile(rf"^{label} \(required\)$"))
        field.fill(re.sub(r"\[\[[^\[\]]*\]\]", words, field.input_value()))
    page.get_by_label("Email address to send it to").fill(PERSON_EMAIL)
    page.get_by_role("button", name="Save the notice for approval").click()
    expect(page.get_by_role("status")).to_contain_text("A second member must approve it before it goes out.")
    row = page.locator("section#notices tbody tr", has_text=code_name)
    expect(row).to_contain_text("waiting for a second member's approval")
    expect(row.get_by_role("button", name="Approve the notice")).to_have_count(0)
    lena.check_all()

    # 4. Leo, the second member, reads the notice, approves it and sends it by email.
    leo = open_page()
    page = leo.page
    log_in(leo, "leo")
    # A decided case waits for closing under its own count, not among the open ones.
    page.get_by_role("navigation", name="Cases per state").get_by_role("link", name="Decided: 1").click()
    open_case(leo, reference)
    notice_row = page.locator("section#notices tbody tr", has_text=code_name)
    notice_row.get_by_role("link", name="Draft, waiting for a second member's approval").click()
    expect(page.get_by_role("heading", name=f"Notice to {code_name}")).to_be_visible()
    expect(page.locator("#notice-state")).to_have_text("Draft, waiting for a second member's approval")
    expect(page.get_by_text(NOTICE_BEHAVIOUR)).to_be_visible()
    findings.check(leo, "notice page")
    page.get_by_role("button", name="Approve the notice").click()
    expect(page.get_by_role("status")).to_contain_text("The notice is approved")
    row = page.locator("section#notices tbody tr", has_text=code_name)
    row.get_by_label("By email").check()
    row.get_by_role("button", name="Deliver the notice").click()
    expect(page.get_by_role("status")).to_contain_text("The notice is on its way by email.")
    expect(page.locator("section#notices tbody tr", has_text=code_name)).to_contain_text("Appeals until")
    leo.check_all()

    # 5. The worker sends the notice; the mail carries the four parts and the private appeal link, nothing of
    # the reporter.
    assert inbox.to(PERSON_EMAIL) == [], "nothing may be sent before the worker runs"
    run_worker()
    mails = inbox.to(PERSON_EMAIL)
    assert len(mails) == 1, [mail.subject for mail in inbox.mails]
    notice_mail = mails[0]
    assert notice_mail.subject == f"From the Code of Conduct team of {organization.name}"
    for words in (NOTICE_BEHAVIOUR, NOTICE_IMPACT, NOTICE_CHANGE, NOTICE_CONSEQUENCES):
        assert words in notice_mail.body
    assert f"- Ban ({space.name}, permanent)" in notice_mail.body
    assert leaked(notice_mail.raw) == []
    assert RATIONALE not in notice_mail.raw
    links = APPEAL_LINK.findall(notice_mail.body)
    assert len(links) == 1, notice_mail.body
    appeal_link = links[0]
    assert appeal_link.startswith(f"{live_server.url}/appeal/")

    # 6. Sam, at the registration desk, checks the person by badge number and by handle: restricted.
    sam = open_page()
    page = sam.page
    log_in(sam, "sam")
    assert check_restriction(sam, organization, PERSON_BADGE) == RESTRICTED
    assert check_restriction(sam, organization, PERSON_HANDLE) == RESTRICTED
    findings.check(sam, "restriction check")
    answer = page.locator("#check-answer").inner_text()
    for hidden in (reference, code_name, "Ban", RATIONALE, REPORTER_NAME, PERSON_NAME):
        assert hidden not in answer, hidden
    sam.check_all()

    # 7. The person opens the link in the mail and appeals with a statement.
    person = open_page()
    page = person.page
    response = page.goto(appeal_link)
    assert response.status == 200
    heading = f"Appeal a decision of the Code of Conduct team of {organization.name}"
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    expect(page.locator("table.queue tbody tr")).to_contain_text("Ban")
    expect(page.locator("table.queue tbody tr")).to_contain_text(space.name)
    expect(page.locator("table.queue tbody tr")).to_contain_text("permanent")
    page.get_by_role("button", name="Send my appeal").click()
    expect(page.get_by_role("alert")).to_contain_text("Write your statement")
    findings.check(person, "appeal page")
    page.get_by_label("Your statement").fill(STATEMENT)
    page.get_by_role("button", name="Send my appeal").click()
    expect(page.locator("#appeal-status")).to_contain_text("Members of the team who took no part in the decision")
    expect(page.get_by_role("button", name="Send my appeal")).to_have_count(0)
    findings.check(person, "appeal page, appealed")
    person.check_all()
    for detail in REPORTER_DETAILS + [RATIONALE, reference]:
        assert detail not in page.content(), detail

    # 8. Only the member who took no part is told of the appeal.
    run_worker()
    told = sorted(address for mail in inbox.mails if "appeal" in mail.subject.lower() for address in mail.recipients)
    assert told == ["rae@example.org"], told
    appeal = Appeal.objects.get(notice__decision__case__reference=reference)

    # 9. Leo took part in the decision: the review page is a 404 for him, and his queue does not list the appeal.
    page = leo.page
    response = leo.goto(f"/desk/appeals/{appeal.pk}/")
    assert response.status == 404
    leo.goto("/desk/")
    expect(page.locator("#appeals-to-review")).to_have_count(0)
    leo.check_all()

    # 10. Rae, who did not decide, finds the appeal on her queue and overturns the ban.
    rae = open_page()
    page = rae.page
    log_in(rae, "rae")
    waiting = page.locator("#appeals-to-review")
    waiting.get_by_role("link", name=f"Appeal on {reference}").click()
    expect(page.get_by_role("heading", name=f"Appeal on case {reference}")).to_be_visible()
    expect(page.get_by_text(STATEMENT)).to_be_visible()
    expect(page.locator("#appeal-state")).to_have_text("Waiting for review")
    findings.check(rae, "appeal review page")
    page.get_by_label("Overturn: the measure ends now").check()
    page.get_by_label("Reason").fill(REVIEW_REASON)
    page.get_by_role("button", name="Record the review").click()
    expect(page.get_by_role("status")).to_contain_text("The appeal is reviewed")
    expect(page.locator("#appeal-state")).to_have_text("Overturned")
    expect(page.get_by_text(f"Ban ({space.name}, permanent): Overturned on appeal")).to_be_visible()
    findings.check(rae, "appeal review page, reviewed")
    sanction.refresh_from_db()
    assert sanction.state == SanctionState.OVERTURNED

    # 11. The registry shows the ban overturned, no longer among the active ones.
    rae.goto(f"/desk/orgs/{organization.slug}/sanctions/")
    expect(page.get_by_role("heading", name=f"Sanctions of {organization.name}")).to_be_visible()
    expect(page.get_by_text("Nothing to show here.")).to_be_visible()
    page.get_by_role("navigation", name="Which sanctions").get_by_role("link", name="All").click()
    row = page.locator("table.registry tbody tr", has_text=code_name)
    expect(row).to_have_count(1)
    expect(row.locator("td[data-label='Kind']")).to_have_text("Ban")
    expect(row.locator("td[data-label='Scope']")).to_have_text(space.name)
    expect(row.locator("td[data-label='State']")).to_have_text("Overturned on appeal")
    expect(row.get_by_role("link", name=reference)).to_be_visible()
    findings.check(rae, "registry")
    rae.check_all()

    # 12. The person hears the answer by mail and reads it at the link.
    run_worker()
    answers = [mail for mail in inbox.to(PERSON_EMAIL) if mail is not notice_mail]
    assert len(answers) == 1, [mail.subject for mail in inbox.to(PERSON_EMAIL)]
    assert "overturned the decision" in answers[0].body
    assert REVIEW_REASON in answers[0].body
    assert leaked(answers[0].raw) == []
    page = person.page
    page.reload()
    expect(page.get_by_text("The team reviewed your appeal and overturned the decision")).to_be_visible()
    expect(page.get_by_text(REVIEW_REASON)).to_be_visible()
    expect(page.locator("table.queue tbody tr")).to_contain_text("Overturned on appeal")
    person.check_all()

    # 13. The restriction check now says no restriction, by badge and by name.
    assert check_restriction(sam, organization, PERSON_BADGE) == NO_RESTRICTION
    assert check_restriction(sam, organization, PERSON_NAME) == NO_RESTRICTION
    findings.check(sam, "restriction check, no restriction")
    sam.check_all()

    findings.assert_none()
    assert [leaked(mail.raw) for mail in inbox.to(PERSON_EMAIL)] == [[]] * len(inbox.to(PERSON_EMAIL))
