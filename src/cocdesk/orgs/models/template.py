from django.db import models

from .. import policy


class MessageTemplate(models.Model):
    """An organization's wording for a kind of message to reporters."""

    class Kind(models.TextChoices):
        ACKNOWLEDGEMENT = "acknowledgement", "Acknowledgement"
        QUESTION = "question", "Question"
        UPDATE = "update", "Update"
        OUTCOME = "outcome", "Outcome"

    organization = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="templates")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    body = models.TextField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "kind"], name="one_template_per_kind")]

    def __str__(self):
        return f"{self.get_kind_display()} template of {self.organization}"


def template_text(organization, kind):
    """The organization's wording, or the procedures' default, with the policy's numbers filled in."""
    template = organization.templates.filter(kind=kind).first()
    text = template.body if template else policy.DEFAULT_TEMPLATES[kind]
    values = {
        "update_within_days": organization.update_within_days,
        "acknowledge_within_hours": organization.acknowledge_within_hours,
        "organization": organization.name,
    }
    try:
        return text.format(**values)
    except (KeyError, IndexError, ValueError):
        return text
