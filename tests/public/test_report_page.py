"""A sent report form's space, read with its organization in one query, is the space the form's own look-up finds:
the organization's active space of that id, and none for an inactive one, another organization's, or an unknown id."""

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from cocdesk.cases.forms import ReportForm
from cocdesk.public.report_page import organization_and_space_or_404
from tests.factories import OrganizationFactory, SpaceFactory


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
