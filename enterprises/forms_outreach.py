"""Forms of the diagnosis, dossier-survey, matchmaking and training pages. They check input only; the
services in enterprises.services_outreach decide who may do what."""

from django import forms
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tangshan_portal.forms import MultipleFileField
from tangshan_portal.models import County, Scenario
from tangshan_portal.services import MAX_UPLOAD_BYTES, upload_check

from . import selectors_outreach as selectors
from .models import CooperationIntention, DiagnosisFinding, DossierSurvey, PilotEnterprise, TrainingTopic

MAX_FILES = 10
MAX_TEXT_LENGTH = 10000
ACCEPTED_FILE_TYPES = ".pdf,.png,.jpg,.jpeg,.doc,.docx,.xls,.xlsx,.ppt,.pptx"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


def _text(label, *, required=True, rows=5, help_text=""):
    return forms.CharField(
        label=label,
        required=required,
        max_length=MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": rows}),
        help_text=help_text,
    )


class EnterpriseChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name}（{obj.county.name}）"


class FilesForm(forms.Form):
    """Attachments: a diagnosis report's supporting files, a training session's materials."""

    files = MultipleFileField(label=_("Files"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["files"].widget.attrs["accept"] = ACCEPTED_FILE_TYPES
        # Built per request: in the user's language and following the upload policy as it is now.
        self.fields["files"].help_text = gettext(
            "Up to %(count)s files: PDF, PNG or JPEG images, or Office documents, each at most %(size)s."
        ) % {"count": MAX_FILES, "size": filesizeformat(MAX_UPLOAD_BYTES)}

    def clean_files(self):
        files = self.cleaned_data.get("files") or []
        if not files:
            raise ValidationError(gettext("Choose at least one file."), code="required")
        if len(files) > MAX_FILES:
            raise ValidationError(gettext("Attach at most %(count)s files.") % {"count": MAX_FILES}, code="too_many")
        errors = []
        for uploaded in files:
            try:
                upload_check(uploaded)
            except ValidationError as exc:
                errors.extend(exc.error_list)
        if errors:
            raise ValidationError(errors)
        return files


# --- Diagnosis (Art 5) -------------------------------------------------------------------------------------------


class DiagnosisForm(forms.Form):
    enterprise = EnterpriseChoiceField(
        label=_("Enterprise diagnosed"),
        queryset=PilotEnterprise.objects.none(),
        empty_label=_("— choose an enterprise —"),
        help_text=_("An enterprise you have a contract with, or a cooperation intention it confirmed."),
    )
    diagnosed_on = forms.DateField(label=_("Diagnosed on"), widget=DateInput())
    summary = _text(
        _("Overall assessment"),
        rows=6,
        help_text=_("The enterprise's digital situation as a whole and the direction of its transformation."),
    )
    free_of_charge = forms.BooleanField(
        label=_("I declare that this diagnosis is provided free of charge, as a public-interest service (Art 5)."),
        error_messages={"required": _("Declare that the diagnosis is provided free of charge (Art 5).")},
        help_text=_("Art 5 requires the consulting diagnosis to be free (公益性): nothing may be charged for it."),
    )

    def __init__(self, *args, provider=None, report=None, **kwargs):
        super().__init__(*args, **kwargs)
        if report is not None:
            # The enterprise of a report is fixed once it is created.
            del self.fields["enterprise"]
        else:
            self.fields["enterprise"].queryset = selectors.diagnosable_enterprises(provider).select_related("county")

    def clean_summary(self):
        summary = self.cleaned_data["summary"].strip()
        if not summary:
            raise ValidationError(gettext("Give the overall assessment."), code="required")
        return summary


class FindingForm(forms.Form):
    scenario = forms.TypedChoiceField(
        label=_("Scenario"),
        coerce=int,
        help_text=_("The Art 5 scenario this finding is about; one finding per scenario."),
    )
    current_state = _text(_("Current state"), rows=4, help_text=_("What the enterprise has and does now."))
    recommendation = _text(_("Recommended retrofit"), rows=4, help_text=_("The digital retrofit you recommend."))
    priority = forms.ChoiceField(
        label=_("Priority"),
        choices=DiagnosisFinding.Priority.choices,
        initial=DiagnosisFinding.Priority.MEDIUM,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, report, finding=None, **kwargs):
        super().__init__(*args, **kwargs)
        taken = report.findings.values_list("scenario_id", flat=True)
        if finding is not None:
            taken = taken.exclude(pk=finding.pk)
        self.fields["scenario"].choices = [("", gettext("— choose a scenario —")), *selectors.scenario_choices(taken)]

    def clean_scenario(self):
        scenario = Scenario.objects.filter(pk=self.cleaned_data["scenario"]).first()
        if scenario is None:
            raise ValidationError(gettext("Choose a scenario from the list."), code="invalid_choice")
        return scenario

    def clean(self):
        cleaned = super().clean()
        for name in ("current_state", "recommendation"):
            if name in cleaned and not cleaned[name].strip():
                self.add_error(name, gettext("This field is required."))
        return cleaned


# --- Dossier survey (Art 6(2)) -----------------------------------------------------------------------------------


class DossierSurveyForm(forms.ModelForm):
    class Meta:
        model = DossierSurvey
        fields = [
            "surveyed_on",
            "production_process",
            "supply_chain",
            "intellectual_property",
            "other_core_information",
        ]
        widgets = {
            "surveyed_on": DateInput(),
            "production_process": forms.Textarea(attrs={"rows": 6}),
            "supply_chain": forms.Textarea(attrs={"rows": 6}),
            "intellectual_property": forms.Textarea(attrs={"rows": 4}),
            "other_core_information": forms.Textarea(attrs={"rows": 4}),
        }
        help_texts = {
            "production_process": _("How the enterprise produces: processes, equipment, lines and their data."),
            "supply_chain": _("Suppliers, customers, logistics and the data exchanged along the chain."),
            "intellectual_property": _("Patents, software copyrights, trade marks and know-how, where relevant."),
            "other_core_information": _("Business situation, technical reserves and transformation needs."),
        }


# --- Matchmaking (Art 4) ---------------------------------------------------------------------------------------


class ScenarioMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class IntentionForm(forms.Form):
    enterprise = EnterpriseChoiceField(
        label=_("Enterprise"),
        queryset=PilotEnterprise.objects.none(),
        empty_label=_("— choose an enterprise —"),
        help_text=_("Only enterprises the county bureau recorded as present at this event."),
    )
    scenarios = ScenarioMultipleChoiceField(
        label=_("Scenarios of the intended cooperation"),
        queryset=Scenario.objects.order_by("sort_order", "code"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    note = _text(
        _("What was agreed"),
        rows=5,
        help_text=_("The cooperation you and the enterprise intend: needs, next steps, contacts."),
    )

    def __init__(self, *args, event, provider, **kwargs):
        super().__init__(*args, **kwargs)
        # Those this provider already recorded an intention with at this event are not offered again.
        self.fields["enterprise"].queryset = (
            selectors.event_enterprises_present(event)
            .exclude(pk__in=CooperationIntention.objects.filter(event=event, provider=provider).values("enterprise_id"))
            .select_related("county")
        )

    def clean_note(self):
        note = self.cleaned_data["note"].strip()
        if not note:
            raise ValidationError(gettext("Say what was agreed."), code="required")
        return note

    def scenario_groups(self):
        """The scenario checkboxes grouped by the four families of Art 5, for one fieldset each."""
        by_pk = {str(option.data["value"]): option for option in self["scenarios"]}
        groups = []
        for label, options in selectors.scenario_choices():
            groups.append((label, [by_pk[value] for value, _name in options if value in by_pk]))
        return groups


# --- Training (Art 7) ------------------------------------------------------------------------------------------


class TrainingForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    topics = forms.MultipleChoiceField(
        label=_("Topics"),
        choices=TrainingTopic.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one topic of Art 7.")},
        help_text=_("The free training of Art 7: digital tools, digitised processes, data security, policy."),
    )
    held_on = forms.DateField(label=_("Date"), widget=DateInput())
    hours = forms.DecimalField(label=_("Hours"), min_value=0.5, max_digits=4, decimal_places=1)
    county = forms.ModelChoiceField(
        label=_("County"),
        queryset=County.objects.order_by("code"),
        required=False,
        empty_label=_("— city-wide or not tied to a county —"),
    )
    venue = forms.CharField(label=_("Venue"), max_length=200)
    description = _text(_("Content"), required=False, rows=6)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["hours"].widget.attrs["step"] = "0.5"


class TrainingAttendanceForm(forms.Form):
    enterprise = EnterpriseChoiceField(
        label=_("Enterprise"),
        queryset=PilotEnterprise.objects.select_related("county").order_by("name", "pk"),
        empty_label=_("— choose an enterprise —"),
    )
    attendees = forms.IntegerField(
        label=_("Number of attendees"),
        min_value=1,
        max_value=9999,
        error_messages={"min_value": _("At least one person attended.")},
    )
    names = _text(
        _("Attendees' names"),
        required=False,
        rows=3,
        help_text=_("Optional; one name per line, or separated by commas."),
    )
