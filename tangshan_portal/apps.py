from pathlib import Path

from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "tangshan_portal"
    # A short label keeps table names and AUTH_USER_MODEL ("portal.User") independent of the city.
    label = "portal"
    verbose_name = _("Portal")

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import otp, signals  # noqa: F401  (connects the audit receivers; registers the second factor's checks)
        from .imports import import_job_run
        from .jobs import register_runner
        from .models import BackgroundJob

        # Large registry imports run as background jobs (tangshan_portal/imports.py); the admins that import
        # register their resources when the admin site is set up, in the worker as in the web process.
        register_runner(BackgroundJob.Kind.IMPORT, import_job_run)

        post_migrate.connect(_sync_after_migrate, sender=self, dispatch_uid="portal_sync_after_migrate")

        # The filesystem broker needs its folders before the first message; creating them here means
        # neither the web process nor the worker depends on who started first.
        # WhiteNoise warns on every start while STATIC_ROOT is missing (before the first collectstatic).
        for folder in [*getattr(settings, "CELERY_FILESYSTEM_DIRS", []), settings.STATIC_ROOT]:
            Path(folder).mkdir(parents=True, exist_ok=True)


def _sync_after_migrate(sender, using, **kwargs):
    """Every deployment runs migrate, and `flush` emits the same signal: syncing here means the role groups,
    reference data and beat schedule always match the code and settings, also after a later migration
    adds models or a test flushes the database."""
    from .reference import load_counties, load_scenarios
    from .roles import sync_role_groups
    from .schedules import sync_schedules
    from .workdays import load_official_calendar

    load_counties()
    load_scenarios()
    load_official_calendar()
    sync_role_groups()
    sync_schedules(using=using)
