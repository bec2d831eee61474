"""Hostile values posted to every public form: never a 500, nothing stored on a refusal, and what was typed
comes back."""

import html
from urllib.parse import quote

from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cocdesk.cases.models import Case, Message
from tests.desk.test_hostile_posts import hostile_text, hostile_value
from tests.factories import member

REPORT_FIELDS = [
    "description",
    "space",
    "ongoing",
    "physical_danger",
    "incident_date",
    "incident_time",
    "public_record_url",
    "reporter_email",
    "excluded_members",
    "law_enforcement",
    "consent_share_with_other_teams",
    "submission_token",
]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_report_form_never_fails_and_keeps_what_was_typed(organization, data):
    member(organization, "responder")
    post = {name: data.draw(hostile_value) for name in REPORT_FIELDS}
    before = Case.objects.count()
    response = Client(raise_request_exception=False).post(f"/report/{organization.slug}/", post)
    assert response.status_code == 200, post
    if Case.objects.count() == before:
        description = post["description"]
        typed = (description[-1] if description else "") if isinstance(description, list) else description
        visible = typed.replace("\x00", "").strip()
        if visible and visible.isprintable() and "<" not in visible and "&" not in visible and '"' not in visible:
            # The refused text comes back as typed, with its null characters (the message names them).
            shown = html.unescape(response.content.decode()).replace("\x00", "")
            assert visible[:50] in shown, "what was typed is shown again"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(receipt=hostile_text, body=hostile_text)
def test_the_follow_up_forms_never_fail(db, receipt, body):
    client = Client(raise_request_exception=False)
    assert client.post("/follow-up/", {"receipt": receipt}).status_code in {200, 302}
    assert client.post("/follow-up/case/", {"body": body}).status_code in {200, 302}
    # Quoted as a browser would: a "?" or "#" in a pasted token is part of the path, not a query or a fragment.
    token = quote(receipt[:40], safe="") or "x"
    assert client.post(f"/follow-up/claim/{token}/").status_code in {410, 404}
    assert not Message.objects.exists()
