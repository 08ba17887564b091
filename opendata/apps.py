from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpendataConfig(AppConfig):
    """The public portal and open data (Art 10(3), 13, 15): public pages, the versioned API and bulk downloads.
    It reads every app, so it comes last in the dependency chain."""

    name = "opendata"
    verbose_name = _("Public portal and open data")

    def ready(self):
        from . import signals  # noqa: F401
