"""The provider registry in the admin: providers, applications to the pool (Art 2), registration changes
(Art 12(1)), and the catalogue with its list-price changes (Art 13(8)).

Applications and registration changes are read-only pages whose actions call providers/services.py, on the
pattern of the case admin (evaluations/admin.py ServiceActionAdminMixin: actions at `<pk>/act/<action>/`, the
change view refuses every POST, attachments served by a view that checks the model's view permission)."""

from django.conf import settings
from django.contrib import admin
from django.db.models import BooleanField, Count, Exists, OuterRef, Subquery, Value
from django.db.models.functions import Abs, Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from tangshan_portal.admin import ReadOnlyAdmin
from tangshan_portal.admin_actions import CaseAction, ServiceActionAdminMixin
from tangshan_portal.grounds import cite_art12
from tangshan_portal.imports import RegistryImportExportMixin
from tangshan_portal.masking import CONTACT_FIELDS, PersonalDataAdminMixin, mask_email, mask_name, mask_phone

from . import forms, selectors, services
from .models import (
    ApplicationStatus,
    Product,
    ProductPriceChange,
    Provider,
    ProviderApplication,
    ProviderStatus,
    RegisteredField,
    RegistrationChange,
)
from .resources import ProviderResource

# A boxed red flag on record pages, and red bold text in list cells where a box would make the rows tall.
RED_FLAG = '<strong class="errornote">{}</strong>'
RED_TEXT = '<strong class="case-days-urgent">{}</strong>'


def _person(user):
    if user is None:
        return None
    return user.full_name or user.get_username()


def _date(value):
    return value.isoformat() if value else "—"


def art12_1_wording():
    """Article 12(1) in the regulation's words."""
    return cite_art12(1)


def open_case_url(provider_id):
    """The rectification case form with the provider and Art 12(1) filled in."""
    return f"{reverse('admin:evaluations_rectificationcase_add')}?provider={provider_id}&ground=1"


# --- Read-only inlines of the provider's page: its registration history and its applications --------------------


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RegistrationChangeInline(ReadOnlyInline):
    model = RegistrationChange
    verbose_name_plural = _("registration history")
    fields = ["changed_on", "field", "old_value", "new_value", "source", "status", "recorded_at"]
    readonly_fields = fields
    ordering = ["-changed_on", "-id"]


class ApplicationInline(ReadOnlyInline):
    model = ProviderApplication
    fk_name = "provider"
    verbose_name_plural = _("applications to the resource pool")
    fields = ["submitted_at", "name", "status", "flagged", "notice_ends_on", "decided_at"]
    readonly_fields = fields


# The registration data change through recorded registration changes, so that the history stays complete.
REGISTERED_FIELDS = tuple(RegisteredField.values)


