from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DossiersConfig(AppConfig):
    """The one-enterprise-one-dossier (Art 6(2)): a read-only page over every app's records and its PDF, and the
    Art 10(1) records that govern it: the enterprise's consent to share it and the destruction at the end of
    service."""

    name = "dossiers"
    verbose_name = _("Enterprise dossiers")

    def ready(self):
        # The portal's job machinery knows no app; each app registers the work it owns.
        from tangshan_portal.jobs import register_runner
        from tangshan_portal.models import BackgroundJob

        from .documents import dossier_pdf_job

        register_runner(BackgroundJob.Kind.DOSSIER_PDF, dossier_pdf_job)
