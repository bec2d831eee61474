"""The decision page's forms: the finding and rationale, each member's vote, the people it concerns, the actions
taken (a small formset) and the outcome message to the reporter."""

import datetime
import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from cocdesk.cases.enums import Finding, MessageKind
from cocdesk.common.fields import SafeModelMultipleChoiceField
from cocdesk.orgs.models import template_text
from cocdesk.orgs.models.template import fill_ins_left
from cocdesk.people.enums import IdentifierKind

from .domain.decisions import check_action
from .enums import LASTING_KINDS, SanctionKind, Vote

# How the team writes a person's identifiers, one a line: "email: x@y", "handle: @x", "badge: 123", "phone: +44...".
IDENTIFIER_PREFIXES = {
    "name": IdentifierKind.NAME,
    "nickname": IdentifierKind.NAME,
    "email": IdentifierKind.EMAIL,
    "handle": IdentifierKind.HANDLE,
    "screen name": IdentifierKind.HANDLE,
    "badge": IdentifierKind.BADGE,
    "company": IdentifierKind.COMPANY,
    "phone": IdentifierKind.PHONE,
    "tel": IdentifierKind.PHONE,
}
_PLATFORM = re.compile(r"^[^:@]{1,40}:\s*")
NOT_TAKING_PART = ""
ORDINALS = ["first", "second", "third", "fourth", "fifth"]


def parse_subjects(text):
    """[{"name", "identifiers": [(kind, value)]}] from the team's text: one person per paragraph, their name on the
    first line, then one identifier a line."""
    people = []
    for block in re.split(r"\n\s*\n", (text or "").strip()):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if not lines:
            continue
        name, identifiers = "", []
        for number, line in enumerate(lines):
            prefix, _colon, rest = line.partition(":")
            kind = IDENTIFIER_PREFIXES.get(prefix.strip().casefold()) if _colon else None
            if kind is None and _colon and "@" not in prefix:
                kind = IdentifierKind.HANDLE  # "Slack: @name": a handle on a platform
            elif kind is None:
                kind, rest = (IdentifierKind.EMAIL if "@" in line and "." in line else IdentifierKind.NAME), line
            value = rest.strip()
            if kind == IdentifierKind.HANDLE:
                value = _PLATFORM.sub("", value)
            if not value:
                continue
            if number == 0 and kind == IdentifierKind.NAME:
                name = value
            else:
                identifiers.append((kind, value))
        if not name and identifiers:
            name = identifiers[0][1]
        if name:
            people.append({"name": name, "identifiers": identifiers})
    return people


def identifier_values(people):
    """Every name and identifier typed, for matching against the registry."""
    return [value for person in people for value in [person["name"], *(v for _k, v in person["identifiers"])]]


def subjects_from_reports(contents):
    """The reported person's identifying details from each report, in the subjects box's own format."""
    blocks = []
    for content in contents:
        lines = []
        name = (content.get("reported_name") or "").strip()
        if name:
            lines.append(name)
        for field_name, prefix in (
            ("reported_nicknames", "nickname"),
            ("reported_screen_names", "handle"),
            ("reported_badge_number", "badge"),
            ("reported_company", "company"),
        ):
            for part in re.split(r"[\n,;]+", content.get(field_name) or ""):
                if part.strip():
                    lines.append(f"{prefix}: {part.strip()}")
        block = "\n".join(lines)
        if block and block not in blocks:
            blocks.append(block)
    return "\n\n".join(blocks)


def outcome_opening(organization):
    """The prefilled outcome message: the organization's opening, then the three things the procedures name, as
    gaps the team fills in (or fills from the finding and actions with the page's button)."""
    return "\n".join(
        [
            template_text(organization, MessageKind.OUTCOME),
            "",
            "The Code of Conduct team discussed the situation.",
            "Our finding: [[whether it was a violation]].",
            "What we did: [[what was done, or that no action was taken]]",
        ]
    )


def outcome_in_words(organization, finding, actions):
    """The outcome message composed from the finding and the actions chosen, for the team to edit."""
    found = dict(Finding.choices).get(finding, "[[whether it was a violation]]")
    done = [_action_in_words(action) for action in actions] or ["no action was taken"]
    return "\n".join(
        [
            template_text(organization, MessageKind.OUTCOME),
            "",
            "The Code of Conduct team discussed the situation.",
            f"Our finding: {found[0].lower() + found[1:]}.",
            f"What we did: {'; '.join(done)}.",
        ]
    )


def _action_in_words(action):
    words = SanctionKind(action["kind"]).label
    if action["kind"] in LASTING_KINDS:
        if action.get("all_spaces"):
            words += " from all our spaces"
        elif action.get("spaces"):
            words += " from " + ", ".join(space.name for space in action["spaces"])
        if action.get("permanent"):
            words += ", permanently"
        elif action.get("ends_at"):
            words += f", until {timezone.localtime(action['ends_at']):%d %B %Y}"
    return words[0].lower() + words[1:]