@admin.register(Provider)
class ProviderAdmin(PersonalDataAdminMixin, RegistryImportExportMixin, admin.ModelAdmin):
    # XLSX import and export (tangshan_portal/imports.py); an import never changes the standing nor, for a
    # provider already in the registry, the registration data (providers/resources.py).
    resource_classes = [ProviderResource]
    # The contact person's name and phone are masked for roles that do not contact providers (masking.py). The
    # legal representative is not: it is public registration data (and the screening of applications uses it).
    personal_data_fields = CONTACT_FIELDS
    list_display = [
        "name",
        "uscc",
        "provider_type",
        "status",
        "county",
        "legal_representative",
        "contact_name",
        "contact_phone",
        "contract_count",
    ]
    list_filter = ["status", "provider_type", "county", "scenarios"]
    search_fields = ["name", "uscc", "legal_representative", "contact_name"]
    list_select_related = ["county"]
    autocomplete_fields = ["organisation"]
    filter_horizontal = ["scenarios"]
    # The standing changes only through the enforcement services, never by editing the field.
    readonly_fields = ["status", "applied_at", "updated_at"]
    inlines = [RegistrationChangeInline, ApplicationInline]
    fieldsets = (
        (None, {"fields": ("name", "uscc", "provider_type", "status")}),
        (
            _("Registration"),
            {"fields": ("legal_representative", "address", "county", "registered_capital", "business_scope")},
        ),
        (_("Services"), {"fields": ("scenarios",)}),
        (_("Contact"), {"fields": ("contact_name", "contact_phone", "contact_email", "organisation")}),
        (_("Record"), {"fields": ("applied_at", "updated_at")}),
    )

    def get_queryset(self, request):
        # A count per listed row, not a GROUP BY over every provider joined to every contract: the page reads
        # its 100 providers from the name index, and the total needs no join. The contract model through the
        # relation: the providers app does not import the enterprises app, which builds on it.
        contract_model = Provider._meta.get_field("contracts").related_model
        contracts = (
            contract_model.objects.filter(provider=OuterRef("pk"))
            .order_by()
            .values("provider")
            .annotate(count=Count("pk"))
            .values("count")
        )
        return super().get_queryset(request).annotate(_contract_count=Coalesce(Subquery(contracts), 0))

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or not request.user.has_perm("providers.record_registration_change"):
            return fieldsets
        name, options = fieldsets[1]
        return (
            fieldsets[0],
            (name, {**options, "fields": (*options["fields"], "record_change_link")}),
            *fieldsets[2:],
        )

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            # An existing provider's registration data change through a registration change (reported by the
            # provider or recorded from the registry), which keeps the history Art 12(1) is judged on.
            readonly += ["uscc", *REGISTERED_FIELDS, "record_change_link"]
        return readonly

    @admin.display(description=_("registration changes"))
    def record_change_link(self, obj):
        url = reverse("admin:providers_registrationchange_add") + f"?provider={obj.pk}"
        return format_html(
            '<a href="{}">{}</a> <span class="help">{}</span>',
            url,
            gettext("Record a registry change"),
            gettext("The registration data change only through recorded changes, which keep the history."),
        )

    @admin.display(description=_("contracts"), ordering="_contract_count")
    def contract_count(self, obj):
        return obj._contract_count

    def has_delete_permission(self, request, obj=None):
        # A provider's record is evidence for decisions; it leaves the pool by a state change, never deletion.
        return False


# --- Applications to the resource pool (Art 2) -------------------------------------------------------------------


APPLICATION_ACTIONS = {
    action.name: action
    for action in [
        CaseAction(
            name="start_notice",
            method="start_notice",
            label=_("Pass the review and start the public notice"),
            form_class=forms.ReviewOpinionForm,
            perform=lambda application, user, data: services.application_start_notice(
                application=application, by=user, opinion=data["opinion"]
            ),
            success=lambda application: (
                gettext("The admission is in public notice from %(start)s to %(end)s.")
                % {"start": _date(application.notice_starts_on), "end": _date(application.notice_ends_on)}
            ),
            explain=lambda application: (
                gettext(
                    "The admission is announced on the public notices page for %(days)s working days from today. "
                    "It takes effect after the notice period, automatically or when you admit it here; an upheld "
                    "objection leads to a rejection instead."
                )
                % {"days": settings.ADMISSION_NOTICE_WORKING_DAYS}
            ),
        ),
        CaseAction(
            name="admit",
            method="admit",
            label=_("Admit to the resource pool"),
            form_class=forms.AdmitForm,
            perform=lambda application, user, data: services.application_admit(
                application=application, by=user, reason=data["reason"]
            ),
            success=lambda application: (
                gettext("%(name)s is admitted to the resource pool.") % {"name": application.name}
            ),
            explain=lambda application: gettext(
                "The provider joins the resource pool with the application's data and scenarios, and the "
                "applicant's account acts for it. Admission is possible only after the public notice period."
            ),
        ),
        CaseAction(
            name="reject",
            method="reject",
            label=_("Reject the application"),
            form_class=forms.RejectForm,
            perform=lambda application, user, data: services.application_reject(
                application=application, by=user, reason=data["reason"]
            ),
            success=lambda application: gettext("The application was rejected; the applicant is told the reason."),
            explain=lambda application: gettext(
                "The application is closed and the applicant reads the reason on its application page."
            ),
            danger=True,
        ),
    ]
}


class FlaggedFilter(admin.SimpleListFilter):
    title = _("matches a revoked or blacklisted provider")
    parameter_name = "flagged"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(flagged=True)
        if self.value() == "no":
            return queryset.filter(flagged=False)
        return queryset


