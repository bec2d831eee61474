from django.core.management.base import BaseCommand, CommandError

from cocdesk.cases.domain.keys import erase_case
from cocdesk.cases.models import Case


class Command(BaseCommand):
    help = "Erases a case for good by destroying its data key. Its content becomes unreadable everywhere."

    def add_arguments(self, parser):
        parser.add_argument("reference")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args, reference, yes=False, **options):
        case = Case.objects.filter(reference=reference.upper()).first()
        if case is None:
            raise CommandError(f"No case {reference}.")
        if case.is_erased:
            self.stdout.write(f"Case {case.reference} is already erased.")
            return
        if not yes and input(f"Erase case {case.reference} for good? Type its reference: ").strip() != case.reference:
            raise CommandError("Not erased.")
        erase_case(case)
        self.stdout.write(self.style.SUCCESS(f"Case {case.reference} erased: its data key is destroyed."))
        self.stdout.write(
            "Database backups taken earlier still hold the key wrapped under the current key-encryption key; run "
            "'manage.py rotate_keys --retire-old' to make those copies unreadable too."
        )
