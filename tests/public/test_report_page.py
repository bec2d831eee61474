"""A sent report form's space, read with its organization in one query, is the space the form's own look-up finds:
the organization's active space of that id, and none for an inactive one, another organization's, or an unknown id.
The blank form's spaces and team list, read with the organization in one query, are those the form offers."""

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from cocdesk.cases.forms import ReportForm
from cocdesk.public.report_page import organization_and_shown_or_404, organization_and_space_or_404
from tests.factories import OrganizationFactory, SpaceFactory, member


def outcome(form):
    valid = form.is_valid()
    return valid, form.cleaned_data.get("space"), form.errors.get("space")


@pytest.mark.django_db
def test_the_space_read_with_the_organization_is_the_one_the_form_would_read(organization):
    active = SpaceFactory(organization=organization, name="Main hall")
    inactive = SpaceFactory(organization=organization, name="Closed room", is_active=False)
    elsewhere = SpaceFactory(organization=OrganizationFactory(), name="Another event")
    sent = {
        "own active space": str(active.pk),
        "own inactive space": str(inactive.pk),
        "another organization's space": str(elsewhere.pk),
        "unknown id": "987654",
        "padded id": f" {active.pk} ",
        "not an id": "hall",
        "nothing": "",
    }
    for kind, value in sent.items():
        data = {"description": "It happened.", "space": value}
        with CaptureQueriesContext(connection) as queries:
            found, looked_up = organization_and_space_or_404(organization.slug, value)
        assert found == organization and len(queries) == 1, kind
        with CaptureQueriesContext(connection) as queries:
            joined = outcome(ReportForm(data, organization=found, looked_up_space=looked_up))
        assert len(queries) == 0, kind
        assert joined == outcome(ReportForm(data, organization=organization)), kind
        if joined[1] is not None:
            assert joined[1].name == "Main hall" and joined[1].organization_id == organization.pk


@pytest.mark.django_db
def test_an_unknown_organization_is_not_found_whatever_space_is_sent(organization):
    space = SpaceFactory(organization=organization)
    for value in (str(space.pk), "", None):
        with pytest.raises(Http404):
            organization_and_space_or_404("no-such-organization", value)


@pytest.mark.django_db
def test_the_blank_form_s_key_is_read_with_its_organization_and_equals_what_the_form_lists(organization):
    """The blank page is served again while these rows are unchanged: they must be exactly the spaces and members the
    form offers, whatever their names hold, and none of another organization's."""
    other = OrganizationFactory()
    SpaceFactory(organization=other, name="Elsewhere")
    member(other, "lead")
    with CaptureQueriesContext(connection) as queries:
        found, shown = organization_and_shown_or_404(organization.slug)
    assert found == organization and len(queries) == 1
    assert shown == ((), ())  # no space and no team yet: nothing, not a failure

    SpaceFactory(organization=organization, name='Hall "A", \\ [1]')
    SpaceFactory(organization=organization, name="Salle Émile ☂")
    SpaceFactory(organization=organization, name="Closed", is_active=False)
    member(organization, "lead", display_name="Zoë, lead")
    member(organization, "responder", display_name='Sam "the" responder')
    member(organization, "fallback", display_name="Fall Back")
    member(organization, "staff", display_name="Only staff")  # reads no case: not offered for exclusion
    member(organization, "responder", display_name="Away", is_active=False)
    form = ReportForm(organization=organization)
    list(form.sections())  # what rendering the form reads
    expected_spaces = tuple(sorted((space.pk, space.name) for space in form.fields["space"].queryset))
    expected_team = tuple(sorted((m.pk, m.display_name) for m in form.fields["excluded_members"].queryset))
    found, shown = organization_and_shown_or_404(organization.slug)
    assert shown == (expected_spaces, expected_team)
    assert len(expected_spaces) == 2 and len(expected_team) == 3


@pytest.mark.django_db
def test_an_unknown_organization_has_no_blank_form():
    with pytest.raises(Http404):
        organization_and_shown_or_404("no-such-organization")
