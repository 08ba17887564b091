"""The fields each complaint and appeal action of the admin needs.

They only collect input; complaints/services.py checks it against the record and does the work, and
complaints/admin.py puts the service's errors back on these forms.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from evaluations.admin_forms import CaseForm

from .models import AppealType


def _text(rows):
    return forms.Textarea(attrs={"rows": rows, "cols": 60})


# --- Complaints --------------------------------------------------------------------------------------------------


class AcceptForm(CaseForm):
    note = forms.CharField(
        label=_("note to the complainant"),
        widget=_text(3),
        required=False,
        help_text=_("Optional; sent to the enterprise with the notice that its complaint was accepted."),
    )


class RejectForm(CaseForm):
    reason = forms.CharField(
        label=_("reason for not accepting"),
        widget=_text(4),
        help_text=_("Sent to the enterprise; the complaint is closed."),
    )


class InvestigateForm(CaseForm):
    note = forms.CharField(
        label=_("note"),
        widget=_text(3),
        required=False,
        help_text=_("Optional; recorded in the timeline (for example, who investigates and how)."),
    )


class ConcludeForm(CaseForm):
    substantiated = forms.TypedChoiceField(
        label=_("outcome"),
        choices=[("yes", _("Substantiated")), ("no", _("Not substantiated"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    conclusion = forms.CharField(
        label=_("conclusion"),
        widget=_text(5),
        help_text=_("Sent to the enterprise; for a substantiated complaint it is also the finding of the new case."),
    )


# --- Appeals -----------------------------------------------------------------------------------------------------


class AppealDecisionForm(CaseForm):
    decision = forms.CharField(
        label=_("reasons for the decision"),
        widget=_text(5),
        help_text=_("Recorded with the appeal and sent to the provider."),
    )


class UpholdForm(AppealDecisionForm):
    """For an appeal against a missed deadline (Art 16(1)) the reviewer sets the new deadline."""

    new_deadline = forms.DateField(
        label=_("new deadline"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The new last day for the provider's rectification report, after today (format YYYY-MM-DD)."),
    )

    def __init__(self, *args, appeal, **kwargs):
        super().__init__(*args, **kwargs)
        if appeal.appeal_type != AppealType.DIAGNOSIS_DELAYED:
            del self.fields["new_deadline"]
