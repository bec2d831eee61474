from django.conf import settings
from django.db import models

from cocdesk.cases.enums import Finding
from cocdesk.common.models import TimeStampedModel

from ..enums import DecisionRule, Vote


class Decision(TimeStampedModel):
    """The team's finding on a case and what it decided to do. The case's finding is read from its current
    decision; a later decision (a revision, or a lead's immediate action confirmed) replaces it as current."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="decisions")
    finding = models.CharField(max_length=12, choices=Finding.choices)
    rule = models.CharField(max_length=12, choices=DecisionRule.choices, help_text="The rule it was checked against.")
    sealed_rationale = models.BinaryField(help_text="Why, sealed with the case's key.")
    decided_at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    subjects = models.ManyToManyField("people.Person", blank=True, related_name="decisions")
    confirms_action = models.ForeignKey(
        "cases.ImmediateAction", null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions"
    )
    is_current = models.BooleanField(default=True)

    class Meta:
        ordering = ["case", "decided_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(is_current=True), name="one_current_decision_per_case"
            )
        ]

    def __str__(self):
        return f"{self.get_finding_display()} on {self.case_id}"


class DecisionVote(models.Model):
    """Who took part in a decision and how they voted. A member with a conflict may be recorded, never counted."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="votes")
    membership = models.ForeignKey("orgs.Membership", on_delete=models.PROTECT, related_name="decision_votes")
    vote = models.CharField(max_length=8, choices=Vote.choices)
    conflicted = models.BooleanField(default=False)

    class Meta:
        ordering = ["decision", "pk"]
        constraints = [models.UniqueConstraint(fields=["decision", "membership"], name="one_vote_per_member")]

    def __str__(self):
        return f"{self.get_vote_display()} ({self.membership_id})"
