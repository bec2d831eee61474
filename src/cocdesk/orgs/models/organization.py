from django.db import models

from cocdesk.common.models import TimeStampedModel

from .. import policy
from ..enums import Platform, SpaceKind


class Organization(TimeStampedModel):
    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    reporting_email = models.EmailField(blank=True)
    coc_url = models.URLField("Code of Conduct URL", blank=True)

    # The organization's public page: how a reporter reaches the team besides the form.
    is_listed = models.BooleanField(
        "Listed on the home page",
        default=False,
        help_text="Unlisted, the public page and the report form still work for anyone who has their address.",
    )
    public_intro = models.TextField("Introduction", blank=True)
    reporting_phone = models.CharField("Phone line for reports", max_length=40, blank=True)
    in_person_contacts = models.TextField("How to find the team in person", blank=True)

    emergency_number = models.CharField(max_length=40, default="112")
    non_emergency_number = models.CharField(max_length=80, blank=True)
    crisis_line = models.CharField(max_length=120, blank=True)
    emergency_guidance = models.TextField(
        blank=True,
        help_text="Shown above the report form, after the numbers: where to get help in person, for example.",
    )

    acknowledge_within_hours = models.PositiveIntegerField(default=policy.ACKNOWLEDGE_WITHIN_HOURS)
    urgent_acknowledge_within_hours = models.PositiveIntegerField(default=policy.URGENT_ACKNOWLEDGE_WITHIN_HOURS)
    update_within_days = models.PositiveIntegerField(default=policy.UPDATE_WITHIN_DAYS)
    recusal_threshold = models.PositiveIntegerField(
        default=policy.RECUSAL_THRESHOLD,
        help_text="When more lead responders than this are recused on a case, fallback members step in.",
    )
    appeal_window_days = models.PositiveIntegerField(default=policy.APPEAL_WINDOW_DAYS)
    retention_days = models.PositiveIntegerField(default=policy.RETENTION_DAYS)
    fallback_escalation_hours = models.PositiveIntegerField(
        default=policy.FALLBACK_ESCALATION_HOURS,
        help_text="When a deadline stays missed this long after the leads were told, the fallback members step in.",
    )
    categories = models.JSONField(default=policy.default_categories)
    decision_rule = models.CharField(
        max_length=12,
        choices=policy.DECISION_RULES,
        default=policy.DECISION_RULE,
        help_text="What a decision needs before it is recorded; members with a conflict are never counted.",
    )
    sanction_kinds = models.JSONField(
        default=policy.default_sanction_kinds, help_text="The resolutions and measures the team may decide."
    )
    sanction_notice_days = models.PositiveIntegerField(
        default=policy.SANCTION_NOTICE_DAYS,
        help_text="How many days before a temporary sanction ends the team is told.",
    )
    small_count_threshold = models.PositiveIntegerField(
        default=policy.SMALL_COUNT_THRESHOLD,
        help_text="Transparency reports show any smaller count as 'fewer than' this number.",
    )
    appeal_review_days = models.PositiveIntegerField(
        default=policy.APPEAL_REVIEW_DAYS, help_text="How long the reviewers have to answer an appeal."
    )
    chat_webhook_url = models.URLField(
        "Chat webhook for urgent pages",
        blank=True,
        help_text="A Slack- or Matrix-compatible incoming webhook. Pages carry the case reference only.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def reporting_phone_dial(self):
        """The phone line as a tel: link wants it: the leading + and the digits."""
        number = self.reporting_phone.strip()
        return ("+" if number.startswith("+") else "") + "".join(char for char in number if char.isdigit())


class Space(TimeStampedModel):
    """Where an incident can happen; sanctions are scoped to spaces."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="spaces")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=SpaceKind.choices)
    platform = models.CharField(max_length=20, choices=Platform.choices, blank=True)
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    venue = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["organization", "name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="unique_space_name")]

    def __str__(self):
        return self.name
