from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    name = "complaints"
    verbose_name = _("Complaints and appeals")

    def ready(self):
        from evaluations.selectors import register_appeal_check

        from .services import pending_appeal_targets

        # A revocation proposal cannot be approved while any of its evidence is under a pending appeal.
        register_appeal_check(pending_appeal_targets)

        from tangshan_portal.documents import register_due_documents
        from tangshan_portal.models import IssuedDocument

        from .documents import appeal_decision_pdf
        from .models import Appeal, AppealStatus

        # A decided appeal carries its decision document; the sweep issues any that the decision failed to.
        register_due_documents(
            IssuedDocument.Kind.APPEAL_DECISION,
            lambda: Appeal.objects.filter(status__in=[AppealStatus.UPHELD, AppealStatus.REJECTED]).exclude(
                decided_at=None
            ),
            appeal_decision_pdf,
        )
