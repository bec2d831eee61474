import time

from django.core.management.base import BaseCommand

from cocdesk.cases.domain.clock import sweep
from cocdesk.notify.tasks import requeue_stalled


class Command(BaseCommand):
    help = (
        "Sends due deadline reminders and escalations, and re-queues notifications whose delivery stalled. "
        "With --every N, keeps doing it every N seconds."
    )

    def add_arguments(self, parser):
        parser.add_argument("--every", type=int, default=0, help="Repeat every N seconds (0: once).")

    def handle(self, *args, every=0, **options):
        while True:
            sent = sweep()
            requeue_stalled()
            if sent or not every:
                self.stdout.write(f"{sent} reminder(s) or escalation(s) sent.")
            if not every:
                return
            time.sleep(every)
