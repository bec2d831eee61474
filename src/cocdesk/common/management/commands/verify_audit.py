from django.core.management.base import BaseCommand, CommandError

from cocdesk.common.audit import first_broken_link
from cocdesk.common.models import AuditEvent


class Command(BaseCommand):
    help = "Verifies the audit log's hash chain and names the first broken link."

    def handle(self, *args, **options):
        broken = first_broken_link()
        if broken is not None:
            raise CommandError(
                f"Audit chain broken at event {broken.pk} ({broken.created_at} {broken.action}): "
                "it was edited, or an event before it was removed."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {AuditEvent.objects.count()} events."))
