from django import forms

from cocdesk.common.fields import SafeModelChoiceField

from .domain.drafts import TITLE_MAX
from .domain.review import LINE_MAX, NARRATIVE_MAX

DATE_WIDGET = forms.DateInput(attrs={"type": "date"})


class NewReportForm(forms.Form):
    """A space's report (a conference) or a period's (an online community's half-year)."""

    title = forms.CharField(
        label="Title",
        max_length=TITLE_MAX,
        help_text="Shown to the public once the report is published, such as “PyNorth 2026 transparency report”.",
        error_messages={"required": "Give the report a title."},
    )
    space = SafeModelChoiceField(
        label="Space",
        queryset=None,
        required=False,
        empty_label="Every space: a report of a period",
        help_text="A conference's report counts the cases of that space; leave it for a period of the whole "
        "organization.",
    )
    period_start = forms.DateField(
        label="First day", required=False, widget=DATE_WIDGET, help_text="A space's report may leave the dates to it."
    )
    period_end = forms.DateField(label="Last day", required=False, widget=DATE_WIDGET)

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["space"].queryset = organization.spaces.order_by("-is_active", "name")

    def clean(self):
        cleaned = super().clean()
        space = cleaned.get("space")
        if space is not None:
            cleaned["period_start"] = cleaned.get("period_start") or space.starts_on
            cleaned["period_end"] = cleaned.get("period_end") or space.ends_on or space.starts_on
        if not self.errors and (cleaned.get("period_start") is None or cleaned.get("period_end") is None):
            raise forms.ValidationError(
                "Give the first and the last day of the period (a space without dates needs them too)."
            )
        return cleaned


class ReportTextForm(forms.Form):
    """The team's words: the title, the narrative and one line per case, each line's month fixed by the draft. A
    draft of many cases is edited a page of lines at a time: ``first`` (an index) and ``count`` say which."""

    title = forms.CharField(
        label="Title", max_length=TITLE_MAX, error_messages={"required": "Give the report a title."}
    )
    narrative = forms.CharField(
        label="Narrative",
        required=False,
        max_length=NARRATIVE_MAX,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="What the team wants the community to know. Name nobody and describe no incident so that it could "
        "be recognised: the text is checked against every name and detail recorded in the period's cases.",
    )
    # How many lines the draft held when the page was shown: lines changed since then are not overwritten.
    line_count = forms.IntegerField(widget=forms.HiddenInput, min_value=0, required=False)

    def __init__(self, *args, report, first=0, count=None, **kwargs):
        kwargs.setdefault(
            "initial", {"title": report.title, "narrative": report.narrative, "line_count": len(report.lines)}
        )
        super().__init__(*args, **kwargs)
        self.first_line = first
        shown = report.lines[first:] if count is None else report.lines[first : first + count]
        self.line_names = []
        for number, line in enumerate(shown, start=first + 1):
            name = f"line_{number}"
            self.fields[name] = forms.CharField(
                label=f"Line {number} ({line.get('month', '')})",
                required=False,
                max_length=LINE_MAX,
                initial=line.get("text", ""),
            )
            self.line_names.append(name)

    @property
    def line_fields(self):
        return [self[name] for name in self.line_names]

    def line_texts(self):
        return [self.cleaned_data.get(name, "") for name in self.line_names]
