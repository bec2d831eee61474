from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from cocdesk.orgs.demo import current_demo_code


class Command(BaseCommand):
    help = "Prints the current second-factor code of a demo account (development mode only)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        if not settings.DEBUG:
            raise CommandError("Demo codes are only available in development mode (debug = true).")
        try:
            self.stdout.write(current_demo_code(username))
        except TOTPDevice.DoesNotExist as error:
            raise CommandError(f"{username} is not a demo account.") from error
