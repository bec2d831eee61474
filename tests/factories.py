import factory
from django.contrib.auth import get_user_model

from cocdesk.cases.domain.intake import submit_report
from cocdesk.orgs.enums import SpaceKind
from cocdesk.orgs.models import Membership, Organization, Space

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"member{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(self, create, extracted, **kwargs):
        if create:
            self.save()


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Community {n}")
    slug = factory.Sequence(lambda n: f"community-{n}")
    reporting_email = factory.LazyAttribute(lambda org: f"conduct@{org.slug}.example")
    emergency_number = "112"
    non_emergency_number = "+1 555 0100"
    crisis_line = "Crisis line 555 0199"


class SpaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Space

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Space {n}")
    kind = SpaceKind.CONFERENCE


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    display_name = factory.LazyAttribute(lambda m: m.user.username.title())

    @factory.post_generation
    def identifiers(self, create, extracted, **kwargs):
        """As the domain functions adding a member do: ``identifiers`` (free text) sealed, and the keyed hashes
        intake's automatic recusal looks up."""
        if create:
            from cocdesk.people.domain.members import keep_member_digests, seal_member_identifiers

            if extracted:
                seal_member_identifiers(self, extracted)
                self.save(update_fields=["sealed_identifiers"])
            keep_member_digests(self)


ROLE_FLAGS = {
    "staff": {"is_staff_member": True},
    "responder": {"is_responder": True},
    "lead": {"is_responder": True, "is_lead": True},
    "admin": {"is_admin": True},
    "fallback": {"is_fallback": True},
}


def member(organization, role, username=None, **extra):
    """A user holding ``role`` in ``organization``; returns the membership."""
    kwargs = {"organization": organization, **ROLE_FLAGS[role], **extra}
    if username:
        kwargs["user"] = UserFactory(username=username)
    return MembershipFactory(**kwargs)


def report_case(organization, description="Someone shouted at me during the keynote.", **answers):
    """Files a report through the real intake function; returns (case, receipt)."""
    excluded = answers.pop("excluded_members", ())
    space = answers.pop("space", None)
    channel = answers.pop("channel", "web")
    return submit_report(
        organization=organization,
        answers={"description": description, **answers},
        space=space,
        excluded_members=excluded,
        channel=channel,
    )
