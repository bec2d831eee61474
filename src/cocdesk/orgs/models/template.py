import re

from django.db import models

from .. import policy


class MessageTemplate(models.Model):
    """An organization's wording for a kind of message to reporters."""

    class Kind(models.TextChoices):
        ACKNOWLEDGEMENT = "acknowledgement", "Acknowledgement"
        QUESTION = "question", "Question"
        UPDATE = "update", "Update"
        OUTCOME = "outcome", "Outcome"
        SANCTION_NOTICE = "sanction_notice", "Notice to a sanctioned person"

    organization = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="templates")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    body = models.TextField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "kind"], name="one_template_per_kind")]

    def __str__(self):
        return f"{self.get_kind_display()} template of {self.organization}"


PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
# A gap the responder fills in before sending, such as [[the reason for the delay]].
FILL_IN = re.compile(r"\[\[[^\[\]]*\]\]")


def unknown_placeholders(text):
    """The {names} in ``text`` that are not in policy.TEMPLATE_PLACEHOLDERS, in order of appearance."""
    return list(dict.fromkeys(name for name in PLACEHOLDER.findall(text) if name not in policy.TEMPLATE_PLACEHOLDERS))


def fill_ins_left(text):
    return FILL_IN.findall(text)


def template_text(organization, kind):
    """The organization's wording, or the procedures' default, with the policy's values filled in. Only the
    known names are replaced, by plain substitution: nothing in a template can reach anything else."""
    template = organization.templates.filter(kind=kind).first()
    text = template.body if template else policy.DEFAULT_TEMPLATES[kind]
    values = {
        "update_within_days": str(organization.update_within_days),
        "acknowledge_within_hours": str(organization.acknowledge_within_hours),
        "organization": organization.name,
        "appeal_window_days": str(organization.appeal_window_days),
    }
    return PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), text)


# The four parts of a notice to a sanctioned person, each opened in the template by a line such as "Impact:".
NOTICE_PARTS = [
    ("behaviour", "Behaviour"),
    ("impact", "Impact"),
    ("expected_change", "Expected change"),
    ("consequences", "Consequences"),
]


def notice_parts(text):
    """The template's text under each of the four headings ({part: text}); a heading left out gives no entry.
    Anything above the first heading belongs to the behaviour."""
    headings = {f"{label}:".casefold(): part for part, label in NOTICE_PARTS}
    lines_of, current = {}, "behaviour"
    for line in text.splitlines():
        heading = headings.get(line.strip().casefold())
        if heading:
            current = heading
            lines_of.setdefault(current, [])
        else:
            lines_of.setdefault(current, []).append(line)
    return {part: "\n".join(lines).strip() for part, lines in lines_of.items()}


def missing_notice_headings(text):
    """The headings of the four parts that ``text`` does not hold, each on a line of its own."""
    present = {line.strip().casefold() for line in text.splitlines()}
    return [label for _part, label in NOTICE_PARTS if f"{label}:".casefold() not in present]
