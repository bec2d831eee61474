"""The decision page: for the leads of a case only, prefilled from the reports, refusing with everything typed kept,
showing the people's history as far as the viewer may see it, at a fixed number of queries; the decision shown on the
case; the decision rule and the menu in the organization's settings."""

from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cocdesk.cases.domain.recusal import recuse
from cocdesk.cases.enums import CaseState, Finding, MessageKind, RecusalReason, RecusalSource
from cocdesk.cases.models import Case, Message
from cocdesk.common.models import AuditEvent
from cocdesk.orgs.forms import OrganizationSettingsForm
from cocdesk.orgs.models import Organization
from cocdesk.sanctions.enums import DecisionRule, SanctionKind
from cocdesk.sanctions.models import Decision, Sanction
from tests.factories import OrganizationFactory, member, report_case
from tests.formdata import form_fields
from tests.sanctions.factories_decisions import decide, fresh
from tests.team import log_in

REPORTED = {
    "reported_name": "Jordan Canary",
    "reported_screen_names": "Slack: @jordan.c",
    "reported_badge_number": "B-7",
}
RATIONALE = "Canary-PageRationale-31f0: the witnesses agree."
OUTCOME = "The team discussed it. It was a violation: the person is banned from the conference."


@pytest.fixture
def team(organization, space):
    return SimpleNamespace(
        organization=organization,
        space=space,
        lead=member(organization, "lead", username="lena-lead", display_name="Lena Lead"),
        other_lead=member(organization, "lead", username="lars-lead", display_name="Lars Lead"),
        responder=member(organization, "responder", username="rosa-responder", display_name="Rosa Responder"),
        recused=member(organization, "lead", username="xavier-excluded", display_name="Xavier Excluded"),
    )


@pytest.fixture
def case(team):
    case, _receipt = report_case(team.organization, excluded_members=[team.recused], **REPORTED)
    return fresh(case)


def url(case):
    return f"/desk/cases/{case.reference}/decision/"


def filled(client, case, team, **changes):
    """The page's own fields as the lead's browser would send them, with a decision filled in."""
    fields = form_fields(client.get(url(case)).content, url(case))
    fields.update(
        {
            # The test helper reads a textarea's text with its line breaks folded: the lines as prefilled.
            "subjects": "Jordan Canary\nhandle: Slack: @jordan.c\nbadge: B-7",
            "finding": Finding.VIOLATION,
            "rationale": RATIONALE,
            f"vote_{team.lead.pk}": "agree",
            f"vote_{team.other_lead.pk}": "agree",
            "outcome_body": OUTCOME,
            "actions-0-kind": SanctionKind.BAN,
            "actions-0-spaces": [str(team.space.pk)],
            "actions-0-permanent": "on",
        }
    )
    fields.update(changes)
    return fields


def state():
    return (
        list(Case.objects.order_by("pk").values_list("state", "violation")),
        Decision.objects.count(),
        Sanction.objects.count(),
        Message.objects.count(),
        AuditEvent.objects.exclude(action="case.opened").count(),
    )


def test_the_page_is_prefilled_from_the_report_and_linked_from_the_case(team, case):
    client = log_in(Client(), team.lead.user)
    assert (
        f'href="/desk/cases/{case.reference}/decision/"'
        in client.get(f"/desk/cases/{case.reference}/").content.decode()
    )
    page = client.get(url(case)).content.decode()
    assert "Jordan Canary\nhandle: Slack: @jordan.c\nbadge: B-7" in page
    assert "Rosa Responder" in page and "Lars Lead" in page
    assert "Xavier Excluded" not in page, "a recused member is not offered a vote"
    assert "[[whether it was a violation]]" in page
    assert AuditEvent.objects.filter(case=case, action="case.opened", detail__page="decision").exists()


