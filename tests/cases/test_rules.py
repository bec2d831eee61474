"""Who may see a case: the predicates in rules.py, checked against Case.objects.visible_to, which must agree."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from cocdesk.cases.domain import recusal as recusals
from cocdesk.cases.enums import RecusalReason, RecusalSource
from cocdesk.cases.models import Case, Recusal
from cocdesk.orgs.rules import can
from tests.factories import OrganizationFactory, SpaceFactory, UserFactory, member, report_case

PERMS = ["cases.view_case", "cases.message_reporter"]


def recuse(case, membership, *, active=True):
    """An active recusal goes through the domain function, which keeps the case's fallback column true."""
    if active:
        return recusals.recuse(case, membership, reason=RecusalReason.CO_WORKER, source=RecusalSource.DECLARED)
    return Recusal.objects.create(
        case=case,
        membership=membership,
        reason=RecusalReason.CO_WORKER,
        source=RecusalSource.DECLARED,
        created_at=timezone.now(),
        is_active=active,
        ended_at=None if active else timezone.now(),
    )


def recuse_leads(case, count):
    for _ in range(count):
        recuse(case, member(case.organization, "lead"))


def assert_access(user, case, expected):
    """The predicate answers ``expected`` for both permissions, and the queryset agrees with it."""
    visible = list(Case.objects.visible_to(user))
    visible_ids = [c.pk for c in visible]
    assert len(visible_ids) == len(set(visible_ids)), "visible_to returned a case twice"
    in_queryset = case.pk in visible_ids
    for perm in PERMS:
        assert can(user, perm, case) is expected, f"{perm} should be {expected}"
    assert in_queryset is expected, f"visible_to disagrees with the predicate (expected {expected})"
    assert Case.objects.visible_to(user).filter(pk=case.pk).exists() is expected


@pytest.fixture
def other_cases(organization):
    """Cases the user never has any business with, so visible_to is tested against a populated table."""
    elsewhere = OrganizationFactory()
    report_case(elsewhere, description="A case of another organization.")
    report_case(elsewhere, description="Another case of another organization.")


# Each scenario builds (user, case) in ``organization``; the case's org has the default threshold (2).


def _responder(org, case):
    return member(org, "responder").user


def _lead(org, case):
    return member(org, "lead").user


def _lead_flag_only(org, case):
    # handles_cases treats a lead as a responder even if the responder flag was left off.
    return member(org, "lead", is_responder=False).user


def _staff(org, case):
    return member(org, "staff").user


def _admin(org, case):
    return member(org, "admin").user


def _staff_and_admin(org, case):
    return member(org, "admin", is_staff_member=True).user


def _admin_who_is_responder(org, case):
    return member(org, "admin", is_responder=True).user


def _fallback_below_threshold(org, case):
    recuse_leads(case, org.recusal_threshold)  # exactly the threshold: not *more* than it
    return member(org, "fallback").user


def _fallback_no_recusals(org, case):
    return member(org, "fallback").user


def _fallback_above_threshold(org, case):
    recuse_leads(case, org.recusal_threshold + 1)
    return member(org, "fallback").user


def _recused_fallback_above_threshold(org, case):
    fallback = member(org, "fallback")
    recuse_leads(case, org.recusal_threshold + 1)
    recuse(case, fallback)
    return fallback.user


def _fallback_recused_responders_do_not_count(org, case):
    for _ in range(org.recusal_threshold + 1):
        recuse(case, member(org, "responder"))
    return member(org, "fallback").user


def _fallback_ended_recusals_do_not_count(org, case):
    for _ in range(org.recusal_threshold + 1):
        recuse(case, member(org, "lead"), active=False)
    return member(org, "fallback").user


def _fallback_of_other_org_above_threshold(org, case):
    recuse_leads(case, org.recusal_threshold + 1)
    return member(OrganizationFactory(), "fallback").user


def _responder_of_other_org(org, case):
    return member(OrganizationFactory(), "responder").user


def _lead_of_other_org(org, case):
    return member(OrganizationFactory(), "lead").user


def _inactive_responder_membership(org, case):
    return member(org, "responder", is_active=False).user


def _inactive_lead_membership(org, case):
    return member(org, "lead", is_active=False).user


def _deactivated_user_account(org, case):
    membership = member(org, "responder")
    membership.user.is_active = False
    membership.user.save()
    return membership.user


def _recused_responder(org, case):
    membership = member(org, "responder")
    recuse(case, membership)
    return membership.user


def _recused_lead(org, case):
    membership = member(org, "lead")
    recuse(case, membership)
    return membership.user


