"""The audit log: append-only and hash-chained, one chain per organization plus one for events of none.

Each event stores the hash of the event before it in its chain, so editing or removing a row breaks the chain, and
each chain's head row holds the hash of its last event, so removing events from the end is noticed too. Appending
locks only the head of the chain concerned: organizations never wait on each other.
"""

import hashlib
import json

from django.db import router, transaction
from django.utils import timezone

from .models import AuditChainHead, AuditEvent
from .prepared import PreparedQuery, update_query
from .prepared_insert import PreparedInsert

GENESIS = "0" * 64


# The columns an event's hash covers, besides the hash of the event before it.
_HASHED = ("actor_kind", "actor_id", "actor_label", "organization_id", "case_id", "case_reference", "action", "detail")


def _digest(previous_hash, event):
    """The hash of a stored event (an ``AuditEvent``), as ``_digest_of_row`` made it."""
    return _digest_of_row(previous_hash, {name: getattr(event, name) for name in ("created_at", *_HASHED)})


def _digest_of_row(previous_hash, row):
    fields = {name: row[name] for name in _HASHED}
    fields["created_at"] = row["created_at"].isoformat()
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((previous_hash + canonical).encode()).hexdigest()


def _new_row(action, *, actor=None, reporter=False, case=None, organization=None, **detail):
    """The columns of an event, not yet dated nor chained."""
    if actor is not None:
        actor_kind, label = AuditEvent.ActorKind.MEMBER, actor.get_username()
    elif reporter:
        actor_kind, label = AuditEvent.ActorKind.REPORTER, ""
    else:
        actor_kind, label = AuditEvent.ActorKind.SYSTEM, ""
    if organization is not None:
        organization_id = organization.pk
    else:
        # The key, not case.organization: that could cost a query per event.
        organization_id = case.organization_id if case is not None else None
    return {
        "actor_kind": actor_kind.value,
        "actor_id": actor.pk if actor is not None else None,
        "actor_label": label,
        "organization_id": organization_id,
        "case_id": case.pk if case is not None else None,
        "case_reference": case.reference if case is not None else "",
        "action": action,
        "detail": detail,
    }


def _chain_onto(head, row):
    """Dates the event under the head's lock, so times never go backwards along a chain, and links it."""
    row["created_at"] = timezone.now()
    row["previous_hash"] = head.last_hash
    row["hash"] = _digest_of_row(head.last_hash, row)
    head.last_hash = row["hash"]


def _locked_head(chain, organization_id):
    """The chain's head, made if it is not yet, locked. Made by an insert that leaves alone one a concurrent
    transaction made, not by ``get_or_create``, whose recovery from that race (a savepoint rolled back) cannot work
    inside ``prepared.sent_together``."""
    new = AuditChainHead(chain=chain, organization_id=organization_id, last_hash=GENESIS)
    AuditChainHead.objects.bulk_create([new], ignore_conflicts=True)
    return AuditChainHead.objects.select_for_update().get(chain=chain)


def record(action, *, actor=None, reporter=False, case=None, organization=None, **detail):
    """Appends an audit event and returns it. ``detail`` holds identifiers and labels only, never case content."""
    # Through append's prepared statements: every audited page view appends one event.
    entry = {"action": action, "actor": actor, "reporter": reporter, "case": case, "organization": organization}
    (event,) = record_many([entry | detail])
    return event


def record_many(entries):
    """``append(entries)``, returning the events as ``AuditEvent`` objects, in the order given."""
    rows, keys = _append(entries)
    return [AuditEvent(pk=key, **row) for row, key in zip(rows, keys, strict=True)]


def lock_head(organization):
    """Locks ``organization``'s chain head, in the caller's transaction, for an ``append`` to come (``append``'s
    ``locked``). The lock is sent as ``PreparedQuery.sent`` sends it: inside ``prepared.sent_together`` its answer
    comes back with the next statement whose rows are read."""
    using = router.db_for_write(AuditChainHead)
    if not transaction.get_connection(using).in_atomic_block:
        raise transaction.TransactionManagementError("A chain's head is locked for the transaction it is locked in.")
    chain = AuditChainHead.chain_of(organization.pk)
    return chain, _locked_head_row.sent(chain, using=using)


def append(entries, *, locked=None):
    """Appends several events at once, without making an object of each (a reporter's submission appends one).

    ``entries`` is a list of dicts holding record()'s keyword arguments (``action`` included). Each chain involved
    is locked once, the events are inserted together and each head is updated once, so the number of queries does
    not grow with the number of events (up to the database's limit of parameters per INSERT). The events' keys are
    not read: inside ``prepared.sent_together`` their insert goes to the database with the statements after it.
    ``locked``: what ``lock_head`` returned, in this transaction, when the caller locked its chain's head already.
    """
    _append(entries, keys=False, locked=locked)