def test_a_lead_records_the_decision_and_the_case_shows_it(team, case):
    client = log_in(Client(), team.lead.user)
    response = client.post(url(case), filled(client, case, team))
    assert response.status_code == 302 and response["Location"] == f"/desk/cases/{case.reference}/"
    case = fresh(case)
    assert (case.state, case.violation) == (CaseState.DECIDED, Finding.VIOLATION)
    decision = Decision.objects.get(case=case)
    sanction = decision.sanctions.get()
    assert (sanction.kind, sanction.is_permanent, list(sanction.spaces.all())) == ("ban", True, [team.space])
    person = decision.subjects.get()
    # The person the report named (a person since intake), with what the report and the decision give for them.
    assert person.parties.filter(case=case).exists() and person.identifiers.count() >= 3
    assert Message.objects.get(case=case, kind=MessageKind.OUTCOME)
    shown = log_in(Client(), team.responder.user).get(f"/desk/cases/{case.reference}/").content.decode()
    section = shown.split('id="decision"')[1].split("</section>")[0]
    assert "A violation of the Code of Conduct" in section and RATIONALE in section
    assert "Lena Lead: agrees" in section and "Lars Lead: agrees" in section
    assert f"Ban for {person.code_name}, in {team.space.name}" in section and "permanent" in section
    assert "Record the decision" not in section, "a decided case is reopened before another decision"


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"rationale": ""}, "Write why the team decided so."),
        ({"outcome_body": "Our finding: [[whether it was a violation]]."}, "Fill in [[whether it was a violation]]"),
        ({"vote_OTHER": ""}, "At least two team members without a conflict must agree."),
        ({"actions-0-permanent": ""}, "give the date it ends, or make it permanent"),
        ({"actions-0-spaces": []}, "choose all spaces, or the spaces it applies to"),
        ({"actions-0-kind": "verbal_warning", "actions-0-ends_on": "2031-01-01"}, "is given once"),
    ],
)
def test_refused_input_comes_back_with_everything_typed(team, case, changes, said):
    client = log_in(Client(), team.lead.user)
    if "vote_OTHER" in changes:
        changes = {f"vote_{team.other_lead.pk}": ""}
    data = filled(client, case, team, **changes)
    before = state()
    response = client.post(url(case), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert said in page
    if data["rationale"]:
        assert RATIONALE in page
    assert "Jordan Canary" in page
    assert state() == before


def test_the_buttons_help_fill_the_form_and_record_nothing(team, case):
    client = log_in(Client(), team.lead.user)
    data = filled(client, case, team, compose="1")
    before = state()
    page = client.post(url(case), data).content.decode()
    assert "Our finding: a violation of the Code of Conduct." in page
    assert f"What we did: ban from {team.space.name}, permanently." in page
    assert RATIONALE in page
    more = {**{name: value for name, value in data.items() if name != "compose"}, "add_action": "1"}
    page = client.post(url(case), more).content.decode()
    assert 'name="actions-2-kind"' in page
    assert state() == before


@pytest.mark.parametrize("who", ["responder", "recused", "other organization", "staff"])
def test_anyone_but_a_lead_of_the_case_gets_404_and_nothing_changes(team, case, who):
    if who == "other organization":
        actor = member(OrganizationFactory(), "lead", username="olaf-elsewhere")
    elif who == "staff":
        actor = member(team.organization, "staff", username="sam-staff")
    else:
        actor = getattr(team, who)
    data = filled(log_in(Client(), team.lead.user), case, team)
    client = log_in(Client(), actor.user)
    before = state()
    assert client.get(url(case)).status_code == 404
    response = client.post(url(case), data)
    assert response.status_code == 404 and RATIONALE not in response.content.decode()
    assert state() == before


def test_a_decided_case_sends_the_lead_back_to_reopen_it(team, case):
    decide(case, by=team.lead.user)
    client = log_in(Client(), team.lead.user)
    response = client.get(url(case), follow=True)
    assert "reopen it to decide again" in response.content.decode()
    before = state()
    response = client.post(url(case), filled_without_page(case, team))
    assert response.status_code == 302 and state() == before


def filled_without_page(case, team):
    return {
        "finding": "yes",
        "rationale": RATIONALE,
        "report": str(case.reports.get().pk),
        "outcome_body": OUTCOME,
        f"vote_{team.lead.pk}": "agree",
        f"vote_{team.other_lead.pk}": "agree",
        "actions-TOTAL_FORMS": "0",
        "actions-INITIAL_FORMS": "0",
    }


# --- the history beside the form ----------------------------------------------------------------------------


def earlier_case(team, description, action, *, space=None):
    earlier, _r = report_case(team.organization, description=description, space=space, **REPORTED)
    decide(
        earlier,
        by=team.lead.user,
        subjects=[{"name": "Jordan Canary", "identifiers": [("badge", "B-7")]}],
        actions=[action],
    )
    return fresh(earlier)


def test_the_history_shows_earlier_sanctions_and_never_a_case_the_viewer_may_not_see(team, case):
    warned = earlier_case(team, "First time.", {"kind": SanctionKind.VERBAL_WARNING})
    reprimanded = earlier_case(team, "Second time.", {"kind": SanctionKind.PRIVATE_REPRIMAND})
    hidden = earlier_case(
        team,
        "A case Lars is recused from.",
        {"kind": SanctionKind.EXPULSION, "spaces": [team.space], "permanent": True},
    )
    recuse(hidden, team.other_lead, reason=RecusalReason.FAMILY, source=RecusalSource.DECLARED, by=team.lead.user)

    page = log_in(Client(), team.lead.user).get(url(case)).content.decode()
    support = page.split('id="decision-support"')[1]
    assert warned.reference in support and reprimanded.reference in support and hidden.reference in support
    assert "Expulsion from an event" in support
    assert "2 earlier warnings: a third offence is a reason to expel." in support

    page = log_in(Client(), team.other_lead.user).get(url(case)).content.decode()
    support = page.split('id="decision-support"')[1]
    assert warned.reference in support and reprimanded.reference in support
    assert hidden.reference not in page and "Expulsion from an event" not in support


def test_the_page_costs_the_same_queries_with_one_or_several_members_and_sanctions(team, case):
    earlier_case(team, "First time.", {"kind": SanctionKind.VERBAL_WARNING})
    client = log_in(Client(), team.lead.user)
    client.get(url(case))
    with CaptureQueriesContext(connection) as one:
        assert client.get(url(case)).status_code == 200
    for number in range(3):
        member(team.organization, "responder", username=f"extra-{number}")
    other = SpaceFactoryFor(team.organization)
    earlier_case(team, "Second time.", {"kind": SanctionKind.BAN, "spaces": [team.space, other], "permanent": True})
    earlier_case(team, "Third time.", {"kind": SanctionKind.NO_CONTACT, "all_spaces": True, "permanent": True})
    with CaptureQueriesContext(connection) as several:
        page = client.get(url(case))
    assert page.content.decode().count("<tr>") > 2
    assert len(several) == len(one), [q["sql"] for q in several][len(one) - 3 :]


def SpaceFactoryFor(organization):  # noqa: N802 - reads as the factory it wraps
    from tests.factories import SpaceFactory

    return SpaceFactory(organization=organization, name="The forum")


# --- the settings ----------------------------------------------------------------------------------------------


def settings_fields(client, organization):
    """The settings as the page shows them (the page itself is opened first, as an admin would)."""
    assert client.get(f"/desk/orgs/{organization.slug}/settings/").status_code == 200
    form = OrganizationSettingsForm(instance=organization)
    return {field.name: "" if field.value() is None else field.value() for field in form}


def test_an_admin_sets_the_decision_rule_and_the_menu(team):
    organization = team.organization
    client = log_in(Client(), member(organization, "admin", username="ada-admin").user)
    fields = settings_fields(client, organization)
    fields.update(
        {
            "decision_rule": DecisionRule.CONSENSUS,
            "sanction_kinds": [SanctionKind.BAN, SanctionKind.VERBAL_WARNING],
            "sanction_notice_days": "3",
            "appeal_review_days": "21",
            "appeal_window_days": "45",
        }
    )
    response = client.post(f"/desk/orgs/{organization.slug}/settings/", fields)
    assert response.status_code == 302
    organization = Organization.objects.get(pk=organization.pk)
    assert organization.decision_rule == "consensus"
    assert organization.sanction_kinds == ["verbal_warning", "ban"]
    assert (organization.sanction_notice_days, organization.appeal_review_days, organization.appeal_window_days) == (
        3,
        21,
        45,
    )


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"sanction_kinds": ["ban", "public_flogging"]}, "Select a valid choice"),
        ({"sanction_kinds": []}, "Keep at least one resolution on the menu."),
        ({"decision_rule": "whoever_shouts"}, "Select a valid choice"),
        ({"sanction_notice_days": "0"}, "Use a number of days from 1 to 365."),
    ],
)
def test_a_bad_menu_or_rule_is_refused_and_kept_as_typed(team, changes, said):
    organization = team.organization
    client = log_in(Client(), member(organization, "admin", username="ada-admin").user)
    fields = {**settings_fields(client, organization), **changes}
    response = client.post(f"/desk/orgs/{organization.slug}/settings/", fields)
    assert response.status_code == 200 and said in response.content.decode()
    stored = Organization.objects.get(pk=organization.pk)
    assert stored.decision_rule == "two_agree" and len(stored.sanction_kinds) == len(SanctionKind.values)
