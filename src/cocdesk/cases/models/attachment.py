from django.db import models


class Attachment(models.Model):
    """A file that came with a report or a reporter's message (by email). Name, type and bytes are sealed."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="attachments")
    report = models.ForeignKey("cases.Report", on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(
        "cases.Message", null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField()
    sealed_meta = models.BinaryField(help_text="File name and content type, sealed.")
    sealed_content = models.BinaryField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"attachment {self.pk} on {self.case}"


class SetAsideMail(models.Model):
    """An incoming mail that could not become a report (malformed, too large, unknown address). It is kept,
    sealed under its own data key, for an admin to look at: nothing that arrives is dropped."""

    organization = models.ForeignKey(
        "orgs.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="set_aside_mail"
    )
    received_at = models.DateTimeField()
    reason = models.CharField(max_length=200)
    size = models.PositiveIntegerField()
    key_id = models.CharField(max_length=32)
    wrapped_data_key = models.BinaryField()
    sealed_raw = models.BinaryField()
    handled_at = models.DateTimeField(null=True, blank=True)
    # SHA-256 of the Message-ID (or of the whole mail): the same mail delivered twice is kept once.
    digest = models.CharField(max_length=64, blank=True, db_index=True)
    case = models.ForeignKey(
        "cases.Case",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The case a lead made of this mail.",
    )

    class Meta:
        ordering = ["-received_at"]

    def __str__(self):
        return f"mail set aside {self.received_at:%Y-%m-%d %H:%M}: {self.reason}"
