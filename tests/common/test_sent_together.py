"""Statements sent together save what they save one by one, wait for the server once on PostgreSQL, and fail as
Django fails: the error is raised by the block at the latest, and the transaction around it rolls back whole.
Round trips are counted from libpq's trace of the connection (the ``round_trips`` fixture)."""

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
