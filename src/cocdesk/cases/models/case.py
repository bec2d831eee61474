from django.db import models
from django.db.models import Count, F, Q

from cocdesk.common.models import TimeStampedModel
from cocdesk.orgs.models import Membership

from ..enums import CaseState, Channel, Finding


class CaseQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The cases ``user`` may see: the second line behind the predicates in ``rules.py``; they must agree."""
        if not user.is_authenticated:
            return self.none()
        memberships = Membership.objects.active().filter(user=user)
        handled_orgs = memberships.filter(Q(is_responder=True) | Q(is_lead=True)).values("organization")
        fallback_orgs = memberships.filter(is_fallback=True).values("organization")
        recused_cases = self.model.recusals.rel.related_model.objects.filter(
            is_active=True, membership__user=user
        ).values("case")
        return (
            self.annotate(
                recused_leads=Count(
                    "recusals",
                    filter=Q(recusals__is_active=True, recusals__membership__is_lead=True),
                    distinct=True,
                )
            )
            .filter(
                Q(organization__in=handled_orgs)
                | Q(
                    Q(recused_leads__gt=F("organization__recusal_threshold")) | Q(fallback_escalated_at__isnull=False),
                    organization__in=fallback_orgs,
                )
            )
            .exclude(pk__in=recused_cases)
        )


class Case(TimeStampedModel):
    """A case gathers one or more reports about one incident. Plain columns hold only what queues and
    statistics need; everything a reporter wrote is sealed with the case's own data key."""

    reference = models.CharField(max_length=32, unique=True)
    organization = models.ForeignKey("orgs.Organization", on_delete=models.PROTECT, related_name="cases")
    space = models.ForeignKey("orgs.Space", null=True, blank=True, on_delete=models.SET_NULL, related_name="cases")
    state = models.CharField(max_length=16, choices=CaseState.choices, default=CaseState.NEW)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    is_urgent = models.BooleanField(default=False, help_text="Ongoing, or someone is in physical danger.")
    category = models.CharField(max_length=100, blank=True)
    code_name = models.CharField(max_length=60, blank=True)
    received_at = models.DateTimeField()
    acknowledge_due = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    update_due = models.DateTimeField()
    last_update_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    fallback_escalated_at = models.DateTimeField(
        null=True, blank=True, help_text="A deadline stayed missed and the case was handed to fallback members."
    )
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_cases"
    )
    assignees = models.ManyToManyField("orgs.Membership", blank=True, related_name="assigned_cases")
    violation = models.CharField(max_length=12, choices=Finding.choices, blank=True)
    sealed_triage = models.BinaryField(null=True, blank=True)
    triaged_at = models.DateTimeField(null=True, blank=True)

    key_id = models.CharField(max_length=32)
    wrapped_data_key = models.BinaryField(null=True, help_text="Empty once the case has been erased.")

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-is_urgent", "acknowledge_due"]

    def __str__(self):
        return self.reference

    @property
    def is_erased(self):
        return not self.wrapped_data_key
