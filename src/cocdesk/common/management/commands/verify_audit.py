from django.core.management.base import BaseCommand, CommandError

from cocdesk.common.audit import broken_chains, first_broken_link
from cocdesk.common.models import AuditEvent


class Command(BaseCommand):
    help = "Verifies the audit log's hash chains (one per organization) and names the first broken link."

    def handle(self, *args, **options):
        broken = broken_chains()
        if not broken:
            self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {AuditEvent.objects.count()} events."))
            return
        first = first_broken_link(broken)
        if first.pk is None:
            message = f"Audit chain {first.detail['chain']} broken: {first.action}."
        else:
            message = (
                f"Audit chain broken at event {first.pk} ({first.created_at} {first.action}): "
                "it was edited, or an event before it was removed."
            )
        if len(broken) > 1:
            message += f" Broken chains: {', '.join(sorted(broken))}."
        raise CommandError(message)
