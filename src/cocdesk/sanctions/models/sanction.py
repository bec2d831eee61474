from django.conf import settings
from django.db import models

from cocdesk.common.models import TimeStampedModel

from ..enums import SanctionKind, SanctionState


class Sanction(TimeStampedModel):
    """An action the team took about a person: from a decision, or a verbal warning staff gave at an event. Lasting
    kinds have a scope (some or all spaces), a start and an end, or are permanent; the clock ends them."""

    organization = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="sanctions")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="sanctions")
    decision = models.ForeignKey(
        "sanctions.Decision", null=True, blank=True, on_delete=models.PROTECT, related_name="sanctions"
    )
    kind = models.CharField(max_length=24, choices=SanctionKind.choices)
    all_spaces = models.BooleanField(default=False)
    spaces = models.ManyToManyField("orgs.Space", blank=True, related_name="sanctions")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Empty: permanent, or given once.")
    is_permanent = models.BooleanField(default=False)
    state = models.CharField(max_length=12, choices=SanctionState.choices, default=SanctionState.ACTIVE)
    sealed_terms = models.BinaryField(
        null=True, blank=True, help_text="Details (what was said, whom not to contact), sealed with the registry key."
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    expiry_notice_sent_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    replaced_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replaces")

    class Meta:
        ordering = ["organization", "-starts_at", "pk"]
        indexes = [
            models.Index(fields=["organization", "state"], name="sanction_registry"),
            models.Index(
                fields=["ends_at"], name="sanction_expiry", condition=models.Q(state="active", ends_at__isnull=False)
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.get_state_display()})"


class RestrictionCheck(models.Model):
    """That someone checked for a restriction, and what they were told. Never what they typed."""

    organization = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="+")
    checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    checked_at = models.DateTimeField()
    restricted = models.BooleanField()

    def __str__(self):
        return f"Check at {self.checked_at:%Y-%m-%d %H:%M}"
