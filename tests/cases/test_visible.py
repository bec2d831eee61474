"""The case a desk page loads by its reference agrees with ``Case.objects.visible_to`` for every kind of member, and
members whose sight has the same shape share one compiled statement."""

import pytest

from cocdesk.cases.domain import visible
from cocdesk.cases.domain.recusal import recuse
from cocdesk.cases.domain.visible import visible_case
from cocdesk.cases.enums import RecusalSource
from cocdesk.cases.models import Case
from cocdesk.orgs.access import forget, request_scope
from tests.factories import OrganizationFactory, SpaceFactory, UserFactory, member, report_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    organization = OrganizationFactory()
    keynote, online = SpaceFactory(organization=organization), SpaceFactory(organization=organization)
    other_organization = OrganizationFactory()
    cases = {
        "no space": report_case(organization)[0],
        "keynote": report_case(organization, space=keynote)[0],
        "online": report_case(organization, space=online)[0],
        "elsewhere": report_case(other_organization)[0],
    }
    fallback_case = report_case(organization)[0]
    Case.objects.filter(pk=fallback_case.pk).update(under_fallback=True)
    cases["under fallback"] = fallback_case
    return organization, other_organization, keynote, online, cases


def _account(world, kind):
    organization, other_organization, keynote, online, cases = world
    if kind == "superuser without membership":
        return UserFactory(is_superuser=True, is_staff=True)
    if kind == "django staff without membership":
        return UserFactory(is_staff=True)
    if kind in {"responder", "lead", "staff", "admin", "fallback"}:
        return member(organization, kind).user
    if kind == "responder of the keynote only":
        membership = member(organization, "responder")
        membership.spaces.set([keynote])
        return membership.user
    if kind == "lead of both spaces":
        membership = member(organization, "lead")
        membership.spaces.set([keynote, online])
        return membership.user
    if kind == "responder recused from one case":
        membership = member(organization, "responder")
        recuse(cases["keynote"], membership, reason="conflict", source=RecusalSource.DECLARED)
        return membership.user
    if kind == "responder in two organizations":
        membership = member(organization, "responder")
        member(other_organization, "lead", user=membership.user)
        return membership.user
    raise AssertionError(kind)


ACCOUNTS = [
    "superuser without membership",
    "django staff without membership",
    "responder",
    "lead",
    "staff",
    "admin",
    "fallback",
    "responder of the keynote only",
    "lead of both spaces",
    "responder recused from one case",
    "responder in two organizations",
]


@pytest.mark.parametrize("kind", ACCOUNTS)
def test_agrees_with_visible_to_on_every_case(world, kind):
    user = _account(world, kind)
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
    user = _account(world, "lead")
    assert visible_case(user, "NO-SUCH-CASE") is None


def test_members_of_one_shape_share_a_statement(world, django_assert_num_queries):
    first, second = _account(world, "responder"), _account(world, "responder")
    case = world[-1]["no space"]
    assert visible_case(first, case.reference) is not None
    shapes = len(visible._by_shape)
    forget()
    assert visible_case(second, case.reference) is not None
    assert len(visible._by_shape) == shapes


def test_the_case_comes_with_its_organization_and_space_in_one_query(world, django_assert_num_queries):
    user = _account(world, "lead")
    case = world[-1]["keynote"]
    with request_scope():
        visible_case(user, case.reference)  # the member's access is loaded once per request
        with django_assert_num_queries(1):
            found = visible_case(user, case.reference)
            assert found.organization.name and found.space.name
