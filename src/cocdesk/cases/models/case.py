from django.conf import settings
from django.db import models
from django.db.models import Q

from cocdesk.common.models import TimeStampedModel
from cocdesk.orgs.access import access_for

from ..enums import CaseState, Channel, Finding


def sight_terms(user):
    """The member's sight as plain values: ([(organization id, fallback only, space ids or None)], recused case
    ids), from their access snapshot."""
    access = access_for(user)
    terms = []
    for grant in access.grants.values():
        if grant.handles_cases:
            fallback_only = False
        elif grant.is_fallback:
            fallback_only = True
        else:
            continue
        space_ids = None if grant.space_ids is None else sorted(grant.space_ids)
        terms.append((grant.organization_id, fallback_only, space_ids))
    return terms, sorted(access.recused_case_ids)


def sight_from_terms(terms, recused, path=""):
    """The condition on the case reached through ``path`` for ``sight_terms``' values."""
    sight = Q(**{f"{path}pk__in": []})
    for organization_id, fallback_only, space_ids in terms:
        roles = Q(**{f"{path}organization_id": organization_id})
        if fallback_only:
            roles &= Q(**{f"{path}under_fallback": True})
        if space_ids is not None:
            roles &= Q(**{f"{path}space_id__in": space_ids})
        sight |= roles
    if recused:
        sight &= ~Q(**{f"{path}pk__in": recused})
    return sight


def sight_condition(user, path=""):
    """The condition ``Case.objects.visible_to`` applies, on the case reached through ``path`` (for example
    ``"notice__decision__case__"``): a list of another table filters on the case's own columns instead of an
    ``IN`` over every visible case."""
    return sight_from_terms(*sight_terms(user), path)


class CaseQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The cases ``user`` may see: the second line behind the predicates in ``rules.py``; they must agree
        (``rules.grant_sees_case``). Built from the member's access snapshot: no join, no grouping."""
        return self.filter(sight_condition(user))


class Case(TimeStampedModel):
    """A case gathers one or more reports about one incident. Plain columns hold only what queues and
    statistics need; everything a reporter wrote is sealed with the case's own data key."""

    reference = models.CharField(max_length=32, unique=True)
    # Not indexed alone: every index of Meta.indexes that starts with it serves its look-ups.
    organization = models.ForeignKey(
        "orgs.Organization", on_delete=models.PROTECT, related_name="cases", db_index=False
    )
    space = models.ForeignKey("orgs.Space", null=True, blank=True, on_delete=models.SET_NULL, related_name="cases")
    state = models.CharField(max_length=16, choices=CaseState.choices, default=CaseState.NEW)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    is_urgent = models.BooleanField(default=False, help_text="Ongoing, or someone is in physical danger.")
    category = models.CharField(max_length=100, blank=True)
    code_name = models.CharField(max_length=60, blank=True)
    received_at = models.DateTimeField()
    acknowledge_due = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    update_due = models.DateTimeField()
    last_update_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    fallback_escalated_at = models.DateTimeField(
        null=True, blank=True, help_text="A deadline stayed missed and the case was handed to fallback members."
    )
    under_fallback = models.BooleanField(
        default=False,
        help_text="Fallback members handle it: more leads recused than the threshold, or a deadline stayed missed. "
        "Kept by the recusal and deadline domain functions.",
    )
    # The nearest running promise and the next moment the deadline sweep has something to look at; derived from
    # the deadline columns on every save (see ``deadlines.schedule``) so the queue and the sweep read an index.
    next_due_at = models.DateTimeField(null=True, blank=True)
    next_alert_at = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_cases", db_index=False
    )
    assignees = models.ManyToManyField("orgs.Membership", blank=True, related_name="assigned_cases")
    violation = models.CharField(max_length=12, choices=Finding.choices, blank=True)
    sealed_triage = models.BinaryField(null=True, blank=True)
    triaged_at = models.DateTimeField(null=True, blank=True)

    key_id = models.CharField(max_length=32)
    wrapped_data_key = models.BinaryField(null=True, help_text="Empty once the case has been erased.")
    # Stored beside the empty key so lists and counts leave erased cases out from an index alone.
    is_erased = models.BooleanField(default=False)
    # Retention (see ``domain/retention.py``): when a closed case is due for erasure, kept by the domain functions
    # that close, reopen and reschedule it, so the retention pass reads an index range of due cases only.
    erase_after = models.DateTimeField(null=True, blank=True)
    retention_notice_sent_at = models.DateTimeField(null=True, blank=True)
    retention_held_at = models.DateTimeField(null=True, blank=True)
    retention_held_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    sealed_retention_hold_reason = models.BinaryField(null=True, blank=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-is_urgent", "acknowledge_due"]
        indexes = [
            # The queue of cases with a running promise walks this in order and stops after a page. Only those
            # cases are in it: SQLite sorts empty deadlines first, and closed cases would have to be stepped over.
            models.Index(
                fields=["organization", "-is_urgent", "next_due_at", "id", "state", "is_erased"],
                name="case_queue",
                condition=models.Q(next_due_at__isnull=False),
            ),
            # With the key, the counts of the queue (which leave out the cases a member is recused from) read the
            # index alone on PostgreSQL; SQLite's indexes carry the key anyway.
            models.Index(fields=["organization", "state", "is_erased", "id"], name="case_state_counts"),
            models.Index(fields=["organization", "received_at"], name="case_queue_received"),
            models.Index(fields=["next_alert_at"], name="case_next_alert"),
            models.Index(fields=["erase_after"], name="case_erase_after", condition=Q(erase_after__isnull=False)),
            # Keys nearly every case leaves empty: only the cases holding one are indexed, so taking in a report
            # writes no index entry for them (a look-up by the key, never empty, still reads the index).
            models.Index(fields=["merged_into"], name="case_merged_into", condition=Q(merged_into__isnull=False)),
            models.Index(
                fields=["retention_held_by"],
                name="case_retention_held_by",
                condition=Q(retention_held_by__isnull=False),
            ),
        ]

    def __str__(self):
        return self.reference

    def save(self, *args, update_fields=None, **kwargs):
        from ..domain.deadlines import schedule

        self.next_due_at, self.next_alert_at = schedule(self)
        if update_fields is not None:
            update_fields = {*update_fields, "next_due_at", "next_alert_at"}
        super().save(*args, update_fields=update_fields, **kwargs)
