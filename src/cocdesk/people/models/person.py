from django.conf import settings
from django.db import models

from cocdesk.common.models import TimeStampedModel

from ..enums import IdentifierKind, PartyRole


class RegistryKey(models.Model):
    """The organization's own data key for its registry of people: it seals their names and keys the hashes their
    identifiers are matched by. Wrapped by the keyring like a case's key, so a database alone reads nothing."""

    organization = models.OneToOneField("orgs.Organization", on_delete=models.CASCADE, related_name="registry_key")
    key_id = models.CharField(max_length=64)
    wrapped_key = models.BinaryField()

    def __str__(self):
        return f"Registry key of organization {self.organization_id}"


class Person(TimeStampedModel):
    """Someone a decision, a sanction or a warning concerns. The team knows them by a code name; what identifies
    them is sealed, and matched only through keyed hashes."""

    organization = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="people")
    code_name = models.CharField(max_length=40)
    sealed_details = models.BinaryField(help_text="The name to address them by, sealed with the registry key.")
    # A risk of repeating: the teams of future events should know. Who flagged, when and why (sealed).
    flagged_at = models.DateTimeField(null=True, blank=True)
    flagged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    sealed_flag_reason = models.BinaryField(null=True, blank=True)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["organization", "code_name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "code_name"], name="unique_person_code_name"),
        ]

    def __str__(self):
        return self.code_name


class Identifier(models.Model):
    """One way to recognise a person (a name, an email, a handle, a badge number), stored as a keyed hash of its
    normalised form for matching and sealed for the team to read."""

    organization = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="identifiers")
    party = models.ForeignKey(
        "people.CaseParty",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="identifiers",
        help_text="The case where this identifier was given: a split takes it along with the party.",
    )
    kind = models.CharField(max_length=12, choices=IdentifierKind.choices)
    digest = models.CharField(max_length=64)
    sealed_value = models.BinaryField()

    class Meta:
        indexes = [models.Index(fields=["organization", "digest"], name="identifier_match")]
        # Per party, not per person: a merge moves every party's identifiers to the kept person as they are, and a
        # split takes them back, even where two parties gave the same one.
        constraints = [
            models.UniqueConstraint(
                fields=["party", "digest"], condition=models.Q(party__isnull=False), name="unique_identifier_per_party"
            ),
            models.UniqueConstraint(
                fields=["person", "digest"],
                condition=models.Q(party__isnull=True),
                name="unique_identifier_per_person",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} of {self.person_id}"


class CaseParty(models.Model):
    """A person as named in one case: the reported person, a witness, someone else involved. Every party starts as
    a person of its own; a responder confirms that two are one (a merge) or separates them again (a split), so
    nothing is linked silently."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="parties")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="parties")
    role = models.CharField(max_length=12, choices=PartyRole.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case", "pk"]
        indexes = [models.Index(fields=["person", "case"], name="party_person")]

    def __str__(self):
        return f"{self.get_role_display()} in {self.case_id}"


class MemberIdentifier(models.Model):
    """A team member's own identifier, as a keyed hash only: a report naming them recuses them without their
    identifiers being read or compared in the clear."""

    organization = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey("orgs.Membership", on_delete=models.CASCADE, related_name="identifier_digests")
    digest = models.CharField(max_length=64)

    class Meta:
        indexes = [models.Index(fields=["organization", "digest"], name="member_identifier_match")]
        constraints = [
            models.UniqueConstraint(fields=["membership", "digest"], name="unique_member_identifier"),
        ]

    def __str__(self):
        return f"Identifier of member {self.membership_id}"
