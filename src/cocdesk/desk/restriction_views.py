"""Staff pages of the sanctions registry: the restriction check at a registration desk or in a space, and recording
a verbal warning given at an event. Neither shows anything of a case, nor what the registry knew before."""

from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.generic import View

from cocdesk.people.enums import IdentifierKind
from cocdesk.sanctions.domain.registry import record_verbal_warning
from cocdesk.sanctions.domain.restriction import TooManyChecks, check_restriction

from .access import OrganizationPermissionMixin


class RestrictionCheckForm(forms.Form):
    value = forms.CharField(
        label="Name, email, handle or badge number",
        max_length=300,
        required=False,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "off", "spellcheck": "false", "autofocus": True}
        ),
    )


class RestrictionCheckView(OrganizationPermissionMixin, View):
    """One input, one plain answer. Sent by POST, so what was typed never lands in an address or a log."""

    organization_permission = "sanctions.check_restriction"

    def get(self, request, org_slug):
        return self._render(RestrictionCheckForm())

    def post(self, request, org_slug):
        form = RestrictionCheckForm(request.POST)
        answer = throttled = None
        if form.is_valid():
            try:
                answer = check_restriction(self.organization, by=request.user, value=form.cleaned_data["value"])
            except TooManyChecks as error:
                throttled = error.messages[0]
            except ValidationError as error:
                form.add_error(None, error)
        if answer is not None:
            # The next person in line starts from an empty field, and does not see whom the last one checked.
            form = RestrictionCheckForm()
        return self._render(form, answer=answer, throttled=throttled)

    def _render(self, form, **context):
        return render(
            self.request,
            "desk/restriction_check.html",
            {"organization": self.organization, "form": form, **context},
        )


class VerbalWarningForm(forms.Form):
    name = forms.CharField(label="Their name", max_length=200, required=False)
    email = forms.CharField(label="Email address", max_length=254, required=False)
    handle = forms.CharField(label="Handle or screen name", max_length=200, required=False)
    badge = forms.CharField(label="Badge number", max_length=60, required=False)
    space = forms.ModelChoiceField(label="Space", queryset=None, required=False, empty_label="No particular space")
    where = forms.CharField(
        label="Where exactly", max_length=300, required=False, help_text="For example: the hallway by room B."
    )
    what_was_said = forms.CharField(label="What you told them", widget=forms.Textarea(attrs={"rows": 4}))
    given_on = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    given_at = forms.TimeField(label="Time", widget=forms.TimeInput(attrs={"type": "time"}))

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["space"].queryset = organization.spaces.filter(is_active=True).order_by("name")
        self.fields["what_was_said"].error_messages["required"] = "Write down what you told them."
        self.fields["given_on"].error_messages["required"] = "Give the date you warned them."
        self.fields["given_at"].error_messages["required"] = "Give the time you warned them."

    def identifiers(self):
        data = self.cleaned_data
        return [
            (IdentifierKind.EMAIL, data["email"]),
            (IdentifierKind.HANDLE, data["handle"]),
            (IdentifierKind.BADGE, data["badge"]),
        ]

    def moment(self):
        combined = datetime.combine(self.cleaned_data["given_on"], self.cleaned_data["given_at"])
        return timezone.make_aware(combined)


def _now_initial():
    now = timezone.localtime()
    return {"given_on": now.date(), "given_at": now.time().replace(second=0, microsecond=0)}


class VerbalWarningView(OrganizationPermissionMixin, View):
    organization_permission = "sanctions.record_warning"

    def get(self, request, org_slug):
        return self._render(VerbalWarningForm(organization=self.organization, initial=_now_initial()))

    def post(self, request, org_slug):
        form = VerbalWarningForm(request.POST, organization=self.organization)
        if form.is_valid():
            data = form.cleaned_data
            try:
                record_verbal_warning(
                    self.organization,
                    by=request.user,
                    name=data["name"],
                    identifiers=form.identifiers(),
                    space=data["space"],
                    where=data["where"],
                    what_was_said=data["what_was_said"],
                    given_at=form.moment(),
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                return redirect("desk:warning_recorded", org_slug=org_slug)
        return self._render(form)

    def _render(self, form):
        return render(self.request, "desk/warning_new.html", {"organization": self.organization, "form": form})


def _add_errors(form, error):
    """Puts the domain's messages under the fields they concern; the time given is one field on the page."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, messages in error.message_dict.items():
        target = {"given_at": "given_on"}.get(field, field)
        form.add_error(target if target in form.fields else None, messages)


class WarningRecordedView(OrganizationPermissionMixin, View):
    organization_permission = "sanctions.record_warning"

    def get(self, request, org_slug):
        return render(request, "desk/warning_recorded.html", {"organization": self.organization})
