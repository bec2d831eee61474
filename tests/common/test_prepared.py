"""Prepared statements give what the ORM gives: the same rows (converted alike), the same saved objects."""

import pytest
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cocdesk.common.prepared import PreparedQuery, field_names, update_query
from cocdesk.orgs.models import Organization, Space
from tests.factories import OrganizationFactory, SpaceFactory

ORGANIZATION_FIELDS = field_names(Organization)
by_slug = PreparedQuery(lambda slug: Organization.objects.filter(slug=slug).values_list(*ORGANIZATION_FIELDS), str)
active_spaces = PreparedQuery(
    lambda organization_id: (
        Space.objects.filter(organization_id=organization_id, is_active=True)
        .order_by("pk")
        .values_list("pk", "name", "is_active", "created_at")
    ),
    int,
)
rename_space = PreparedQuery(lambda pk, name: update_query(Space.objects.filter(pk=pk), name=name), int, str)


@pytest.mark.django_db
def test_rows_are_those_of_values_list_for_each_call_s_values():
    first, second = OrganizationFactory(), OrganizationFactory()
    for organization in (first, second, first):
        (row,) = by_slug.rows(organization.slug)
        assert row == Organization.objects.filter(pk=organization.pk).values_list(*ORGANIZATION_FIELDS).get()
        assert Organization.from_db("default", ORGANIZATION_FIELDS, row) == organization
    assert by_slug.rows("no-such-organization") == []


@pytest.mark.django_db
def test_converters_apply_as_in_the_orm():
    organization = OrganizationFactory()
    SpaceFactory(organization=organization, name="Hall A")
    SpaceFactory(organization=organization, name="Gone", is_active=False)
    rows = active_spaces.rows(organization.pk)
    expected = list(
        Space.objects.filter(organization=organization, is_active=True)
        .order_by("pk")
        .values_list("pk", "name", "is_active", "created_at")
    )
    assert rows == expected
    (_pk, _name, is_active, created_at) = rows[0]
    assert is_active is True and timezone.is_aware(created_at)


@pytest.mark.django_db
def test_an_update_changes_only_its_row():
    organization = OrganizationFactory()
    kept, renamed = SpaceFactory(organization=organization), SpaceFactory(organization=organization)
    assert rename_space.execute(renamed.pk, "New name") == 1
    renamed.refresh_from_db()
    assert renamed.name == "New name"
    assert Space.objects.get(pk=kept.pk).name == kept.name


def test_a_value_that_is_not_a_parameter_is_refused():
    ignoring = PreparedQuery(lambda slug: Organization.objects.values_list("pk"), str)
    with pytest.raises(ValueError, match="not parameters"):
        ignoring.rows("anything")


def test_on_postgresql_a_prepared_query_is_planned_once_per_connection_and_counted_as_one(
    postgresql, prepared_statements
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first, second = OrganizationFactory(), OrganizationFactory()
    with CaptureQueriesContext(connection) as queries:
        assert by_slug.rows(first.slug)[0][0] == first.pk
        assert by_slug.rows(second.slug)[0][0] == second.pk
    assert len(queries) == 2
    # Logged with its values, as Django logs a statement it binds itself.
    assert f"'{first.slug}'" in queries[0]["sql"] and f"'{second.slug}'" in queries[1]["sql"]
    statements = [text for text in prepared_statements() if '"orgs_organization"."slug" = $1' in text]
    assert len(statements) == 1


def test_with_prepared_statements_off_nothing_is_prepared(postgresql, prepared_statements, settings):
    settings.COCDESK_PREPARED_STATEMENTS = False
    organization = OrganizationFactory()
    assert by_slug.rows(organization.slug)[0][0] == organization.pk
    assert not [text for text in prepared_statements() if '"orgs_organization"."slug" = $1' in text]


@pytest.mark.django_db
def test_a_cursor_is_kept_for_the_next_statement_until_its_connection_changes(settings):
    from django.db import connections

    from cocdesk.common.prepared import statement_cursor

    settings.DEBUG = False
    connection = connections["default"]
    organization = OrganizationFactory()
    with statement_cursor(connection) as first:
        pass
    assert by_slug.rows(organization.slug)[0][0] == organization.pk
    assert statement_cursor(connection) is first and first.cursor.connection is not None
    # A new request: Django's health check runs before the first statement; a healthy connection keeps its cursor.
    connection.health_check_done = False
    assert statement_cursor(connection) is first and connection.health_check_done
    # Logged statements each get a cursor of their own, counted as any other query.
    with CaptureQueriesContext(connection) as queries:
        assert statement_cursor(connection) is not first
        assert by_slug.rows(organization.slug)[0][0] == organization.pk
    assert len(queries) == 1


def test_a_kept_cursor_is_not_used_on_a_new_connection(transactional_db, settings):
    from django.db import connections

    from cocdesk.common.prepared import statement_cursor

    settings.DEBUG = False
    connection = connections["default"]
    organization = OrganizationFactory()
    kept = statement_cursor(connection)
    connection.close()
    assert by_slug.rows(organization.slug)[0][0] == organization.pk
    renewed = statement_cursor(connection)
    assert renewed is not kept and renewed.cursor.connection is connection.connection


@pytest.mark.django_db
def test_a_sent_query_gives_its_own_rows_after_other_statements_ran():
    organization = OrganizationFactory()
    SpaceFactory(organization=organization, name="Hall")
    expected = active_spaces.rows(organization.pk)
    rows = active_spaces.sent(organization.pk)
    assert by_slug.rows(organization.slug)[0][0] == organization.pk  # another statement, on the kept cursor
    assert rows() == expected and isinstance(rows()[0][3], type(timezone.now()))


@pytest.mark.django_db
def test_a_query_sent_while_another_s_rows_are_unread_leaves_each_its_own_rows():
    first, second = OrganizationFactory(), OrganizationFactory()
    SpaceFactory(organization=first, name="First's")
    SpaceFactory(organization=second, name="Second's")
    first_rows = active_spaces.sent(first.pk)
    second_rows = active_spaces.sent(second.pk)  # shares the first one's cursor: the first's rows are read before
    assert [row[1] for row in second_rows()] == ["Second's"] and [row[1] for row in first_rows()] == ["First's"]
