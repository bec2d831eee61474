"""The confirmation after a web report comes from the worker's cache with the report's own reference and receipt,
reads exactly as the page rendered for the request, and shows a change to the organization at once."""

import re

import pytest

from cocdesk.cases.domain.references import receipt_digest
from cocdesk.cases.models import Case, Receipt
from tests.factories import member

SHOWN = re.compile(r'<dd id="(case-reference|receipt)"[^>]*>([^<]+)</dd>')


def report_url(organization):
    return f"/report/{organization.slug}/"


def send(client, organization, **answers):
    response = client.post(report_url(organization), {"description": "He kept following me.", **answers})
    assert response.status_code == 200
    page = response.content.decode()
    return page, dict(SHOWN.findall(page))


def masked(page):
    return SHOWN.sub(r'<dd id="\1">…</dd>', page)


@pytest.mark.django_db
def test_each_report_gets_its_own_reference_and_receipt_in_the_same_page(client, organization):
    member(organization, "lead")
    first_page, first = send(client, organization)
    second_page, second = send(client, organization)
    assert first["case-reference"] != second["case-reference"]
    assert first["receipt"] != second["receipt"]
    assert masked(first_page) == masked(second_page)
    for shown in (first, second):
        case = Case.objects.get(reference=shown["case-reference"])
        # The receipt on the page is the one stored (as its hash) for that very case's report.
        assert Receipt.objects.get(digest=receipt_digest(shown["receipt"])).report.case == case


@pytest.mark.django_db
def test_the_page_from_the_cache_is_the_page_rendered_for_the_request(client, organization, settings):
    send(client, organization)  # fills the cache
    cached_page, _shown = send(client, organization)
    urgent_cached, _shown = send(client, organization, ongoing="yes")
    settings.DEBUG = True
    rendered_page, _shown = send(client, organization)
    urgent_rendered, _shown = send(client, organization, ongoing="yes")
    assert masked(cached_page) == masked(rendered_page)
    assert masked(urgent_cached) == masked(urgent_rendered)
    assert "we aim for" in urgent_cached and "we aim for" not in cached_page


@pytest.mark.django_db
def test_a_change_to_the_organization_shows_at_once(client, organization):
    send(client, organization)
    organization.name = "Renamed Community"
    organization.acknowledge_within_hours = 13
    organization.save()
    page, _shown = send(client, organization)
    assert "Renamed Community" in page and "within 13 hours" in page
