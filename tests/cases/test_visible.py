"""The case a desk page loads by its reference agrees with ``Case.objects.visible_to`` for every kind of member, and
members whose sight has the same shape share one compiled statement."""

import pytest

from cocdesk.cases.domain import visible
from cocdesk.cases.domain.visible import visible_case
from cocdesk.cases.models import Case
from cocdesk.orgs.access import forget, request_scope
from tests.sight import ACCOUNTS, account_of

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("kind", ACCOUNTS)
def test_agrees_with_visible_to_on_every_case(world, kind):
    user = account_of(world, kind)
    forget()
    cases = world[-1]
    for label, case in cases.items():
        expected = Case.objects.visible_to(user).filter(pk=case.pk).exists()
        found = visible_case(user, case.reference)
        assert (found is not None) == expected, label
        if found is not None:
            assert found.pk == case.pk
            assert found.organization.pk == case.organization_id
            assert (found.space.pk if found.space else None) == case.space_id


def test_an_unknown_reference_is_none(world):
    user = account_of(world, "lead")
    assert visible_case(user, "NO-SUCH-CASE") is None


def test_members_of_one_shape_share_a_statement(world, django_assert_num_queries):
    first, second = account_of(world, "responder"), account_of(world, "responder")
    case = world[-1]["no space"]
    assert visible_case(first, case.reference) is not None
    shapes = len(visible._by_shape)
    forget()
    assert visible_case(second, case.reference) is not None
    assert len(visible._by_shape) == shapes


def test_the_case_comes_with_its_organization_and_space_in_one_query(world, django_assert_num_queries):
    user = account_of(world, "lead")
    case = world[-1]["keynote"]
    with request_scope():
        visible_case(user, case.reference)  # the member's access is loaded once per request
        with django_assert_num_queries(1):
            found = visible_case(user, case.reference)
            assert found.organization.name and found.space.name
