from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Notification(models.Model):
    """One message to one team member. It names a case by reference and links to it; it never carries case
    content, because mail leaves the system in clear."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENT = "sent", "Sent"
        CANCELLED = "cancelled", "Cancelled (recipient lost access)"
        BOUNCED = "bounced", "Bounced (the address does not take mail)"

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Chat webhook"

    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    # Not indexed: no page lists a member's notices, and accounts are deactivated, never deleted (the audit log
    # keeps them). A report writes one notice per member: an index would take one entry each.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
    )
    # A notice to a reporter: the address is read from the sealed report when the mail is sent, never stored.
    report = models.ForeignKey(
        "cases.Report", null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # Looked up only among the notices to reporters (a reply or a bounce names the mail it answers): indexed there.
    message_id = models.CharField(max_length=200, blank=True)
    # Looked up only for the notice of mail set aside (``cases.domain.set_aside``): indexed for that kind alone.
    organization = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="+", db_index=False)
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # A team message to an email reporter: the reporter chose mail, so the message itself goes out. The row holds
    # no copy of it: the text is read from the sealed message when the mail is sent.
    team_message = models.ForeignKey(
        "cases.Message", null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    kind = models.CharField(max_length=40)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]
        # Most notices are to team members about a case: only those to a reporter or carrying a team message hold
        # these keys, and only they are indexed (a report's notices tell the whole team at once).
        indexes = [
            models.Index(fields=["report"], name="notification_report", condition=Q(report__isnull=False)),
            models.Index(
                fields=["team_message"], name="notification_team_message", condition=Q(team_message__isnull=False)
            ),
            models.Index(fields=["message_id"], name="notification_reporter_mail", condition=Q(report__isnull=False)),
            models.Index(
                fields=["organization"], name="notification_set_aside_notice", condition=Q(kind="mail_set_aside")
            ),
        ]

    def __str__(self):
        return f"{self.kind} to {self.recipient} ({self.state})"
