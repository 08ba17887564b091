from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Provider


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ["name", "uscc", "provider_type", "status", "county", "legal_representative", "contract_count"]
    list_filter = ["status", "provider_type", "county", "scenarios"]
    search_fields = ["name", "uscc", "legal_representative", "contact_name"]
    list_select_related = ["county"]
    autocomplete_fields = ["organisation"]
    filter_horizontal = ["scenarios"]
    # The standing changes only through the enforcement services, never by editing the field.
    readonly_fields = ["status", "applied_at", "updated_at"]
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
        from django.db.models import Count

        return super().get_queryset(request).annotate(_contract_count=Count("contracts"))

    @admin.display(description=_("contracts"), ordering="_contract_count")
    def contract_count(self, obj):
        return obj._contract_count

    def has_delete_permission(self, request, obj=None):
        # A provider's record is evidence for decisions; it leaves the pool by a state change, never deletion.
        return False
