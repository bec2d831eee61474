"""Refusals speak in the product's own words and layout: a refused form (CSRF), a request over the size limits,
and forms whose help and errors are tied to their fields."""

import re

from django.test import Client

from tests.factories import member, report_case
from tests.team import log_in


def test_a_csrf_failure_answers_with_the_products_page(organization):
    client = Client(enforce_csrf_checks=True)
    response = client.post(f"/report/{organization.slug}/", {"description": "Typed text"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "Please send the form again" in page and "Nothing was saved" in page
    assert 'href="/static/' in page  # the product's layout and style sheet


def test_a_request_over_the_field_limit_gets_the_limits_in_words(client, organization):
    data = {f"field{n}": "x" for n in range(1100)}
    response = client.post(f"/report/{organization.slug}/", data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "The form could not be read" in page and "1,000" in page and "4 MB" in page


def test_help_and_errors_are_tied_to_their_fields(client, organization):
    response = client.post(f"/report/{organization.slug}/", {"submission_token": "t", "description": ""})
    page = response.content.decode()
    ids = set(re.findall(r'\bid="([^"]+)"', page))
    described = {token for value in re.findall(r'aria-describedby="([^"]+)"', page) for token in value.split()}
    assert described, "no field names its help or its errors"
    assert described <= ids, f"aria-describedby names missing ids: {sorted(described - ids)}"
    assert 'id="id_description_error"' in page


def test_the_note_and_the_message_to_the_reporter_never_share_an_id(client, organization):
    responder = member(organization, "responder")
    case, _receipt = report_case(organization)
    log_in(client, responder.user)
    page = client.get(f"/desk/cases/{case.reference}/").content.decode()
    note_box = re.search(r'<textarea[^>]*name="body"[^>]*id="note_body"|<textarea[^>]*id="note_body"', page)
    assert note_box, "the internal note has an id of its own"
    assert re.search(r'<label for="note_body">', page)
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert ids.count("note_body") == 1
