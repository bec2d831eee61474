import hashlib
import json

from django.db import transaction
from django.utils import timezone

from .models import AuditChainHead, AuditEvent

GENESIS = "0" * 64


def _digest(previous_hash, event):
    fields = {
        "created_at": event.created_at.isoformat(),
        "actor_kind": event.actor_kind,
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "organization_id": event.organization_id,
        "case_id": event.case_id,
        "case_reference": event.case_reference,
        "action": event.action,
        "detail": event.detail,
    }
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((previous_hash + canonical).encode()).hexdigest()


def record(action, *, actor=None, reporter=False, case=None, organization=None, **detail):
    """Appends an audit event. ``detail`` holds identifiers and labels only, never case content."""
    if actor is not None:
        actor_kind, label = AuditEvent.ActorKind.MEMBER, actor.get_username()
    elif reporter:
        actor_kind, label = AuditEvent.ActorKind.REPORTER, ""
    else:
        actor_kind, label = AuditEvent.ActorKind.SYSTEM, ""
    if case is not None and organization is None:
        organization = case.organization
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1, defaults={"last_hash": GENESIS})
        event = AuditEvent(
            created_at=timezone.now(),
            actor_kind=actor_kind,
            actor=actor,
            actor_label=label,
            organization=organization,
            case=case,
            case_reference=case.reference if case is not None else "",
            action=action,
            detail=detail,
            previous_hash=head.last_hash,
        )
        event.hash = _digest(head.last_hash, event)
        event.save()
        head.last_hash = event.hash
        head.save(update_fields=["last_hash"])
    return event


def first_broken_link():
    """Returns the first event whose stored hashes do not follow from its predecessor, or None if intact."""
    previous_hash = GENESIS
    for event in AuditEvent.objects.order_by("id").iterator():
        if event.previous_hash != previous_hash or event.hash != _digest(previous_hash, event):
            return event
        previous_hash = event.hash
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and head.last_hash != previous_hash:
        return AuditEvent(action="(events removed from the end of the log)", hash=head.last_hash)
    return None
