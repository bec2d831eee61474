"""Team members' own identifiers, sealed, with their keyed hashes: kept by the functions that add members or change
what they are known by, computed and sealed for existing members by the migrations, and looked up by intake's
automatic recusal in one query with the same results as comparing the normalised forms themselves."""

import importlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext

from cocdesk.cases.domain.audience import IntakeAudience
from cocdesk.cases.domain.intake import members_named_as_reported_person
from cocdesk.orgs.domain.setup import create_organization
from cocdesk.orgs.domain.team import add_member
from cocdesk.orgs.enums import Role
from cocdesk.orgs.models import Membership
from cocdesk.people.domain.members import (
    member_digests,
    member_forms,
    member_identifiers_text,
    memberships_named,
    set_member_identifiers,
)
from cocdesk.people.models import MemberIdentifier
from cocdesk.people.normalise import reported_person_identifiers
from tests.factories import OrganizationFactory, member

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
    expected = {membership.pk for membership in team if member_forms(membership) & reported}
    assert memberships_named(organization, reported) == expected
    intake_team = IntakeAudience(organization)
    with CaptureQueriesContext(connection) as captured:
        named = members_named_as_reported_person(organization, answers, intake_team)
    assert {membership.pk for membership in named} == expected
    assert len(captured) <= 1  # the registry key is read once per organization object


@pytest.mark.django_db
def test_a_report_naming_many_finds_the_member_among_them_as_one_naming_few_does(organization, team):
    from cocdesk.people.domain import members

    many = "\n".join([f"Stranger Number{n}" for n in range(members.MOST_DIGESTS_PREPARED)] + ["Dana Quist"])
    reported = reported_person_identifiers({"reported_nicknames": many})
    assert len(members.digests_of_forms(organization, reported)) > members.MOST_DIGESTS_PREPARED
    assert memberships_named(organization, reported) == {team[0].pk}
    few = reported_person_identifiers({"reported_nicknames": "Stranger Number1\nDana Quist"})
    assert memberships_named(organization, few) == {team[0].pk}


@pytest.mark.django_db
def test_changing_what_a_member_is_known_by_keeps_their_digests_and_seal(organization, team):
    dana = team[0]
    admin = member(organization, "admin")
    set_member_identifiers(dana, "Discord: duskowl\nzoe-not@dana.example", by=admin.user)
    dana = Membership.objects.get(pk=dana.pk)
    assert member_identifiers_text(dana) == "Discord: duskowl\nzoe-not@dana.example"
    assert b"duskowl" not in bytes(dana.sealed_identifiers)
    assert memberships_named(organization, reported_person_identifiers({"reported_screen_names": "Discord: DuskOwl"}))
    assert not memberships_named(
        organization, reported_person_identifiers({"reported_screen_names": "Slack: @nightowl"})
    )
    stored = set(MemberIdentifier.objects.filter(membership=dana).values_list("digest", flat=True))
    assert stored == member_digests(dana)


BEFORE = [("orgs", "0007_small_count_threshold"), ("people", "0003_identifiers_per_party_and_member_digests")]
AFTER = [("orgs", "0008_sealed_member_identifiers")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_migrations_compute_the_digests_and_seal_the_identifiers_of_existing_members():
    """Members as they stood before: identifiers in clear. The people migration 0003 computes their keyed hashes;
    the orgs migration 0008 seals the identifiers and leaves no column in clear."""
    organization = OrganizationFactory()
    wanted = {}
    for fields in MEMBERS:
        membership = member(organization, "responder", **fields)
        wanted[membership.pk] = (fields["identifiers"], member_digests(membership))
    try:
        old_apps = _migrate(BEFORE)
        OldMembership = old_apps.get_model("orgs", "Membership")
        for pk, (text, _digests) in wanted.items():
            OldMembership.objects.filter(pk=pk).update(identifiers=text)
        MemberIdentifier.objects.all().delete()
        migration.digest_member_identifiers(old_apps, None)
    finally:
        _migrate(AFTER)
    for membership in Membership.objects.filter(pk__in=wanted).select_related("user"):
        text, digests = wanted[membership.pk]
        assert member_identifiers_text(membership) == text
        assert (membership.sealed_identifiers is None) == (not text)
        stored = set(MemberIdentifier.objects.filter(membership=membership).values_list("digest", flat=True))
        assert stored == digests
    with connection.cursor() as cursor:
        columns = [column.name for column in connection.introspection.get_table_description(cursor, "orgs_membership")]
    assert "identifiers" not in columns
