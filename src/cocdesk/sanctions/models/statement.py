from django.conf import settings
from django.db import models

from cocdesk.common.models import TimeStampedModel

from ..enums import StatementState


class PublicStatement(TimeStampedModel):
    """A statement about a case for the organization's public page. Drafted sealed; checked against the names and
    identifiers of everyone in the case; an admin approves it, and only then is its text stored in the clear."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="public_statements")
    organization = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="public_statements")
    state = models.CharField(max_length=10, choices=StatementState.choices, default=StatementState.DRAFT)
    sealed_draft = models.BinaryField()
    drafted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    published_at = models.DateTimeField(null=True, blank=True)
    title = models.CharField(max_length=200, blank=True)
    published_text = models.TextField(blank=True)

    class Meta:
        ordering = ["organization", "-published_at", "pk"]
        indexes = [models.Index(fields=["organization", "state", "published_at"], name="statement_public")]