@admin.register(ProviderApplication)
class ProviderApplicationAdmin(PersonalDataAdminMixin, ServiceActionAdminMixin, admin.ModelAdmin):
    case_actions = APPLICATION_ACTIONS
    # Read-only for everyone (the actions decide): the applicant's contact data are masked unless the role
    # contacts applicants (masking.py).
    personal_data_fields = CONTACT_FIELDS
    personal_data_displays = {"applicant_display": "applicant_display_masked"}
    change_form_template = "admin/complaints/record_change_form.html"
    created_label = _("Submitted")
    transition_labels = {
        "start_notice": _("Public notice started"),
        "admit": _("Admitted"),
        "reject": _("Rejected"),
        "withdraw": _("Withdrawn by the applicant"),
    }

    list_display = [
        "name",
        "uscc",
        "provider_type",
        "status",
        "flag_display",
        "submitted_on",
        "notice_starts_on",
        "notice_ends_on",
    ]
    list_display_links = ["name"]
    list_filter = ["status", FlaggedFilter, "provider_type", "county"]
    search_fields = ["name", "uscc", "legal_representative", "contact_name"]
    list_select_related = ["county"]
    date_hierarchy = "submitted_at"
    fieldsets = (
        (None, {"fields": ("name", "uscc", "provider_type", "status", "screening_display")}),
        (
            _("Registration"),
            {"fields": ("legal_representative", "address", "county", "registered_capital", "business_scope")},
        ),
        (_("Services"), {"fields": ("scenarios", "qualifications", "products", "reference_cases")}),
        (_("Attachments"), {"fields": ("attachments_display",)}),
        (
            _("Applicant"),
            {"fields": ("applicant_display", "organisation", "contact_name", "contact_phone", "contact_email")},
        ),
        (
            _("Review and decision"),
            {
                "fields": (
                    "reviewed_by",
                    "review_opinion",
                    "notice_starts_on",
                    "notice_ends_on",
                    "decided_at",
                    "decision_reason",
                    "provider",
                )
            },
        ),
        (_("Record"), {"fields": ("submitted_at",)}),
    )

    def has_add_permission(self, request):
        return False  # applications come from the public form only

    # The application's transitions carry no permission of their own: reviewing applications decides.
    def may_ever_take(self, obj, action, user):
        return user.has_perm("providers.review_application")

    def can_take_now(self, obj, action, user):
        return self.may_ever_take(obj, action, user) and can_proceed(getattr(obj, action.method))

    def not_now_message(self, obj, action):
        return gettext("This action is not possible while the application is “%(status)s”.") % {
            "status": obj.get_status_display()
        }

    def case_notes(self, request, obj):
        notes = []
        if obj.flagged:
            notes.append(
                format_html(
                    RED_FLAG + " {}",
                    gettext("Matches a revoked or blacklisted provider."),
                    gettext("Check the screening result below before any decision."),
                )
            )
        if obj.status == ApplicationStatus.IN_NOTICE:
            if obj.notice_over:
                notes.append(
                    gettext("The public notice ended on %(date)s: the admission can take effect.")
                    % {"date": _date(obj.notice_ends_on)}
                )
            else:
                notes.append(
                    gettext(
                        "In public notice until %(date)s; the admission takes effect after that day (the daily "
                        "sweep admits it unless you decide otherwise)."
                    )
                    % {"date": _date(obj.notice_ends_on)}
                )
        return notes

    def summary(self, obj):
        return [
            (_("company name"), obj.name),
            (_("Unified Social Credit Code"), obj.uscc),
            (_("legal representative"), obj.legal_representative),
            (_("status"), obj.get_status_display()),
            (_("screening"), self._flag_text(obj)),
        ]

    def _flag_text(self, obj):
        if obj.flagged:
            return gettext("Matches a revoked or blacklisted provider: %(names)s") % {
                "names": "、".join(match.get("name", "") for match in obj.screening)
            }
        return gettext("No match with a revoked or blacklisted provider.")

    @admin.display(description=_("screening"), ordering="flagged")
    def flag_display(self, obj):
        if obj.flagged:
            return format_html(RED_TEXT, gettext("matches a revoked or blacklisted provider"))
        return "—"

    @admin.display(description=_("screening result"))
    def screening_display(self, obj):
        if not obj.screening:
            return gettext("No match with a revoked or blacklisted provider (same USCC or legal representative).")
        matched_labels = {
            "uscc": gettext("same Unified Social Credit Code"),
            "legal_representative": gettext("same legal representative"),
        }
        statuses = dict(ProviderStatus.choices)
        rows = []
        for match in obj.screening:
            url = reverse("admin:providers_provider_change", args=[match["provider_id"]])
            rows.append(
                (
                    format_html('<a href="{}">{}</a>', url, match.get("name", "")),
                    match.get("uscc", ""),
                    match.get("legal_representative", ""),
                    statuses.get(match.get("status"), match.get("status", "")),
                    "、".join(str(matched_labels.get(key, key)) for key in match.get("matched_on", [])),
                )
            )
        head = format_html(
            "<tr><th scope='col'>{}</th><th scope='col'>{}</th><th scope='col'>{}</th>"
            "<th scope='col'>{}</th><th scope='col'>{}</th></tr>",
            gettext("Provider"),
            gettext("Unified Social Credit Code"),
            gettext("Legal representative"),
            gettext("Standing"),
            gettext("Matched on"),
        )
        body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows)
        return format_html(
            "{}<table><thead>{}</thead><tbody>{}</tbody></table>",
            format_html(RED_FLAG, gettext("Matches a revoked or blacklisted provider")),
            head,
            body,
        )

    @admin.display(description=_("attachments"))
    def attachments_display(self, obj):
        return self.attachments_display_html(obj)

    @admin.display(description=_("applicant account"))
    def applicant_display(self, obj):
        user = obj.applicant
        parts = [user.get_username(), user.full_name, user.phone, user.email]
        return " · ".join(part for part in parts if part)

    @admin.display(description=_("applicant account"))
    def applicant_display_masked(self, obj):
        user = obj.applicant
        parts = [user.get_username(), mask_name(user.full_name), mask_phone(user.phone), mask_email(user.email)]
        return " · ".join(part for part in parts if part)

    @admin.display(description=_("submitted"), ordering="submitted_at")
    def submitted_on(self, obj):
        return timezone.localtime(obj.submitted_at).strftime("%Y-%m-%d %H:%M")


