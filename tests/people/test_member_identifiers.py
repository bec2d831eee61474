"""Team members' own identifiers as keyed hashes: kept by the functions that add members, computed for existing
members by the migration, and looked up by intake's automatic recusal in one query with the same results as
comparing the normalised forms themselves."""

import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cocdesk.cases.domain.audience import IntakeAudience
from cocdesk.cases.domain.intake import members_named_as_reported_person
from cocdesk.orgs.domain.setup import create_organization
from cocdesk.orgs.domain.team import add_member
from cocdesk.orgs.enums import Role
from cocdesk.people.domain.members import member_digests, memberships_named
from cocdesk.people.models import MemberIdentifier
from cocdesk.people.normalise import member_identifiers, reported_person_identifiers
from tests.factories import member

migration = importlib.import_module("cocdesk.people.migrations.0003_identifiers_per_party_and_member_digests")

MEMBERS = [
    {"display_name": "Dana Quist", "identifiers": "Slack: @nightowl\nhttps://github.com/dquist"},
    {"display_name": "Zoë O’Neil", "identifiers": "zoe@oneil.example"},
    {"display_name": "Bea Bystander", "identifiers": ""},
    {"display_name": "Al Short", "identifiers": "Forum: alshort"},
]
REPORTS = [
    {"reported_name": "Dana Quist"},
    {"reported_screen_names": "Discord: NightOwl\nForum: someone"},
    {"reported_name": "zoe oneil"},
    {"reported_nicknames": "the treasurer, ZOE@ONEIL.EXAMPLE"},
    {"reported_screen_names": "github.com/DQuist/"},
    {"reported_name": "Dan Quisling", "reported_screen_names": "Slack: @owl"},
    {"reported_name": "Al"},
    {"reported_screen_names": "Forum: alshort"},
    {"description": "Nobody named."},
]


@pytest.fixture
def team(organization):
    return [member(organization, "responder", **fields) for fields in MEMBERS]


@pytest.mark.django_db
def test_the_functions_adding_members_keep_their_digests(organization):
    admin = member(organization, "admin")
    added = add_member(
        organization,
        username="nadia",
        display_name="Nadia Newcomer",
        email="nadia@example.org",
        roles=[Role.RESPONDER],
        identifiers="Mastodon: @nadia@social.example",
        by=admin.user,
    )
    stored = set(MemberIdentifier.objects.filter(membership=added).values_list("digest", flat=True))
    assert stored and stored == member_digests(added)
    assert all("nadia" not in digest for digest in stored)
    created = create_organization("Night Owls", "night-owls", "conduct@owls.example", "ada@owls.example", "Ada Admin")
    assert MemberIdentifier.objects.filter(membership=created.admin).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("answers", REPORTS, ids=range(len(REPORTS)))
def test_the_lookup_finds_whom_comparing_the_forms_finds(organization, team, answers):
    reported = reported_person_identifiers(answers)
    expected = {membership.pk for membership in team if member_identifiers(membership) & reported}
    assert memberships_named(organization, reported) == expected
    intake_team = IntakeAudience(organization)
    with CaptureQueriesContext(connection) as captured:
        named = members_named_as_reported_person(organization, answers, intake_team)
    assert {membership.pk for membership in named} == expected
    assert len(captured) <= 1  # the registry key is read once per organization object


@pytest.mark.django_db
def test_the_migration_computes_the_digests_of_existing_members(organization, team):
    expected = {membership.pk: member_digests(membership) for membership in team}
    MemberIdentifier.objects.all().delete()
    migration.digest_member_identifiers(apps, None)
    for membership in team:
        stored = set(MemberIdentifier.objects.filter(membership=membership).values_list("digest", flat=True))
        assert stored == expected[membership.pk]
