"""Reviewing an appeal: members who may see the case and took no part in the decision read the statement and
uphold, modify or overturn the permanent measure with a written reason. A member who decided gets a 404."""

from datetime import datetime, time

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.generic import View

from cocdesk.common import audit
from cocdesk.orgs.rules import can
from cocdesk.sanctions.domain import appeals, notices
from cocdesk.sanctions.domain.notice_mail import appeal_reason
from cocdesk.sanctions.domain.queries import visible_appeals
from cocdesk.sanctions.enums import AppealState

from .access import VerifiedMemberRequiredMixin


class ReviewForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Outcome",
        choices=[
            (AppealState.UPHELD, "Uphold: the measure stays as it was"),
            (AppealState.MODIFIED, "Modify: replace it with the measure described below"),
            (AppealState.OVERTURNED, "Overturn: the measure ends now"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose an outcome: uphold, modify or overturn."},
    )
    reason = forms.CharField(
        label="Reason",
        help_text="Sent to the person who appealed. Name nobody who reported or saw what happened.",
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=10_000,
        error_messages={"required": "Write the reason: it is sent to the person who appealed."},
    )
    sanction = forms.ModelChoiceField(
        label="The measure to modify", queryset=None, required=False, empty_label="The only permanent measure"
    )
    all_spaces = forms.BooleanField(label="Modified: applies to all spaces", required=False)
    spaces = forms.ModelMultipleChoiceField(
        label="Modified: applies to these spaces", queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    is_permanent = forms.BooleanField(label="Modified: stays permanent", required=False)
    ends_on = forms.DateField(
        label="Modified: ends on",
        required=False,
        help_text="The last day it applies, unless it stays permanent.",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter a date like 2026-12-31."},
    )

    def __init__(self, *args, appealed, organization, **kwargs):
        kwargs.setdefault("auto_id", "review_%s")
        super().__init__(*args, **kwargs)
        from cocdesk.sanctions.models import Sanction

        self.fields["sanction"].queryset = Sanction.objects.filter(pk__in=[sanction.pk for sanction in appealed])
        self.fields["sanction"].label_from_instance = notices.describe
        self.fields["spaces"].queryset = organization.spaces.order_by("name")

    def modified_sanction(self):
        data = self.cleaned_data
        ends_at = None
        if data.get("ends_on"):
            ends_at = timezone.make_aware(datetime.combine(data["ends_on"], time(23, 59)))
        return {
            "sanction": data.get("sanction"),
            "all_spaces": data.get("all_spaces"),
            "spaces": list(data.get("spaces") or []),
            "is_permanent": data.get("is_permanent"),
            "ends_at": ends_at,
        }


class AppealReviewView(VerifiedMemberRequiredMixin, View):
    def appeal(self):
        appeal = (
            visible_appeals(self.request.user)
            .select_related("notice__decision__case__organization", "notice__person", "reviewed_by")
            .prefetch_related("notice__decision__votes")
            .filter(pk=self.kwargs["appeal_id"])
            .first()
        )
        # A member who decided answers like one who may not see the case: the same 404.
        if appeal is None or not can(self.request.user, "sanctions.review_appeal", appeal):
            raise Http404("Not found")
        return appeal

    def get(self, request, appeal_id):
        appeal = self.appeal()
        return self.render(appeal, self.form(appeal))

    def post(self, request, appeal_id):
        appeal = self.appeal()
        form = self.form(appeal, request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                appeals.review_appeal(
                    appeal,
                    by=request.user,
                    outcome=data["outcome"],
                    reason=data["reason"],
                    modified_sanction=form.modified_sanction() if data["outcome"] == AppealState.MODIFIED else None,
                )
            except PermissionDenied as denied:
                raise Http404("Not found") from denied
            except ValidationError as error:
                form.add_error(None, " ".join(error.messages))
            else:
                messages.success(request, "The appeal is reviewed and the person who appealed is told why.")
                return redirect("desk:appeal", appeal_id=appeal.pk)
        return self.render(appeal, form)

    def form(self, appeal, data=None):
        appealed = notices.appealable(notices.sanctions_of(appeal.notice))
        return ReviewForm(data, appealed=appealed, organization=appeal.notice.decision.case.organization)

    def render(self, appeal, form):
        case = appeal.notice.decision.case
        audit.record("appeal.read", actor=self.request.user, case=case, appeal=appeal.pk)
        context = {
            "appeal": appeal,
            "case": case,
            "decision": appeal.notice.decision,
            "statement": appeals.statement_of(appeal),
            "reason": appeal_reason(appeal),
            "sanctions": [
                (notices.describe(sanction), sanction.get_state_display())
                for sanction in notices.sanctions_of(appeal.notice)
            ],
            "form": form,
            "is_pending": appeal.state == AppealState.PENDING,
        }
        return render(self.request, "desk/appeal_review.html", context)
