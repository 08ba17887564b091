from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from tangshan_portal.admin import RelatedSearchMixin, ScopedAdminMixin
from tangshan_portal.imports import RegistryImportExportMixin
from tangshan_portal.masking import PersonalDataAdminMixin, mask_name, mask_phone
from tangshan_portal.services import attachments_of

from . import selectors
from .models import (
    ChangeRequest,
    FeeConsequence,
    InternalAcceptance,
    Milestone,
    PilotEnterprise,
    ProcurementItem,
    ProgressReport,
    ServiceContract,
)
from .resources import PilotEnterpriseResource, ServiceContractResource
from .selectors_contracts import FLAGGED_PRICE_Q, contract_attachments


@admin.register(PilotEnterprise)
class PilotEnterpriseAdmin(PersonalDataAdminMixin, RegistryImportExportMixin, ScopedAdminMixin, admin.ModelAdmin):
    # XLSX import and export (tangshan_portal/imports.py); both stay within the user's county scope.
    resource_classes = [PilotEnterpriseResource]
    # The contact person's name and phone are masked for roles that do not contact enterprises (masking.py).
    personal_data_fields = {"contact_name": mask_name, "contact_phone": mask_phone}
    list_display = [
        "name",
        "uscc",
        "county",
        "industry",
        "sub_industry",
        "size",
        "baseline_level",
        "contact_name",
        "contact_phone",
    ]
    list_filter = ["county", "industry", "size", "baseline_level"]
    search_fields = ["name", "uscc", "sub_industry", "contact_name"]
    list_select_related = ["county"]
    autocomplete_fields = ["organisation"]
    readonly_fields = ["dossier_link", "created_at", "updated_at"]

    def get_queryset(self, request):
        return selectors.enterprises_visible_to(request.user, super().get_queryset(request))

    @admin.display(description=_("one enterprise, one dossier (Art 6(2))"))
    def dossier_link(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("dossier:detail", args=[obj.pk]), _("Open the dossier"))

    def has_delete_permission(self, request, obj=None):
        return False


def files_html(admin_site, contract, files):
    """Files of a contract, each linked to the contract admin's access-checked download view."""
    if not files:
        return "—"
    return format_html(
        "<ul>{}</ul>",
        format_html_join(
            "",
            '<li><a href="{}">{}</a></li>',
            (
                (
                    reverse(
                        "admin:enterprises_servicecontract_file",
                        args=[contract.pk, attachment.pk],
                        current_app=admin_site.name,
                    ),
                    attachment.original_name,
                )
                for attachment in files
            ),
        ),
    )


class ReadOnlyInline(admin.TabularInline):
    """What the two parties write in the portal (the plan, the procurement list, progress, changes, the internal
    acceptance): staff read it here and never edit it, so the record stays the parties' own."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MilestoneInline(ReadOnlyInline):
    """The plan's milestones, entered by the provider while drafting, with the progress the enterprise
    acknowledged. Milestones are evidence of schedule lag (Art 13(3)) and are not deleted."""

    model = Milestone
    fields = ["name", "planned_on", "weight", "reported_progress", "reported_at"]


class ProcurementItemInline(ReadOnlyInline):
    """The procurement list with the Art 12(3) price flags set when each line was entered."""

    model = ProcurementItem
    fields = [
        "name",
        "product",
        "quantity",
        "unit",
        "unit_price",
        "reference_price",
        "list_price_at_entry",
        "above_reference",
        "above_list_price",
    ]


class ProgressReportInline(ReadOnlyInline):
    model = ProgressReport
    fields = ["submitted_at", "milestone", "progress", "summary", "status", "responded_at", "enterprise_comment"]


class ChangeRequestInline(ReadOnlyInline):
    model = ChangeRequest
    fields = [
        "proposed_at",
        "description",
        "reason",
        "new_end_on",
        "new_amount",
        "status",
        "decided_at",
        "previous_end_on",
        "previous_amount",
        "enterprise_comment",
    ]


class InternalAcceptanceInline(ReadOnlyInline):
    model = InternalAcceptance
    fields = [
        "held_on",
        "participants",
        "conclusion",
        "status",
        "provider_signed_at",
        "enterprise_signed_at",
        "refusal_reason",
        "documents",
    ]

    @admin.display(description=_("archived documents"))
    def documents(self, obj):
        return files_html(self.admin_site, obj.contract, list(attachments_of(obj)))


class FlaggedPriceFilter(admin.SimpleListFilter):
    """Art 12(3): contracts with a procurement line priced above the reference or the provider's list price."""

    title = _("procurement prices")
    parameter_name = "flagged_prices"

    def lookups(self, request, model_admin):
        return [("yes", _("Has flagged prices")), ("no", _("No flagged price"))]

    def queryset(self, request, queryset):
        flagged = Exists(ProcurementItem.objects.filter(FLAGGED_PRICE_Q, contract=OuterRef("pk")))
        if self.value() == "yes":
            return queryset.filter(flagged)
        if self.value() == "no":
            return queryset.exclude(flagged)
        return queryset


