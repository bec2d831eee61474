"""Retention on the case page: when a closed case will be erased, and the leads' hold that keeps it."""

from django import forms
from django.contrib import messages
from django.utils import timezone

from cocdesk.cases.domain import retention
from cocdesk.orgs.policy import RETENTION_NOTICE_DAYS
from cocdesk.orgs.rules import can

from .case_views import CaseActionView


class RetentionHoldForm(forms.Form):
    reason = forms.CharField(
        label="Why this case must be kept",
        help_text="For example: a legal proceeding, or a related case still open. Only the team reads it.",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        error_messages={
            "required": "Say why the case must be kept.",
            "max_length": "Keep the reason under %(limit_value)d characters (it has %(show_value)d).",
        },
    )


def retention_panel(case, *, viewer, form=None):
    """What the case page's retention section shows: None for an erased case."""
    if case.is_erased:
        return {"retention": None}
    held = case.retention_held_at is not None
    now = timezone.now()
    erased_on = retention.expected_erasure(case, now)
    return {
        "retention": {
            "erased_on": erased_on,
            "is_due": erased_on is not None and erased_on <= now,
            "retention_days": case.organization.retention_days,
            "notice_days": RETENTION_NOTICE_DAYS,
            "held": held,
            "held_by": case.retention_held_by.get_username() if held and case.retention_held_by_id else "",
            "reason": retention.hold_reason(case) if held else "",
            "can_hold": can(viewer, "cases.hold_retention", case),
            "form": form or RetentionHoldForm(auto_id="retention_%s"),
        }
    }


class HoldView(CaseActionView):
    permission_required = "cases.hold_retention"
    form_class = RetentionHoldForm
    form_context_name = "retention_form"
    auto_id = "retention_%s"
    success_message = "The case is held: it will not be erased until a lead lifts the hold."

    def act(self, case, form):
        retention.hold(case, by=self.request.user, reason=form.cleaned_data["reason"])


class ReleaseHoldView(CaseActionView):
    permission_required = "cases.hold_retention"

    def act(self, case, form):
        case = retention.release_hold(case, by=self.request.user)
        now = timezone.now()
        erased_on = retention.expected_erasure(case, now)
        if erased_on is None:
            messages.success(self.request, "The hold is lifted.")
        elif erased_on <= now:
            messages.success(
                self.request, "The hold is lifted. The case is past its date: it will be erased within the hour."
            )
        else:
            when = timezone.localtime(erased_on)
            messages.success(self.request, f"The hold is lifted. The case will be erased on {when.day} {when:%b %Y}.")
