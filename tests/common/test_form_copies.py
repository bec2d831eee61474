"""A form cleaned without a BoundField per field gives what Django's own cleaning gives: the same cleaned data and
the same errors, whatever was sent; a form with a disabled field is cleaned by Django's loop."""

import copy

import pytest
from django import forms

from cocdesk.cases.forms import ReportForm
from tests.factories import SpaceFactory, member


class CleanedAsDjangoDoes(ReportForm):
    _clean_fields = forms.Form._clean_fields


def sent(organization):
    """Submissions of every kind: complete, empty, malformed in each typed field, and naming unknown choices."""
    space = SpaceFactory(organization=organization)
    lead = member(organization, "lead")
    complete = {
        "description": "He kept following me after the talk.",
        "reporter_email": "me@example.org",
        "incident_date": "2026-05-04",
        "incident_time": "18:30",
        "space": str(space.pk),
        "ongoing": "yes",
        "public_record_url": "lists.example.org/thread/1",
        "could_not_find_contact": "on",
        "excluded_members": [str(lead.pk)],
        "reported_name": "  Sam Someone  ",
    }
    return {
        "complete": complete,
        "empty": {},
        "malformed": {
            **complete,
            "reporter_email": "not an address",
            "incident_date": "the second evening",
            "incident_time": "25:99",
            "public_record_url": "http://",
            "ongoing": "perhaps",
        },
        "unknown choices": {**complete, "space": "999999", "excluded_members": ["999999", "x"]},
        "too long": {**complete, "description": "x" * 50_001, "reporter_name": "y" * 201},
    }


def outcome(form):
    valid = form.is_valid()
    errors = {
        name: [(error.code, list(error.messages)) for error in found] for name, found in form.errors.as_data().items()
    }
    cleaned = {name: list(value) if name == "excluded_members" else value for name, value in form.cleaned_data.items()}
    return valid, errors, cleaned


@pytest.mark.django_db
@pytest.mark.parametrize("prefix", [None, "report"])
def test_cleaning_without_bound_fields_gives_what_django_gives(organization, prefix):
    outcomes = {}
    for kind, data in sent(organization).items():
        if prefix:
            data = {f"{prefix}-{name}": value for name, value in data.items()}
        ours = ReportForm(data, organization=organization, prefix=prefix)
        django = CleanedAsDjangoDoes(data, organization=organization, prefix=prefix)
        outcomes[kind] = outcome(ours)
        assert outcomes[kind] == outcome(django), kind
        if outcomes[kind][0]:
            # (An error still makes the BoundField of its field, as Django's add_error does.)
            assert not ours._bound_fields_cache, "no BoundField was made to clean the form"
    assert [valid for valid, _errors, _cleaned in outcomes.values()] == [True, False, False, False, False]


@pytest.mark.django_db
def test_a_form_with_a_disabled_field_is_cleaned_by_django_s_loop(organization):
    form = ReportForm({"description": "It happened.", "reporter_name": "Typed"}, organization=organization)
    # A copy: the report form's fields are shared by every form (CopiedCheaply), and must stay as they are.
    form.fields["reporter_name"] = copy.deepcopy(form.fields["reporter_name"])
    form.fields["reporter_name"].disabled = True
    form.fields["reporter_name"].initial = "Fixed"
    assert form.is_valid()
    assert form.cleaned_data["reporter_name"] == "Fixed"
