"""Re-chains the audit log: one chain per organization (and one for events of none) instead of a single one.

The old chain is verified first. Re-chaining computes fresh hashes over whatever the rows hold, so running it over
a log that was tampered with would erase the evidence: in that case the migration stops, unless the operator, having
kept a copy of the database, sets COCDESK_AUDIT_RECHAIN_BROKEN=1.

The hash function is copied here on purpose: a migration must keep computing what the log held at this point,
whatever later versions of cocdesk.common.audit do.
"""

import hashlib
import json
import os

from django.core.management.color import no_style
from django.db import migrations

GENESIS = "0" * 64
BATCH = 1000


def digest(previous_hash, event):
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


def per_organization(organization_id):
    return f"org:{organization_id}" if organization_id is not None else "global"


def single_chain(organization_id):
    return "global"


def events_in_id_order(AuditEvent, db):
    """Batches of events by id, read before they are written: no cursor stays open over rows being updated."""
    last_id = 0
    while True:
        batch = list(AuditEvent.objects.using(db).filter(id__gt=last_id).order_by("id")[:BATCH])
        if not batch:
            return
        yield batch
        last_id = batch[-1].id


def rechain(apps, schema_editor, *, old_chain_of, new_chain_of, global_head_id=None):
    AuditEvent = apps.get_model("common", "AuditEvent")
    AuditChainHead = apps.get_model("common", "AuditChainHead")
    db = schema_editor.connection.alias
    old_last, new_last, organization_of_chain = {}, {}, {}
    broken = None
    for batch in events_in_id_order(AuditEvent, db):
        for event in batch:
            old = old_chain_of(event.organization_id)
            expected_previous = old_last.get(old, GENESIS)
            if broken is None and (
                event.previous_hash != expected_previous or event.hash != digest(expected_previous, event)
            ):
                broken = f"event {event.id} ({event.created_at} {event.action})"
            old_last[old] = event.hash
            new = new_chain_of(event.organization_id)
            event.previous_hash = new_last.get(new, GENESIS)
            event.hash = digest(event.previous_hash, event)
            new_last[new] = event.hash
            organization_of_chain[new] = event.organization_id
        AuditEvent.objects.using(db).bulk_update(batch, ["previous_hash", "hash"])
    heads = list(AuditChainHead.objects.using(db).all())
    if broken is None:
        for head in heads:
            if head.last_hash != old_last.get(head.chain, GENESIS):
                broken = f"the end of chain {head.chain} (events were removed)"
        missing = old_last.keys() - {head.chain for head in heads}
        if missing:
            broken = f"chain {sorted(missing)[0]} (its head row is missing)"
    if broken is not None and os.environ.get("COCDESK_AUDIT_RECHAIN_BROKEN") != "1":
        raise RuntimeError(
            f"The audit log is already broken at {broken}. Re-chaining it would hide that. Investigate first "
            "(restore the log from a backup), or keep a copy of the database and set COCDESK_AUDIT_RECHAIN_BROKEN=1."
        )
    AuditChainHead.objects.using(db).all().delete()
    AuditChainHead.objects.using(db).bulk_create(
        AuditChainHead(
            id=global_head_id if chain == "global" else None,
            chain=chain,
            organization_id=None if chain == "global" else organization_of_chain[chain],
            last_hash=last_hash,
        )
        for chain, last_hash in sorted(new_last.items())
    )
    if global_head_id is not None:
        # An explicit id leaves PostgreSQL's sequence behind; the next head created would collide with it.
        connection = schema_editor.connection
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [AuditChainHead]):
                cursor.execute(sql)


def forwards(apps, schema_editor):
    rechain(apps, schema_editor, old_chain_of=single_chain, new_chain_of=per_organization)


def backwards(apps, schema_editor):
    # The single-chain code appends under the head row with id 1.
    rechain(apps, schema_editor, old_chain_of=per_organization, new_chain_of=single_chain, global_head_id=1)


class Migration(migrations.Migration):

    dependencies = [
        ('common', '0002_audit_chain_per_organization'),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
