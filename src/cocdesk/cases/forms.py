from datetime import date, time

from django import forms
from django.db import router
from django.db.models import FilteredRelation, Q
from django.db.models.query import EmptyQuerySet

from cocdesk.common.fields import SafeModelChoiceField, SafeModelMultipleChoiceField, plausible_id
from cocdesk.common.form_copies import CleanedWithoutBoundFields, CopiedCheaply
from cocdesk.common.prepared import PreparedQuery, field_names
from cocdesk.orgs.models import Membership, Organization, Space

from .domain.reporter import FEEDBACK_RATINGS
from .enums import LawEnforcement, Ongoing, RecusalReason

YES_NO = [("no", "No"), ("yes", "Yes")]
DECLARABLE_REASONS = {
    RecusalReason.MANAGER_OR_REPORT,
    RecusalReason.CO_WORKER,
    RecusalReason.FAMILY,
    RecusalReason.PERSONAL,
    RecusalReason.CLIENT,
    RecusalReason.REVIEWS_CONTRIBUTIONS,
    RecusalReason.OTHER,
}

# Sections of the report form, in order. Field names are the keys of a report's sealed content.
SECTIONS = [
    ("How we can reach you", ["reporter_name", "reporter_email", "reporter_phone", "reporter_other_contact"]),
    (
        "When and where",
        ["incident_date", "incident_time", "when_details", "space", "location", "ongoing", "physical_danger"],
    ),
    ("What happened", ["description", "public_record_url", "circumstances"]),
    (
        "Who did it",
        [
            "reported_name",
            "reported_nicknames",
            "reported_screen_names",
            "reported_appearance",
            "reported_badge_number",
            "reported_company",
            "reported_other",
        ],
    ),
    ("Other people", ["others_involved"]),
    (
        "Your safety and wishes",
        ["safety_concerns", "law_enforcement", "could_not_find_contact", "other_information"],
    ),
    (
        "Who may see this report",
        ["excluded_members", "consent_share_with_other_teams", "consent_named_publicly"],
    ),
]

CONTACT_FIELDS = SECTIONS[0][1]


def _text(label, help_text="", rows=None, max_length=2000):
    widget = forms.Textarea(attrs={"rows": rows}) if rows else forms.TextInput()
    return forms.CharField(label=label, help_text=help_text, required=False, widget=widget, max_length=max_length)


class OptionalChoiceField(forms.ChoiceField):
    """A radio question with a safe default: an unanswered question takes the default, never an error."""

    def clean(self, value):
        return super().clean(value) or self.initial


def _choice(label, choices, default):
    return OptionalChoiceField(label=label, choices=choices, initial=default, required=False, widget=forms.RadioSelect)


class ReportableSpaceField(SafeModelChoiceField):
    """The space a report names, among its organization's reportable spaces. The report form is sent far more
    often than any other, and compiling this look-up anew each time cost more than running it: once the form set
    ``organization_id``, it runs as a prepared query (``reportable_spaces`` still defines it)."""

    organization_id = None
    # (the id sent, the space or None): the public form's view reads the space with the organization, in one query.
    looked_up = None

    def to_python(self, value):
        if self.organization_id is None or value in self.empty_values or not plausible_id(value):
            return super().to_python(value)
        pk = int(str(value).strip())
        if self.looked_up is not None and self.looked_up[0] == pk:
            space = self.looked_up[1]
        else:
            using = router.db_for_read(Space)
            rows = _reportable_space.rows(self.organization_id, pk, using=using)
            space = Space.from_db(using, SPACE_FIELDS, rows[0]) if rows else None
        if space is None:
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return space


