from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from tangshan_portal.admin import ScopedAdminMixin

from . import selectors
from .models import FeeConsequence, Milestone, PilotEnterprise, ServiceContract


@admin.register(PilotEnterprise)
class PilotEnterpriseAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "uscc", "county", "industry", "sub_industry", "size", "baseline_level"]
    list_filter = ["county", "industry", "size", "baseline_level"]
    search_fields = ["name", "uscc", "sub_industry", "contact_name"]
    list_select_related = ["county"]
    autocomplete_fields = ["organisation"]
    readonly_fields = ["created_at", "updated_at"]

    def get_queryset(self, request):
        return selectors.enterprises_visible_to(request.user, super().get_queryset(request))

    def has_delete_permission(self, request, obj=None):
        return False


class MilestoneInline(admin.TabularInline):
    """The plan: staff with the milestone permissions enter it; the provider reports progress in the portal, so
    the reported progress is shown here but never typed in. Milestones are evidence of schedule lag (Art 13(3))
    and are not deleted."""

    model = Milestone
    fields = ["name", "planned_on", "weight", "reported_progress", "reported_at"]
    readonly_fields = ["reported_progress", "reported_at"]
    extra = 0
    can_delete = False

    def has_delete_permission(self, request, obj=None):
        return False


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
class ServiceContractAdmin(ScopedAdminMixin, admin.ModelAdmin):
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
    list_filter = ["status", "enterprise__county", "provider__provider_type", "scenarios"]
    search_fields = ["number", "title", "provider__name", "enterprise__name", "provider__uscc", "enterprise__uscc"]
    list_select_related = ["provider", "enterprise__county"]
    autocomplete_fields = ["provider", "enterprise"]
    filter_horizontal = ["scenarios"]
    date_hierarchy = "start_on"
    readonly_fields = ["status", "created_at", "updated_at"]
    inlines = [MilestoneInline, FeeConsequenceInline]

    def get_queryset(self, request):
        return selectors.contracts_visible_to(request.user, super().get_queryset(request))

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
