import os

from celery import Celery
from celery.signals import setup_logging, task_postrun, task_prerun

from . import logs

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tangshan_portal.settings")

app = Celery("tangshan_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def use_the_portal_logging(**kwargs):
    """The worker and beat log like the web processes (settings.LOGGING, tangshan_portal/logs.py): with a receiver
    for this signal Celery leaves the logging configuration alone instead of installing its own format."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


task_prerun.connect(logs.task_started, weak=False)
task_postrun.connect(logs.task_finished, weak=False)