class ReportForm(CleanedWithoutBoundFields, forms.Form):
    """Every item of the procedures' report-data lists. Only ``description`` is required."""

    reporter_name = _text("Your name", "Leave the contact fields empty to report anonymously.", max_length=200)
    reporter_email = forms.EmailField(label="Your email", required=False)
    reporter_phone = _text("Your phone number", max_length=60)
    reporter_other_contact = _text("Another way to reach you", "For example a Slack or forum handle.", max_length=300)

    incident_date = forms.DateField(
        label="Date of the incident", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    incident_time = forms.TimeField(
        label="Time of the incident", required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    when_details = _text(
        "More about when",
        "If you are unsure of the exact date or time: 'the second evening'.",
        max_length=300,
    )
    space = ReportableSpaceField(
        label="Where it happened",
        queryset=None,
        required=False,
        empty_label="Somewhere else, or I am not sure",
    )
    location = _text("Location details", "A room, a channel, a thread, a street…", max_length=500)
    ongoing = _choice("Is it still happening?", Ongoing.choices, Ongoing.NO)
    physical_danger = _choice("Is anyone in physical danger?", YES_NO, "no")

    description = forms.CharField(
        label="What happened",
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=50_000,
        help_text="In your own words. This is the only question you must answer.",
        error_messages={"required": "Please tell us what happened: this is the one thing we need to act."},
    )
    public_record_url = forms.URLField(
        label="Link to a public record",
        required=False,
        assume_scheme="https",
        help_text="A mailing-list archive, a chat log, a post…",
        error_messages={"invalid": "This does not look like a web address. Check it, or leave it empty."},
    )
    circumstances = _text("Anything else about the circumstances", rows=3, max_length=10_000)

    reported_name = _text("Their name", max_length=200)
    reported_nicknames = _text("Nicknames or pseudonyms", max_length=500)
    reported_screen_names = _text(
        "Screen names or handles", "One a line, with the platform: 'Slack: @name'.", rows=3, max_length=2000
    )
    reported_appearance = _text("What they look like", "Appearance, height, clothing, voice or accent.", rows=2)
    reported_badge_number = _text("Badge number or badge details", "Ribbons, name on the badge…", max_length=200)
    reported_company = _text("Company or affiliation", max_length=200)
    reported_other = _text("Anything else that identifies them", rows=2)

    others_involved = _text(
        "Other people involved, and witnesses",
        "Names, contact details or descriptions.",
        rows=3,
        max_length=10_000,
    )

    safety_concerns = _text("Concerns about retaliation or your safety", rows=3, max_length=10_000)
    law_enforcement = _choice("Law enforcement", LawEnforcement.choices, LawEnforcement.UNDECIDED)
    could_not_find_contact = forms.BooleanField(
        label="I could not find the right reporting contact for this space", required=False
    )
    other_information = _text("Any other information we should have", rows=3, max_length=10_000)

    excluded_members = SafeModelMultipleChoiceField(
        label="Team members who must not see this report",
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="If someone on the team has a conflict of interest, tick them: they will never see this report.",
    )
    consent_share_with_other_teams = _choice(
        "May we share details with another Code of Conduct team (for example another event's)?", YES_NO, "no"
    )
    consent_named_publicly = _choice("May we name you in a public statement?", YES_NO, "no")

    # Lets a resent form (reload, double click) be recognised; a form without one is still accepted.
    submission_token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, organization, looked_up_space=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        # The chosen space is looked up by the field itself (or was, with the organization: ``looked_up_space``): the
        # list of spaces is built only if the form is shown.
        self.fields["space"].organization_id = organization.pk
        self.fields["space"].looked_up = looked_up_space
        self._spaces_listed = False
        self.fields["excluded_members"].label_from_instance = lambda membership: membership.display_name
        # A report sent without exclusions has nothing to check against the team: the list is read only if the
        # form is shown (again), which keeps a submission's queries few.
        self._team_listed = False
        if self.is_bound and not self.data.get(self.add_prefix("excluded_members")):
            self.fields["excluded_members"].queryset = Membership.objects.none()
        else:
            self._list_team()

    def _list_team(self):
        """Offers the team for exclusion; without anyone who could read a case, the question is left out."""
        self._team_listed = True
        self.fields["excluded_members"].queryset = team_list(self.organization)
        if not self.fields["excluded_members"].queryset.exists():
            del self.fields["excluded_members"]

    def clean_excluded_members(self):
        chosen = self.cleaned_data["excluded_members"]
        # Nothing ticked gives the field's empty queryset, which compiles a query each time it is read.
        return [] if isinstance(chosen, EmptyQuerySet) else chosen

    def sections(self):
        if not self._spaces_listed:
            self._spaces_listed = True
            self.fields["space"].queryset = reportable_spaces(self.organization)
        if not self._team_listed:
            self._list_team()
        for title, names in SECTIONS:
            yield title, [self[name] for name in names if name in self.fields]

    def content(self):
        """The sealed part of the report: every answer, as JSON-friendly values."""
        content = {}
        for _title, names in SECTIONS:
            for name in names:
                value = self.cleaned_data.get(name)
                if name == "space":
                    value = value.name if value else ""
                elif name == "excluded_members":
                    value = [member.display_name for member in value or []]
                elif isinstance(value, date | time):
                    value = value.isoformat()
                content[name] = value
        return content

    @classmethod
    def describe(cls, content):
        """The answers as (section title, [(question, answer)]) for the team to read, in the form's order."""
        described = []
        for title, names in SECTIONS:
            answers = []
            for name in names:
                field = cls.base_fields[name]
                value = content.get(name)
                if isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
                    value = dict(field.choices).get(value, value)
                elif isinstance(value, bool):
                    value = "Yes" if value else "No"
                elif isinstance(value, list):
                    value = ", ".join(value)
                answers.append((field.label, value or ""))
            described.append((title, answers))
        return described


# The report form is the one a burst of reports builds again and again. Its ``__init__`` sets the space's organization
# and the team offered for exclusion on each form's own copy of those two fields; nothing changes the others, which
# every form shares (tests/cases/test_report_form_fields.py checks they come out of every use unchanged).
REPORT_FORM_OWN_FIELDS = frozenset({"space", "excluded_members"})
ReportForm.base_fields = CopiedCheaply(
    ReportForm.base_fields, shared=set(ReportForm.base_fields) - REPORT_FORM_OWN_FIELDS
)


def reportable_spaces(organization):
    """The spaces a reporter may choose from (``organization``: an instance, or ``OuterRef`` to one)."""
    return Space.objects.filter(organization=organization, is_active=True)


def reportable_space_relation(pk):
    """An organization's reportable space of this id, as a relation to join (``reportable_spaces`` as a join)."""
    return FilteredRelation("spaces", condition=Q(spaces__pk=pk, spaces__is_active=True))


_team_rows = PreparedQuery(
    lambda organization_id: team_list(Organization(pk=organization_id)).values_list("pk", "display_name"), int
)
SPACE_FIELDS = field_names(Space)
_reportable_space = PreparedQuery(
    lambda organization_id, pk: (
        reportable_spaces(Organization(pk=organization_id)).filter(pk=pk).order_by().values_list(*SPACE_FIELDS)
    ),
    int,
    int,
)


def team_list(organization):
    """The members a reporter may exclude: everyone who could ever read a case."""
    return (
        Membership.objects.active()
        .filter(organization=organization)
        .filter(Q(is_responder=True) | Q(is_lead=True) | Q(is_fallback=True))
        .select_related("user")
    )


class ReceiptForm(forms.Form):
    # Shown as typed: a stressed reporter must see the 32 characters they copy from paper. The page is never
    # cached (no-store) and the field is never filled in again by the browser.
    receipt = forms.CharField(
        label="Your receipt",
        max_length=80,
        strip=True,
        error_messages={"required": "Type or paste your receipt: the groups of letters and digits you were given."},
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false", "class": "receipt"}
        ),
    )


class ReporterMessageForm(forms.Form):
    body = forms.CharField(
        label="Add information or answer the team",
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=50_000,
        error_messages={"required": "Write something before sending."},
    )


class ReporterFeedbackForm(forms.Form):
    """After the outcome: what the reporter thinks of the team's response. Either answer is enough."""

    rating = forms.ChoiceField(
        label="How did the response feel to you?",
        choices=FEEDBACK_RATINGS,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose one of the answers, or none."},
    )
    text = forms.CharField(
        label="Tell the team what you think of our response",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=20_000,
        help_text="Optional. The team reads it on your case; it helps them respond better.",
        error_messages={"max_length": "Keep it under %(limit_value)d characters (it has %(show_value)d)."},
    )

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not cleaned.get("rating") and not (cleaned.get("text") or "").strip():
            raise forms.ValidationError("Write what you think of the response, or choose an answer, before sending.")
        return cleaned


class DeclareRecusalForm(forms.Form):
    reason = forms.ChoiceField(
        label="Your conflict of interest",
        choices=[(value, label) for value, label in RecusalReason.choices if value in DECLARABLE_REASONS],
    )
    note = forms.CharField(
        label="Note (needed for 'other')", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("reason") == RecusalReason.OTHER and not cleaned.get("note", "").strip():
            self.add_error("note", "Please say briefly why, when the reason is 'other'.")
        return cleaned


class RecuseMemberForm(DeclareRecusalForm):
    membership = SafeModelChoiceField(label="Team member", queryset=Membership.objects.none())

    def __init__(self, *args, case, recused=None, **kwargs):
        """``recused``: the ids of the members already recused from ``case``, when the page has read them."""
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = "Their conflict of interest"
        field = self.fields["membership"]
        if self.is_bound or recused is None:
            field.queryset = team_list(case.organization).exclude(
                pk__in=case.recusals.filter(is_active=True).values("membership")
            )
        else:
            # Shown, not validated: the team as rows of a prepared statement, no member built per option.
            left_out = set(recused)
            members = [(pk, name) for pk, name in _team_rows.rows(case.organization_id) if pk not in left_out]
            field.choices = [("", field.empty_label), *members]
        field.label_from_instance = lambda membership: membership.display_name


class ReinstateForm(forms.Form):
    reason = forms.CharField(
        label="Why is this member reinstated?",
        max_length=2000,
        error_messages={"required": "Say why this member is reinstated: it is kept with the case."},
    )
