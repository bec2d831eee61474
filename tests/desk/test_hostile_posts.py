"""Hostile values posted to every desk form: wrong types, numbers past the database's range, control characters,
invalid UTF-8 and missing fields never answer 500, and a refused post changes nothing."""

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cocdesk.cases.models import Case, Message, Note, Recusal
from cocdesk.common.models import AuditEvent
from cocdesk.orgs.models import ConflictContact, Membership
from tests.factories import OrganizationFactory, SpaceFactory, member, report_case
from tests.team import log_in

HUGE = [2**31, 2**63, 2**64 + 1, 10**30, -(2**63) - 1]
hostile_text = st.one_of(
    st.text(max_size=200),
    st.sampled_from(["", " ", "\x00", "\u202e", "abc", "-1", "0", "1e309", "NaN", "[]", "{}", "null"]),
    st.sampled_from([str(number) for number in HUGE]),
    st.binary(max_size=60).map(lambda raw: raw.decode("latin-1")),
)
hostile_value = st.one_of(hostile_text, st.lists(hostile_text, max_size=4))


@pytest.fixture
def world(db):
    """Made once per test; hypothesis's examples then run in that test's transaction."""
    organization = OrganizationFactory()
    space = SpaceFactory(organization=organization)
    lead = member(organization, "lead")
    admin = member(organization, "admin")
    responder = member(organization, "responder")
    case, _receipt = report_case(organization, description="A report for hostile posts.", space=space)
    return {"organization": organization, "lead": lead, "admin": admin, "responder": responder, "case": case}


def snapshot():
    return (
        Case.objects.count(),
        Message.objects.count(),
        Note.objects.count(),
        Recusal.objects.filter(is_active=True).count(),
        Membership.objects.filter(is_active=True).count(),
        ConflictContact.objects.count(),
        sorted(Case.objects.values_list("state", "category", "space_id", "is_urgent")),
    )


def case_forms(world):
    case = world["case"]
    base = f"/desk/cases/{case.reference}"
    report = str(case.reports.get().pk)
    return [
        (f"{base}/assign/", ["assignees"], {}),
        (f"{base}/merge/", ["into"], {}),
        (f"{base}/triage/", ["category", "space", "violation", "ongoing", "physical_danger"], {}),
        (f"{base}/messages/", ["report", "kind"], {"body": ""}),
        (f"{base}/recusals/", ["membership", "reason"], {}),
        (f"{base}/recusals/999999999999999999999/reinstate/", ["reason"], {}),
        (f"{base}/immediate-actions/1/review/", [], {}),
        (
            f"{base}/decision/",
            [
                "report",
                "finding",
                "rationale",
                "subjects",
                "outcome_body",
                "confirms_action",
                f"vote_{world['lead'].pk}",
                "actions-TOTAL_FORMS",
                "actions-0-kind",
                "actions-0-subject",
                "actions-0-spaces",
                "actions-0-starts_on",
                "actions-0-ends_on",
                "actions-0-terms",
            ],
            {"actions-INITIAL_FORMS": "0"},
        ),
        (f"{base}/state/close/", [], {}),
        (f"{base}/notes/", ["body"], {"report": report}),
    ]


def admin_forms(world):
    slug = world["organization"].slug
    responder = world["responder"]
    return [
        (
            f"/desk/orgs/{slug}/team/{responder.pk}/",
            [f"m{responder.pk}-roles", f"m{responder.pk}-spaces", "action"],
            {},
        ),
        (f"/desk/orgs/{slug}/team/", ["username", "display_name", "email", "roles", "spaces"], {}),
        (f"/desk/orgs/{slug}/conflict-contacts/", ["name", "intake_address", "hidden_from", "action", "contact"], {}),
        (
            f"/desk/orgs/{slug}/settings/",
            [
                "recusal_threshold",
                "acknowledge_within_hours",
                "update_within_days",
                "appeal_window_days",
                "decision_rule",
                "sanction_kinds",
                "sanction_notice_days",
                "appeal_review_days",
            ],
            {},
        ),
    ]


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_case_forms_never_fail_on_hostile_values(world, data):
    client = log_in(Client(raise_request_exception=False), world["lead"].user)
    for url, fields, fixed in case_forms(world):
        post = {**fixed, **{name: data.draw(hostile_value) for name in fields}}
        before = snapshot()
        response = client.post(url, post)
        assert response.status_code in {200, 302, 400, 404}, (url, post)
        if response.status_code in {400, 404}:
            assert snapshot() == before, (url, post)


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_admin_forms_never_fail_on_hostile_values(world, data):
    client = log_in(Client(raise_request_exception=False), world["admin"].user)
    for url, fields, fixed in admin_forms(world):
        post = {**fixed, **{name: data.draw(hostile_value) for name in fields}}
        response = client.post(url, post)
        assert response.status_code in {200, 302, 400, 404}, (url, post)


@pytest.mark.django_db
@pytest.mark.parametrize("number", HUGE)
def test_an_id_past_the_databases_range_is_refused_in_words(world, number):
    client = log_in(Client(raise_request_exception=False), world["lead"].user)
    case = world["case"]
    before = snapshot()
    response = client.post(f"/desk/cases/{case.reference}/assign/", {"assignees": [str(number)]}, follow=True)
    assert response.status_code == 200
    assert "Only team members who may see this case can be assigned to it." in response.content.decode()
    assert snapshot() == before
    assert not AuditEvent.objects.filter(action="case.assigned", case=case).exists()


@pytest.mark.django_db
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.dictionaries(st.sampled_from(["show", "space", "page", "urgent", "reference", "mine"]), hostile_text))
def test_the_queue_never_fails_on_hostile_query_strings(world, query):
    client = log_in(Client(raise_request_exception=False), world["responder"].user)
    assert client.get("/desk/", query).status_code in {200, 302}