# --- Registration changes (Art 12(1)) ----------------------------------------------------------------------------


REGISTRATION_ACTIONS = {
    "acknowledge": CaseAction(
        name="acknowledge",
        method="",  # not a transition: the permission to acknowledge and the status decide
        label=_("Acknowledge the change"),
        form_class=forms.ConfirmForm,
        perform=lambda change, user, data: services.registration_change_acknowledge(change=change, by=user),
        success=lambda change: gettext("The change was acknowledged and the provider's registration data updated."),
        explain=lambda change: gettext(
            "The provider's registration data take the new value; the report stays in the registration history."
        ),
    ),
}


class UnreportedFilter(admin.SimpleListFilter):
    title = _("unreported registry change (possible Art 12(1) ground)")
    parameter_name = "unreported"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        # The admin's queryset is annotated by registration_changes_with_report_check.
        if self.value() == "yes":
            return queryset.filter(unreported=True)
        if self.value() == "no":
            return queryset.filter(unreported=False)
        return queryset


@admin.register(RegistrationChange)
class RegistrationChangeAdmin(ServiceActionAdminMixin, admin.ModelAdmin):
    case_actions = REGISTRATION_ACTIONS
    change_form_template = "admin/complaints/record_change_form.html"
    open_form_class = forms.RegistryChangeRecordForm
    open_title = _("Record a change from the business registry")
    add_label = _("Record a registry change")

    # Few columns, the Art 12(1) flag first so that it stays visible without scrolling; the status names the
    # source (reported / acknowledged / recorded by staff).
    list_display = ["provider", "unreported_display", "field_display", "change_display", "changed_on", "status"]
    list_display_links = ["provider", "field_display"]
    list_filter = [UnreportedFilter, "source", "status", "field"]
    search_fields = ["provider__name", "provider__uscc", "old_value", "new_value"]
    list_select_related = ["provider"]
    date_hierarchy = "changed_on"
    fieldsets = (
        (None, {"fields": ("provider", "field", "old_value", "new_value", "changed_on", "source", "status")}),
        (_("Report"), {"fields": ("explanation", "attachments_display", "report_check_display")}),
        (_("Record"), {"fields": ("recorded_by", "recorded_at", "acknowledged_by", "acknowledged_at")}),
    )

    def get_queryset(self, request):
        queryset = selectors.registration_changes_with_report_check(super().get_queryset(request))
        # Computed per request: the list shows the link to open a case only to those who may open one.
        may_open = request.user.has_perm("evaluations.manage_rectification")
        return queryset.annotate(_may_open_case=Value(may_open, output_field=BooleanField()))

    def has_add_permission(self, request):
        return request.user.has_perm("providers.record_registration_change")

    def may_ever_take(self, obj, action, user):
        return user.has_perm("providers.acknowledge_registration_change")

    def can_take_now(self, obj, action, user):
        return self.may_ever_take(obj, action, user) and obj.status == RegistrationChange.Status.REPORTED

    def not_now_message(self, obj, action):
        return gettext("This change is “%(status)s”: there is nothing to acknowledge.") % {
            "status": obj.get_status_display()
        }

    def timeline(self, obj):
        first = RegistrationChange.Status.RECORDED
        if obj.source == RegistrationChange.Source.PROVIDER:
            first = RegistrationChange.Status.REPORTED
        rows = [
            {
                "at": obj.recorded_at,
                "by": _person(obj.recorded_by),
                "action": obj.get_source_display(),
                "source": None,
                "target": first.label,
                "description": obj.explanation,
            }
        ]
        if obj.acknowledged_at:
            rows.append(
                {
                    "at": obj.acknowledged_at,
                    "by": _person(obj.acknowledged_by),
                    "action": gettext("Acknowledged"),
                    "source": RegistrationChange.Status.REPORTED.label,
                    "target": RegistrationChange.Status.ACKNOWLEDGED.label,
                    "description": "",
                }
            )
        return rows

    def _open_case_link(self, obj):
        return format_html('<a href="{}">{}</a>', open_case_url(obj.provider_id), gettext("Open a rectification case"))

    def case_notes(self, request, obj):
        if not getattr(obj, "unreported", False):
            return []
        note = format_html(
            RED_FLAG + " {}",
            gettext("Not reported by the provider in time"),
            art12_1_wording(),
        )
        if request.user.has_perm("evaluations.manage_rectification"):
            return [note, self._open_case_link(obj)]
        return [note]

    def summary(self, obj):
        return [
            (_("provider"), obj.provider),
            (_("changed item"), forms.registered_field_label(obj.field)),
            (_("before"), obj.old_value or "—"),
            (_("after"), obj.new_value),
            (_("date of the change"), _date(obj.changed_on)),
            (_("source"), obj.get_source_display()),
        ]

    @admin.display(description=_("changed item"), ordering="field")
    def field_display(self, obj):
        return forms.registered_field_label(obj.field)

    @admin.display(description=_("change"))
    def change_display(self, obj):
        def short(text):
            return text if len(text) <= 24 else text[:23] + "…"

        return format_html("{} → {}", short(obj.old_value or "—"), short(obj.new_value))

    @admin.display(description=_("Art 12(1)"))
    def unreported_display(self, obj):
        if not obj.unreported:
            return "—"
        flag = format_html(RED_TEXT, gettext("unreported"))
        if getattr(obj, "_may_open_case", False):
            return format_html("{} {}", flag, self._open_case_link(obj))
        return flag

    @admin.display(description=_("report by the provider"))
    def report_check_display(self, obj):
        due = selectors.registration_change_report_due(obj)
        if obj.source == RegistrationChange.Source.PROVIDER:
            late = timezone.localdate(obj.recorded_at) > due
            text = gettext("Reported on %(date)s; the reporting period runs until %(due)s.") % {
                "date": timezone.localdate(obj.recorded_at).isoformat(),
                "due": due.isoformat(),
            }
            return format_html(RED_FLAG + " {}", gettext("late"), text) if late else text
        if obj.unreported:
            return format_html(
                RED_FLAG + "<br>{}",
                gettext("The provider did not report this change by %(due)s.") % {"due": due.isoformat()},
                art12_1_wording(),
            )
        if obj._reported_in_time:
            return gettext("The provider reported this change in time.")
        return gettext("The provider may still report this change until %(due)s.") % {"due": due.isoformat()}

    @admin.display(description=_("evidence"))
    def attachments_display(self, obj):
        return self.attachments_display_html(obj)

    def open_case(self, request, data):
        return services.registration_change_record(
            provider=data["provider"],
            by=request.user,
            field=data["field"],
            new_value=data["new_value"].strip(),
            changed_on=data["changed_on"],
            explanation=data["explanation"],
        )

    def opened_message(self, obj):
        return gettext(
            "The registry change was recorded and the provider's registration data updated. If the provider "
            "does not report it within %(days)s days of %(date)s, the list flags it as a possible Art 12(1) ground."
        ) % {"days": settings.REGISTRATION_CHANGE_REPORT_DAYS, "date": obj.changed_on.isoformat()}