def _reinstated_responder(org, case):
    membership = member(org, "responder")
    recuse(case, membership, active=False)
    return membership.user


def _responder_recused_from_another_case(org, case):
    membership = member(org, "responder")
    other, _ = report_case(org, description="A different case.")
    recuse(other, membership)
    return membership.user


def _responder_here_fallback_elsewhere(org, case):
    user = member(org, "responder").user
    member(OrganizationFactory(), "fallback", username=user.username)
    return user


def _user_without_membership(org, case):
    return member(OrganizationFactory(), "staff").user


def _superuser_without_membership(org, case):
    return UserFactory(is_superuser=True, is_staff=True)


def _superuser_admin(org, case):
    membership = member(org, "admin")
    membership.user.is_superuser = membership.user.is_staff = True
    membership.user.save()
    return membership.user


def _superuser_recused_responder(org, case):
    membership = member(org, "responder")
    membership.user.is_superuser = membership.user.is_staff = True
    membership.user.save()
    recuse(case, membership)
    return membership.user


def _responder_scoped_to_another_space(org, case):
    membership = member(org, "responder")
    membership.spaces.add(SpaceFactory(organization=org))
    return membership.user


def _lead_scoped_to_another_space(org, case):
    membership = member(org, "lead")
    membership.spaces.add(SpaceFactory(organization=org))
    return membership.user


SCENARIOS = [
    ("responder", _responder, True),
    ("lead", _lead, True),
    ("lead flag without responder flag", _lead_flag_only, True),
    ("admin who is also a responder", _admin_who_is_responder, True),
    ("responder here, fallback elsewhere", _responder_here_fallback_elsewhere, True),
    ("reinstated responder (recusal ended)", _reinstated_responder, True),
    ("responder recused from another case only", _responder_recused_from_another_case, True),
    ("staff only", _staff, False),
    ("admin only", _admin, False),
    ("staff and admin", _staff_and_admin, False),
    ("fallback, no leads recused", _fallback_no_recusals, False),
    ("fallback, exactly threshold leads recused", _fallback_below_threshold, False),
    ("fallback, more than threshold leads recused", _fallback_above_threshold, True),
    ("recused fallback, more than threshold leads recused", _recused_fallback_above_threshold, False),
    ("fallback, recused non-lead responders do not count", _fallback_recused_responders_do_not_count, False),
    ("fallback, ended lead recusals do not count", _fallback_ended_recusals_do_not_count, False),
    ("fallback of another organization", _fallback_of_other_org_above_threshold, False),
    ("responder of another organization", _responder_of_other_org, False),
    ("lead of another organization", _lead_of_other_org, False),
    ("user with no membership in the case's organization", _user_without_membership, False),
    ("inactive responder membership", _inactive_responder_membership, False),
    ("inactive lead membership", _inactive_lead_membership, False),
    ("deactivated user account", _deactivated_user_account, False),
    ("recused responder", _recused_responder, False),
    ("recused lead", _recused_lead, False),
    ("superuser without membership", _superuser_without_membership, False),
    ("superuser who is the organization's admin", _superuser_admin, False),
    ("recused superuser responder", _superuser_recused_responder, False),
    # A case without a space stays with the organization-wide team.
    ("responder scoped to a space, case without space", _responder_scoped_to_another_space, False),
    ("lead scoped to a space, case without space", _lead_scoped_to_another_space, False),
]


@pytest.mark.parametrize(
    ("build", "expected"), [pytest.param(build, expected, id=name) for name, build, expected in SCENARIOS]
)
def test_who_can_view_a_case(organization, other_cases, build, expected):
    case, _receipt = report_case(organization, description="Someone cornered me at the party.")
    user = build(organization, case)
    assert_access(user, case, expected)


def test_anonymous_cannot_view(organization, other_cases):
    case, _receipt = report_case(organization)
    anonymous = AnonymousUser()
    assert_access(anonymous, case, False)
    assert not Case.objects.visible_to(anonymous).exists()


@pytest.mark.parametrize("role", ["responder", "lead"])
def test_reporter_exclusion_hides_the_case_from_that_member_only(organization, role):
    excluded = member(organization, role)
    colleague = member(organization, role)
    case, _receipt = report_case(organization, excluded_members=[excluded])
    other_case, _receipt = report_case(organization, description="Unrelated case.")

    assert Recusal.objects.get(case=case, membership=excluded).source == RecusalSource.REPORTER
    assert_access(excluded.user, case, False)
    assert_access(excluded.user, other_case, True)
    assert_access(colleague.user, case, True)


