import re

from django import forms
from django.contrib.auth import get_user_model

from cocdesk.common.fields import bound_number
from cocdesk.sanctions.enums import SanctionKind

from . import policy
from .enums import Platform, Role, SpaceKind
from .models import ConflictContact, Membership, Organization
from .models.template import fill_ins_left, missing_notice_headings, unknown_placeholders

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
    "sanction_notice_days": (1, 365, "days"),
    "appeal_review_days": (1, 365, "days"),
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
    sanction_kinds = forms.MultipleChoiceField(
        label="Resolutions and measures the team may decide",
        widget=forms.CheckboxSelectMultiple,
        help_text=Organization._meta.get_field("sanction_kinds").help_text,
        error_messages={"required": "Keep at least one resolution on the menu."},
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
            "decision_rule",
            "sanction_kinds",
            "sanction_notice_days",
            "appeal_review_days",
        ]
        labels = {
            "acknowledge_within_hours": "Acknowledge reports within (hours)",
            "urgent_acknowledge_within_hours": "Acknowledge urgent reports within (hours)",
            "update_within_days": "Resolution or update to the reporter within (days)",
            "recusal_threshold": "Fallback members step in when more leads than this are recused",
            "appeal_window_days": "Appeal window (days)",
            "retention_days": "Keep closed cases for (days)",
            "decision_rule": "Decision rule",
            "sanction_notice_days": "Tell the team before a temporary sanction ends (days)",
            "appeal_review_days": "Reviewers answer an appeal within (days)",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["categories_text"].initial = "\n".join(self.instance.categories)
        self.fields["sanction_kinds"].choices = SanctionKind.choices
        for name, (low, high, unit) in POLICY_RANGES.items():
            bound_number(self.fields[name], low=low, high=high, unit=unit)

    def clean_chat_webhook_url(self):
        url = self.cleaned_data["chat_webhook_url"]
        if url and not url.lower().startswith(("https://", "http://")):
            raise forms.ValidationError("Use the https:// address your chat gave for the incoming webhook.")
        return url

    def clean_sanction_kinds(self):
        # Kept in the menu's own order, whatever order the browser sent them in.
        chosen = set(self.cleaned_data["sanction_kinds"])
        return [kind for kind, _label in self.fields["sanction_kinds"].choices if kind in chosen]

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


MEMBER_IDENTIFIERS_MAX_LENGTH = 2000


class MemberIdentifiersForm(forms.Form):
    """What a member is known by besides their name: kept sealed, matched by keyed hashes."""

    identifiers = forms.CharField(
        label="Other names, emails and handles",
        required=False,
        max_length=MEMBER_IDENTIFIERS_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=Membership._meta.get_field("sealed_identifiers").help_text,
    )


class AddMemberForm(RolesForm):
    username = forms.CharField(label="Username", max_length=150)
    display_name = forms.CharField(label="Name shown to the team and to reporters", max_length=150)
    email = forms.EmailField(label="Email (for the invitation and notifications)")
    identifiers = MemberIdentifiersForm.base_fields["identifiers"]

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
        # Added after the reporters' templates: a form that leaves it out keeps the current wording.
        self.fields["sanction_notice"].required = False
        self.organization = organization

    def clean_outcome(self):
        # The outcome's opening is sent as it stands (the lead writes the findings and actions below it).
        text = self.cleaned_data["outcome"]
        if fill_ins_left(text):
            raise forms.ValidationError("The outcome is sent without editing: leave no [[gap]] in it.")
        return text

    def clean_sanction_notice(self):
        # Left out: the current wording. Otherwise the four parts must each keep their heading line.
        text = self.cleaned_data.get("sanction_notice") or _raw_template(self.organization, "sanction_notice")
        missing = missing_notice_headings(text)
        if missing:
            headings = ", ".join(f"“{label}:”" for label in missing)
            raise forms.ValidationError(
                f"Keep the four parts of the notice, each under its heading on a line of its own: {headings} "
                "is missing."
            )
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
    description = forms.CharField(
        label="Who this is, for reporters",
        max_length=200,
        required=False,
        help_text=ConflictContact._meta.get_field("description").help_text,
    )
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


# A number only (it becomes a tel: link): an optional +, then digits with the usual separators.
PHONE_NUMBER = re.compile(r"\+?[0-9][0-9 ()./-]*")
PHONE_NUMBER_MESSAGE = (
    "Write the number only, with digits, spaces and an optional + in front, for example +44 20 7946 0000. "
    "When the line is answered belongs in how to find the team in person."
)


def _at_most(limit):
    return {"max_length": f"Keep this to {limit:,} characters or fewer (it has %(show_value)d)."}


class PublicPageForm(forms.ModelForm):
    """The parts of the organization's public page the settings page does not hold."""

    public_intro = forms.CharField(
        label="Introduction",
        required=False,
        max_length=1000,
        error_messages=_at_most(1000),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="A few words at the top of the page, for example the events and spaces the team looks after.",
    )
    reporting_phone = forms.CharField(
        label="Phone line for reports",
        required=False,
        max_length=40,
        error_messages=_at_most(40),
        help_text="A number the team answers, for example during the conference. Leave empty if there is none.",
    )
    in_person_contacts = forms.CharField(
        label="How to find the team in person",
        required=False,
        max_length=2000,
        error_messages=_at_most(2000),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="For example: volunteers in yellow lanyards at the registration desk, or the CoC room by the "
        "main hall, and when the phone line is answered.",
    )

    class Meta:
        model = Organization
        fields = ["is_listed", "public_intro", "reporting_phone", "in_person_contacts"]

    def __init__(self, *args, contacts=(), **kwargs):
        """``contacts``: the active conflict contacts, each described to reporters under its name."""
        super().__init__(*args, **kwargs)
        self.contacts = list(contacts)
        for contact in self.contacts:
            self.fields[self.contact_field(contact)] = forms.CharField(
                label=f"Under {contact.name} ({contact.intake_address})",
                required=False,
                max_length=200,
                error_messages=_at_most(200),
                initial=contact.description,
            )

    @staticmethod
    def contact_field(contact):
        return f"contact_{contact.pk}"

    def page_fields(self):
        return [self[name] for name in self.Meta.fields]

    def contact_fields(self):
        return [self[self.contact_field(contact)] for contact in self.contacts]

    def changed_descriptions(self):
        """{contact: new description} for the contacts whose words changed."""
        return {
            contact: self.cleaned_data[self.contact_field(contact)].strip()
            for contact in self.contacts
            if self.contact_field(contact) in self.changed_data
        }

    def clean_reporting_phone(self):
        number = self.cleaned_data["reporting_phone"].strip()
        digits = sum(char.isdigit() for char in number)
        if number and (not PHONE_NUMBER.fullmatch(number) or not 3 <= digits <= 20):
            raise forms.ValidationError(PHONE_NUMBER_MESSAGE)
        return number


class SpaceForm(forms.Form):
    """A space of the organization: a conference has dates, an online space a platform."""

    name = forms.CharField(label="Name", max_length=200, help_text="As reporters know it, for example “PyNorth 2026”.")
    kind = forms.ChoiceField(label="Kind of space", choices=SpaceKind.choices, widget=forms.RadioSelect)
    platform = forms.ChoiceField(
        label="Platform", choices=Platform.choices, required=False, help_text="Required for an online space."
    )
    starts_on = forms.DateField(
        label="First day", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    ends_on = forms.DateField(
        label="Last day", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    venue = forms.CharField(label="Venue", max_length=200, required=False)

    def __init__(self, *args, organization, space=None, **kwargs):
        """``space``: the space being edited, None for a new one."""
        if space is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                name: getattr(space, name) for name in ("name", "kind", "platform", "starts_on", "ends_on", "venue")
            }
        super().__init__(*args, **kwargs)
        self.organization, self.space = organization, space

    def clean_name(self):
        from .domain.spaces import name_taken, name_taken_message

        name = self.cleaned_data["name"].strip()
        if name_taken(self.organization, name, other_than=self.space):
            raise forms.ValidationError(name_taken_message(name))
        return name

    def clean(self):
        cleaned = super().clean()
        kind, starts_on, ends_on = cleaned.get("kind"), cleaned.get("starts_on"), cleaned.get("ends_on")
        if kind == SpaceKind.CONFERENCE:
            if not starts_on and "starts_on" not in self.errors:
                self.add_error("starts_on", "A conference needs its first day.")
            if not ends_on and "ends_on" not in self.errors:
                self.add_error("ends_on", "A conference needs its last day.")
        if kind == SpaceKind.ONLINE and not cleaned.get("platform"):
            self.add_error("platform", "Choose the platform of this online space, or “Other”.")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", "The last day cannot be before the first day.")
        return cleaned