# --- Products and list-price changes (Art 12(3), 13(8)): read-only ------------------------------------------------


def _threshold_label():
    return gettext("above the %(threshold)s threshold") % {
        "threshold": f"{settings.PRICE_CHANGE_THRESHOLD:.0%}",
    }


class DrasticProductFilter(admin.SimpleListFilter):
    title = _("drastic change")
    parameter_name = "drastic"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        drastic = Exists(ProductPriceChange.objects.filter(product=OuterRef("pk"), drastic=True))
        if self.value() == "yes":
            return queryset.filter(drastic)
        if self.value() == "no":
            return queryset.exclude(drastic)
        return queryset


class AboveThresholdFilter(admin.SimpleListFilter):
    """A change larger than the threshold as configured now; for a product, any of its changes."""

    parameter_name = "above_threshold"

    @property
    def title(self):
        return gettext("price change %(label)s") % {"label": _threshold_label()}

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def _condition(self, queryset):
        above = selectors.price_changes_above_threshold()
        if queryset.model is Product:
            return Exists(above.filter(product=OuterRef("pk")))
        return Exists(above.filter(pk=OuterRef("pk")))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(self._condition(queryset))
        if self.value() == "no":
            return queryset.exclude(self._condition(queryset))
        return queryset


@admin.register(Product)
class ProductAdmin(ReadOnlyAdmin):
    list_display = ["name", "provider", "unit", "list_price", "is_active", "price_changes_display", "updated_at"]
    list_filter = [DrasticProductFilter, AboveThresholdFilter, "is_active", "scenarios"]
    search_fields = ["name", "provider__name", "provider__uscc"]
    list_select_related = ["provider"]
    fields = [
        "provider",
        "name",
        "functions",
        "scenarios",
        "unit",
        "list_price",
        "is_active",
        "created_at",
        "updated_at",
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _changes=Count("price_changes", distinct=True),
                _drastic=Exists(ProductPriceChange.objects.filter(product=OuterRef("pk"), drastic=True)),
            )
        )

    @admin.display(description=_("list-price changes"), ordering="_changes")
    def price_changes_display(self, obj):
        if not obj._changes:
            return "0"
        url = reverse("admin:providers_productpricechange_changelist") + f"?product__id__exact={obj.pk}"
        link = format_html('<a href="{}">{}</a>', url, obj._changes)
        if obj._drastic:
            return format_html("{} " + RED_TEXT, link, gettext("drastic"))
        return link


@admin.register(ProductPriceChange)
class ProductPriceChangeAdmin(ReadOnlyAdmin):
    list_display = ["product", "provider", "ratio_display", "old_price", "new_price", "changed_on"]
    list_filter = ["drastic", AboveThresholdFilter]
    search_fields = ["product__name", "product__provider__name", "product__provider__uscc", "reason"]
    list_select_related = ["product__provider", "changed_by"]
    date_hierarchy = "changed_at"
    fields = ["product", "old_price", "new_price", "change_ratio", "drastic", "reason", "changed_by", "changed_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_size=Abs("change_ratio"))

    @admin.display(description=_("provider"), ordering="product__provider__name")
    def provider(self, obj):
        return obj.product.provider

    @admin.display(description=_("changed"), ordering="changed_at")
    def changed_on(self, obj):
        return timezone.localtime(obj.changed_at).strftime("%Y-%m-%d")

    @admin.display(description=_("price change"), ordering="_size")
    def ratio_display(self, obj):
        text = f"{obj.change_ratio * 100:+.2f}".rstrip("0").rstrip(".") + "%"
        if obj.drastic:
            return format_html('<span class="nowrap">{}</span><br>' + RED_TEXT, text, gettext("drastic (Art 13(8))"))
        return text
