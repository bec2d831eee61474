from django.conf import settings
from django.db import models

from cocdesk.common.models import TimeStampedModel

from ..enums import Role


class MembershipQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True, user__is_active=True)

    def with_role(self, role):
        return self.filter(**{Membership.ROLE_FIELDS[role]: True})


class Membership(TimeStampedModel):
    """A user's place in one organization; one person may hold several roles."""

    ROLE_FIELDS = {
        Role.STAFF: "is_staff_member",
        Role.RESPONDER: "is_responder",
        Role.LEAD: "is_lead",
        Role.ADMIN: "is_admin",
        Role.FALLBACK: "is_fallback",
    }

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="memberships")
    display_name = models.CharField(max_length=150)
    is_staff_member = models.BooleanField("staff / volunteer", default=False)
    is_responder = models.BooleanField("responder", default=False)
    is_lead = models.BooleanField("lead responder", default=False)
    is_admin = models.BooleanField("organization admin", default=False)
    is_fallback = models.BooleanField("fallback member", default=False)
    is_active = models.BooleanField(default=True)
    spaces = models.ManyToManyField(
        "orgs.Space",
        blank=True,
        related_name="scoped_memberships",
        help_text="Leave empty for the whole organization. With spaces chosen, this member's roles apply to the "
        "cases of those spaces only (for example a lead responder for one conference or one online forum).",
    )
    # Sealed with the organization's registry key and matched by their keyed hashes (people.MemberIdentifier), so a
    # database dump holds none of them: read and written through people.domain.members only.
    sealed_identifiers = models.BinaryField(
        null=True,
        blank=True,
        editable=False,
        help_text="Other names, emails and handles this member is known by, one a line ('Slack: @name'). A report "
        "naming any of them as the reported person recuses this member automatically.",
    )

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["organization", "display_name"]
        constraints = [models.UniqueConstraint(fields=["user", "organization"], name="one_membership_per_org")]

    def __str__(self):
        return f"{self.display_name} ({self.organization})"

    @property
    def handles_cases(self):
        """Responders and leads handle cases; a lead is always also a responder."""
        return self.is_responder or self.is_lead

    def roles(self):
        return [role for role, field in self.ROLE_FIELDS.items() if getattr(self, field)]
