"""The report form's CSRF token is Django's own but for its cheaper randomness: Django's middleware accepts it,
refuses it altered, and every character is as likely as any other at every position."""

import re

import pytest
from django.middleware.csrf import CSRF_ALLOWED_CHARS, _unmask_cipher_token
from django.test import Client

from cocdesk.cases.models import Case
from cocdesk.common.csrf_tokens import random_text

pytestmark = pytest.mark.django_db


def tokens_of(page):
    return dict(re.findall(r'name="(csrfmiddlewaretoken|submission_token)" value="([^"]+)"', page))


def report(client, organization, token, submission_token):
    data = {"description": "He kept following me.", "csrfmiddlewaretoken": token, "submission_token": submission_token}
    return client.post(f"/report/{organization.slug}/", data)


def test_django_accepts_the_form_s_token_and_refuses_it_altered(organization):
    client = Client(enforce_csrf_checks=True)
    page = client.get(f"/report/{organization.slug}/")
    tokens = tokens_of(page.content.decode())
    secret = page.cookies["csrftoken"].value
    assert len(tokens["csrfmiddlewaretoken"]) == 64 and _unmask_cipher_token(tokens["csrfmiddlewaretoken"]) == secret

    token = tokens["csrfmiddlewaretoken"]
    altered = token[:-1] + ("a" if token[-1] != "a" else "b")
    refused = report(client, organization, altered, tokens["submission_token"])
    assert refused.status_code == 403 and not Case.objects.filter(organization=organization).exists()

    received = report(client, organization, token, tokens["submission_token"])
    assert received.status_code == 200 and 'id="receipt"' in received.content.decode()
    assert Case.objects.filter(organization=organization).count() == 1


def test_a_visitor_s_secret_is_kept_and_each_page_masks_it_anew(organization):
    client = Client(enforce_csrf_checks=True)
    first = client.get(f"/report/{organization.slug}/")
    secret = first.cookies["csrftoken"].value
    second = client.get(f"/report/{organization.slug}/")
    first_token = tokens_of(first.content.decode())["csrfmiddlewaretoken"]
    second_token = tokens_of(second.content.decode())["csrfmiddlewaretoken"]
    assert first_token != second_token
    assert _unmask_cipher_token(first_token) == _unmask_cipher_token(second_token) == secret
    # The cookie is sent again, as Django renews it whenever a page uses it.
    assert second.cookies["csrftoken"].value == secret
    other = Client(enforce_csrf_checks=True).get(f"/report/{organization.slug}/")
    assert other.cookies["csrftoken"].value != secret


def test_every_character_is_drawn_at_every_position():
    drawn = [random_text(32) for _ in range(6200)]
    assert all(len(text) == 32 and set(text) <= set(CSRF_ALLOWED_CHARS) for text in drawn)
    for position in range(32):
        counts = dict.fromkeys(CSRF_ALLOWED_CHARS, 0)
        for text in drawn:
            counts[text[position]] += 1
        # 100 expected draws of each of the 62 characters at each position: none missing, none far off.
        assert min(counts.values()) > 40 and max(counts.values()) < 180, (position, counts)