class FeeConsequenceInline(admin.TabularInline):
    """Art 14 consequences are written by the services (revocation, failed acceptance) and lifted only by an
    upheld appeal: read-only here."""

    model = FeeConsequence
    fields = [
        "cause",
        "decision_reference",
        "fee_withheld",
        "advance_recoverable",
        "decided_at",
        "lifted_at",
        "lift_reason",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ServiceContract)
class ServiceContractAdmin(RelatedSearchMixin, RegistryImportExportMixin, ScopedAdminMixin, admin.ModelAdmin):
    # XLSX export, and a county's contract list checked against the register; no file ever writes a contract
    # (enterprises/resources.py ServiceContractResource says why).
    resource_classes = [ServiceContractResource]
    list_display = [
        "number",
        "title",
        "provider_link",
        "enterprise",
        "county",
        "amount",
        "status",
        "start_on",
        "end_on",
    ]
    list_filter = ["status", FlaggedPriceFilter, "enterprise__county", "provider__provider_type", "scenarios"]
    search_fields = ["number", "title", "provider__name", "enterprise__name", "provider__uscc", "enterprise__uscc"]
    list_select_related = ["provider", "enterprise__county"]
    autocomplete_fields = ["provider", "enterprise"]
    filter_horizontal = ["scenarios"]
    date_hierarchy = "start_on"
    # The plan, the confidentiality agreement and the signing dates are the parties' own (Art 10(2)): they write
    # them in the portal, staff read them here.
    plan_fields = [
        "plan_goals",
        "plan_content",
        "plan_process",
        "plan_deliverables",
        "quality_control",
        "maintenance_commitment",
    ]
    readonly_fields = [
        "status",
        "created_at",
        "updated_at",
        *plan_fields,
        "nda_signed_on",
        "nda_files",
        "submitted_at",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "number",
                    "provider",
                    "enterprise",
                    "title",
                    "amount",
                    "subsidy",
                    "advance_payment",
                    "signed_on",
                    "start_on",
                    "end_on",
                    "scenarios",
                    "status",
                ]
            },
        ),
        (_("Service plan (Art 10(2), 10(3))"), {"fields": plan_fields}),
        (_("Confidentiality agreement and signing"), {"fields": ["nda_signed_on", "nda_files", "submitted_at"]}),
        (_("Record"), {"fields": ["created_at", "updated_at"]}),
    ]
    inlines = [
        MilestoneInline,
        ProcurementItemInline,
        ProgressReportInline,
        ChangeRequestInline,
        InternalAcceptanceInline,
        FeeConsequenceInline,
    ]

    # What the parties agreed: who, how much, when. Once the contract exists these change only through the
    # services (the provider's draft, change requests the enterprise agrees to, Art 6(3)), which check the state
    # and write the state log; editing them here would bypass both.
    agreed_fields = [
        "number",
        "provider",
        "enterprise",
        "amount",
        "subsidy",
        "advance_payment",
        "signed_on",
        "start_on",
        "end_on",
    ]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields += [name for name in self.agreed_fields if name not in fields]
        return fields

    def get_queryset(self, request):
        return selectors.contracts_visible_to(request.user, super().get_queryset(request))

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/file/<int:attachment_id>/",
                self.admin_site.admin_view(self.attachment_view),
                name="{}_{}_file".format(*info),
            ),
            *super().get_urls(),
        ]

    @admin.display(description=_("confidentiality agreement"))
    def nda_files(self, obj):
        if obj.pk is None:
            return "—"
        return files_html(self.admin_site, obj, list(attachments_of(obj).filter(purpose="nda")))

    def attachment_view(self, request, object_id, attachment_id):
        # Imported here: the views module imports the portal's page decorators, which the admin does not need.
        from tangshan_portal.files import attachment_response

        if not self.has_view_permission(request):
            raise PermissionDenied
        contract = self.get_object(request, unquote(object_id))
        if contract is None:
            raise Http404
        attachment = contract_attachments(contract).filter(pk=attachment_id).first()
        if attachment is None:
            raise Http404
        return attachment_response(request, attachment, contract=contract.pk)

    @admin.display(description=_("county"), ordering="enterprise__county")
    def county(self, obj):
        return obj.enterprise.county

    @admin.display(description=_("provider"), ordering="provider__name")
    def provider_link(self, obj):
        # Art 2: work done by a provider outside the resource pool is flagged where staff will see it.
        if obj.provider_outside_pool:
            return format_html(
                '{} <strong class="errornote" title="{}">{}</strong>',
                obj.provider.name,
                _("This provider is not in the resource pool (Art 2)."),
                _("not in pool"),
            )
        return obj.provider.name

    def has_delete_permission(self, request, obj=None):
        return False


# Registered in their own modules to keep this one readable.
from . import admin_outreach  # noqa: E402, F401
