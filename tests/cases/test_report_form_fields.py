"""Each report form gets its own copy of the fields it changes (the space and the team offered for exclusion), copied
more cheaply than Django's deep copy but as separate, and shares the others, which nothing ever changes: whatever
one reporter's form holds (what they typed, errors, initial values, widget attributes, choices, querysets) never
reaches another's."""

import copy

import pytest
from django import forms

from cocdesk.cases.forms import REPORT_FORM_OWN_FIELDS, ReportForm
from cocdesk.desk.staff_views import StaffReportForm
from tests.factories import SpaceFactory, member
from tests.formdata import form_fields
from tests.team import log_in

SHARED_FIELDS = sorted(set(ReportForm.base_fields) - REPORT_FORM_OWN_FIELDS)


def mutable_parts(field):
    parts = [field, field.widget, field.widget.attrs, field.error_messages, field.validators]
    if isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
        parts += [field._choices, field.widget._choices]
    return parts


def state_of(field):
    """Everything a field and its widget hold, as text: any change to an attribute, a dict or a list shows."""
    return repr(sorted(vars(field).items())), repr(sorted(vars(field.widget).items()))


@pytest.mark.django_db
def test_the_fields_a_form_changes_are_its_own_and_the_others_are_shared(organization):
    member(organization, "responder")
    first = ReportForm({"description": "x" * 60_000, "reporter_email": "nope"}, organization=organization)
    second = ReportForm(organization=organization)
    assert first.fields.keys() == second.fields.keys() == ReportForm.base_fields.keys()
    for name in REPORT_FORM_OWN_FIELDS:
        class_parts = {id(part) for part in mutable_parts(ReportForm.base_fields[name])}
        first_parts = {id(part) for part in mutable_parts(first.fields[name])}
        second_parts = {id(part) for part in mutable_parts(second.fields[name])}
        assert not first_parts & second_parts, name
        assert not first_parts & class_parts and not second_parts & class_parts, name
    for name in SHARED_FIELDS:
        assert first.fields[name] is second.fields[name] is ReportForm.base_fields[name], name


@pytest.mark.django_db
def test_what_one_reporter_s_form_holds_stays_in_it(organization):
    member(organization, "responder", display_name="Rita Responder")
    first = ReportForm(
        {"description": "", "reporter_email": "not an address", "reporter_name": "First Reporter"},
        organization=organization,
        initial={"submission_token": "first-token"},
    )
    assert not first.is_valid() and {"description", "reporter_email"} <= first.errors.keys()
    first.fields["excluded_members"].widget.attrs["aria-invalid"] = "true"
    first.fields["excluded_members"].error_messages["required"] = "Changed for one reporter"
    first.fields["space"].empty_label = "Changed for one reporter"

    second = ReportForm({"description": "It happened."}, organization=organization)
    assert second.is_valid(), second.errors
    assert not second.errors and "First Reporter" not in str(second["reporter_name"])
    assert "not an address" not in str(second["reporter_email"])
    assert "first-token" not in str(second["submission_token"])
    assert "aria-invalid" not in second.fields["excluded_members"].widget.attrs
    assert second.fields["excluded_members"].error_messages["required"] != "Changed for one reporter"
    assert second.fields["space"].empty_label == "Somewhere else, or I am not sure"
    assert "aria-invalid" not in str(second["description"]) and 'aria-invalid="true"' in str(first["description"])


@pytest.mark.django_db
def test_every_use_of_the_form_leaves_the_shared_fields_as_they_were(client, organization):
    """The public form shown, refused with errors and kept as typed, sent; the team's form for a report taken in
    person, shown and refused; a report's answers described: not one shared field or widget changes."""
    lead = member(organization, "lead", display_name="Lena Lead")
    space = SpaceFactory(organization=organization, name="Main hall")
    before = {name: state_of(ReportForm.base_fields[name]) for name in SHARED_FIELDS}

    url = f"/report/{organization.slug}/"
    page = client.get(url).content.decode()
    refused = form_fields(page, "") | {"description": "", "reporter_email": "not an address", "ongoing": "maybe"}
    kept = client.post(url, refused).content.decode()
    assert "not an address" in kept and 'aria-invalid="true"' in kept
    sent = form_fields(kept, "") | {"description": "It happened.", "reporter_email": "", "space": str(space.pk)}
    assert 'id="receipt"' in client.post(url, sent).content.decode()

    log_in(client, lead.user)
    staff_url = f"/desk/orgs/{organization.slug}/file-report/"
    staff_page = client.get(staff_url).content.decode()
    staff_refused = form_fields(staff_page, "") | {"description": "", "incident_date": "not a date"}
    assert "not a date" in client.post(staff_url, staff_refused).content.decode()
    assert StaffReportForm.base_fields["description"] is ReportForm.base_fields["description"]
    ReportForm.describe({"description": "It happened.", "ongoing": "yes", "reported_name": "Someone"})

    after = {name: state_of(ReportForm.base_fields[name]) for name in SHARED_FIELDS}
    assert after == before


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
