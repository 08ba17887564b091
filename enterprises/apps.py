from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnterprisesConfig(AppConfig):
    name = "enterprises"
    verbose_name = _("Pilot enterprises and contracts")

    def ready(self):
        from tangshan_portal.documents import register_due_documents
        from tangshan_portal.models import IssuedDocument

        from .documents import internal_acceptance_pdf
        from .models import InternalAcceptance

        # A signed internal acceptance carries its certificate; the sweep issues any the signature failed to.
        register_due_documents(
            IssuedDocument.Kind.INTERNAL_ACCEPTANCE,
            lambda: InternalAcceptance.objects.filter(status=InternalAcceptance.Status.SIGNED).exclude(
                enterprise_signed_at=None
            ),
            internal_acceptance_pdf,
        )
