from django.conf import settings
from django.db import models

from cocdesk.common.models import TimeStampedModel

from ..enums import ReportState


class TransparencyReport(TimeStampedModel):
    """An anonymised account of a space's or a period's cases. ``figures`` holds only protected aggregates (small
    counts already shown as "fewer than N"); the team's free text is checked for identifying details before review,
    and only a published report is shown to the public."""

    organization = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="transparency_reports")
    title = models.CharField(max_length=200)
    space = models.ForeignKey("orgs.Space", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    period_start = models.DateField()
    period_end = models.DateField()
    state = models.CharField(max_length=10, choices=ReportState.choices, default=ReportState.DRAFT)
    figures = models.JSONField(default=dict, help_text="Protected aggregates, computed when the draft is made.")
    lines = models.JSONField(default=list, help_text="One anonymised line per case, written by the team.")
    narrative = models.TextField(blank=True)
    drafted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["organization", "-period_end", "pk"]
        indexes = [models.Index(fields=["organization", "state", "published_at"], name="transparency_public")]

    def __str__(self):
        return self.title
