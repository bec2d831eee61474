"""Statements sent together save what they save one by one, wait for the server once on PostgreSQL, and fail as
Django fails: the error is raised by the block at the latest, and the transaction around it rolls back whole.
Round trips are counted from libpq's trace of the connection (the ``round_trips`` fixture). A block that ends the
outermost transaction sends its COMMIT with its statements; nested, it leaves committing to the outer block."""

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from cocdesk.common.prepared import sent_together
from cocdesk.common.prepared_insert import PreparedInsert
from cocdesk.orgs.models import Space
from tests.factories import OrganizationFactory, SpaceFactory

insert_spaces = PreparedInsert(Space)


def rows(organization, *names):
    return [{"organization_id": organization.pk, "name": name} for name in names]


@pytest.mark.django_db
def test_inserts_sent_together_save_what_they_save_one_by_one():
    organization = OrganizationFactory()
    with transaction.atomic(), sent_together():
        assert insert_spaces.insert_values(rows(organization, "Hall"), keys=False) is None
        assert insert_spaces.insert_values(rows(organization, "Room 2", "Room 3"), keys=False) is None
    assert sorted(Space.objects.filter(organization=organization).values_list("name", flat=True)) == [
        "Hall",
        "Room 2",
        "Room 3",
    ]


@pytest.mark.django_db
def test_rows_read_inside_the_block_are_there_when_read():
    organization = OrganizationFactory()
    SpaceFactory(organization=organization, name="Existing")
    with transaction.atomic(), sent_together():
        (key,) = insert_spaces.insert_values(rows(organization, "Read back"))
        assert Space.objects.get(pk=key).name == "Read back"
        assert Space.objects.filter(organization=organization).count() == 2


@pytest.mark.django_db
def test_statements_sent_together_are_logged_and_counted_as_each_alone():
    organization = OrganizationFactory()
    with CaptureQueriesContext(connection) as queries, transaction.atomic(), sent_together():
        insert_spaces.insert_values(rows(organization, "One"), keys=False)
        insert_spaces.insert_values(rows(organization, "Two"), keys=False)
    inserts = [query for query in queries if query["sql"].startswith('INSERT INTO "orgs_space"')]
    assert len(inserts) == 2 and "One" in inserts[0]["sql"] and "Two" in inserts[1]["sql"]


def test_on_postgresql_unread_inserts_cost_one_round_trip(round_trips):
    organization = OrganizationFactory()
    with transaction.atomic():
        # The transaction has begun, and the insert is prepared on the server (once per connection, a round trip).
        insert_spaces.insert_values(rows(organization, "Zero"), keys=False)
        with round_trips() as one_by_one:
            for name in ("One", "Two", "Three"):
                insert_spaces.insert_values(rows(organization, name), keys=False)
        with round_trips() as together, sent_together():
            for name in ("Four", "Five", "Six"):
                insert_spaces.insert_values(rows(organization, name), keys=False)
        with round_trips() as read_inside, sent_together():
            insert_spaces.insert_values(rows(organization, "Seven"), keys=False)
            assert Space.objects.filter(organization=organization).count() == 8
            insert_spaces.insert_values(rows(organization, "Eight"), keys=False)
    # Reading rows waits for them (and for what was sent before); what follows goes with the block's end.
    assert (one_by_one.count, together.count, read_inside.count) == (3, 1, 2)
    assert Space.objects.filter(organization=organization).count() == 9


@pytest.mark.django_db(transaction=True)
def test_an_error_sent_together_is_raised_as_django_s_and_the_transaction_keeps_nothing():
    organization = OrganizationFactory()
    taken = SpaceFactory(organization=organization, name="Taken")
    with pytest.raises(IntegrityError), transaction.atomic(), sent_together():
        insert_spaces.insert_values(rows(organization, "Saved first"), keys=False)
        insert_spaces.insert_values([{"organization_id": organization.pk, "name": None}], keys=False)  # NOT NULL
        insert_spaces.insert_values(rows(organization, "Sent after the clash"), keys=False)
    assert list(Space.objects.filter(organization=organization).values_list("name", flat=True)) == ["Taken"]
    # The connection is usable again.
    assert Space.objects.filter(pk=taken.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_a_block_ending_the_outermost_transaction_sends_its_commit_with_its_statements(round_trips):
    organization = OrganizationFactory()
    committed = []
    outermost = transaction.atomic()
    outermost.__enter__()
    insert_spaces.insert_values(rows(organization, "Prepared first"), keys=False)
    transaction.on_commit(lambda: committed.append(connection.get_autocommit()))
    with round_trips() as trips:
        with sent_together(ending_transaction=True):
            insert_spaces.insert_values(rows(organization, "One"), keys=False)
            insert_spaces.insert_values(rows(organization, "Two"), keys=False)
        assert connection.connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        outermost.__exit__(None, None, None)
    # The inserts, COMMIT and Sync went together; Django's commit at the end of the block had nothing left to send.
    assert trips.count == 1
    assert committed == [True]  # the hooks ran once, after the commit, as Django runs them
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        names = other.execute("SELECT name FROM orgs_space WHERE organization_id = %s", [organization.pk]).fetchall()
    assert sorted(name for (name,) in names) == ["One", "Prepared first", "Two"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("nested", ["in a savepoint", "in an atomic block without one"])
def test_a_block_ending_a_nested_transaction_leaves_committing_to_the_outermost(postgresql, nested):
    organization = OrganizationFactory()
    with pytest.raises(Undone), transaction.atomic():
        with transaction.atomic(savepoint=nested == "in a savepoint"), sent_together(ending_transaction=True):
            insert_spaces.insert_values(rows(organization, "Rolled back with the outer block"), keys=False)
        assert connection.connection.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        raise Undone
    assert not Space.objects.filter(organization=organization).exists()


@pytest.mark.django_db(transaction=True)
def test_a_transaction_bound_to_roll_back_is_not_committed_by_the_block(postgresql):
    organization = OrganizationFactory()
    with transaction.atomic():
        insert_spaces.insert_values(rows(organization, "Rolled back"), keys=False)
        with pytest.raises(Undone), transaction.atomic(savepoint=False):
            raise Undone
        with sent_together(ending_transaction=True):
            pass
        assert connection.needs_rollback
    assert not Space.objects.filter(organization=organization).exists()


class Undone(Exception):
    """Raised to roll a transaction back."""
