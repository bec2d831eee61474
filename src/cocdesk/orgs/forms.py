from django import forms
from django.contrib.auth import get_user_model

from cocdesk.common.fields import bound_number

from . import policy
from .enums import Role
from .models import Membership, Organization
from .models.template import fill_ins_left, unknown_placeholders

ROLE_CHOICES = Role.choices


# What each policy number may be: wide enough for any team, narrow enough to be a real promise.
POLICY_RANGES = {
    "acknowledge_within_hours": (1, 24 * 14, "hours"),
    "urgent_acknowledge_within_hours": (1, 24 * 14, "hours"),
    "update_within_days": (1, 365, "days"),
    "recusal_threshold": (0, 100, "leads"),
    "appeal_window_days": (1, 3650, "days"),
    "retention_days": (1, 36500, "days"),
    "fallback_escalation_hours": (1, 24 * 90, "hours"),
}


class OrganizationSettingsForm(forms.ModelForm):
    coc_url = forms.URLField(label="Code of Conduct URL", required=False, assume_scheme="https")
    chat_webhook_url = forms.URLField(
        label="Chat webhook for urgent pages",
        required=False,
        assume_scheme="https",
        help_text=Organization._meta.get_field("chat_webhook_url").help_text,
    )
    categories_text = forms.CharField(
        label="Categories", widget=forms.Textarea(attrs={"rows": 6}), help_text="One a line.", required=False
    )

    class Meta:
        model = Organization
        fields = [
            "name",
            "reporting_email",
            "coc_url",
            "emergency_number",
            "non_emergency_number",
            "crisis_line",
            "emergency_guidance",
            "acknowledge_within_hours",
            "urgent_acknowledge_within_hours",
            "update_within_days",
            "recusal_threshold",
            "fallback_escalation_hours",
            "chat_webhook_url",
            "appeal_window_days",
            "retention_days",
        ]
        labels = {
            "acknowledge_within_hours": "Acknowledge reports within (hours)",
            "urgent_acknowledge_within_hours": "Acknowledge urgent reports within (hours)",
            "update_within_days": "Resolution or update to the reporter within (days)",
            "recusal_threshold": "Fallback members step in when more leads than this are recused",
            "appeal_window_days": "Appeal window (days)",
            "retention_days": "Keep closed cases for (days)",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["categories_text"].initial = "\n".join(self.instance.categories)
        for name, (low, high, unit) in POLICY_RANGES.items():
            bound_number(self.fields[name], low=low, high=high, unit=unit)

    def clean_chat_webhook_url(self):
        url = self.cleaned_data["chat_webhook_url"]
        if url and not url.lower().startswith(("https://", "http://")):
            raise forms.ValidationError("Use the https:// address your chat gave for the incoming webhook.")
        return url

    def clean(self):
        cleaned = super().clean()
        urgent, normal = cleaned.get("urgent_acknowledge_within_hours"), cleaned.get("acknowledge_within_hours")
        if urgent and normal and urgent > normal:
            self.add_error("urgent_acknowledge_within_hours", "Urgent reports cannot wait longer than others.")
        return cleaned

    def save(self, commit=True):
        lines = self.cleaned_data.get("categories_text", "").splitlines()
        self.instance.categories = [line.strip() for line in lines if line.strip()]
        return super().save(commit=commit)


class RolesForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label="Roles", choices=ROLE_CHOICES, widget=forms.CheckboxSelectMultiple, required=False
    )
    spaces = forms.TypedMultipleChoiceField(
        label="Only for these spaces",
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Leave all unticked for the whole organization. Ticked: the roles apply to the cases of these "
        "spaces only, for example a lead responder for one conference.",
    )

    def __init__(self, *args, spaces=(), **kwargs):
        """``spaces``: the organization's spaces, loaded once for every member's row."""
        super().__init__(*args, **kwargs)
        self.fields["spaces"].choices = [(space.pk, space.name) for space in spaces]

    def clean_roles(self):
        roles = set(self.cleaned_data["roles"])
        if Role.LEAD in roles:
            roles.add(Role.RESPONDER)  # a lead is always also a responder
        return roles


class AddMemberForm(RolesForm):
    username = forms.CharField(label="Username", max_length=150)
    display_name = forms.CharField(label="Name shown to the team and to reporters", max_length=150)
    email = forms.EmailField(label="Email (for the invitation and notifications)")
    identifiers = forms.CharField(
        label="Other names, emails and handles",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=Membership._meta.get_field("identifiers").help_text,
    )

    field_order = ["username", "display_name", "email", "roles", "spaces", "identifiers"]

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, spaces=organization.spaces.filter(is_active=True), **kwargs)
        self.organization = organization

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        existing = get_user_model().objects.filter(username=username).first()
        if existing and Membership.objects.filter(user=existing, organization=self.organization).exists():
            raise forms.ValidationError("This person is already on the team.")
        return username

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("roles"):
            self.add_error("roles", "Choose at least one role.")
        return cleaned


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(label="Your email")


class MessageTemplatesForm(forms.Form):
    """The organization's wording of each kind of message to reporters; {update_within_days},
    {acknowledge_within_hours} and {organization} are filled in when used."""

    def __init__(self, *args, organization, **kwargs):
        from .models import MessageTemplate

        super().__init__(*args, **kwargs)
        for kind, label in MessageTemplate.Kind.choices:
            self.fields[kind] = forms.CharField(
                label=label,
                widget=forms.Textarea(attrs={"rows": 5}),
                max_length=20_000,
                initial=_raw_template(organization, kind),
                error_messages={"required": "A template cannot be empty."},
                validators=[known_placeholders_only],
            )

    def clean_outcome(self):
        # The outcome's opening is sent as it stands (the lead writes the findings and actions below it).
        text = self.cleaned_data["outcome"]
        if fill_ins_left(text):
            raise forms.ValidationError("The outcome is sent without editing: leave no [[gap]] in it.")
        return text


def known_placeholders_only(text):
    unknown = unknown_placeholders(text)
    if unknown:
        known = ", ".join(f"{{{name}}}" for name in policy.TEMPLATE_PLACEHOLDERS)
        named = ", ".join(f"{{{name}}}" for name in unknown)
        raise forms.ValidationError(
            f"{named} is not something CoC Desk can fill in. Use only {known}; write a gap the responder fills "
            "in as [[like this]]."
        )


def _raw_template(organization, kind):
    template = organization.templates.filter(kind=kind).first()
    return template.body if template else policy.DEFAULT_TEMPLATES[kind]


class ConflictContactForm(forms.Form):
    name = forms.CharField(label="Name shown to reporters", max_length=150)
    intake_address = forms.EmailField(
        label="Its own intake address",
        help_text="A mailbox CoC Desk reads for this contact only (see the operations guide: fetch_mail or the pipe).",
    )
    hidden_from = forms.TypedMultipleChoiceField(
        label="Reports sent to this address are hidden from",
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, team, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["hidden_from"].choices = [(membership.pk, membership.display_name) for membership in team]

    def clean_intake_address(self):
        from .models import ConflictContact, Organization

        address = self.cleaned_data["intake_address"].strip().lower()
        if ConflictContact.objects.filter(intake_address__iexact=address).exists():
            raise forms.ValidationError("Another contact already uses this address.")
        if Organization.objects.filter(reporting_email__iexact=address).exists():
            raise forms.ValidationError(
                "This is an organization's usual reporting address: choose a mailbox of its own."
            )
        return address
