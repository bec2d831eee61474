from django import forms

from .enums import PartyRole

IDENTIFIERS_HELP = (
    "One a line: other names or nicknames, emails, handles ('Slack: @name', a profile address), phone numbers, "
    "badge numbers."
)


class PartyForm(forms.Form):
    """Someone a case's reports did not name: a witness met later, another person involved."""

    role = forms.ChoiceField(label="How are they involved?", choices=PartyRole.choices, initial=PartyRole.WITNESS)
    name = forms.CharField(label="Their name", max_length=200, required=False)
    identifiers = forms.CharField(
        label="What else they are known by",
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=IDENTIFIERS_HELP,
    )


class PartyIdentifiersForm(forms.Form):
    identifiers = forms.CharField(
        label="What else they are known by",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=IDENTIFIERS_HELP,
        error_messages={"required": "Write at least one name, email, handle, phone or badge number."},
    )