@pytest.mark.parametrize(
    ("threshold", "recused_leads", "expected"),
    [
        (0, 0, False),
        (0, 1, True),
        (1, 1, False),
        (1, 2, True),
        (3, 3, False),
        (3, 4, True),
    ],
)
def test_fallback_threshold_is_the_organizations_own(organization, threshold, recused_leads, expected):
    organization.recusal_threshold = threshold
    organization.save()
    # A second organization with the opposite setting: its threshold must not leak into this one's decision.
    other = OrganizationFactory(recusal_threshold=0 if threshold else 5)
    fallback = member(organization, "fallback")
    other_fallback = member(other, "fallback")
    case, _receipt = report_case(organization)
    other_case, _receipt = report_case(other)
    recuse_leads(case, recused_leads)
    recuse_leads(other_case, recused_leads)

    case = Case.objects.get(pk=case.pk)
    assert_access(fallback.user, case, expected)
    assert_access(other_fallback.user, case, False)
    other_expected = recused_leads > other.recusal_threshold
    assert_access(other_fallback.user, Case.objects.get(pk=other_case.pk), other_expected)
    assert_access(fallback.user, Case.objects.get(pk=other_case.pk), False)


def test_fallback_steps_in_on_that_case_only(organization):
    fallback = member(organization, "fallback")
    under_fallback, _receipt = report_case(organization)
    ordinary, _receipt = report_case(organization)
    recuse_leads(under_fallback, organization.recusal_threshold + 1)
    recuse_leads(ordinary, organization.recusal_threshold)

    assert_access(fallback.user, under_fallback, True)
    assert_access(fallback.user, ordinary, False)
    assert list(Case.objects.visible_to(fallback.user)) == [under_fallback]


def test_responder_sees_every_case_of_the_organization_and_no_other(organization):
    responder = member(organization, "responder")
    own = [report_case(organization, description=f"Case {n}")[0] for n in range(3)]
    report_case(OrganizationFactory(), description="Elsewhere")
    recused, _receipt = report_case(organization, excluded_members=[responder])

    visible = set(Case.objects.visible_to(responder.user))
    assert visible == set(own)
    assert recused not in visible


@pytest.mark.parametrize(
    ("scope", "role", "expected"),
    [
        ("whole organization", "responder", True),
        ("the case's space", "responder", True),
        ("the case's space and another", "lead", True),
        ("another space only", "responder", False),
        ("another space only", "lead", False),
    ],
)
def test_space_scoped_roles_reach_the_cases_of_their_spaces(organization, other_cases, scope, role, expected):
    conference = SpaceFactory(organization=organization, name="PyNorth 2026")
    forum = SpaceFactory(organization=organization, name="Forum")
    membership = member(organization, role)
    if scope == "the case's space":
        membership.spaces.add(conference)
    elif scope == "the case's space and another":
        membership.spaces.add(conference, forum)
    elif scope == "another space only":
        membership.spaces.add(forum)
    case, _receipt = report_case(organization, space=conference)
    assert_access(membership.user, case, expected)


def test_space_scoped_fallback_steps_in_only_on_its_spaces(organization):
    conference = SpaceFactory(organization=organization, name="PyNorth 2026")
    forum = SpaceFactory(organization=organization, name="Forum")
    conference_fallback = member(organization, "fallback")
    conference_fallback.spaces.add(conference)
    forum_fallback = member(organization, "fallback")
    forum_fallback.spaces.add(forum)
    case, _receipt = report_case(organization, space=conference)
    recuse_leads(case, organization.recusal_threshold + 1)
    case.refresh_from_db()
    assert case.under_fallback
    assert_access(conference_fallback.user, case, True)
    assert_access(forum_fallback.user, case, False)


def test_leads_of_another_space_do_not_count_towards_the_threshold(organization):
    conference = SpaceFactory(organization=organization, name="PyNorth 2026")
    forum = SpaceFactory(organization=organization, name="Forum")
    fallback = member(organization, "fallback")
    case, _receipt = report_case(organization, space=conference)
    for _ in range(organization.recusal_threshold + 1):
        forum_lead = member(organization, "lead")
        forum_lead.spaces.add(forum)
        recuse(case, forum_lead)
    case.refresh_from_db()
    assert not case.under_fallback
    assert_access(fallback.user, case, False)
    conference_lead = member(organization, "lead")
    conference_lead.spaces.add(conference)
    for _ in range(organization.recusal_threshold):
        recuse(case, member(organization, "lead"))
    recuse(case, conference_lead)
    case.refresh_from_db()
    assert case.under_fallback
    assert_access(fallback.user, case, True)
