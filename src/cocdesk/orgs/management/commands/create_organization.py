"""Creates an organization and invites its first admin; everything after that is done in the browser."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from cocdesk.orgs.domain.setup import create_organization, link_lifetime

OPTION_OF_FIELD = {
    "name": "--name",
    "slug": "--slug",
    "reporting_email": "--reporting-email",
    "admin_email": "--admin-email",
}


class Command(BaseCommand):
    help = (
        "Creates an organization with the procedures' default policy, categories and message templates, makes "
        "the person with --admin-email its first admin, and prints a one-time link for them to choose a password."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="The organization's name, as reporters know it.")
        parser.add_argument(
            "--slug", required=True, help="Its short name in addresses (/report/<slug>/): lowercase, digits, hyphens."
        )
        parser.add_argument("--reporting-email", required=True, help="The address reporters write to.")
        parser.add_argument("--admin-email", required=True, help="The first admin's email.")
        parser.add_argument("--admin-name", default="", help="The first admin's name as the team sees it.")

    def handle(self, *args, name, slug, reporting_email, admin_email, admin_name, **options):
        try:
            created = create_organization(name, slug, reporting_email, admin_email, admin_name)
        except ValidationError as error:
            lines = [f"{OPTION_OF_FIELD.get(field, field)}: {message}" for field, message in _problems(error)]
            raise CommandError("Nothing was created.\n" + "\n".join(lines)) from None
        organization, admin = created.organization, created.admin
        username = admin.user.get_username()
        self.stdout.write(
            f"Created {organization.name} ({organization.slug}) with the procedures' default policy, categories "
            "and message templates."
        )
        self.stdout.write(f"Report form: {settings.BASE_URL}{reverse('public:report', args=[organization.slug])}")
        login = settings.BASE_URL + reverse("desk:login")
        if created.invitation_link:
            account = "a new account" if created.account_created else "their existing account"
            self.stdout.write(f"First admin: {username} ({admin.user.email}), {account}.")
            self.stdout.write(
                f"\nLink for {username} to choose a password (it works once, for the next {link_lifetime()}):"
            )
            self.stdout.write(f"  {created.invitation_link}")
            self.stdout.write(
                "The same invitation is queued by mail and goes out when mail is configured. After choosing a "
                f"password, {username} logs in at {login} and sets up an authenticator app."
            )
        else:
            self.stdout.write(
                f"First admin: {username} ({admin.user.email}), whose existing account already has a password: "
                f"they log in at {login} as usual."
            )


def _problems(error):
    for field, messages in error.message_dict.items():
        for message in messages:
            yield field, message