def _append(entries, keys=True, locked=None):
    """(the rows appended, their keys: None with ``keys=False``)."""
    rows = [_new_row(**entry) for entry in entries]
    if not rows:
        return rows, [] if keys else None
    organization_of_chain = {AuditChainHead.chain_of(row["organization_id"]): row["organization_id"] for row in rows}
    with transaction.atomic(savepoint=False):
        heads = {}
        if locked is not None:
            locked_chain, locked_rows = locked
            head_row = next(iter(locked_rows()), None)
            if head_row is not None and locked_chain in organization_of_chain:
                heads[locked_chain] = _Head(*head_row)
        unlocked = {chain: pk for chain, pk in organization_of_chain.items() if chain not in heads}
        if unlocked:
            heads.update(_locked_heads(unlocked))
        for chain in sorted(organization_of_chain.keys() - heads.keys()):
            heads[chain] = _locked_head(chain, organization_of_chain[chain])
        for row in rows:
            _chain_onto(heads[AuditChainHead.chain_of(row["organization_id"])], row)
        # Ids grow in list order, which is the order the hashes were chained in, as verification reads them.
        using = router.db_for_write(AuditEvent)
        if len(heads) == 1 and router.db_for_write(AuditChainHead) == using:
            # Nearly always one chain (one organization's): one prepared UPDATE, in the insert's statement where the
            # database allows it.
            (head,) = heads.values()
            along = (_move_head, (head.pk, head.last_hash))
            saved = _insert_events.insert_values(rows, using=using, along=along, keys=keys)
        else:
            saved = _insert_events.insert_values(rows, using=using, keys=keys)
            AuditChainHead.objects.bulk_update(list(heads.values()), ["last_hash"])
    return rows, saved


# Every report appends to its organization's chain: each worker builds these statements once (``prepared``).
_locked_head_row = PreparedQuery(
    lambda chain: AuditChainHead.objects.select_for_update().filter(chain=chain).values_list("pk", "last_hash"), str
)
_move_head = PreparedQuery(
    lambda pk, last_hash: update_query(AuditChainHead.objects.filter(pk=pk), last_hash=last_hash), int, str
)
_insert_events = PreparedInsert(AuditEvent)


class _Head:
    """The key and last hash of the one chain most appends lock: all that chaining and moving the head need."""

    def __init__(self, pk, last_hash):
        self.pk, self.last_hash = pk, last_hash


def _locked_heads(organization_of_chain):
    """The heads of these chains, locked, by chain; those not made yet are missing."""
    using = router.db_for_write(AuditChainHead)
    if len(organization_of_chain) == 1:
        (chain,) = organization_of_chain
        row = next(iter(_locked_head_row.rows(chain, using=using)), None)
        return {} if row is None else {chain: _Head(*row)}
    # Locked in the order of their keys, so two writers spanning the same chains cannot deadlock.
    return {
        head.chain: head
        for head in AuditChainHead.objects.select_for_update().filter(chain__in=organization_of_chain).order_by("chain")
    }


def broken_chains():
    """Maps the key of each broken chain to its first broken link: the first event (in id order within the chain)
    whose stored hashes do not follow from the chain's previous event. An unsaved stand-in event (no id) describes
    events removed from the end of a chain, or a chain whose head row is gone. Intact chains are not listed."""
    last_hash, broken = {}, {}
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        chain = AuditChainHead.chain_of(event.organization_id)
        if chain in broken:
            continue
        previous_hash = last_hash.get(chain, GENESIS)
        if event.previous_hash != previous_hash or event.hash != _digest(previous_hash, event):
            broken[chain] = event
        else:
            last_hash[chain] = event.hash
    heads = {head.chain: head for head in AuditChainHead.objects.all()}
    for chain in sorted((heads.keys() | last_hash.keys()) - broken.keys()):
        head = heads.get(chain)
        if head is None:
            broken[chain] = _stand_in(chain, "its head row was removed")
        elif head.last_hash != last_hash.get(chain, GENESIS):
            broken[chain] = _stand_in(chain, "events were removed from its end", head)
    return broken


def first_broken_link(broken=None):
    """The broken link with the lowest event id over every chain (stand-ins last), or None if all are intact.
    ``broken`` is broken_chains()'s answer, when the caller already has it."""
    broken = broken_chains() if broken is None else broken
    if not broken:
        return None
    return min(broken.values(), key=lambda event: (event.pk is None, event.pk or 0))


def _stand_in(chain, action, head=None):
    event = AuditEvent(action=action, detail={"chain": chain})
    if head is not None:
        event.hash = head.last_hash
        event.organization_id = head.organization_id
    return event
