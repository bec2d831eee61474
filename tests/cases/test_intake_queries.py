"""A reporter's submission runs a fixed number of queries whatever the team, and the blank form comes from the
worker's cache with tokens of its own, showing every change to what it shows at once. On PostgreSQL the round trips
of a submission to the server are counted too."""

import re

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cocdesk.cases.models import Case, Recusal
from cocdesk.notify.models import Notification
from tests.factories import OrganizationFactory, SpaceFactory, member, report_case

# The POST: the organization with the chosen space (one query), then in one transaction the audit chain's head
# locked, the case, report and receipt with the team and its space scopes (one statement on PostgreSQL), the audit
# events with the chain's new head (one statement on PostgreSQL), the notifications and their delivery task (one
# statement on PostgreSQL).
POST_QUERIES = 7 if connection.vendor == "postgresql" else 12
# Exclusions add three whatever their number: whether the organization has a team to exclude from at all (without
# one the question is not asked and what was sent is ignored), the chosen members checked against the team, and
# their recusals inserted.
EXCLUSION_QUERIES = 3
# A report naming someone adds six whatever the number of people and identifiers it names: the registry key, the
# code names checked unused, the people, their parties and their identifiers inserted, and the team members known by
# the reported person's identifiers (one look-up over their keyed hashes).
PEOPLE_QUERIES = 6
GET_QUERIES = 1  # the organization, with what its form shows besides (spaces and team list)

TOKENS = re.compile(r'(name="(?:csrfmiddlewaretoken|submission_token)" value=")[^"]+"')