class DecisionForm(forms.Form):
    finding = forms.ChoiceField(
        label="The finding",
        choices=[("", "Choose the finding"), *Finding.choices],
        error_messages={"required": "Choose the finding: whether it was a violation of the Code of Conduct."},
    )
    rationale = forms.CharField(
        label="Why the team decided so",
        help_text="Stays with the case, sealed; only members who may see the case read it.",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=20_000,
        error_messages={"required": "Write why the team decided so."},
    )
    subjects = forms.CharField(
        label="The people the decision concerns",
        help_text="One person per paragraph: their name on the first line, then one identifier a line, for "
        "example 'email: alex@example.org', 'handle: @alex', 'badge: 123', 'company: Example Ltd'. Leave a blank "
        "line between people.",
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        max_length=5000,
    )
    confirms_action = forms.TypedChoiceField(
        label="This decision confirms or revises the immediate action",
        coerce=int,
        required=False,
        empty_value=None,
    )
    report = forms.TypedChoiceField(label="Send the outcome to the reporter of", coerce=int)
    outcome_body = forms.CharField(
        label="The outcome message to the reporter",
        help_text="Sent when the decision is recorded, in the same step. Edit it freely; fill in every [[gap]].",
        widget=forms.Textarea(attrs={"rows": 9}),
        max_length=50_000,
        error_messages={"required": "Write the outcome message: the reporter is told what the team decided."},
    )

    def __init__(self, *args, members, reports, immediate_actions, **kwargs):
        super().__init__(*args, **kwargs)
        self.members = list(members)
        self.fields["report"].choices = [
            (report.pk, f"Report {number} · {report.get_channel_display()} · {_when(report.received_at)}")
            for number, report in enumerate(reports, start=1)
        ]
        self.fields["confirms_action"].choices = [
            ("", "None"),
            *[
                (
                    action.pk,
                    f"Taken {_when(action.taken_at)} by {_username(action.taken_by)}",
                )
                for action in immediate_actions
            ],
        ]
        if not immediate_actions:
            del self.fields["confirms_action"]
        vote_choices = [(NOT_TAKING_PART, "Did not take part"), *Vote.choices]
        for membership in self.members:
            self.fields[self.vote_field(membership)] = forms.ChoiceField(
                label=membership.display_name, choices=vote_choices, required=False
            )

    @staticmethod
    def vote_field(membership):
        return f"vote_{membership.pk}"

    def vote_fields(self):
        return [self[self.vote_field(membership)] for membership in self.members]

    def main_fields(self):
        return [self[name] for name in ("finding", "rationale", "subjects")]

    def clean_subjects(self):
        people = parse_subjects(self.cleaned_data["subjects"])
        if len(people) > len(ORDINALS) * 4:
            raise ValidationError("Name at most 20 people in one decision.")
        return people

    def clean_outcome_body(self):
        body = self.cleaned_data["outcome_body"]
        left = fill_ins_left(body)
        if left:
            raise ValidationError(f"Fill in {', '.join(left)} before sending: the reporter would read it as it stands.")
        return body

    def votes(self):
        """{membership: vote} of the members who took part."""
        chosen = {}
        for membership in self.members:
            vote = self.cleaned_data.get(self.vote_field(membership))
            if vote:
                chosen[membership] = vote
        return chosen


def _when(moment):
    return f"{timezone.localtime(moment):%d %b %Y, %H:%M}"


def _username(user):
    return user.get_username() if user else "a former member"


class ActionForm(forms.Form):
    kind = forms.ChoiceField(label="Measure", required=False)
    subject = forms.TypedChoiceField(label="Whom it concerns", coerce=int, required=False, empty_value=None, initial="")
    all_spaces = forms.BooleanField(label="All of the organization's spaces", required=False)
    spaces = SafeModelMultipleChoiceField(
        label="Or these spaces", queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    starts_on = forms.DateField(
        label="Starts on",
        help_text="Leave empty to start now.",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    ends_on = forms.DateField(
        label="Ends on",
        help_text="For a lasting measure that is not permanent. It ends at the start of this day.",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    permanent = forms.BooleanField(label="Permanent", required=False)
    terms = forms.CharField(
        label="Details",
        help_text="For example whom not to contact, or what the apology should cover. Kept sealed.",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=5000,
    )

    def __init__(self, *args, organization, spaces, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        menu = [kind for kind in SanctionKind if kind.value in organization.sanction_kinds]
        self.fields["kind"].choices = [("", "No measure in this row"), *[(kind.value, kind.label) for kind in menu]]
        self.fields["subject"].choices = [
            ("", "Everyone the decision concerns"),
            *[(index, f"Only the {ordinal} person named") for index, ordinal in enumerate(ORDINALS)],
        ]
        self.fields["spaces"].queryset = spaces
        self.fields["spaces"].label_from_instance = lambda space: space.name

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("kind") or self.errors:
            return cleaned
        action = self.action()
        try:
            check_action(self.organization, action)
        except ValidationError as refused:
            raise ValidationError(refused.messages) from refused
        return cleaned

    def action(self):
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "subject": data.get("subject"),
            "all_spaces": data.get("all_spaces", False),
            "spaces": list(data.get("spaces") or []),
            "starts_at": _start(data.get("starts_on")),
            "ends_at": _day_start(data["ends_on"]) if data.get("ends_on") else None,
            "permanent": data.get("permanent", False),
            "terms": data.get("terms", ""),
        }


def _day_start(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def _start(day):
    now = timezone.now()
    if day is None or day == timezone.localdate(now):
        return now
    return _day_start(day)


class BaseActionFormSet(forms.BaseFormSet):
    def actions(self):
        return [form.action() for form in self.forms if form.is_valid() and form.cleaned_data.get("kind")]


ActionFormSet = forms.formset_factory(ActionForm, formset=BaseActionFormSet, extra=2, max_num=20, absolute_max=20)
