from django.conf import settings
from django.core.management.base import BaseCommand

from cocdesk.common.pruning import prune_records


class Command(BaseCommand):
    help = (
        "Deletes sent or cancelled notifications and finished background tasks older than keep_delivered_days, "
        "and expired throttle counts. Pending work is never deleted."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--keep-days",
            type=int,
            default=None,
            help=f"Keep this many days instead of keep_delivered_days ({settings.COCDESK_KEEP_DELIVERED_DAYS}).",
        )

    def handle(self, *args, keep_days=None, **options):
        deleted = prune_records(keep_days=keep_days)
        for kind, count in deleted.items():
            self.stdout.write(f"{count} {kind} deleted.")
