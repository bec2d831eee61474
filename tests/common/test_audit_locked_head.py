"""A chain head locked before appending (``audit.lock_head``, sent with intake's first insert) chains events exactly
as ``append`` locking it itself: the log verifies, and a head that does not exist yet is still made."""

import pytest
from django.db import connection, transaction

from cocdesk.common import audit
from cocdesk.common.models import AuditChainHead, AuditEvent
from cocdesk.common.prepared import sent_together
from tests.factories import OrganizationFactory


def entries(organization, *actions):
    return [{"action": action, "organization": organization} for action in actions]


def chained(organization):
    return list(AuditEvent.objects.filter(organization=organization).order_by("pk").values_list("action", flat=True))


@pytest.mark.django_db
@pytest.mark.parametrize("head_exists", [True, False], ids=["a head", "no head yet"])
def test_events_appended_under_a_lock_taken_before_chain_as_any_others(organization, head_exists):
    if head_exists:
        audit.record("org.first", organization=organization)
    with transaction.atomic():
        locked = audit.lock_head(organization)
        audit.append(entries(organization, "case.received", "case.recusal"), locked=locked)
    audit.append(entries(organization, "case.viewed"))
    expected = ["org.first"] * head_exists + ["case.received", "case.recusal", "case.viewed"]
    assert chained(organization) == expected
    assert audit.first_broken_link() is None
    assert AuditChainHead.objects.filter(organization=organization).count() == 1


@pytest.mark.django_db
def test_a_head_locked_for_another_organization_is_left_alone(organization):
    other = OrganizationFactory()
    audit.record("org.first", organization=other)
    audit.record("org.first", organization=organization)
    with transaction.atomic():
        audit.append(entries(organization, "case.received"), locked=audit.lock_head(other))
    assert chained(organization) == ["org.first", "case.received"] and chained(other) == ["org.first"]
    assert audit.first_broken_link() is None


@pytest.mark.django_db
def test_on_postgresql_the_lock_goes_with_the_next_statement_read(organization, round_trips):
    audit.record("org.first", organization=organization)
    with transaction.atomic():
        AuditChainHead.objects.filter(organization=organization).exists()  # the transaction has begun
        with round_trips() as trips, sent_together():
            locked = audit.lock_head(organization)
            assert AuditEvent.objects.filter(organization=organization).count() == 1  # the lock went with this
            audit.append(entries(organization, "case.received"), locked=locked)
    assert trips.count == 2  # the lock with the count, then the event's insert when the block ends
    assert chained(organization) == ["org.first", "case.received"] and audit.first_broken_link() is None
    assert connection.vendor == "postgresql"


@pytest.mark.django_db(transaction=True)
def test_a_head_is_locked_only_inside_a_transaction():
    """In autocommit the lock would end with its own statement, and the events appended after it would chain onto a
    head another writer may be moving."""
    organization = OrganizationFactory()
    with pytest.raises(transaction.TransactionManagementError):
        audit.lock_head(organization)
