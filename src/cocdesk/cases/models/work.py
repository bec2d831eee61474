from django.conf import settings
from django.db import models

from ..enums import AlertStage, DeadlineKind


class Note(models.Model):
    """An internal note of the team; never shown to the reporter."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    sealed_body = models.BinaryField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"note {self.pk} on {self.case}"


class ImmediateAction(models.Model):
    """What a lead did alone on an urgent case (a talk stopped, security called); the team reviews it."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="immediate_actions")
    taken_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    taken_at = models.DateTimeField()
    sealed_description = models.BinaryField()
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["taken_at", "id"]

    def __str__(self):
        return f"immediate action {self.pk} on {self.case}"


class DeadlineAlert(models.Model):
    """One reminder or escalation sent for one deadline of a case: the sweep never sends the same one twice."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="deadline_alerts")
    deadline = models.CharField(max_length=16, choices=DeadlineKind.choices)
    due_at = models.DateTimeField()
    stage = models.CharField(max_length=16, choices=AlertStage.choices)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "deadline", "due_at", "stage"], name="one_alert_per_stage")
        ]

    def __str__(self):
        return f"{self.stage} for {self.deadline} of {self.case}"
