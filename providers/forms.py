"""Forms of the provider registry's pages: the public application, registration changes and the catalogue.

They check input only; the services in providers/services.py decide what the registry allows and save it."""

from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tangshan_portal.models import County, Scenario, ScenarioFamily
from tangshan_portal.services import MAX_UPLOAD_BYTES, upload_check
from tangshan_portal.validators import normalize_uscc

from .models import Product, Provider, ProviderApplication, RegisteredField, RegistrationChange

MAX_FILES = 10
MAX_TEXT_LENGTH = 10000
ACCEPTED_FILE_TYPES = ".pdf,.png,.jpg,.jpeg,.doc,.docx,.xls,.xlsx,.ppt,.pptx"


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input, checked by content (upload_check); cleans to a list."""

    def __init__(self, *args, max_files=MAX_FILES, **kwargs):
        self.max_files = max_files
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPTED_FILE_TYPES}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single_clean = super().clean
        if isinstance(data, list | tuple):
            files = [single_clean(item, initial) for item in data if item]
            if not files and self.required:
                raise ValidationError(self.error_messages["required"], code="required")
        else:
            cleaned = single_clean(data, initial)
            files = [cleaned] if cleaned else []
        if len(files) > self.max_files:
            raise ValidationError(
                gettext("Attach at most %(count)s files.") % {"count": self.max_files}, code="too_many_files"
            )
        errors = []
        for uploaded in files:
            try:
                upload_check(uploaded)
            except ValidationError as exc:
                errors.extend(exc.error_list)
        if errors:
            raise ValidationError(errors)
        return files

    def files_help(self, what):
        return gettext(
            "%(what)s Up to %(count)s files: PDF, PNG or JPEG images, or Office documents, each at most %(size)s."
        ) % {"what": what, "count": self.max_files, "size": filesizeformat(MAX_UPLOAD_BYTES)}


# "Name" on its own is translated by a third-party catalogue (django-celery-beat's "任务名"), so the registry's
# pages say "company name" for that item.
REGISTERED_FIELD_LABELS = {
    RegisteredField.NAME: _("Company name"),
    RegisteredField.ADDRESS: RegisteredField.ADDRESS.label,
    RegisteredField.LEGAL_REPRESENTATIVE: RegisteredField.LEGAL_REPRESENTATIVE.label,
    RegisteredField.BUSINESS_SCOPE: RegisteredField.BUSINESS_SCOPE.label,
    RegisteredField.REGISTERED_CAPITAL: RegisteredField.REGISTERED_CAPITAL.label,
}


def registered_field_label(field):
    return REGISTERED_FIELD_LABELS.get(field, field)


def _registered_field_choices(blank):
    return [("", blank), *REGISTERED_FIELD_LABELS.items()]


def _textarea(rows=4):
    return forms.Textarea(attrs={"rows": rows})


def scenario_groups(bound_field):
    """The checkboxes of a scenario field grouped by the Art 5 families, in the families' order: a list of
    (family label, [checkbox subwidgets])."""
    by_family = {}
    for checkbox in bound_field:
        value = checkbox.data["value"]
        instance = getattr(value, "instance", None)
        family = instance.family if instance is not None else ""
        by_family.setdefault(family, []).append(checkbox)
    labels = dict(ScenarioFamily.choices)
    ordered = [(labels[family], by_family[family]) for family in ScenarioFamily.values if family in by_family]
    ordered += [(labels.get(family, family), boxes) for family, boxes in by_family.items() if family not in labels]
    return ordered


def _scenario_field(**kwargs):
    return forms.ModelMultipleChoiceField(
        queryset=Scenario.objects.order_by("sort_order", "code"),
        widget=forms.CheckboxSelectMultiple,
        **kwargs,
    )


# --- The public application (Art 2) --------------------------------------------------------------------------------


class ApplicationForm(forms.ModelForm):
    """The account of the applicant and the company's application, submitted together."""

    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        help_text=_("For logging in later: letters, digits and @/./+/-/_ only."),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Type the same password again."),
    )
    full_name = forms.CharField(label=_("Your full name"), max_length=100)
    phone = forms.CharField(label=_("Your phone"), max_length=30)
    email = forms.EmailField(label=_("Your e-mail"))
    attachments = MultipleFileField(label=_("Attachments"))
    declaration = forms.BooleanField(
        label=_(
            "I declare that the information and attachments in this application are true, accurate and complete. "
            "False information is a ground for rejecting the application or revoking the qualification."
        ),
    )

    class Meta:
        model = ProviderApplication
        fields = [
            "name",
            "uscc",
            "legal_representative",
            "address",
            "business_scope",
            "registered_capital",
            "provider_type",
            "county",
            "scenarios",
            "qualifications",
            "products",
            "reference_cases",
            "contact_name",
            "contact_phone",
            "contact_email",
        ]
        widgets = {
            "business_scope": _textarea(3),
            "qualifications": _textarea(),
            "products": _textarea(),
            "reference_cases": _textarea(),
            "provider_type": forms.RadioSelect,
        }

    account_fields = ("username", "password1", "password2", "full_name", "phone", "email")
    company_fields = (
        "name",
        "uscc",
        "legal_representative",
        "address",
        "registered_capital",
        "county",
        "business_scope",
    )
    service_fields = ("qualifications", "products", "reference_cases")
    contact_fields = ("contact_name", "contact_phone", "contact_email")
    # The order of the page, so that the error summary lists the fields as the form shows them.
    field_order = [
        *account_fields,
        *company_fields,
        "provider_type",
        "scenarios",
        *service_fields,
        *contact_fields,
        "attachments",
        "declaration",
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["uscc"].help_text = _("The 18-character code on the business licence.")
        self.fields["registered_capital"].help_text = _("In 10,000 yuan, as on the business licence.")
        self.fields["county"].queryset = County.objects.order_by("code")
        self.fields["county"].empty_label = gettext("Outside the city")
        self.fields["county"].help_text = _(
            "The county or district of registration; leave it as it is if outside the city."
        )
        self.fields["provider_type"].choices = [c for c in self.fields["provider_type"].choices if c[0]]
        self.fields["scenarios"] = _scenario_field(
            label=ProviderApplication._meta.get_field("scenarios").verbose_name,
            help_text=_("The Art 5 scenarios in which you offer services; choose at least one."),
        )
        self.fields["attachments"].help_text = self.fields["attachments"].files_help(
            gettext("At least the business licence; add certificates and reference-case evidence as needed.")
        )
        for name in ("qualifications", "products", "reference_cases", "business_scope"):
            self.fields[name].max_length = MAX_TEXT_LENGTH

    def scenario_groups(self):
        return scenario_groups(self["scenarios"])

    def clean_username(self):
        username = self.cleaned_data["username"]
        User = get_user_model()
        for validator in User._meta.get_field("username").validators:
            validator(username)
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError(gettext("A user with that username already exists."), code="unique")
        return username

    def clean_uscc(self):
        return normalize_uscc(self.cleaned_data["uscc"])

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", ValidationError(gettext("The two password fields didn’t match.")))
        elif password2:
            User = get_user_model()
            candidate = User(
                username=cleaned.get("username", ""),
                full_name=cleaned.get("full_name", ""),
                email=cleaned.get("email", ""),
            )
            try:
                password_validation.validate_password(password2, candidate)
            except ValidationError as error:
                self.add_error("password2", error)
        return cleaned

    def account(self):
        data = self.cleaned_data
        return {key: data[key] for key in ("username", "full_name", "phone", "email")}

    def application_data(self):
        data = dict(self.cleaned_data)
        return {key: data.get(key) for key in self.Meta.fields if key != "scenarios"}


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"),
        required=False,
        max_length=2000,
        widget=_textarea(2),
    )


