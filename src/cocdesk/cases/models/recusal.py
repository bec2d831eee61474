from django.conf import settings
from django.db import models

from ..enums import RecusalReason, RecusalSource


class RecusalQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class Recusal(models.Model):
    """A member removed from a case: they lose every sight of it until a lead reinstates them."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="recusals")
    membership = models.ForeignKey("orgs.Membership", on_delete=models.CASCADE, related_name="recusals")
    reason = models.CharField(max_length=32, choices=RecusalReason.choices)
    source = models.CharField(max_length=16, choices=RecusalSource.choices)
    sealed_note = models.BinaryField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    is_active = models.BooleanField(default=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    sealed_end_reason = models.BinaryField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RecusalQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["case", "membership"], condition=models.Q(is_active=True), name="one_active_recusal"
            )
        ]

    def __str__(self):
        return f"{self.membership} recused from {self.case}"
