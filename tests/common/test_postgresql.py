"""On PostgreSQL, the health check of a kept connection asks the socket: an idle, open, silent connection is kept
without a round trip; one the server closed is found unusable and replaced before the request's first query, with
the cursor prepared statements keep."""

import time

import psycopg
import pytest
from django.db import connections
from django.db.models import Func, IntegerField

from cocdesk.orgs.models import Organization
from tests.factories import OrganizationFactory


@pytest.fixture
def connection(transactional_db):
    connection = connections["default"]
    if connection.vendor != "postgresql":
        pytest.skip("the backend is PostgreSQL's")
    connection.ensure_connection()
    return connection


@pytest.fixture
def other(connection):
    """A second session, to look at the first one from outside."""
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as session:
        yield session


def last_statement_of(other, connection):
    pid = connection.connection.info.backend_pid
    return other.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()[0]


def test_an_idle_connection_is_kept_without_asking_the_server(connection, other):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 'before the check'")
    assert connection.is_usable()
    assert last_statement_of(other, connection) == "SELECT 'before the check'"


def test_a_connection_in_a_transaction_is_checked_by_the_server(connection, other):
    connection.set_autocommit(False)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 'in a transaction'")
        assert connection.is_usable()
        assert last_statement_of(other, connection) == "SELECT 1"
    finally:
        connection.rollback()
        connection.set_autocommit(True)


def test_a_connection_the_server_closed_is_replaced_before_the_first_query(connection, other):
    dropped = connection.connection.info.backend_pid
    other.execute("SELECT pg_terminate_backend(%s)", [dropped])
    deadline = time.monotonic() + 5
    while connection.is_usable() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not connection.is_usable()
    connection.health_check_done = False  # a new request
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    assert pid != dropped


def test_a_prepared_statement_s_kept_cursor_is_replaced_with_a_connection_the_server_closed(
    connection, other, settings
):
    from cocdesk.common.prepared import PreparedQuery

    settings.DEBUG = False
    backend_pid = PreparedQuery(
        lambda pk: (
            Organization.objects.filter(pk=pk)
            .annotate(pid=Func(function="pg_backend_pid", output_field=IntegerField()))
            .values_list("pid")
        ),
        int,
    )
    organization = OrganizationFactory()
    ((first,),) = backend_pid.rows(organization.pk)
    other.execute("SELECT pg_terminate_backend(%s)", [first])
    deadline = time.monotonic() + 5
    while connection.is_usable() and time.monotonic() < deadline:
        time.sleep(0.02)
    connection.health_check_done = False  # a new request
    ((second,),) = backend_pid.rows(organization.pk)
    assert second != first