def add_team(organization, size):
    """``size`` handlers (a third leads), a fallback member and a staff member who handles nothing."""
    leads = max(1, size // 3)
    members = [member(organization, "lead") for _ in range(leads)]
    members += [member(organization, "responder") for _ in range(size - leads)]
    member(organization, "fallback")
    member(organization, "staff")
    return members


def report_url(organization):
    return f"/report/{organization.slug}/"


def tokens_of(page):
    return dict(re.findall(r'name="(csrfmiddlewaretoken|submission_token)" value="([^"]+)"', page))


def masked(page):
    return TOKENS.sub(r'\1…"', page)


def post_queries(client, organization, django_capture_on_commit_callbacks, **answers):
    report_case(organization, description="The organization's first report also starts its audit chain.")
    page = client.get(report_url(organization)).content.decode()
    data = {
        "space": str(SpaceFactory(organization=organization).pk),
        "description": "He kept following me after the talk.",
        "submission_token": tokens_of(page)["submission_token"],
        **answers,
    }
    with CaptureQueriesContext(connection) as captured, django_capture_on_commit_callbacks(execute=True):
        response = client.post(report_url(organization), data)
    assert 'id="receipt"' in response.content.decode()
    return len(captured), [query["sql"][:100] for query in captured]


@pytest.mark.django_db
@pytest.mark.parametrize("team_size", [3, 30])
@pytest.mark.parametrize("urgent", [False, True], ids=["not urgent", "urgent"])
def test_a_submission_runs_the_same_queries_whatever_the_team(
    client, organization, django_capture_on_commit_callbacks, team_size, urgent
):
    add_team(organization, team_size)
    answers = {"ongoing": "yes" if urgent else "no", "reported_name": "Someone Unknown"}
    count, queries = post_queries(client, organization, django_capture_on_commit_callbacks, **answers)
    assert count == POST_QUERIES + PEOPLE_QUERIES, "\n".join(queries)
    case = Case.objects.filter(organization=organization).latest("pk")
    leads = max(1, team_size // 3)
    expected = team_size + (leads if urgent else 0)  # every handler hears of it; an urgent case pages the leads
    assert Notification.objects.filter(case=case).count() == expected


@pytest.mark.django_db
@pytest.mark.parametrize("team_size", [3, 30])
@pytest.mark.parametrize("excluded", [1, 2])
def test_exclusions_add_the_same_three_queries_however_many_and_whatever_the_team(
    client, organization, django_capture_on_commit_callbacks, team_size, excluded
):
    team = add_team(organization, team_size)
    chosen = team[-excluded:]
    count, queries = post_queries(
        client,
        organization,
        django_capture_on_commit_callbacks,
        ongoing="yes",
        excluded_members=[str(membership.pk) for membership in chosen],
    )
    assert count == POST_QUERIES + EXCLUSION_QUERIES, "\n".join(queries)
    case = Case.objects.filter(organization=organization).latest("pk")
    assert {r.membership_id for r in Recusal.objects.filter(case=case)} == {m.pk for m in chosen}
    told = set(Notification.objects.filter(case=case).values_list("recipient_id", flat=True))
    assert told and not told & {membership.user_id for membership in chosen}


@pytest.mark.django_db
@pytest.mark.parametrize("team_size", [3, 30])
def test_a_member_named_as_the_reported_person_costs_one_insert(
    client, organization, django_capture_on_commit_callbacks, team_size
):
    team = add_team(organization, team_size)
    named = team[-1]
    count, queries = post_queries(
        client, organization, django_capture_on_commit_callbacks, reported_name=named.display_name
    )
    assert count == POST_QUERIES + PEOPLE_QUERIES + 1, "\n".join(queries)  # the automatic recusal's insert
    case = Case.objects.filter(organization=organization).latest("pk")
    assert Recusal.objects.filter(case=case, membership=named, is_active=True).exists()
    told = set(Notification.objects.filter(case=case).values_list("recipient_id", flat=True))
    assert named.user_id not in told


@pytest.mark.django_db
@pytest.mark.parametrize("team_size", [3, 30])
def test_the_blank_form_runs_two_queries_once_cached(client, organization, team_size):
    add_team(organization, team_size)
    counts = []
    for _attempt in ("rendered", "from the cache", "from the cache again"):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(report_url(organization))
        assert response.status_code == 200
        counts.append(len(captured))
    # Rendered, it also reads whether there is a team, the spaces and the team list to show them.
    assert counts == [GET_QUERIES + 3, GET_QUERIES, GET_QUERIES]


@pytest.mark.django_db
def test_each_reporter_gets_tokens_of_their_own_in_the_same_page(client, organization, settings):
    add_team(organization, 3)
    first = client.get(report_url(organization))
    second = client.get(report_url(organization))
    first_page, second_page = first.content.decode(), second.content.decode()
    assert tokens_of(first_page)["csrfmiddlewaretoken"] != tokens_of(second_page)["csrfmiddlewaretoken"]
    assert tokens_of(first_page)["submission_token"] != tokens_of(second_page)["submission_token"]
    assert masked(first_page) == masked(second_page)
    assert "csrftoken" in first.cookies
    # The page from the cache is the page rendered for the request, tokens aside.
    settings.DEBUG = True
    rendered = client.get(report_url(organization)).content.decode()
    assert masked(rendered) == masked(second_page)


@pytest.mark.django_db
def test_a_report_sent_with_tokens_from_the_cached_page_is_received(client, organization):
    add_team(organization, 3)
    client.get(report_url(organization))  # fills the cache
    page = client.get(report_url(organization)).content.decode()
    data = {"description": "It happened at the party.", "submission_token": tokens_of(page)["submission_token"]}
    client.handler.enforce_csrf_checks = True
    data["csrfmiddlewaretoken"] = tokens_of(page)["csrfmiddlewaretoken"]
    response = client.post(report_url(organization), data)
    assert 'id="receipt"' in response.content.decode()
    resent = client.post(report_url(organization), data)
    assert 'id="receipt"' not in resent.content.decode()
    assert Case.objects.filter(organization=organization).count() == 1


@pytest.mark.django_db
def test_every_change_to_what_the_form_shows_shows_at_once(client, organization):
    team = add_team(organization, 3)
    space = SpaceFactory(organization=organization, name="Spring Summit")

    def page():
        return client.get(report_url(organization)).content.decode()

    assert "Spring Summit" in page() and team[0].display_name in page()

    space.name = "Autumn Summit"
    space.save()
    assert "Autumn Summit" in page() and "Spring Summit" not in page()

    space.is_active = False
    space.save()
    assert "Autumn Summit" not in page()

    SpaceFactory(organization=organization, name="Winter Sprint")
    assert "Winter Sprint" in page()

    newcomer = member(organization, "responder", display_name="Nadia Newcomer")
    assert "Nadia Newcomer" in page()

    newcomer.user.is_active = False
    newcomer.user.save()
    assert "Nadia Newcomer" not in page()

    team[1].display_name = "Renamed Responder"
    team[1].save()
    assert "Renamed Responder" in page()

    team[2].is_responder = team[2].is_lead = False
    team[2].is_staff_member = True
    team[2].save()
    assert team[2].display_name not in page()

    organization.emergency_number = "999"
    organization.crisis_line = "0800 123 456"
    organization.save()
    assert "999" in page() and "0800 123 456" in page()

    # A queryset update skips updated_at, and still changes what the form shows.
    type(organization).objects.filter(pk=organization.pk).update(crisis_line="0800 654 321")
    assert "0800 654 321" in page()


@pytest.mark.django_db
def test_members_scoped_to_spaces_hear_of_their_spaces_reports_only_in_the_same_queries(
    client, organization, django_capture_on_commit_callbacks
):
    here, elsewhere, third = (SpaceFactory(organization=organization) for _ in range(3))
    everywhere = member(organization, "responder")
    scoped_here = member(organization, "responder")
    scoped_here.spaces.set([elsewhere, here, third])  # several spaces: several rows of the team's query
    scoped_elsewhere = member(organization, "lead")
    scoped_elsewhere.spaces.set([elsewhere, third])
    report_case(organization, description="The organization's first report also starts its audit chain.")
    page = client.get(report_url(organization)).content.decode()
    data = {"space": str(here.pk), "description": "It happened in this space.", **tokens_of(page)}
    with CaptureQueriesContext(connection) as captured, django_capture_on_commit_callbacks(execute=True):
        response = client.post(report_url(organization), data)
    assert 'id="receipt"' in response.content.decode()
    assert len(captured) == POST_QUERIES, "\n".join(query["sql"][:100] for query in captured)
    case = Case.objects.filter(organization=organization).latest("pk")
    told = set(Notification.objects.filter(case=case).values_list("recipient_id", flat=True))
    assert told == {everywhere.user_id, scoped_here.user_id}


# On PostgreSQL what a submission costs is mostly its round trips to the server: the form's page is one, and the POST
# reads the organization with the space, begins, locks the audit chain's head as it inserts the case, report and
# receipt with the team read along, and sends the events, the notices with their tasks and the commit together.
GET_ROUND_TRIPS, POST_ROUND_TRIPS = 1, 4


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("urgent", [False, True], ids=["not urgent", "urgent"])
def test_on_postgresql_a_submission_costs_five_round_trips(client, round_trips, urgent):
    organization = OrganizationFactory()
    add_team(organization, 6)
    report_case(organization, description="The organization's first report also starts its audit chain.")
    space = SpaceFactory(organization=organization)

    def submit(description):
        with round_trips() as get:
            page = client.get(report_url(organization)).content.decode()
        data = {
            "space": str(space.pk),
            "description": description,
            "ongoing": "yes" if urgent else "no",
            "submission_token": tokens_of(page)["submission_token"],
        }
        with round_trips() as post:
            response = client.post(report_url(organization), data)
        assert 'id="receipt"' in response.content.decode()
        return get.count, post.count

    submit("The first report of this connection prepares its statements on the server.")
    assert submit("He kept following me after the talk.") == (GET_ROUND_TRIPS, POST_ROUND_TRIPS)
    # What the reporter was told is received is committed: another session sees the case and its notices.
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        ((reference, notices),) = other.execute(
            "SELECT reference, (SELECT count(*) FROM notify_notification WHERE case_id = cases_case.id) "
            "FROM cases_case ORDER BY id DESC LIMIT 1"
        ).fetchall()
    assert reference == Case.objects.latest("pk").reference and notices == 6 + (2 if urgent else 0)
