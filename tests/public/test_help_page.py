"""The reporter's help page: how to report, what to include, anonymity, the receipt, following up and what happens
next, with the procedures' default times; reachable from the public pages."""

import pytest

from cocdesk.orgs import policy
from tests.factories import OrganizationFactory
from tests.pages import inline_code, parse


def help_text(client):
    response = client.get("/help/")
    assert response.status_code == 200
    return response.content.decode()


def section_text(content, section_id):
    heading = next(h for h in parse(content).find_all("h2") if h.attrs.get("id") == section_id)
    return heading.parent.text()


@pytest.mark.django_db
def test_the_help_page_answers_a_reporters_questions(client):
    content = help_text(client)
    for section_id in [
        "danger",
        "ways",
        "what-to-include",
        "anonymous",
        "team-members",
        "receipt",
        "follow-up",
        "what-happens-next",
        "confidentiality",
    ]:
        assert section_text(content, section_id), section_id
    ways = section_text(content, "ways")
    for way in ["online form", "Email", "In person or by phone"]:
        assert way in ways
    assert "get that person help first" in section_text(content, "danger")
    assert "Keep it somewhere safe" in section_text(content, "receipt")
    assert "may leave your name and email empty" in section_text(content, "anonymous")
    assert "must not see your report" in section_text(content, "team-members")
    assert inline_code(content) == []


@pytest.mark.django_db
def test_the_times_are_the_procedures_defaults(client):
    next_steps = section_text(help_text(client), "what-happens-next")
    assert f"Within {policy.ACKNOWLEDGE_WITHIN_HOURS} hours" in next_steps
    assert f"{policy.URGENT_ACKNOWLEDGE_WITHIN_HOURS} hours" in next_steps
    assert f"Within {policy.UPDATE_WITHIN_DAYS} days" in next_steps


@pytest.mark.django_db
def test_the_help_page_links_where_a_reporter_goes_next(client):
    hrefs = {a.attrs.get("href") for a in parse(help_text(client)).find_all("a")}
    assert {"/", "/follow-up/"} <= hrefs


@pytest.mark.django_db
def test_the_public_pages_link_to_the_help_page(client):
    organization = OrganizationFactory(is_listed=True)
    for path in ["/", f"/o/{organization.slug}/", f"/report/{organization.slug}/", "/follow-up/"]:
        response = client.get(path)
        assert response.status_code == 200, path
        hrefs = [a.attrs.get("href") for a in parse(response.content).find_all("a")]
        assert "/help/" in hrefs, path
