"""A new person's code name is never one the organization's people already have; other organizations' do not count."""

import pytest

from cocdesk.people.domain.parties import _any_taken, new_code_names
from cocdesk.people.models import Person
from tests.factories import OrganizationFactory


@pytest.mark.django_db
def test_a_code_name_taken_in_the_organization_is_seen_among_any_number_of_names(organization):
    Person.objects.create(organization=organization, code_name="P-TAKEN")
    elsewhere = OrganizationFactory()
    Person.objects.create(organization=elsewhere, code_name="P-OTHER")
    assert _any_taken(organization.pk, ["P-TAKEN"])
    assert _any_taken(organization.pk, ["P-AAAAA", "P-TAKEN", "P-BBBBB"])
    assert not _any_taken(organization.pk, ["P-OTHER"])
    assert not _any_taken(organization.pk, ["P-AAAAA", "P-BBBBB"])
    assert _any_taken(elsewhere.pk, ["P-AAAAA", "P-OTHER"])


@pytest.mark.django_db
def test_new_code_names_are_distinct_and_unused(organization):
    names = new_code_names(organization, 5)
    assert len(set(names)) == 5 and all(name.startswith("P-") for name in names)
    assert not Person.objects.filter(organization=organization, code_name__in=names).exists()
