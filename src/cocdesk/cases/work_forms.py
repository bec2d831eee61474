"""Forms of the team's daily work on a case."""

from django import forms
from django.db.models import Q

from cocdesk.common.fields import SafeModelChoiceField, SafeModelMultipleChoiceField
from cocdesk.common.forms_rendering import SharedWhenBlank
from cocdesk.common.prepared import PreparedQuery
from cocdesk.orgs.models import Membership, Space
from cocdesk.orgs.models.template import fill_ins_left

from .domain.queries import member_choices, members_who_may_see
from .enums import Finding, MessageKind
from .forms import YES_NO

TEAM_MESSAGE_KINDS = [
    (MessageKind.ACKNOWLEDGEMENT, "Acknowledgement"),
    (MessageKind.QUESTION, "Question"),
    (MessageKind.UPDATE, "Update (restarts the 7-day clock)"),
    (MessageKind.OTHER, "Other"),
]


class TeamMessageForm(SharedWhenBlank, forms.Form):
    kind = forms.ChoiceField(label="Kind", choices=TEAM_MESSAGE_KINDS, initial=MessageKind.OTHER, required=False)
    body = forms.CharField(
        label="Message to the reporter",
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=50_000,
        error_messages={"required": "Write the message before sending it."},
    )

    def clean_body(self):
        body = self.cleaned_data["body"]
        left = fill_ins_left(body)
        if left:
            raise forms.ValidationError(
                f"Fill in {', '.join(left)} before sending: the reporter would read it as it stands."
            )
        return body


class TriageForm(forms.Form):
    """The playbook's questions at initial receipt."""

    what_happened = forms.CharField(
        label="What happened (the team's summary)",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=20_000,
    )
    violation = forms.ChoiceField(
        label="Does it constitute a Code of Conduct violation?",
        help_text="Your view at triage. The case's finding is the one the team's decision records.",
        choices=[("", "Not decided yet"), *Finding.choices],
        required=False,
    )
    bad_actor = forms.CharField(label="Who the bad actor was", required=False, max_length=2000)
    ongoing = forms.ChoiceField(label="Is it ongoing?", choices=YES_NO, widget=forms.RadioSelect, initial="no")
    physical_danger = forms.ChoiceField(
        label="Is there a threat to anyone's physical safety?", choices=YES_NO, widget=forms.RadioSelect, initial="no"
    )
    category = forms.ChoiceField(label="Category", required=False)
    space = SafeModelChoiceField(label="Space", queryset=None, required=False, empty_label="Not in a listed space")

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        organization = case.organization
        self.fields["category"].choices = [("", "Not categorised"), *[(c, c) for c in organization.categories]]
        # An archived space is no longer offered, but a case filed under one keeps it.
        if self.is_bound:
            self.fields["space"].queryset = organization.spaces.filter(Q(is_active=True) | Q(pk=case.space_id))
        else:
            self.fields["space"].choices = [("", self.fields["space"].empty_label), *offered_spaces(case)]

    def answers(self):
        names = ("what_happened", "violation", "bad_actor", "ongoing", "physical_danger")
        return {name: self.cleaned_data[name] for name in names}


def _offered_spaces_query(organization_id, space_id):
    spaces = Space.objects.filter(organization_id=organization_id).filter(Q(is_active=True) | Q(pk=space_id))
    return spaces.values_list("pk", "name")


_offered_spaces = PreparedQuery(_offered_spaces_query, int, int)


def offered_spaces(case):
    """[(space id, name)] the triage form offers: the organization's active spaces and the case's own."""
    # No case has space 0: the same statement serves cases without a space.
    return _offered_spaces.rows(case.organization_id, case.space_id or 0)


class NoteForm(SharedWhenBlank, forms.Form):
    body = forms.CharField(
        label="Internal note (the reporter never sees it)",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=50_000,
        error_messages={"required": "Write the note before saving it."},
    )


class ImmediateActionForm(SharedWhenBlank, forms.Form):
    description = forms.CharField(
        label="What you did to keep people safe",
        help_text="For example: the talk was stopped, venue security was called, the person was removed.",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=20_000,
        error_messages={"required": "Describe what was done."},
    )


class AssignForm(forms.Form):
    assignees = SafeModelMultipleChoiceField(
        label="Assigned responders",
        queryset=Membership.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound:
            self.fields["assignees"].queryset = members_who_may_see(case)
        else:
            # Shown, not validated: the choices as plain rows from a prepared statement, no member built per box.
            self.fields["assignees"].choices = member_choices(case)
        self.fields["assignees"].label_from_instance = lambda membership: membership.display_name


class MergeForm(SharedWhenBlank, forms.Form):
    into = forms.CharField(label="Merge this case into case (reference)", max_length=32)
