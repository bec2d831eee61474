import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from cocdesk.cases.domain.clock import sweep
from cocdesk.cases.domain.retention import RetentionSchedule
from cocdesk.common.pruning import PruneSchedule
from cocdesk.notify.tasks import requeue_stalled
from cocdesk.sanctions.domain import expiry as sanction_expiry


class Command(BaseCommand):
    help = (
        "Sends due deadline reminders and escalations, and re-queues notifications whose delivery stalled. "
        "Ends temporary sanctions whose end has passed, telling the leads beforehand. "
        "Once an hour, tells the leads of closed cases coming up for erasure and erases those past their "
        "organization's retention. With --every N, keeps doing it every N seconds, and prunes old records once an hour."
    )

    def add_arguments(self, parser):
        parser.add_argument("--every", type=int, default=0, help="Repeat every N seconds (0: once).")

    def handle(self, *args, every=0, **options):
        pruning = PruneSchedule()
        # Hourly, not every minute: the minute's sweep stays one indexed query when nothing is due.
        retention = RetentionSchedule()
        while True:
            sent = sweep()
            requeue_stalled()
            if sent or not every:
                self.stdout.write(f"{sent} reminder(s) or escalation(s) sent.")
            # Every minute: one indexed query when no sanction is due to end or to be announced.
            ended = sanction_expiry.run_safely()
            if ended and any(ended.values()):
                self.stdout.write(f"Sanctions: {ended['noticed']} end notice(s) sent, {ended['expired']} expired.")
            retained = retention.run_if_due()
            if retained and any(retained.values()):
                self.stdout.write(
                    f"Retention: {retained['noticed']} notice(s) sent, {retained['erased']} case(s) erased."
                )
            if not every:
                return
            pruned = pruning.run_if_due()
            if pruned and any(pruned.values()):
                self.stdout.write(", ".join(f"{count} {kind}" for kind, count in pruned.items()) + " pruned.")
            time.sleep(every)
            # No request ends in this loop to apply CONN_MAX_AGE and the health check, so it is done here: a
            # connection broken by a database restart is replaced instead of failing every sweep after it.
            close_old_connections()
