"""Each report form gets fields of its own, copied more cheaply than Django's deep copy but as separate: nothing one
reporter's form holds (errors, initial values, widget attributes, choices, querysets) reaches another's."""

import copy

import pytest
from django import forms

from cocdesk.cases.forms import ReportForm
from tests.factories import member


def mutable_parts(field):
    parts = [field, field.widget, field.widget.attrs, field.error_messages, field.validators]
    if isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
        parts += [field._choices, field.widget._choices]
    return parts


@pytest.mark.django_db
def test_two_forms_share_no_mutable_state_with_each_other_or_the_class(organization):
    member(organization, "responder")
    first = ReportForm({"description": "x" * 60_000, "reporter_email": "nope"}, organization=organization)
    second = ReportForm(organization=organization)
    assert first.fields.keys() == second.fields.keys() == ReportForm.base_fields.keys()
    for name in ReportForm.base_fields:
        class_parts = {id(part) for part in mutable_parts(ReportForm.base_fields[name])}
        first_parts = {id(part) for part in mutable_parts(first.fields[name])}
        second_parts = {id(part) for part in mutable_parts(second.fields[name])}
        assert not first_parts & second_parts, name
        assert not first_parts & class_parts and not second_parts & class_parts, name


@pytest.mark.django_db
def test_what_one_form_changes_stays_in_it(organization):
    member(organization, "responder")
    first = ReportForm({"description": "", "reporter_email": "not an address"}, organization=organization)
    assert not first.is_valid() and {"description", "reporter_email"} <= first.errors.keys()
    first.fields["description"].widget.attrs["aria-invalid"] = "true"
    first.fields["description"].error_messages["required"] = "Changed for one reporter"
    first.fields["description"].validators.append(lambda value: None)
    first.fields["ongoing"].initial = "yes"
    first.fields["ongoing"].choices = [("maybe", "Maybe")]
    first.fields["reporter_name"].label = "Changed label"

    second = ReportForm({"description": "It happened."}, organization=organization)
    assert second.is_valid(), second.errors
    description = second.fields["description"]
    assert "aria-invalid" not in description.widget.attrs and "aria-invalid" not in second["description"].as_widget()
    assert description.error_messages["required"] == ReportForm.base_fields["description"].error_messages["required"]
    assert len(description.validators) == len(ReportForm.base_fields["description"].validators)
    assert second.fields["ongoing"].initial == "no" and second.cleaned_data["ongoing"] == "no"
    assert ("maybe", "Maybe") not in second.fields["ongoing"].choices
    assert ("maybe", "Maybe") not in list(second.fields["ongoing"].widget.choices)
    assert second.fields["reporter_name"].label == "Your name"
    assert ReportForm.base_fields["ongoing"].initial == "no"


@pytest.mark.django_db
def test_the_cheap_copy_renders_and_cleans_as_a_deep_copy_does(organization):
    member(organization, "lead", display_name="Lena Lead")
    data = {"description": "It happened.", "ongoing": "yes", "incident_date": "2025-05-04", "reporter_email": "bad"}
    cheap = ReportForm(data, organization=organization)
    deep = ReportForm(data, organization=organization)
    deep.fields = copy.deepcopy(dict(ReportForm.base_fields))
    deep.fields["space"].organization_id = organization.pk
    deep._list_team()
    deep.fields["excluded_members"].label_from_instance = lambda membership: membership.display_name
    assert cheap.is_valid() == deep.is_valid() is False
    assert cheap.errors == deep.errors
    shown = [(title, [str(field) for field in fields]) for title, fields in cheap.sections()]
    assert shown == [(title, [str(field) for field in fields]) for title, fields in deep.sections()]
    rendered = [(str(cheap[name]), str(deep[name])) for name in ReportForm.base_fields]
    assert all(ours == theirs for ours, theirs in rendered)
    assert "Lena Lead" in str(cheap["excluded_members"])


def test_a_subclass_gets_django_s_own_copies():
    class Extended(ReportForm):
        extra = forms.CharField(required=False)

    assert type(Extended.base_fields) is dict
    assert "extra" in Extended.base_fields and "description" in Extended.base_fields
