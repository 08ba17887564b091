"""Forms of the case admin: opening a case, proposing a revocation, and the fields each action needs.

They only collect input; the services in evaluations/services.py check it against the case and the policy
and do the work. Their errors are put back on these forms by evaluations/admin.py.
"""

from django import forms
from django.conf import settings
from django.contrib import admin
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from enterprises.models import ServiceContract
from providers.models import Provider
from tangshan_portal.forms import ChoiceListAutocompleteSelect
from tangshan_portal.grounds import Art12Ground, Art13Ground
from tangshan_portal.services import upload_check

from .models import Inspection, RectificationCase, RevocationCase


def _autocomplete(model, field_name):
    return ChoiceListAutocompleteSelect(model._meta.get_field(field_name), admin.site)


def _date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _text(rows=4):
    return forms.Textarea(attrs={"rows": rows, "cols": 60})


def _ground_choices(choices):
    return [("", "---------"), *choices]


class CaseForm(forms.Form):
    """Labels as the admin shows them (capitalised, required ones in bold)."""

    required_css_class = "required"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.label = capfirst(field.label)


class ContractChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.number} {obj.title}（{obj.provider.name}）"


class RectificationOpenForm(CaseForm):
    provider = forms.ModelChoiceField(
        label=_("provider"),
        queryset=Provider.objects.in_pool(),
        widget=_autocomplete(RectificationCase, "provider"),
        help_text=_("A provider in the resource pool; type part of its name or code to search."),
    )
    ground = forms.TypedChoiceField(
        label=_("Art 12 ground"),
        choices=_ground_choices(Art12Ground.choices),
        coerce=int,
        help_text=_("The case cites exactly one ground of Article 12; the notices quote the regulation's wording."),
    )
    finding = forms.CharField(
        label=_("finding"),
        widget=_text(6),
        help_text=_("What was found, as the provider will read it in the warning."),
    )
    contract = ContractChoiceField(
        label=_("contract concerned"),
        queryset=ServiceContract.objects.select_related("provider"),
        required=False,
        widget=_autocomplete(RectificationCase, "contract"),
        help_text=_("Optional: one of this provider's contracts; it is linked as evidence."),
    )


class RevocationProposeForm(CaseForm):
    provider = forms.ModelChoiceField(
        label=_("provider"),
        queryset=Provider.objects.in_pool(),
        widget=_autocomplete(RevocationCase, "provider"),
        help_text=_("A provider in the resource pool; type part of its name or code to search."),
    )
    ground = forms.TypedChoiceField(
        label=_("Art 13 ground"),
        choices=_ground_choices(Art13Ground.choices),
        coerce=int,
        help_text=_("The provider is told this ground with the regulation's wording and may state its case."),
    )
    finding = forms.CharField(
        label=_("finding"),
        widget=_text(6),
        help_text=_("The facts on which the proposal rests, as the provider and the approver will read them."),
    )


# --- The fields each action needs ----------------------------------------------------------------------------


class ConfirmForm(CaseForm):
    """An action that needs nothing but the user's confirmation."""


class OrderForm(CaseForm):
    deadline = forms.DateField(
        label=_("deadline"),
        widget=_date_input(),
        help_text=_("The last day for the provider's rectification report (format YYYY-MM-DD)."),
    )
    extension_reason = forms.CharField(
        label=_("reason for a longer deadline"),
        widget=_text(3),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["extension_reason"].help_text = _(
            "Only for a deadline more than %(days)s days after the order. Such a deadline also needs the "
            "permission to extend deadlines, and the reason is recorded with the case."
        ) % {"days": settings.RECTIFICATION_DAYS_MAX}


class VerifyForm(CaseForm):
    note = forms.CharField(
        label=_("closing note"),
        widget=_text(3),
        required=False,
        help_text=_("Optional; sent to the provider with the notice that the case is closed."),
    )


class ReturnForm(CaseForm):
    reason = forms.CharField(
        label=_("what is still missing"),
        widget=_text(4),
        help_text=_("Sent to the provider, who must rectify and report again."),
    )
    new_deadline = forms.DateField(
        label=_("new deadline"),
        widget=_date_input(),
        required=False,
        help_text=_(
            "Leave empty to keep the current deadline. Needed when the current deadline has passed (format YYYY-MM-DD)."
        ),
    )
    extension_reason = forms.CharField(
        label=_("reason for a longer deadline"),
        widget=_text(3),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["extension_reason"].help_text = _(
            "Only for a new deadline more than %(days)s days after the original order; it also needs the "
            "permission to extend deadlines."
        ) % {"days": settings.RECTIFICATION_DAYS_MAX}


class ReasonForm(CaseForm):
    reason = forms.CharField(label=_("reason"), widget=_text(4))


class DecisionForm(CaseForm):
    reason = forms.CharField(
        label=_("reasons for the decision"),
        widget=_text(5),
        help_text=_("Recorded with the decision and sent to the provider."),
    )


# --- Inspections (Art 11) ----------------------------------------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field; `clean` returns a list (empty when none were chosen)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else [data]
        files = [item for item in files if item]
        if not files:
            return super().clean(None, initial) or []
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


class InspectionRecordForm(CaseForm):
    kind = forms.ChoiceField(label=_("kind of inspection"), choices=[("", "---------"), *Inspection.Kind.choices])
    provider = forms.ModelChoiceField(
        label=_("provider"),
        queryset=Provider.objects.order_by("name"),
        widget=_autocomplete(Inspection, "provider"),
        help_text=_("The provider inspected; type part of its name or code to search."),
    )
    contract = ContractChoiceField(
        label=_("contract concerned"),
        queryset=ServiceContract.objects.select_related("provider"),
        required=False,
        widget=_autocomplete(Inspection, "contract"),
        help_text=_("Optional: one of this provider's contracts, for a project spot check for example."),
    )
    conducted_on = forms.DateField(
        label=_("date"), widget=_date_input(), help_text=_("The day of the inspection (format YYYY-MM-DD).")
    )
    findings = forms.CharField(
        label=_("findings"),
        widget=_text(6),
        help_text=_("What was asked, seen or checked, and what was found."),
    )
    issues_found = forms.BooleanField(
        label=_("problems found"),
        required=False,
        help_text=_("Tick when the findings show problems; a rectification case can then be opened from the record."),
    )
    attachments = MultipleFileField(
        label=_("attachments"),
        required=False,
        help_text=_("Optional: questionnaires, minutes, photos. PDF, PNG or JPEG images, or Office documents."),
    )

    def clean_attachments(self):
        files = self.cleaned_data["attachments"]
        errors = []
        for uploaded in files:
            try:
                upload_check(uploaded)
            except forms.ValidationError as error:
                errors.extend(error.messages)
        if errors:
            raise forms.ValidationError(errors)
        return files


class InspectionCaseForm(CaseForm):
    ground = forms.TypedChoiceField(
        label=_("Art 12 ground"),
        choices=_ground_choices(Art12Ground.choices),
        coerce=int,
        help_text=_("The case cites exactly one ground of Article 12; the notices quote the regulation's wording."),
    )
    finding = forms.CharField(
        label=_("finding"),
        widget=_text(6),
        help_text=_(
            "What was found, as the provider will read it in the warning; starts from the inspection's findings."
        ),
    )
