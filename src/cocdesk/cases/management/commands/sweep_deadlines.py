import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from cocdesk.cases.domain.clock import sweep
from cocdesk.common.pruning import PruneSchedule
from cocdesk.notify.tasks import requeue_stalled


class Command(BaseCommand):
    help = (
        "Sends due deadline reminders and escalations, and re-queues notifications whose delivery stalled. "
        "With --every N, keeps doing it every N seconds, and prunes old records once an hour."
    )

    def add_arguments(self, parser):
        parser.add_argument("--every", type=int, default=0, help="Repeat every N seconds (0: once).")

    def handle(self, *args, every=0, **options):
        pruning = PruneSchedule()
        while True:
            sent = sweep()
            requeue_stalled()
            if sent or not every:
                self.stdout.write(f"{sent} reminder(s) or escalation(s) sent.")
            if not every:
                return
            pruned = pruning.run_if_due()
            if pruned and any(pruned.values()):
                self.stdout.write(", ".join(f"{count} {kind}" for kind, count in pruned.items()) + " pruned.")
            time.sleep(every)
            # No request ends in this loop to apply CONN_MAX_AGE and the health check, so it is done here: a
            # connection broken by a database restart is replaced instead of failing every sweep after it.
            close_old_connections()
