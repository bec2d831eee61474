"""The sanctioned person's appeal page, reached through the private link of their notice. An unknown link and a
link whose case was erased answer with the same page, so the page never tells whether a link exists; failures are
throttled like receipts."""

from django import forms
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone

from cocdesk.common import audit
from cocdesk.common.throttle import receipt_throttle
from cocdesk.sanctions.domain import appeals, notices
from cocdesk.sanctions.domain.notice_mail import OUTCOME_WORDS, appeal_reason
from cocdesk.sanctions.enums import AppealState
from cocdesk.sanctions.models import Appeal

LINK_UNKNOWN = "This appeal link does not work. Check that you copied all of it, or write to the team that sent it."
THROTTLED = "Too many attempts. Please wait a few minutes before trying again."


class AppealForm(forms.Form):
    statement = forms.CharField(
        label="Your statement",
        help_text="What you would like the team to consider. Members who took no part in the decision review it.",
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=appeals.STATEMENT_MAX_LENGTH,
        error_messages={
            "required": "Write your statement: what you would like the team to know before it reviews.",
            "max_length": "Keep your statement under %(limit_value)d characters (it has %(show_value)d).",
        },
    )


def _not_found(request, message=LINK_UNKNOWN):
    return render(request, "public/appeal.html", {"error": message}, status=404)


def appeal_page(request, token):
    throttle = receipt_throttle()
    if throttle.is_blocked(request):
        return _not_found(request, THROTTLED)
    notice = appeals.notice_for_token(token)
    if notice is None:
        throttle.note_failure(request)
        return _not_found(request)
    form = AppealForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            appeals.submit_appeal(token, form.cleaned_data["statement"])
        except appeals.UnknownAppealLink:
            throttle.note_failure(request)
            return _not_found(request)
        except ValidationError as error:
            form.add_error(None, " ".join(error.messages))
        else:
            return redirect(request.path)
    return _render(request, notice, form)


def _render(request, notice, form):
    case = notice.decision.case
    sanctions = list(notices.sanctions_of(notice))
    appeal = Appeal.objects.filter(notice=notice).first()
    refused = None if appeal else appeals.refusal(notice, sanctions, timezone.now())
    reviewed = appeal is not None and appeal.state != AppealState.PENDING
    audit.record("notice.appeal_page_opened", case=case, notice=notice.pk)
    context = {
        "organization": case.organization,
        "notice": notice,
        "sanctions": [
            {
                "kind": sanction.get_kind_display(),
                "scope": notices.scope_words(sanction),
                "end": notices.end_words(sanction),
                "state": sanction.get_state_display(),
            }
            for sanction in sanctions
        ],
        "appeal": appeal,
        "refused": refused,
        "outcome": OUTCOME_WORDS.get(appeal.state) if reviewed else "",
        "reason": appeal_reason(appeal) if reviewed else "",
        "form": form if appeal is None and refused is None else None,
    }
    response = render(request, "public/appeal.html", context)
    response["Cache-Control"] = "no-store"
    return response
