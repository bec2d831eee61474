"""Message templates name only the values CoC Desk fills in, by plain substitution; a gap the responder must fill
in keeps the message from being sent; a decision and its outcome message are one step."""

import pytest

from cocdesk.cases.enums import CaseState, MessageKind
from cocdesk.cases.models import Case, Message
from cocdesk.common.crypto import KeyMissing
from cocdesk.common.models import AuditEvent
from cocdesk.orgs.models import MessageTemplate, template_text
from cocdesk.sanctions.models import Decision
from tests.factories import member, report_case
from tests.formdata import form_fields
from tests.sanctions.factories_decisions import decide
from tests.team import log_in


def templates_payload(organization, **changes):
    data = {kind: template_text(organization, kind) for kind in MessageTemplate.Kind.values}
    data.update(changes)
    return data


@pytest.mark.parametrize(
    "body",
    [
        "Hello {organization.name}",
        "Hello {x[y]}",
        "We will write within {update_within_days.real.__class__} days.",
        "Dear {reporter}",
        "Unbalanced {",
    ],
)
def test_a_template_with_an_unknown_placeholder_cannot_be_saved(client, organization, body):
    admin = member(organization, "admin")
    log_in(client, admin.user)
    response = client.post(f"/desk/orgs/{organization.slug}/templates/", templates_payload(organization, update=body))
    if body == "Unbalanced {":
        # A lone brace names nothing: it is kept as written and shown as written.
        assert response.status_code == 302
        assert template_text(organization, "update") == body
        return
    assert response.status_code == 200
    page = response.content.decode()
    assert "is not something CoC Desk can fill in" in page
    assert not MessageTemplate.objects.filter(organization=organization, kind="update").exists()
    assert body.split("{")[0] in page  # what was typed is still there


def test_templates_fill_in_only_the_known_values_by_plain_substitution(organization):
    MessageTemplate.objects.create(
        organization=organization,
        kind="acknowledgement",
        body="{organization} answers within {acknowledge_within_hours} h; {update_within_days} days; {other} stays.",
    )
    text = template_text(organization, "acknowledgement")
    assert text == f"{organization.name} answers within 24 h; 7 days; {{other}} stays."


def test_a_message_with_a_gap_left_is_not_sent_and_keeps_what_was_typed(client, organization):
    responder = member(organization, "responder")
    case, _receipt = report_case(organization)
    log_in(client, responder.user)
    url = f"/desk/cases/{case.reference}/"
    page = client.get(f"{url}?template=update")
    assert "[[the reason for the delay]]" in page.content.decode()
    fields = form_fields(page.content, f"{url}messages/")
    fields["report"] = str(case.reports.get().pk)
    response = client.post(f"{url}messages/", fields)
    assert response.status_code == 200
    assert "Fill in [[the reason for the delay]] before sending" in response.content.decode()
    assert not Message.objects.exists()
    fields["body"] = fields["body"].replace("[[the reason for the delay]]", "we are still talking to witnesses")
    assert client.post(f"{url}messages/", fields).status_code == 302
    assert Message.objects.count() == 1


def test_the_outcome_template_may_not_leave_a_gap(client, organization):
    admin = member(organization, "admin")
    log_in(client, admin.user)
    response = client.post(
        f"/desk/orgs/{organization.slug}/templates/", templates_payload(organization, outcome="Decided: [[what]]")
    )
    assert response.status_code == 200 and "leave no [[gap]]" in response.content.decode()


def test_an_outcome_whose_message_fails_leaves_the_case_as_it_was(organization):
    lead = member(organization, "lead")
    member(organization, "lead")
    case, _receipt = report_case(organization)
    events_before = AuditEvent.objects.count()
    # The key-encryption key is gone from the keyring: the outcome message cannot be sealed.
    Case.objects.filter(pk=case.pk).update(key_id="a-retired-key")
    case = Case.objects.select_related("organization").get(pk=case.pk)
    with pytest.raises(KeyMissing):
        decide(case, by=lead.user, finding="yes", body="We decided.")
    case = Case.objects.get(pk=case.pk)
    assert case.state == CaseState.NEW and case.decided_at is None and case.violation == ""
    assert not Message.objects.filter(kind=MessageKind.OUTCOME).exists()
    assert not Decision.objects.exists()
    assert AuditEvent.objects.count() == events_before
