"""A demo shaped like the procedures: a conference organization and an online community, each with a full team."""

from datetime import date

from django.contrib.auth import get_user_model
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from cocdesk.people.domain.members import keep_member_digests

from .enums import Platform, SpaceKind
from .models import Membership, Organization, Space

DEMO_PASSWORD = "coc-desk-demo"  # noqa: S105 - printed on purpose: demo accounts on a local machine

ORGANIZATIONS = [
    {
        "slug": "pynorth",
        "name": "PyNorth Conference",
        "reporting_email": "conduct@pynorth.example",
        "coc_url": "https://pynorth.example/code-of-conduct",
        "emergency_number": "112",
        "non_emergency_number": "+44 101",
        "crisis_line": "Samaritans 116 123",
        "emergency_guidance": "At the venue, any volunteer in a yellow lanyard can call venue security for you.",
        "is_listed": True,
        "reporting_phone": "+44 20 7946 0123",
        "in_person_contacts": "Volunteers in yellow lanyards at the registration desk, all day during the "
        "conference. The phone line is answered from 8:00 to 22:00 on conference days.",
        "spaces": [
            {
                "name": "PyNorth 2026",
                "kind": SpaceKind.CONFERENCE,
                "starts_on": date(2026, 6, 12),
                "ends_on": date(2026, 6, 14),
                "venue": "Harbour Congress Centre",
            },
            {"name": "PyNorth Slack", "kind": SpaceKind.ONLINE, "platform": Platform.SLACK},
        ],
    },
    {
        "slug": "pycommunity",
        "name": "Python Community Online",
        "reporting_email": "conduct@pycommunity.example",
        "coc_url": "https://pycommunity.example/conduct",
        "emergency_number": "911",
        "non_emergency_number": "311",
        "crisis_line": "988 Suicide & Crisis Lifeline",
        "is_listed": True,
        "reporting_phone": "+1 555 0100",
        "in_person_contacts": "At the monthly meetup: volunteers in yellow lanyards at the registration desk.",
        "spaces": [
            {"name": "Community forum", "kind": SpaceKind.ONLINE, "platform": Platform.FORUM},
            {"name": "Monthly Python meetup", "kind": SpaceKind.MEETUP, "venue": "Public library, room 2"},
        ],
    },
]

TEAM = [
    ("staff", "Sam Staff", {"is_staff_member": True}),
    ("responder", "Rae Responder", {"is_responder": True}),
    ("responder2", "Robin Responder", {"is_responder": True}),
    ("lead", "Lee Lead", {"is_responder": True, "is_lead": True}),
    ("lead2", "Lou Lead", {"is_responder": True, "is_lead": True}),
    ("lead3", "Liz Lead", {"is_responder": True, "is_lead": True}),
    ("admin", "Ada Admin", {"is_admin": True}),
    ("fallback", "Fay Fallback", {"is_fallback": True}),
]

DEMO_REPORTS = [
    {
        "description": "During the lightning talks a person in the third row kept making loud comments about the "
        "speaker's accent and appearance, and laughed when asked to stop.",
        "ongoing": "no",
        "physical_danger": "no",
        "location": "Main hall, lightning talks",
        "reported_appearance": "Tall, green hoodie, conference lanyard",
        "law_enforcement": "not_wanted",
    },
    {
        "description": "Someone has been sending me direct messages every evening after I told them to stop. "
        "Tonight they said they know which hotel I am staying at.",
        "ongoing": "yes",
        "physical_danger": "yes",
        "reporter_email": "demo-reporter@example.org",
        "reported_screen_names": "Slack: @nightowl",
        "safety_concerns": "I am afraid they will come to the hotel.",
        "law_enforcement": "unsure_agency",
    },
]


def demo_username(org_slug, role_name):
    return f"{org_slug}-{role_name}"


@transaction.atomic
def load_demo():
    """Creates what is missing and leaves existing data alone, so it can run at every start."""
    from cocdesk.cases.domain.intake import submit_report

    created_orgs = []
    user_model = get_user_model()
    for spec in ORGANIZATIONS:
        fields = {key: value for key, value in spec.items() if key not in {"slug", "spaces"}}
        organization, created = Organization.objects.get_or_create(slug=spec["slug"], defaults=fields)
        for space in spec["spaces"]:
            Space.objects.get_or_create(organization=organization, name=space["name"], defaults=space)
        for role_name, display_name, roles in TEAM:
            username = demo_username(organization.slug, role_name)
            user, user_created = user_model.objects.get_or_create(username=username)
            if user_created:
                user.email = f"{username}@example.org"
                user.set_password(DEMO_PASSWORD)
                user.save()
            if not TOTPDevice.objects.filter(user=user).exists():
                TOTPDevice.objects.create(user=user, name="Demo authenticator", confirmed=True)
            membership, joined = Membership.objects.get_or_create(
                user=user, organization=organization, defaults={"display_name": display_name, **roles}
            )
            if joined:
                keep_member_digests(membership)
        if created:
            created_orgs.append(organization)
            spaces = list(organization.spaces.all())
            for index, answers in enumerate(DEMO_REPORTS):
                submit_report(organization=organization, answers=answers, space=spaces[index % len(spaces)])
    return created_orgs


def current_demo_code(username):
    """The code a demo account's authenticator would show now, so the demo can be tried without a phone."""
    from django_otp.oath import TOTP

    device = TOTPDevice.objects.get(user__username=username, name="Demo authenticator", confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return str(totp.token()).zfill(device.digits)
