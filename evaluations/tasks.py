from celery import shared_task

from . import services


@shared_task(name="evaluations.check_deadlines")
def check_deadlines():
    """Hourly (django-celery-beat): overdue cases, reminders and the rule engine."""
    return services.deadlines_check()
