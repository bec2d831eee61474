"""Who may read and link the organization's people: its responders and leads. Like the other ``rules.py``, each
predicate answers from the member's access snapshot (``cocdesk.orgs.access``).

Which people and which of their cases a member reaches is scoped by the queries of ``domain/patterns.py`` (built on
``Case.objects.visible_to``): a person whose every case the member may not see is a 404, like the cases."""

import rules

from cocdesk.orgs.access import access_for


def grant_handles_people(grant):
    return grant is not None and grant.handles_cases


@rules.predicate
def handles_people_of(user, organization):
    """Responders and leads of ``organization`` (fallback members step in on one case, not on its people)."""
    return organization is not None and grant_handles_people(access_for(user).grant_in(organization.pk))


@rules.predicate
def handles_person(user, person):
    return grant_handles_people(access_for(user).grant_in(person.organization_id))


@rules.predicate
def handles_party(user, party):
    """Responders and leads who may see the party's case: a split and a link are made from the case page."""
    from cocdesk.cases.rules import grant_sees_case

    access = access_for(user)
    grant = access.grant_in(party.case.organization_id)
    return grant_handles_people(grant) and grant_sees_case(
        grant, party.case, recused=party.case_id in access.recused_case_ids
    )


@rules.predicate
def handles_people_of_case(user, case):
    """Responders and leads who may see ``case``: they name people in it and add what they are known by."""
    from cocdesk.cases.rules import grant_sees_case

    access = access_for(user)
    grant = access.grant_in(case.organization_id)
    return grant_handles_people(grant) and grant_sees_case(grant, case, recused=case.pk in access.recused_case_ids)


rules.add_perm("people.view_people", handles_people_of)
rules.add_perm("people.name_in_case", handles_people_of_case)
rules.add_perm("people.view_person", handles_person)
rules.add_perm("people.flag_person", handles_person)
rules.add_perm("people.link_party", handles_party)
rules.add_perm("people.split_party", handles_party)
