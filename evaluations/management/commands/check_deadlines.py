from django.core.management.base import BaseCommand

from evaluations.services import deadlines_check


class Command(BaseCommand):
    help = (
        "Mark overdue rectification cases, write deadline reminders and run the Art 13 rule engine "
        "(the same service as the hourly task; safe to run at any time, also twice at once)."
    )

    def handle(self, *args, **options):
        result = deadlines_check()
        self.stdout.write(
            f"overdue: {result['overdue']}, reminders: {result['reminders']}, proposals: {result['proposals']}"
        )
