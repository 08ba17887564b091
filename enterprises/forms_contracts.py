"""Forms of both sides' contract pages. They check input only; enterprises.services decides what the contract
allows and raises the errors that the views put back on these forms."""

from django import forms
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tangshan_portal.forms import MultipleFileField
from tangshan_portal.models import Scenario
from tangshan_portal.services import MAX_UPLOAD_BYTES, upload_check
from tangshan_portal.validators import normalize_uscc, validate_uscc

from .models import ChangeRequest, InternalAcceptance, Milestone, PilotEnterprise, ProcurementItem, ServiceContract

MAX_TEXT_LENGTH = 10000
MAX_ACCEPTANCE_FILES = 20
ACCEPTED_FILE_TYPES = ".pdf,.png,.jpg,.jpeg,.doc,.docx,.xls,.xlsx,.ppt,.pptx"
DATE_FORMAT = "%Y-%m-%d"


def _date_widget():
    return forms.DateInput(attrs={"type": "date"}, format=DATE_FORMAT)


def _text(label, *, required=True, rows=4, help_text=""):
    return forms.CharField(
        label=label,
        required=required,
        max_length=MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": rows}),
        help_text=help_text,
    )


def _file_help(count=None):
    if count:
        return gettext(
            "Up to %(count)s files: PDF, PNG or JPEG images, or Office documents, each at most %(size)s."
        ) % {"count": count, "size": filesizeformat(MAX_UPLOAD_BYTES)}
    return gettext("A PDF, PNG or JPEG image, or Office document of at most %(size)s.") % {
        "size": filesizeformat(MAX_UPLOAD_BYTES)
    }


def _checked_files(files, limit):
    if len(files) > limit:
        raise ValidationError(gettext("Attach at most %(count)s files.") % {"count": limit}, code="too_many_files")
    errors = []
    for uploaded in files:
        try:
            upload_check(uploaded)
        except ValidationError as exc:
            errors.extend(exc.error_list)
    if errors:
        raise ValidationError(errors)
    return files


class ScenarioChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        # Ordered by family (Art 5), so the name alone reads well.
        return obj.name


# --- Provider ----------------------------------------------------------------------------------------------

PLAN_FIELDS = (
    "plan_goals",
    "plan_content",
    "plan_process",
    "plan_deliverables",
    "quality_control",
    "maintenance_commitment",
)
TERMS_FIELDS = ("number", "title", "amount", "subsidy", "advance_payment", "start_on", "end_on")