# --- Registration changes (Art 12(1)) -------------------------------------------------------------------------


class RegistrationChangeForm(forms.Form):
    field = forms.ChoiceField(
        label=_("What changed"),
        choices=_registered_field_choices(_("— choose —")),
    )
    new_value = forms.CharField(
        label=_("New value"),
        max_length=MAX_TEXT_LENGTH,
        widget=_textarea(2),
        help_text=_("As registered now; the registered capital in 10,000 yuan."),
    )
    changed_on = forms.DateField(
        label=_("Date of the change"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The date the market regulator registered the change."),
    )
    explanation = forms.CharField(
        label=_("Explanation"),
        required=False,
        max_length=MAX_TEXT_LENGTH,
        widget=_textarea(3),
        help_text=_("Optional: the reason for the change and anything the bureau should know."),
    )
    evidence = MultipleFileField(label=_("Evidence"))

    def __init__(self, *args, provider, **kwargs):
        super().__init__(*args, **kwargs)
        self.provider = provider
        self.fields["evidence"].help_text = self.fields["evidence"].files_help(
            gettext("For example the new business licence or the registry's notice of the change.")
        )

    def clean_changed_on(self):
        changed_on = self.cleaned_data["changed_on"]
        if changed_on > timezone.localdate():
            raise ValidationError(gettext("The date of the change cannot be in the future."), code="future")
        return changed_on

    def clean(self):
        cleaned = super().clean()
        field, value = cleaned.get("field"), cleaned.get("new_value")
        if not field or value is None:
            return cleaned
        value = value.strip()
        if field == RegisteredField.REGISTERED_CAPITAL:
            try:
                number = Decimal(value)
            except InvalidOperation:
                self.add_error("new_value", gettext("Enter the registered capital as a number (10,000 yuan)."))
                return cleaned
            if not number.is_finite() or number < 0:
                self.add_error("new_value", gettext("Enter the registered capital as a number (10,000 yuan)."))
                return cleaned
            current = self.provider.registered_capital
            same = current is not None and number == current
        else:
            limit = Provider._meta.get_field(field).max_length
            if limit and len(value) > limit:
                self.add_error(
                    "new_value",
                    gettext("At most %(count)s characters for this item.") % {"count": limit},
                )
                return cleaned
            same = value == (getattr(self.provider, field) or "")
        if same:
            self.add_error("new_value", gettext("This is already the registered value."))
        cleaned["new_value"] = value
        return cleaned


# --- Products and prices -------------------------------------------------------------------------------------


class ProductForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = ["name", "functions", "scenarios", "unit", "list_price"]
        widgets = {"functions": _textarea()}

    def __init__(self, *args, provider, **kwargs):
        super().__init__(*args, **kwargs)
        self.provider = provider
        self.fields["scenarios"] = _scenario_field(
            label=Product._meta.get_field("scenarios").verbose_name,
            required=False,
            help_text=_("Optional: the Art 5 scenarios the product serves."),
        )
        self.fields["functions"].max_length = MAX_TEXT_LENGTH

    def scenario_groups(self):
        return scenario_groups(self["scenarios"])

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        others = Product.objects.filter(provider=self.provider, name=name)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise ValidationError(gettext("Your catalogue already has a product with this name."), code="unique")
        return name


class ProductEditForm(ProductForm):
    is_active = forms.BooleanField(
        label=_("Offered"),
        required=False,
        help_text=_("Untick when the product is no longer offered; it stays in the catalogue's history."),
    )
    reason = forms.CharField(
        label=_("Reason for the price change"),
        required=False,
        max_length=MAX_TEXT_LENGTH,
        widget=_textarea(3),
        help_text=_("Required when you change the list price; kept with the price history."),
    )

    class Meta(ProductForm.Meta):
        fields = [*ProductForm.Meta.fields, "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The ModelForm writes the new values onto the instance while cleaning; remember the saved price.
        self.saved_price = self.instance.list_price

    @property
    def price_changes(self):
        new_price = self.cleaned_data.get("list_price") if hasattr(self, "cleaned_data") else None
        return new_price is not None and new_price != self.saved_price

    def clean(self):
        cleaned = super().clean()
        if self.price_changes and not cleaned.get("reason", "").strip():
            self.add_error("reason", gettext("Give the reason for changing the list price."))
        return cleaned


# --- Staff forms of the admin (providers/admin.py): they collect input, the services decide ----------------------


class StaffForm(forms.Form):
    """Labels as the admin shows them (capitalised, required ones in bold)."""

    required_css_class = "required"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.label = capfirst(field.label)


class ConfirmForm(StaffForm):
    """An action that needs nothing but the officer's confirmation."""


class ReviewOpinionForm(StaffForm):
    opinion = forms.CharField(
        label=_("review opinion"),
        max_length=MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5, "cols": 60}),
        help_text=_("Why the applicant meets the requirements; kept with the application (not shown to it)."),
    )


