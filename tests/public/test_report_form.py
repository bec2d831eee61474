"""The public report form at /report/<org-slug>/: what it shows, what it stores, and how it fails."""

import re
import secrets
from datetime import timedelta
from html import unescape
from html.parser import HTMLParser

import pytest
from django.template.defaultfilters import linebreaksbr
from django.utils.html import strip_tags
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape as markup_escape

from cocdesk.cases.domain.content import report_content
from cocdesk.cases.enums import LawEnforcement, RecusalReason, RecusalSource
from cocdesk.cases.forms import ReportForm
from cocdesk.cases.models import Case, Recusal, Report
from cocdesk.orgs.models import Membership
from tests.factories import OrganizationFactory, SpaceFactory, UserFactory, member
from tests.team import log_in

# --- helpers -----------------------------------------------------------------------------------------------------


class _BrowserForm(HTMLParser):
    """Collects what a browser would submit for the forms of a page: successful controls only."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.data = {}
        self._textarea = None
        self._select = None  # (name, multiple, [(value, selected)])
        self._option = None

    def _add(self, name, value):
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("submit", "button", "reset", "image"):
                return
            if kind in ("radio", "checkbox"):
                if "checked" in attrs:
                    self._add(name, attrs.get("value", "on"))
            else:
                self._add(name, attrs.get("value") or "")
        elif tag == "textarea" and name:
            self._textarea = [name, ""]
        elif tag == "select" and name:
            self._select = (name, "multiple" in attrs, [])
        elif tag == "option" and self._select is not None:
            self._option = [attrs.get("value"), "selected" in attrs, ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data
        if self._option is not None:
            self._option[2] += data

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea is not None:
            name, text = self._textarea
            self._add(name, text[1:] if text.startswith("\n") else text)  # browsers drop the first newline
            self._textarea = None
        elif tag == "option" and self._option is not None:
            value, selected, text = self._option
            self._select[2].append((text.strip() if value is None else value, selected))
            self._option = None
        elif tag == "select" and self._select is not None:
            name, multiple, options = self._select
            chosen = [value for value, selected in options if selected]
            if not chosen and not multiple and options:
                chosen = [options[0][0]]
            for value in chosen:
                self._add(name, value)
            self._select = None


def browser_data(html):
    parser = _BrowserForm()
    parser.feed(html)
    parser.data.pop("csrfmiddlewaretoken", None)
    return parser.data


def select_options(html, name):
    """(value, label) of every option of the select called ``name``."""
    match = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert match, f"no select {name!r}"
    return [
        (value, unescape(label).strip())
        for value, label in re.findall(r'<option value="([^"]*)"[^>]*>(.*?)</option>', match.group(1), re.S)
    ]


def page_text(response):
    return re.sub(r"\s+", " ", unescape(strip_tags(response.content.decode()))).strip()


def report_url(organization):
    return f"/report/{organization.slug}/"


def fill_and_send(client, organization, **answers):
    """Opens the form like a browser, fills ``answers`` over its defaults and sends it."""
    page = client.get(report_url(organization))
    assert page.status_code == 200
    data = browser_data(page.content.decode())
    data.update(answers)
    return client.post(report_url(organization), data)


def new_token():
    return secrets.token_urlsafe(24)


def received(response):
    return response.status_code == 200 and b"Your report was received" in response.content


# --- fixtures ----------------------------------------------------------------------------------------------------


@pytest.fixture
def team(organization):
    """Members of every kind; only responders, leads and fallback members may be excluded by a reporter."""
    return {
        "responder": member(organization, "responder", display_name="Rosalind Responder"),
        "lead": member(organization, "lead", display_name="Leopold Lead"),
        "fallback": member(organization, "fallback", display_name="Fenella Fallback"),
        "staff": member(organization, "staff", display_name="Stanislav Staffonly"),
        "admin": member(organization, "admin", display_name="Adelaide Adminonly"),
    }


@pytest.fixture
def everything(organization, space, team):
    """A distinctive answer for every field of the form, as posted."""
    return {
        "reporter_name": "Quillon Vantablack",
        "reporter_email": "quillon.vantablack@example.net",
        "reporter_phone": "+44 20 7946 0958",
        "reporter_other_contact": "Matrix handle quillon-zeta-77",
        "incident_date": "2023-11-14",
        "incident_time": "21:37",
        "when_details": "The second evening, after the zebrafinch social",
        "space": str(space.pk),
        "location": "Room Vermilion-42 near the cloakroom",
        "ongoing": "unsure",
        "physical_danger": "yes",
        "description": "He blocked the corridor and repeated the marmalade insult twice.\nThen he followed me.",
        "public_record_url": "https://lists.example.org/archive/msg-8812",
        "circumstances": "It was during the lightning-talk quokka session",
        "reported_name": "Bartholomew Grimsditch",
        "reported_nicknames": "Barty Snowglobe",
        "reported_screen_names": "Slack: @grimsditch-bx\nForum: snowglobe_99",
        "reported_appearance": "Tall, teal scarf, loud cough",
        "reported_badge_number": "Badge 4471 with a purple ribbon",
        "reported_company": "Obsidian Widgets Ltd",
        "reported_other": "Always carries a brass thermos",
        "others_involved": "Witness Philippa Quartermaine saw it",
        "safety_concerns": "I fear retaliation in the tangerine working group",
        "law_enforcement": LawEnforcement.PLEASE_CONTACT.value,
        "could_not_find_contact": "on",
        "other_information": "Please contact me after 18:00 only, zircon",
        "excluded_members": [str(team["lead"].pk), str(team["fallback"].pk)],
        "consent_share_with_other_teams": "yes",
        "consent_named_publicly": "yes",
        "submission_token": new_token(),
    }


# --- GET ---------------------------------------------------------------------------------------------------------


def test_form_shows_the_physical_danger_guidance_with_the_orgs_numbers(client, db):
    organization = OrganizationFactory(
        emergency_number="999",
        non_emergency_number="101 option 3",
        crisis_line="Samaritans 116 123",
        coc_url="https://example.org/coc",
    )
    response = client.get(report_url(organization))
    assert response.status_code == 200
    html = response.content.decode()
    emergency = re.search(r'<section class="emergency".*?</section>', html, re.S)
    assert emergency, "the physical-danger guidance is missing"
    guidance = re.sub(r"\s+", " ", unescape(strip_tags(emergency.group(0))))
    assert "If anyone is in physical danger" in guidance
    for number in ("999", "101 option 3", "Samaritans 116 123"):
        assert number in guidance
    # The guidance comes before the first question.
    assert html.index('class="emergency"') < html.index('name="reporter_name"')
    text = page_text(response)
    assert "even if you are unsure whether it is a violation of the Code of Conduct" in text
    assert "or whether the space where it happened is covered" in text
    assert 'href="https://example.org/coc"' in html


def test_form_guidance_uses_each_orgs_own_numbers(client, db):
    first = OrganizationFactory(emergency_number="911", non_emergency_number="311", crisis_line="988 Lifeline")
    second = OrganizationFactory(emergency_number="000", non_emergency_number="", crisis_line="")
    text = page_text(client.get(report_url(first)))
    assert "911" in text and "311" in text and "988 Lifeline" in text
    text = page_text(client.get(report_url(second)))
    assert "emergency number 000" in text
    assert "911" not in text and "988 Lifeline" not in text
    assert "non-emergency police line" not in text  # no empty placeholder for a number the org has not given


def test_form_lists_the_orgs_active_spaces_only(client, organization, space):
    SpaceFactory(organization=organization, name="Autumn meetup")
    SpaceFactory(organization=organization, name="Retired chat server", is_active=False)
    SpaceFactory(name="Another org's festival")
    response = client.get(report_url(organization))
    options = select_options(response.content.decode(), "space")
    assert options[0] == ("", "Somewhere else, or I am not sure")
    assert sorted(label for value, label in options[1:]) == ["Autumn meetup", "Main conference"]
    assert {value for value, _label in options[1:]} == {
        str(pk) for pk in organization.spaces.filter(is_active=True).values_list("pk", flat=True)
    }


def test_form_offers_only_members_who_could_read_a_case_for_exclusion(client, organization, team):
    member(organization, "responder", display_name="Ingrid Inactive", is_active=False)
    gone = member(organization, "lead", display_name="Desmond Deactivated")
    gone.user.is_active = False
    gone.user.save()
    member(OrganizationFactory(), "responder", display_name="Otto Otherorg")
    response = client.get(report_url(organization))
    html = response.content.decode()
    offered = {
        value for name, value in re.findall(r'<input type="checkbox" name="(excluded_members)" value="([^"]*)"', html)
    }
    assert offered == {str(team[role].pk) for role in ("responder", "lead", "fallback")}
    for role in ("responder", "lead", "fallback"):
        assert team[role].display_name in html
    for name in (
        "Stanislav Staffonly",
        "Adelaide Adminonly",
        "Ingrid Inactive",
        "Desmond Deactivated",
        "Otto Otherorg",
    ):
        assert name not in html


def test_form_without_any_team_member_has_no_exclusion_question_and_still_works(client, organization):
    member(organization, "staff", display_name="Stanislav Staffonly")
    response = client.get(report_url(organization))
    assert 'name="excluded_members"' not in response.content.decode()
    response = fill_and_send(client, organization, description="The projector cable was used to trip me.")
    assert received(response)
    assert Case.objects.filter(organization=organization).count() == 1


def test_unknown_org_slug_is_404(client, organization):
    assert client.get("/report/no-such-community/").status_code == 404
    response = client.post("/report/no-such-community/", {"description": "x", "submission_token": new_token()})
    assert response.status_code == 404
    assert Case.objects.count() == 0


# --- a complete report -------------------------------------------------------------------------------------------


def _expected_content(everything, space, team):
    expected = {key: value for key, value in everything.items() if key != "submission_token"}
    expected.update(
        incident_time="21:37:00",
        space=space.name,
        could_not_find_contact=True,
        excluded_members=sorted([team["lead"].display_name, team["fallback"].display_name]),
    )
    return expected


def test_every_field_is_stored_and_read_back_by_the_domain(client, organization, space, team, everything):
    response = client.post(report_url(organization), everything)
    assert received(response)
    case = Case.objects.get(organization=organization)
    report = case.reports.get()
    content = report_content(report)
    content["excluded_members"] = sorted(content["excluded_members"])
    assert content == _expected_content(everything, space, team)
    assert case.space == space
    assert report.has_contact is True
    assert case.channel == "web"


def test_every_field_appears_on_the_desk_case_page(client, organization, space, team, everything):
    assert received(client.post(report_url(organization), everything))
    case = Case.objects.get(organization=organization)
    log_in(client, team["responder"].user)
    response = client.get(f"/desk/cases/{case.reference}/")
    assert response.status_code == 200
    html = response.content.decode()
    shown = {
        "reporter_name": everything["reporter_name"],
        "reporter_email": everything["reporter_email"],
        "reporter_phone": everything["reporter_phone"],
        "reporter_other_contact": everything["reporter_other_contact"],
        "incident_date": "2023-11-14",
        "incident_time": "21:37",
        "when_details": everything["when_details"],
        "space": "Main conference",
        "location": everything["location"],
        "ongoing": "I am not sure",
        "physical_danger": "Yes",
        "description": everything["description"],
        "public_record_url": everything["public_record_url"],
        "circumstances": everything["circumstances"],
        "reported_name": everything["reported_name"],
        "reported_nicknames": everything["reported_nicknames"],
        "reported_screen_names": everything["reported_screen_names"],
        "reported_appearance": everything["reported_appearance"],
        "reported_badge_number": everything["reported_badge_number"],
        "reported_company": everything["reported_company"],
        "reported_other": everything["reported_other"],
        "others_involved": everything["others_involved"],
        "safety_concerns": everything["safety_concerns"],
        "law_enforcement": "Please help me contact law enforcement",
        "could_not_find_contact": "Yes",
        "other_information": everything["other_information"],
        "excluded_members": "Fenella Fallback, Leopold Lead",
        "consent_share_with_other_teams": "Yes",
        "consent_named_publicly": "Yes",
    }
    assert set(shown) | {"submission_token"} == set(ReportForm.base_fields)
    for name, answer in shown.items():
        question = ReportForm.base_fields[name].label
        # The case page's sections render with Jinja2, which escapes as markupsafe does.
        pair = f"<dt>{markup_escape(question)}</dt><dd>{linebreaksbr(answer, autoescape=True)}</dd>"
        if name == "incident_time":  # stored as 21:37:00; either form is fine on the page
            assert re.search(rf"<dt>{re.escape(markup_escape(question))}</dt><dd>21:37(:00)?</dd>", html), name
        else:
            assert pair in html, f"{name}: expected {pair!r} on the case page"
    assert '<span class="empty">not given</span>' not in html


def test_answers_are_escaped_on_the_desk_case_page(client, organization):
    responder = member(organization, "responder")
    assert received(fill_and_send(client, organization, description='<script>alert("x")</script> & <b>bold</b>'))
    case = Case.objects.get(organization=organization)
    log_in(client, responder.user)
    html = client.get(f"/desk/cases/{case.reference}/").content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html


# --- only the description ----------------------------------------------------------------------------------------


def test_only_the_description_is_needed_and_the_confirmation_shows_the_orgs_promises(client, organization, space):
    organization.acknowledge_within_hours = 12
    organization.update_within_days = 5
    organization.save()
    response = client.post(
        report_url(organization),
        {"description": "Someone took photos of me without asking.", "submission_token": new_token()},
    )
    assert received(response)
    case = Case.objects.get(organization=organization)
    report = case.reports.get()
    content = report_content(report)
    assert content["description"] == "Someone took photos of me without asking."
    assert content["ongoing"] == "no" and content["physical_danger"] == "no"
    assert content["law_enforcement"] == LawEnforcement.UNDECIDED
    assert content["consent_share_with_other_teams"] == "no" and content["consent_named_publicly"] == "no"
    assert content["reporter_name"] == "" and content["excluded_members"] == []
    assert report.has_contact is False
    assert case.space is None and case.is_urgent is False
    text = page_text(response)
    assert case.reference in text
    assert re.search(r'<dd id="receipt" class="receipt">[A-Z2-7-]{20,}</dd>', response.content.decode())
    assert "acknowledge your report within 12 hours" in text
    assert "Within 5 days you will have a resolution" in text
    assert "24 hours" not in text and "7 days" not in text
    assert (case.acknowledge_due - case.received_at) == timedelta(hours=12)
    assert (case.update_due - case.received_at) == timedelta(days=5)


def test_a_report_without_a_submission_token_is_not_stuck(client, organization):
    response = client.post(report_url(organization), {"description": "Sent from a page that lost its token."})
    for _attempt in range(2):
        if received(response):
            break
        assert response.status_code == 200
        response = client.post(report_url(organization), browser_data(response.content.decode()))
    assert received(response)
    assert Case.objects.filter(organization=organization).count() == 1


def test_confirmation_is_shown_only_once_the_case_is_committed(client, organization):
    response = client.post(
        report_url(organization), {"description": "Heckled during my talk.", "submission_token": new_token()}
    )
    assert received(response)
    reference = re.search(r'<dd id="case-reference">([^<]+)</dd>', response.content.decode()).group(1)
    case = Case.objects.get(reference=reference)
    assert case.organization == organization
    assert Report.objects.filter(case=case).count() == 1
    assert case.reports.get().receipt.digest  # the receipt shown is backed by a stored hash


@pytest.mark.django_db(transaction=True)
def test_confirmation_reference_is_visible_from_another_connection(client):
    """With no wrapping test transaction: the case is committed before the confirmation page is sent."""
    from django.db import connections

    organization = OrganizationFactory()
    response = client.post(
        report_url(organization), {"description": "Heckled during my talk.", "submission_token": new_token()}
    )
    assert received(response)
    reference = re.search(r'<dd id="case-reference">([^<]+)</dd>', response.content.decode()).group(1)
    # A fresh connection only sees committed rows.
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM cases_case WHERE reference = %s", [reference])
            assert cursor.fetchone()[0] == 1
    finally:
        other.close()


# --- errors keep what was typed ------------------------------------------------------------------------------------


@pytest.mark.parametrize("description", ["", "   \n\t  "], ids=["empty", "blank"])
def test_missing_description_rerenders_everything_typed(client, organization, everything, description):
    posted = {**everything, "description": description}
    response = client.post(report_url(organization), posted)
    assert response.status_code == 200
    assert Case.objects.count() == 0
    text = page_text(response)
    assert "Your report was not sent yet" in text
    assert "Please tell us what happened: this is the one thing we need to act." in text
    assert "Everything you wrote is still here" in text
    again = browser_data(response.content.decode())
    for name, value in posted.items():
        if name == "description":
            continue
        expected = value if isinstance(value, list) else [value]
        assert sorted(again.get(name, [])) == sorted(expected), name
    # Sending the re-rendered form with the description added now works, once.
    again["description"] = "Now with what happened."
    assert received(client.post(report_url(organization), again))
    assert Case.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "bad", "message"),
    [
        ("reporter_email", "quillon at example dot net", "Enter a valid email address."),
        (
            "public_record_url",
            "lists example org/archive",
            "This does not look like a web address. Check it, or leave it empty.",
        ),
        ("incident_date", "the 31st of Smarch", "Enter a valid date."),
    ],
)
def test_invalid_answer_rerenders_with_every_value_kept(client, organization, everything, field, bad, message):
    posted = {**everything, field: bad}
    response = client.post(report_url(organization), posted)
    assert response.status_code == 200
    assert Case.objects.count() == 0
    assert message in page_text(response)
    again = browser_data(response.content.decode())
    for name, value in posted.items():
        expected = value if isinstance(value, list) else [value]
        assert sorted(again.get(name, [])) == sorted(expected), name


@pytest.mark.parametrize(
    "tamper",
    [
        {"space": "not-a-number"},
        {"space": "99999999999999999999999999"},
        {"space": "other-org-space"},
        {"excluded_members": ["other-org-member"]},
        {"excluded_members": ["staff-member"]},
        {"excluded_members": ["-1", "1e9"]},
        {"excluded_members": ["99999999999999999999999999"]},
        {"ongoing": "maybe"},
        {"law_enforcement": "call my cousin"},
    ],
    ids=lambda tamper: next(iter(tamper)),
)
def test_tampered_choices_are_refused_without_error_page(client, organization, team, tamper):
    other_space = SpaceFactory()
    other_member = member(OrganizationFactory(), "responder")
    replace = {
        "other-org-space": str(other_space.pk),
        "other-org-member": str(other_member.pk),
        "staff-member": str(team["staff"].pk),
    }
    [(name, value)] = tamper.items()
    value = [replace.get(v, v) for v in value] if isinstance(value, list) else replace.get(value, value)
    response = client.post(
        report_url(organization),
        {"description": "Tampered form.", "submission_token": new_token(), name: value},
    )
    assert response.status_code == 200
    assert "Your report was not sent yet" in page_text(response)
    assert Case.objects.count() == 0
    assert Recusal.objects.count() == 0


# --- urgency, exclusions, double submission -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ongoing", "physical_danger", "urgent"),
    [("yes", "no", True), ("no", "yes", True), ("yes", "yes", True), ("unsure", "no", False), ("no", "no", False)],
)
def test_urgency_sets_the_flag_and_the_short_acknowledge_window(client, organization, ongoing, physical_danger, urgent):
    organization.acknowledge_within_hours = 30
    organization.urgent_acknowledge_within_hours = 3
    organization.save()
    response = fill_and_send(
        client, organization, description="It is happening.", ongoing=ongoing, physical_danger=physical_danger
    )
    assert received(response)
    case = Case.objects.get(organization=organization)
    assert case.is_urgent is urgent
    assert case.acknowledge_due - case.received_at == timedelta(hours=3 if urgent else 30)
    text = page_text(response)
    assert "within 30 hours" in text
    assert ("we aim for 3 hours" in text) is urgent


def test_reporter_exclusions_create_active_reporter_recusals(client, organization, team):
    chosen = [team["responder"], team["fallback"]]
    response = fill_and_send(
        client, organization, description="Conflict of interest.", excluded_members=[str(m.pk) for m in chosen]
    )
    assert received(response)
    case = Case.objects.get(organization=organization)
    recusals = Recusal.objects.filter(case=case)
    assert {r.membership_id for r in recusals} == {m.pk for m in chosen}
    for recusal in recusals:
        assert recusal.is_active is True
        assert recusal.source == RecusalSource.REPORTER
        assert recusal.reason == RecusalReason.REPORTER_REQUEST
        assert recusal.created_by is None
    # An excluded member no longer sees the case; a member not excluded does.
    log_in(client, team["responder"].user)
    assert client.get(f"/desk/cases/{case.reference}/").status_code == 404
    log_in(client, team["lead"].user)
    assert client.get(f"/desk/cases/{case.reference}/").status_code == 200


def test_no_exclusion_creates_no_recusal(client, organization, team):
    assert received(fill_and_send(client, organization, description="Nobody to exclude."))
    assert Recusal.objects.count() == 0


def test_double_submission_creates_one_case(client, organization, team, everything):
    first = client.post(report_url(organization), everything)
    assert received(first)
    second = client.post(report_url(organization), everything)
    assert second.status_code == 200
    assert "This report was already received" in page_text(second)
    assert not received(second)
    assert Case.objects.count() == 1
    assert Report.objects.count() == 1
    assert Recusal.objects.count() == 2
    receipt = re.search(r'<dd id="receipt" class="receipt">([^<]+)</dd>', first.content.decode()).group(1)
    assert receipt not in second.content.decode()  # shown once, never again
    # A new form (new token) is a new report.
    assert received(client.post(report_url(organization), {**everything, "submission_token": new_token()}))
    assert Case.objects.count() == 2


# --- property --------------------------------------------------------------------------------------------------------

TEXT_FIELDS = {"reporter_name": 200, "location": 500, "circumstances": 10_000, "reported_screen_names": 2000}


@pytest.fixture
def responder_client(client, organization):
    log_in(client, member(organization, "responder").user)
    return client


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    description=st.text(max_size=300),
    others=st.fixed_dictionaries({name: st.text(max_size=80) for name in TEXT_FIELDS}),
)
def test_any_text_is_stored_exactly_or_refused_politely(responder_client, organization, description, others):
    client = responder_client
    before = Case.objects.count()
    response = client.post(
        report_url(organization), {"description": description, "submission_token": new_token(), **others}
    )
    assert response.status_code == 200
    values = {"description": description, **others}
    acceptable = description.strip() != "" and not any("\x00" in value for value in values.values())
    assert received(response) is acceptable
    if not acceptable:
        assert Case.objects.count() == before
        return
    case = Case.objects.latest("received_at", "pk")
    assert Case.objects.count() == before + 1
    content = report_content(case.reports.get())
    for name, value in values.items():
        assert content[name] == value.strip(), name
    page = client.get(f"/desk/cases/{case.reference}/")
    assert page.status_code == 200
    assert linebreaksbr(description.strip(), autoescape=True) in page.content.decode()


def test_membership_listing_uses_display_names_not_usernames(client, organization):
    user = UserFactory(username="secret-login-name")
    Membership.objects.create(user=user, organization=organization, display_name="Pat Public", is_responder=True)
    html = client.get(report_url(organization)).content.decode()
    assert "Pat Public" in html
    assert "secret-login-name" not in html
