from django.core.management.base import BaseCommand

from tangshan_portal.schedules import PERIODIC_TASKS, sync_schedules


class Command(BaseCommand):
    help = "Create or update the periodic tasks declared in code in django-celery-beat's schedule tables."

    def handle(self, *args, **options):
        sync_schedules()
        self.stdout.write(f"{len(PERIODIC_TASKS)} periodic task(s) in the schedule.")
