from django.conf import settings
from django.db import models
from django.db.models import Q

from ..enums import Channel, MessageDirection, MessageKind


class Report(models.Model):
    """One account of an incident. Every field the reporter gave is in ``sealed_content``; see forms.ReportForm."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="reports")
    received_at = models.DateTimeField()
    channel = models.CharField(max_length=16, choices=Channel.choices)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    has_contact = models.BooleanField(default=False, help_text="The reporter left a way to reach them.")
    submission_digest = models.CharField(max_length=64, unique=True, null=True, blank=True)
    source_message_id = models.CharField(
        max_length=300, blank=True, db_index=True, help_text="Message-ID of the mail this report came in."
    )
    sealed_content = models.BinaryField()
    # A report by email: the raw Message-ID its answers thread on, sealed like the report.
    sealed_mail_thread = models.BinaryField(null=True, blank=True)
    mail_undeliverable_at = models.DateTimeField(
        null=True, blank=True, help_text="A mail to the reporter bounced: their address does not take mail."
    )
    # An email reporter may get a receipt for the web page through a one-time link; only its hash is kept.
    receipt_claim_digest = models.CharField(max_length=64, blank=True, db_index=True)
    receipt_claim_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["received_at", "id"]
        # Only reports a team member filed hold the key: the others write no index entry for it.
        indexes = [models.Index(fields=["filed_by"], name="report_filed_by", condition=Q(filed_by__isnull=False))]

    def __str__(self):
        return f"report {self.pk} on {self.case}"


class Receipt(models.Model):
    """The reporter's secret for following their report. Only a hash of it is kept."""

    report = models.OneToOneField(Report, on_delete=models.CASCADE, related_name="receipt")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"receipt for {self.report}"


class Message(models.Model):
    """A message between the team and the reporter of one report."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="messages")
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=16, choices=MessageDirection.choices)
    # The Message-ID of the mail a reporter wrote, so a mail delivered twice becomes one message.
    source_message_id = models.CharField(max_length=300, blank=True, db_index=True)
    kind = models.CharField(max_length=16, choices=MessageKind.choices, default=MessageKind.OTHER)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    sealed_body = models.BinaryField()
    channel = models.CharField(
        max_length=16, choices=Channel.choices, blank=True, help_text="How it travelled: by email, or on the web."
    )

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.get_direction_display()} on {self.case}"
