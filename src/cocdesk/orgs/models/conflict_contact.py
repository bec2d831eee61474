from django.db import models


class ConflictContact(models.Model):
    """Someone a reporter can write to when the concern is about a team member (the procedures' "contact the
    chairs directly"). A report that reaches this contact's own intake address is hidden from the members the
    contact chose, as if the reporter had excluded them."""

    organization = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="conflict_contacts")
    name = models.CharField(max_length=150, help_text="Shown to reporters, for example 'The conference chairs'.")
    description = models.CharField(
        max_length=200,
        blank=True,
        help_text="Shown to reporters under the name, for example 'Conference chairs: write here if your report "
        "concerns a member of the CoC team'.",
    )
    intake_address = models.EmailField(
        unique=True, help_text="A mailbox of its own that CoC Desk reads (fetch_mail or the pipe), not the usual one."
    )
    hidden_from = models.ManyToManyField(
        "orgs.Membership",
        blank=True,
        related_name="hidden_by_conflict_contacts",
        help_text="The team members who never see a report sent to this address.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["organization", "name"]

    def __str__(self):
        return f"{self.name} ({self.organization})"
