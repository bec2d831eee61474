from django.conf import settings
from django.db import models

from cocdesk.common.models import TimeStampedModel

from ..enums import AppealState, NoticeDelivery, NoticeState


class Notice(TimeStampedModel):
    """What a sanctioned person is told (behaviour, impact, expected change, consequences), with nothing that
    identifies the reporter. A second member approves it before it goes out. A notice of a permanent sanction
    carries a private appeal link, stored only as a hash."""

    decision = models.ForeignKey("sanctions.Decision", on_delete=models.CASCADE, related_name="notices")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="notices")
    state = models.CharField(max_length=10, choices=NoticeState.choices, default=NoticeState.DRAFT)
    sealed_body = models.BinaryField(help_text="The four parts and the address to send to, sealed with the case key.")
    drafted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    delivery = models.CharField(max_length=8, choices=NoticeDelivery.choices, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    appeal_token_digest = models.CharField(max_length=64, unique=True, null=True, blank=True)
    appeal_closes_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["decision", "pk"]


class Appeal(TimeStampedModel):
    """The sanctioned person's one appeal against a permanent sanction, reviewed by members who took no part in
    the decision."""

    notice = models.OneToOneField(Notice, on_delete=models.CASCADE, related_name="appeal")
    organization = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="appeals")
    received_at = models.DateTimeField()
    review_due_at = models.DateTimeField()
    sealed_statement = models.BinaryField()
    state = models.CharField(max_length=10, choices=AppealState.choices, default=AppealState.PENDING)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    sealed_reason = models.BinaryField(null=True, blank=True)

    class Meta:
        ordering = ["review_due_at", "pk"]
        indexes = [models.Index(fields=["organization", "state", "review_due_at"], name="appeal_queue")]