class AdmitForm(StaffForm):
    reason = forms.CharField(
        label=_("note on the admission"),
        required=False,
        max_length=MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Optional; by default “Public notice ended without an upheld objection.”"),
    )


class RejectForm(StaffForm):
    reason = forms.CharField(
        label=_("reason for the rejection"),
        max_length=MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5, "cols": 60}),
        help_text=_("Sent to the applicant, who reads it on its application page."),
    )


class RegistryChangeRecordForm(StaffForm):
    """Staff record a change found in the business registry (Art 12(1))."""

    provider = forms.ModelChoiceField(label=_("provider"), queryset=Provider.objects.order_by("name"))
    field = forms.ChoiceField(label=_("changed item"), choices=_registered_field_choices("---------"))
    new_value = forms.CharField(
        label=_("after"),
        max_length=MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=_("As the registry shows it now; the registered capital in 10,000 yuan."),
    )
    changed_on = forms.DateField(
        label=_("date of the change"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The date the market regulator registered the change (format YYYY-MM-DD)."),
    )
    explanation = forms.CharField(
        label=_("source and notes"),
        required=False,
        max_length=MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Where the change was found (e.g. the national enterprise credit information system)."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from django.contrib import admin

        from tangshan_portal.forms import ChoiceListAutocompleteSelect

        # The admin's provider search, which falls back to a plain drop-down without JavaScript.
        field = self.fields["provider"]
        field.widget = ChoiceListAutocompleteSelect(RegistrationChange._meta.get_field("provider"), admin.site)
        field.widget.choices = field.choices

    def clean_changed_on(self):
        changed_on = self.cleaned_data["changed_on"]
        if changed_on > timezone.localdate():
            raise ValidationError(gettext("The date of the change cannot be in the future."), code="future")
        return changed_on
