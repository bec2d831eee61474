from django.conf import settings
from django.db import models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class AuditEvent(models.Model):
    """One read or write of case content or of the organization's settings: who, what, which case, when.

    Never the content itself. Each event carries the hash of the one before it, so an edited or removed row breaks
    the chain (see ``manage.py verify_audit``).
    """

    class ActorKind(models.TextChoices):
        MEMBER = "member", "team member"
        REPORTER = "reporter", "reporter (by receipt)"
        SYSTEM = "system", "system"

    created_at = models.DateTimeField()
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    # PROTECT: the hash covers these keys, so the rows they point to must outlive the log (deactivate, never delete).
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, db_index=False)
    actor_label = models.CharField(max_length=150, blank=True)
    # Not indexed alone: the index of the organization's events by time serves its look-ups.
    organization = models.ForeignKey(
        "orgs.Organization", null=True, blank=True, on_delete=models.PROTECT, db_index=False
    )
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.PROTECT)
    case_reference = models.CharField(max_length=32, blank=True, db_index=True)
    action = models.CharField(max_length=64)
    detail = models.JSONField(default=dict, blank=True)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["organization", "created_at"]),
            # A reporter's and the system's events have no actor: only members' events are indexed by theirs.
            models.Index(fields=["actor"], name="audit_event_actor", condition=models.Q(actor__isnull=False)),
        ]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label or self.actor_kind} {self.action}"


class AuditChainHead(models.Model):
    """The end of one chain: locked while an event is appended, so concurrent writers cannot fork it.

    One chain per organization, so organizations never wait on each other, and one for events that belong to none
    (failed logins, for example).
    """

    GLOBAL_CHAIN = "global"

    # The unique key of the chain ("org:<id>" or "global"). The organization column alone cannot be it: a unique
    # column still allows any number of NULLs, so two writers could each create a head for the organization-less
    # chain and fork it.
    chain = models.CharField(max_length=32, unique=True)
    organization = models.OneToOneField(
        "orgs.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    last_hash = models.CharField(max_length=64)

    def __str__(self):
        return f"{self.chain}: {self.last_hash}"

    @classmethod
    def chain_of(cls, organization_id):
        return f"org:{organization_id}" if organization_id is not None else cls.GLOBAL_CHAIN


class ThrottleCount(models.Model):
    """Failed attempts counted under one throttle key until its window ends.

    Kept in the database because every web worker (and every host) must see the same count. The key is a keyed
    hash of an address or a hash of an account name (see ``cocdesk.common.throttle``), never the address itself.
    Expired rows are ignored, reset on the next failure and deleted by ``manage.py prune_records``.
    """

    key = models.CharField(max_length=128, unique=True)
    count = models.PositiveIntegerField(default=0)
    window_ends_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.key}: {self.count} until {self.window_ends_at:%Y-%m-%d %H:%M}"
