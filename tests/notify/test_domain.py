"""A notice's link to its case is the case page's address, as reversing the URL gives it."""

from types import SimpleNamespace

import pytest
from django.conf import settings
from django.urls import reverse, set_script_prefix

from cocdesk.notify.domain import case_link


@pytest.mark.parametrize("reference", ["K7QM-4XPD-2R9H", "TEST-0001", "odd ref with ü"])
@pytest.mark.parametrize("prefix", ["/", "/coc/"])
def test_a_case_link_is_the_reversed_address_of_the_case(reference, prefix):
    set_script_prefix(prefix)
    try:
        expected = settings.BASE_URL + reverse("desk:case", kwargs={"reference": reference})
        assert case_link(SimpleNamespace(reference=reference)) == expected
        assert case_link(SimpleNamespace(reference=reference)) == expected
    finally:
        set_script_prefix("/")
    assert expected.startswith(settings.BASE_URL + prefix)
