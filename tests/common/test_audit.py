"""The audit log is hash-chained: ``manage.py verify_audit`` passes on an untouched log and names the first
edited event otherwise."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import ProtectedError
from django.utils import timezone

from cocdesk.common import audit
from cocdesk.common.models import AuditChainHead, AuditEvent
from tests.factories import OrganizationFactory, UserFactory, member, report_case


def verify():
    out = StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


def broken_event_id(error):
    match = re.search(r"event (\S+) ", str(error))
    assert match, f"the error does not name an event: {error}"
    return match.group(1)


@pytest.fixture
def four_events(organization):
    """Four events of different kinds: a reporter's, a member's, a system one and one about the organization."""
    responder = member(organization, "responder")
    case, _receipt = report_case(organization, description="Confidential narrative that stays out of the log.")
    events = [AuditEvent.objects.get(action="case.received", case=case)]
    events.append(audit.record("case.opened", actor=responder.user, case=case))
    events.append(audit.record("case.deadline_reminder", case=case, deadline="acknowledge"))
    events.append(audit.record("org.settings_changed", actor=responder.user, organization=organization, field="x"))
    assert AuditEvent.objects.count() == 4
    return events


def test_untouched_log_verifies(four_events):
    assert verify().strip() == "Audit chain intact: 4 events."


def test_empty_log_verifies(db):
    assert "Audit chain intact: 0 events." in verify()


def test_events_are_chained(four_events, organization):
    """All four belong to one organization, so they form one chain (see test_audit_chains.py for several)."""
    events = list(AuditEvent.objects.order_by("pk"))
    assert events[0].previous_hash == audit.GENESIS
    for previous, event in zip(events, events[1:], strict=False):
        assert event.previous_hash == previous.hash
    assert len({event.hash for event in events}) == 4
    assert AuditChainHead.objects.get(organization=organization).last_hash == events[-1].hash


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda e: {"action": "case.closed"}, id="action"),
        pytest.param(lambda e: {"detail": {**e.detail, "inserted": "by hand"}}, id="detail"),
        pytest.param(lambda e: {"actor": None}, id="actor"),
        pytest.param(lambda e: {"actor_label": "someone-else"}, id="actor_label"),
        pytest.param(lambda e: {"actor_kind": AuditEvent.ActorKind.SYSTEM}, id="actor_kind"),
        pytest.param(lambda e: {"case_reference": "AAAA-BBBB-CCCC"}, id="case_reference"),
        pytest.param(lambda e: {"organization": OrganizationFactory()}, id="organization"),
        pytest.param(lambda e: {"created_at": e.created_at - timezone.timedelta(days=3)}, id="created_at"),
        pytest.param(lambda e: {"hash": "f" * 64}, id="hash"),
        pytest.param(lambda e: {"previous_hash": "0" * 64}, id="previous_hash"),
    ],
)
def test_editing_the_second_event_is_detected_and_named(four_events, change):
    second = four_events[1]
    assert AuditEvent.objects.filter(pk=second.pk).update(**change(second)) == 1

    with pytest.raises(CommandError) as error:
        verify()
    assert broken_event_id(error.value) == str(second.pk)


def test_editing_the_last_event_is_detected(four_events):
    last = four_events[-1]
    AuditEvent.objects.filter(pk=last.pk).update(detail={"field": "y"})
    with pytest.raises(CommandError) as error:
        verify()
    assert broken_event_id(error.value) == str(last.pk)


def test_rewriting_an_event_with_a_matching_hash_still_breaks_the_next_link(four_events):
    """Recomputing the edited event's own hash is not enough: the next event still points at the old one."""
    second = AuditEvent.objects.get(pk=four_events[1].pk)
    second.action = "case.closed"
    second.hash = audit._digest(second.previous_hash, second)
    AuditEvent.objects.filter(pk=second.pk).update(action=second.action, hash=second.hash)

    with pytest.raises(CommandError) as error:
        verify()
    assert broken_event_id(error.value) == str(four_events[2].pk)


def test_deleting_an_event_in_the_middle_is_detected(four_events):
    AuditEvent.objects.filter(pk=four_events[1].pk).delete()
    with pytest.raises(CommandError) as error:
        verify()
    assert broken_event_id(error.value) == str(four_events[2].pk)


def test_deleting_the_last_event_is_detected(four_events):
    AuditEvent.objects.filter(pk=four_events[-1].pk).delete()
    with pytest.raises(CommandError) as error:
        verify()
    assert "removed" in str(error.value)


def test_deleting_every_event_is_detected(four_events):
    AuditEvent.objects.all().delete()
    with pytest.raises(CommandError):
        verify()


def test_new_events_after_verification_keep_the_chain(four_events, organization):
    verify()
    audit.record("case.opened", actor=UserFactory(), case=four_events[0].case)
    assert "5 events" in verify()


def test_audit_detail_holds_no_case_content(four_events):
    for event in AuditEvent.objects.all():
        assert "Confidential narrative" not in str(event.detail)


def test_reattaching_an_event_to_another_case_is_detected(four_events, organization):
    other, _receipt = report_case(organization, description="Another case.")
    second = four_events[1]
    AuditEvent.objects.filter(pk=second.pk).update(case=other)
    # The new case's own "case.received" event is appended after the four: the chain is otherwise intact.
    with pytest.raises(CommandError) as error:
        verify()
    assert broken_event_id(error.value) == str(second.pk)


def test_an_account_with_audit_history_cannot_be_deleted_and_the_chain_stays_valid(four_events):
    """Accounts with history are deactivated, never deleted: the log must keep naming who acted."""
    with pytest.raises(ProtectedError):
        four_events[1].actor.delete()
    assert "Audit chain intact" in verify()
