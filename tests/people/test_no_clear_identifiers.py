"""The registry of people holds no identifier in clear: after reports naming people through the public form, team
members added with their handles and their handles changed on the team page, a link, a split and a flag, neither
the raw database (the SQLite file with its WAL, or a pg_dump of PostgreSQL) nor any log record holds a seeded name,
nickname, email, handle, phone number, badge number, company or flag reason, in any of the forms normalisation gives
them. The scan first proves it can see what is meant to be in clear (the code names)."""

import re
import secrets

import pytest
from django.db import connection
from django.test import Client

from cocdesk.orgs.domain.team import add_member
from cocdesk.orgs.enums import Role
from cocdesk.people.models import CaseParty, MemberIdentifier
from cocdesk.people.normalise import compact, normalise_identifier
from tests.factories import OrganizationFactory, member
from tests.pages import input_value
from tests.team import log_in
from tests.test_leaks import all_logs, assert_absent, needles, raw_database_bytes  # noqa: F401 (all_logs: a fixture)


def token(label):
    return f"Kx{secrets.token_hex(6)}{label}"


def seeded():
    return {
        "reported_name": f"Quentin {token('Reportedname')} Ölund",
        "reported_nicknames": f"{token('Nick')}-the-Örk",
        "reported_screen_names": f"Slack: @{token('Handle')}\nhttps://github.com/{token('Github')}/",
        "reported_badge_number": f"#00{secrets.randbelow(10**6)}{token('Badge')}",
        "reported_company": f"{token('Company')} Widgets GmbH",
        "others_involved": f"Witness: Ronja {token('Witness')}, {token('Witnessmail').lower()}@example.org",
        "member_handle": f"Mastodon: @{token('Memberhandle')}@social.example",
        "member_new_handle": f"Discord: {token('Membernewhandle')}",
        "member_phone": f"+44 7700 9{secrets.randbelow(10**5):05d}",
        "member_name": f"Nadia {token('Membername')}",
        "flag_reason": f"{token('Flagreason')} followed two speakers to their hotel",
    }


def report(organization, answers):
    client = Client()
    page = client.get(f"/report/{organization.slug}/")
    data = {"description": "It happened at the party.", **answers}
    data["submission_token"] = input_value(page.content, "submission_token")
    response = client.post(f"/report/{organization.slug}/", data)
    assert response.status_code == 200
    reference = re.search(r'<dd id="case-reference">([^<]+)</dd>', response.content.decode()).group(1)
    return reference


def wanted(values):
    """The needles of test_leaks, and the canonical forms normalisation gives each value."""
    forms = dict(values)
    for name, value in values.items():
        for kind in ("name", "email", "handle", "phone", "badge", "company"):
            canonical = normalise_identifier(kind, value)
            if len(canonical) >= 8:
                forms[f"{name} as {kind}"] = canonical
        forms[f"{name} compacted"] = compact(value)
    return needles(forms)


@pytest.mark.django_db(transaction=True)
def test_no_identifier_reaches_the_database_or_the_logs(all_logs):  # noqa: F811
    collector, caplog = all_logs
    values = seeded()
    organization = OrganizationFactory()
    admin = member(organization, "admin")
    lead = member(organization, "lead", display_name="Lena Lead")
    nadia = add_member(
        organization,
        username="nadia-newcomer",
        display_name=values["member_name"],
        email="nadia@example.org",
        roles=[Role.RESPONDER],
        identifiers=f"{values['member_handle']}\n{values['member_phone']}",
        by=admin.user,
    )
    team_page = f"/desk/orgs/{organization.slug}/team/"
    admin_desk = log_in(Client(), admin.user)
    assert values["member_handle"] in admin_desk.get(team_page).content.decode()  # unsealed for the admins
    changed = f"{values['member_handle']}\n{values['member_phone']}\n{values['member_new_handle']}"
    saved = admin_desk.post(
        f"/desk/orgs/{organization.slug}/team/{nadia.pk}/",
        {"action": "identifiers", f"k{nadia.pk}-identifiers": changed},
    )
    assert saved.status_code == 302
    assert values["member_new_handle"] in admin_desk.get(team_page).content.decode()
    answers = {key: value for key, value in values.items() if key.startswith(("reported_", "others_"))}
    first = report(organization, answers)
    second = report(
        organization, {"reported_name": values["reported_name"], "reported_nicknames": values["member_name"]}
    )

    desk = log_in(Client(), lead.user)
    page = desk.get(f"/desk/cases/{second}/").content.decode()
    assert values["reported_name"] in page  # unsealed for the team: the values are really there
    party = CaseParty.objects.get(case__reference=second, role="reported")
    earlier = CaseParty.objects.get(case__reference=first, role="reported").person
    assert desk.post(f"/desk/cases/{second}/people/{party.pk}/link/", {"person": earlier.code_name}).status_code == 302
    assert desk.post(f"/desk/cases/{second}/people/{party.pk}/split/").status_code == 302
    person_url = f"/desk/orgs/{organization.slug}/people/{earlier.code_name}/"
    assert desk.post(person_url, {"reason": values["flag_reason"]}).status_code == 302
    assert values["flag_reason"] in desk.get(person_url).content.decode()
    # The member named as the reported person was recused by their keyed hashes alone.
    assert MemberIdentifier.objects.filter(membership=nadia).exists()
    assert nadia.recusals.filter(case__reference=second, is_active=True).exists()

    raw = raw_database_bytes()
    assert earlier.code_name.encode() in raw and first.encode() in raw  # the scan sees what is in clear
    # A member's display name is the team's own column (orgs_membership), in clear like the rest of the team list;
    # what else they are known by is sealed beside it, and matched by keyed hashes.
    sealed_values = {key: value for key, value in values.items() if key != "member_name"}
    assert_absent(raw, wanted(sealed_values), f"the raw {connection.vendor} database")
    logs = collector.text(caplog)
    assert "people_identifier" in logs and "people_memberidentifier" in logs  # SQL logging was on: parameters too
    assert_absent(logs.encode(), wanted(sealed_values), "the logs")
