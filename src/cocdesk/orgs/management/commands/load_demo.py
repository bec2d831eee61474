from django.conf import settings
from django.core.management.base import BaseCommand

from cocdesk.orgs.demo import DEMO_PASSWORD, ORGANIZATIONS, TEAM, demo_username, load_demo


class Command(BaseCommand):
    help = "Loads the demo organizations and their teams; existing data is kept."

    def handle(self, *args, **options):
        created = load_demo()
        if created:
            self.stdout.write(f"Demo loaded: {', '.join(org.name for org in created)}.")
        else:
            self.stdout.write("Demo already present; nothing changed.")
        self.stdout.write(f"\nCoC Desk: {settings.BASE_URL}/  (report forms and follow-up for reporters)")
        self.stdout.write(f"Team desk: {settings.BASE_URL}/desk/   password for every demo login: {DEMO_PASSWORD}")
        self.stdout.write(
            "Second factor of a demo login: .venv/bin/python manage.py demo_code USERNAME prints its current code."
        )
        for spec in ORGANIZATIONS:
            logins = ", ".join(demo_username(spec["slug"], role) for role, _name, _roles in TEAM)
            self.stdout.write(f"  {spec['name']}: {logins}")
