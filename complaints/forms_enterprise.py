"""Forms of the enterprise's self-service pages. They check input only; the services decide what is allowed."""

from django import forms
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from evaluations.models import SatisfactionRating
from providers.models import POOL_STATUSES, Provider, ProviderStatus
from tangshan_portal import services as portal_services
from tangshan_portal.forms import MultipleFileField

from .models import Complaint, ComplaintCategory

MAX_COMPLAINT_FILES = 10
MAX_TEXT_LENGTH = 10000
# Art 11: a complaint may concern any provider that is or was in the resource pool.
COMPLAINABLE_PROVIDER_STATUSES = (*POOL_STATUSES, ProviderStatus.REVOKED, ProviderStatus.WITHDRAWN)
ACCEPTED_FILE_TYPES = ".pdf,.png,.jpg,.jpeg,.doc,.docx,.xls,.xlsx,.ppt,.pptx"


class ProviderChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        if obj.is_in_pool:
            return obj.name
        return gettext("%(name)s (%(status)s)") % {"name": obj.name, "status": obj.get_status_display()}


class ContractChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.number} {obj.title} — {obj.provider.name}"


class ComplaintForm(forms.Form):
    provider = ProviderChoiceField(
        label=_("Provider complained about"),
        queryset=Provider.objects.none(),
        empty_label=_("— choose a provider —"),
        help_text=_("Any provider that is or was in the resource pool, whether you have a contract with it or not."),
    )
    contract = ContractChoiceField(
        label=_("Your contract with this provider"),
        queryset=None,
        required=False,
        empty_label=_("— no contract, or not about a contract —"),
        help_text=_("Optional: choose the contract the complaint is about."),
    )
    category = forms.ChoiceField(
        label=_("What the complaint is about"),
        choices=[("", _("— choose a category —")), *ComplaintCategory.choices],
        help_text=_("The category tells the bureau which rule of the regulation the complaint concerns."),
    )
    description = forms.CharField(
        label=_("What happened"),
        max_length=MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Describe the facts: what happened, when, and who was involved."),
    )
    protect_identity = forms.BooleanField(
        label=Complaint._meta.get_field("protect_identity").verbose_name,
        help_text=Complaint._meta.get_field("protect_identity").help_text,
        required=False,
    )
    files = MultipleFileField(label=_("Attachments"), required=False)

    def __init__(self, *args, enterprise, **kwargs):
        super().__init__(*args, **kwargs)
        self.enterprise = enterprise
        self.fields["provider"].queryset = Provider.objects.filter(status__in=COMPLAINABLE_PROVIDER_STATUSES).order_by(
            "name", "id"
        )
        self.fields["contract"].queryset = enterprise.contracts.select_related("provider").order_by(
            "-start_on", "number"
        )
        self.fields["files"].widget.attrs["accept"] = ACCEPTED_FILE_TYPES
        # Built per request: in the user's language and following the upload policy as it is now.
        self.fields["files"].help_text = gettext(
            "Optional, up to %(count)s files: PDF, PNG or JPEG images, or Office documents, each at most %(size)s."
        ) % {"count": MAX_COMPLAINT_FILES, "size": filesizeformat(portal_services.MAX_UPLOAD_BYTES)}

    def clean_description(self):
        description = self.cleaned_data["description"].strip()
        if not description:
            raise ValidationError(gettext("Describe what happened."), code="required")
        return description

    def clean_files(self):
        files = self.cleaned_data.get("files") or []
        if len(files) > MAX_COMPLAINT_FILES:
            raise ValidationError(
                gettext("Attach at most %(count)s files.") % {"count": MAX_COMPLAINT_FILES}, code="too_many_files"
            )
        errors = []
        for uploaded in files:
            try:
                portal_services.upload_check(uploaded)
            except ValidationError as exc:
                errors.extend(exc.error_list)
        if errors:
            raise ValidationError(errors)
        return files

    def clean(self):
        cleaned = super().clean()
        provider, contract = cleaned.get("provider"), cleaned.get("contract")
        if provider is not None and contract is not None and contract.provider_id != provider.pk:
            self.add_error("contract", gettext("Choose one of your contracts with this provider, or none."))
        return cleaned


SCORE_CHOICES = [(str(score), str(score)) for score in range(1, 6)]


class SurveyForm(forms.Form):
    """One 1–5 question per active survey item, the overall rating and a comment."""

    overall = forms.ChoiceField(
        label=_("Overall rating"),
        choices=SatisfactionRating.Overall.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose an overall rating.")},
        help_text=_("Two counted “dissatisfied” ratings can end a provider's qualification (Art 13(2))."),
    )
    comment = forms.CharField(
        label=_("Comment"),
        max_length=MAX_TEXT_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Optional. Explain your rating, especially when you are not satisfied."),
    )

    def __init__(self, *args, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for item in self.items:
            self.fields[self.item_field_name(item)] = forms.ChoiceField(
                label=item.text,
                choices=SCORE_CHOICES,
                widget=forms.RadioSelect,
                error_messages={"required": _("Choose a score from 1 to 5.")},
            )
        # The questions come first, then the overall rating and the comment.
        self.order_fields([self.item_field_name(item) for item in self.items])

    @staticmethod
    def item_field_name(item):
        return f"item_{item.pk}"

    def item_fields(self):
        return [self[self.item_field_name(item)] for item in self.items]

    def scores(self):
        return {item.pk: int(self.cleaned_data[self.item_field_name(item)]) for item in self.items}