class ContractForm(forms.ModelForm):
    """The draft's terms and its service plan (Art 6(1), 10(2), 10(3)). A new draft names the enterprise by its
    Unified Social Credit Code; the enterprise of an existing draft does not change."""

    enterprise_uscc = forms.CharField(
        label=_("Enterprise's Unified Social Credit Code"),
        max_length=40,
        help_text=_("The 18-character code of the pilot enterprise you signed with."),
    )
    scenarios = ScenarioChoiceField(
        label=_("Scenarios covered"),
        queryset=Scenario.objects.order_by("sort_order", "code"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The scenarios of Art 5 that the project transforms."),
    )

    class Meta:
        model = ServiceContract
        fields = [*TERMS_FIELDS, "scenarios", *PLAN_FIELDS]
        widgets = {
            "start_on": _date_widget(),
            "end_on": _date_widget(),
            **{name: forms.Textarea(attrs={"rows": 4}) for name in PLAN_FIELDS},
        }
        help_texts = {
            "plan_goals": _("What the enterprise will have achieved, including the digital level it aims at."),
            "plan_content": _("The software and hardware selected, procured, installed and commissioned."),
            "plan_process": _("The phases of the work and how the enterprise takes part in them."),
            "plan_deliverables": _("The systems, documents and data handed over at the end."),
            "quality_control": _("How quality is controlled and how the results are evaluated periodically."),
            "maintenance_commitment": _("How the systems are operated and maintained after the pilot ends."),
        }

    def __init__(self, *args, new=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.enterprise = None
        if not new:
            del self.fields["enterprise_uscc"]
        else:
            self.order_fields(["enterprise_uscc"])

    def clean_enterprise_uscc(self):
        code = normalize_uscc(self.cleaned_data["enterprise_uscc"])
        validate_uscc(code)
        self.enterprise = PilotEnterprise.objects.filter(uscc=code).first()
        if self.enterprise is None:
            raise ValidationError(
                gettext("No pilot enterprise is registered with this code. Check it, or ask the bureau."),
                code="unknown_enterprise",
            )
        return code

    def terms(self):
        return {name: self.cleaned_data[name] for name in (*TERMS_FIELDS, *PLAN_FIELDS)}

    def plan_fields(self):
        return [self[name] for name in PLAN_FIELDS]

    def terms_fields(self):
        return [self[name] for name in TERMS_FIELDS]


class MilestoneForm(forms.ModelForm):
    class Meta:
        model = Milestone
        fields = ["name", "planned_on", "weight"]
        widgets = {"planned_on": _date_widget()}
        help_texts = {
            "weight": _("The milestone's share of the whole project; the weights of all milestones add up to 100.")
        }


class ProductChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return gettext("%(name)s (list price %(price)s yuan per %(unit)s)") % {
            "name": obj.name,
            "price": obj.list_price,
            "unit": obj.unit,
        }


class ProcurementItemForm(forms.ModelForm):
    """A line of the procurement list (Art 12(3)): from the provider's own catalogue, or described freely."""

    product = ProductChoiceField(
        label=_("Product from your catalogue"),
        queryset=None,
        required=False,
        empty_label=_("— not from the catalogue —"),
        help_text=_(
            "Optional. A catalogue product is compared with its list price; leave the name and unit empty to take "
            "them from the catalogue."
        ),
    )
    name = forms.CharField(label=_("Item"), max_length=200, required=False)
    unit = forms.CharField(label=_("Unit"), max_length=20, required=False)

    class Meta:
        model = ProcurementItem
        fields = ["product", "name", "function", "purpose", "quantity", "unit", "unit_price", "reference_price"]
        widgets = {"function": forms.Textarea(attrs={"rows": 3}), "purpose": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "unit_price": _("The price the enterprise pays per unit."),
        }

    def __init__(self, *args, provider, **kwargs):
        super().__init__(*args, **kwargs)
        products = provider.products.filter(is_active=True)
        if self.instance.product_id:
            # A product taken off the catalogue stays choosable on the line that already uses it.
            products = products | provider.products.filter(pk=self.instance.product_id)
        self.fields["product"].queryset = products.order_by("name")

    def clean(self):
        cleaned = super().clean()
        product = cleaned.get("product")
        missing = {
            "name": gettext("Name the item, or choose a catalogue product."),
            "unit": gettext("Enter the unit, or choose a catalogue product."),
        }
        for name, message in missing.items():
            if cleaned.get(name) or name in self.errors:
                continue
            if product is not None:
                cleaned[name] = getattr(product, name)
            else:
                self.add_error(name, ValidationError(message, code="required"))
        return cleaned


class NdaForm(forms.Form):
    """Art 10(2): the signed confidentiality agreement."""

    signed_on = forms.DateField(label=_("Signed on"), widget=_date_widget())
    file = forms.FileField(label=_("Signed agreement"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _file_help()
        self.fields["file"].widget.attrs["accept"] = ACCEPTED_FILE_TYPES

    def clean_signed_on(self):
        signed_on = self.cleaned_data["signed_on"]
        if signed_on > timezone.localdate():
            raise ValidationError(gettext("The signing date cannot be in the future."), code="future")
        return signed_on

    def clean_file(self):
        return _checked_files([self.cleaned_data["file"]], 1)[0]


class ProgressReportForm(forms.Form):
    """A regular progress report to the enterprise (Art 6(3))."""

    milestone = forms.ModelChoiceField(label=_("Milestone"), queryset=None, empty_label=_("— choose a milestone —"))
    progress = forms.IntegerField(
        label=_("Progress of the milestone (%)"),
        min_value=0,
        max_value=100,
        help_text=_(
            "How much of this milestone is done, from 0 to 100. It counts once the enterprise acknowledges it."
        ),
    )
    summary = _text(_("Work done"), rows=5)
    problems = _text(_("Problems and proposed solutions"), required=False)
    next_steps = _text(_("Next steps"), required=False)

    def __init__(self, *args, contract, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["milestone"].queryset = contract.milestones.order_by("planned_on", "id")


class ChangeRequestForm(forms.Form):
    """A change to the signed contract that the enterprise must agree to (Art 6(3))."""

    description = _text(ChangeRequest._meta.get_field("description").verbose_name, rows=5)
    reason = _text(ChangeRequest._meta.get_field("reason").verbose_name)
    new_end_on = forms.DateField(
        label=ChangeRequest._meta.get_field("new_end_on").verbose_name,
        required=False,
        widget=_date_widget(),
        help_text=_("Only when the change moves the end of the contract."),
    )
    new_amount = forms.DecimalField(
        label=ChangeRequest._meta.get_field("new_amount").verbose_name,
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        help_text=_("Only when the change alters the contract amount. It cannot fall below the subsidy or advance."),
    )


class InternalAcceptanceForm(forms.Form):
    """The joint internal acceptance (Art 8), signed by the provider with the archived documents."""

    held_on = forms.DateField(label=InternalAcceptance._meta.get_field("held_on").verbose_name, widget=_date_widget())
    participants = _text(
        InternalAcceptance._meta.get_field("participants").verbose_name,
        rows=3,
        help_text=_("Who took part for the enterprise and for you, with their positions."),
    )
    conclusion = _text(InternalAcceptance._meta.get_field("conclusion").verbose_name, rows=5)
    documents = MultipleFileField(
        label=_("Implementation and acceptance documents"),
        error_messages={"required": _("Attach at least one document (Art 8).")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["documents"].help_text = _file_help(MAX_ACCEPTANCE_FILES)
        self.fields["documents"].widget.attrs["accept"] = ACCEPTED_FILE_TYPES

    def clean_documents(self):
        files = self.cleaned_data.get("documents") or []
        if not files:
            raise ValidationError(self.fields["documents"].error_messages["required"], code="required")
        return _checked_files(files, MAX_ACCEPTANCE_FILES)


# --- Enterprise --------------------------------------------------------------------------------------------


class SignForm(forms.Form):
    confirm = forms.BooleanField(
        label=_(
            "We signed this contract as shown on this page, with its service plan, milestones and procurement list."
        ),
        error_messages={"required": _("Confirm that you signed the contract as shown.")},
    )


class ReturnForm(forms.Form):
    reason = _text(
        _("What must change before you sign"),
        help_text=_("The provider sees this and sends a revised draft."),
    )


class AnswerForm(forms.Form):
    """The enterprise's answer to a progress report or a change request: the comment is optional when it
    agrees and required when it does not (the service says so)."""

    comment = _text(_("Comment"), required=False, rows=3)


class AcceptanceAnswerForm(forms.Form):
    reason = _text(
        _("Reason, if you do not sign"),
        required=False,
        rows=3,
        help_text=_("Required when you refuse: the provider prepares a new acceptance."),
    )
