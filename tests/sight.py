"""Accounts of every shape of sight over one small world of cases: the cases of a member's sight are checked
against ``visible_to`` with each of them."""

from cocdesk.cases.domain.recusal import recuse
from cocdesk.cases.enums import RecusalSource
from cocdesk.cases.models import Case
from tests.factories import OrganizationFactory, SpaceFactory, UserFactory, member, report_case


def make_world():
    """(organization, other organization, keynote space, online space, {label: case})."""
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


def account_of(world, kind):
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
