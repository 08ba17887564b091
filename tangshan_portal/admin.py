from functools import reduce
from operator import or_

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.text import smart_split, unescape_string_literal
from django.utils.translation import gettext_lazy as _

from .audit import record_event
from .authentication import PortalAdminAuthenticationForm
from .masking import PersonalDataAdminMixin, mask_name
from .models import (
    AuditCheckpoint,
    AuditEvent,
    BackgroundJob,
    County,
    IssuedDocument,
    Organisation,
    Scenario,
    User,
    WorkCalendarDay,
)
from .otp import register_device_admin
from .passwords import PASSWORD_SET_BY_ADMINISTRATOR
from .roles import (
    INDIVIDUAL_PERMISSIONS,
    ROLE_ASSIGNMENT_FIELDS,
    may_assign_roles,
    may_manage_accounts,
    may_set_password,
    validate_role_separation,
)

admin.site.site_header = _("Provider supervision — administration")
admin.site.site_title = _("Provider supervision")
admin.site.index_title = _("Work area")
# Says why a correct password was refused (a deactivated organisation; tangshan_portal.authentication).
admin.site.login_form = PortalAdminAuthenticationForm


class RelatedSearchMixin:
    """The admin search with the columns of a related record (`provider__name`) matched in a subquery on its
    ids instead of a join. Django joins the related tables and ORs the columns of all of them, which PostgreSQL
    can only answer by joining every row (seconds at 100k cases or 500k contracts); `provider_id IN (…)` reads
    the related rows from their trigram indexes and the list from its own order. The same matches as Django's
    search: every word must match one of the columns, `icontains`. Only for plain search_fields whose related
    part follows a foreign key (no `=`, `^`, `@` prefixes, no reverse or many-to-many relations)."""

    def get_search_results(self, request, queryset, search_term):
        own, related = [], {}
        for field in self.get_search_fields(request):
            relation, _sep, rest = field.partition("__")
            if rest:
                related.setdefault(relation, []).append(rest)
            else:
                own.append(field)
        for bit in smart_split(search_term):
            if bit.startswith(('"', "'")) and bit[0] == bit[-1]:
                bit = unescape_string_literal(bit)
            conditions = [Q(**{f"{field}__icontains": bit}) for field in own]
            for relation, lookups in related.items():
                model = self.model._meta.get_field(relation).related_model
                matching = model._base_manager.filter(reduce(or_, [Q(**{f"{f}__icontains": bit}) for f in lookups]))
                conditions.append(Q(**{f"{relation}__in": matching.values("pk")}))
            queryset = queryset.filter(reduce(or_, conditions))
        return queryset, False


class ScopedAdminMixin:
    """For admins whose queryset is limited to the user's data scope: an object outside the scope answers
    404, exactly like one that does not exist, instead of the admin's redirect that confirms it exists."""

    def _require_in_scope(self, request, object_id):
        if object_id and self.get_object(request, unquote(object_id)) is None:
            raise Http404

    def change_view(self, request, object_id, form_url="", extra_context=None):
        self._require_in_scope(request, object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        self._require_in_scope(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        self._require_in_scope(request, object_id)
        return super().delete_view(request, object_id, extra_context)


@admin.register(County)
class CountyAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]

    def has_delete_permission(self, request, obj=None):
        # Counties are referenced by enterprises and organisations; they are corrected, never removed.
        return False


@admin.register(Scenario)
class ScenarioAdmin(admin.ModelAdmin):
    list_display = ["name", "family", "code", "sort_order"]
    list_filter = ["family"]
    search_fields = ["name", "code"]

    def has_delete_permission(self, request, obj=None):
        return False


class UserInline(admin.TabularInline):
    model = User
    fields = ["username", "full_name", "email", "is_active"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "county", "is_active", "created_at"]
    list_filter = ["kind", "county", "is_active"]
    search_fields = ["name"]
    list_select_related = ["county"]
    inlines = [UserInline]

    def has_delete_permission(self, request, obj=None):
        return False


class UserAccountForm(UserChangeForm):
    def clean_groups(self):
        groups = self.cleaned_data["groups"]
        # Separation of duties (roles.py): the membership signal refuses it too, but here it is a message on the
        # field instead of an error page.
        validate_role_separation(group.name for group in groups)
        return groups


# What the account itself is: the system administrator's. Its roles (ROLE_ASSIGNMENT_FIELDS) are the security
# administrator's.
ACCOUNT_FIELDS = ["username", "full_name", "email", "phone", "organisation", "is_active"]


@admin.register(User)
class UserAdmin(PersonalDataAdminMixin, DjangoUserAdmin):
    # People's names are masked in the account list for roles that do not hold portal.view_personal_data (the
    # security administrator and the auditor identify accounts by user name); the account form is unchanged.
    personal_data_fields = {"full_name": mask_name}
    mask_view_only_forms = False
    form = UserAccountForm
    list_display = ["username", "full_name", "organisation", "role_names", "is_staff", "is_active", "last_login"]
    list_filter = ["groups", "is_staff", "is_active", "organisation__kind"]
    search_fields = ["username", "full_name", "email", "organisation__name"]
    list_select_related = ["organisation"]
    autocomplete_fields = ["organisation"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Person"), {"fields": ("full_name", "email", "phone", "organisation")}),
        (
            _("Roles and access"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "full_name", "organisation", "password1", "password2")}),
    )
    readonly_fields = ["last_login", "date_joined"]
    filter_horizontal = ["groups", "user_permissions"]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "user_permissions":
            # Roles carry the permissions; individually only the few listed in roles.py may be granted.
            conditions = Q()
            for name in INDIVIDUAL_PERMISSIONS:
                app_label, codename = name.split(".", 1)
                conditions |= Q(content_type__app_label=app_label, codename=codename)
            kwargs["queryset"] = Permission.objects.filter(conditions)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=_("roles"))
    def role_names(self, obj):
        return "、".join(str(group.name) for group in obj.groups.all())

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        # Only a superuser may make another superuser; a system administrator manages ordinary accounts.
        if not request.user.is_superuser:
            fields.append("is_superuser")
        # Separation of duties: roles and permissions are the security administrator's, the account's other
        # fields the system administrator's (a superuser has both).
        if not may_assign_roles(request.user):
            fields += [name for name in ROLE_ASSIGNMENT_FIELDS if name not in fields]
        if obj is not None and not may_manage_accounts(request.user):
            fields += ACCOUNT_FIELDS
        return fields

    def user_change_password(self, request, id, form_url=""):
        # Whoever could set another account's password could act as it: only who manages accounts may, and not for
        # the security administrator and the auditor, whose duty is to check the system administrator (roles.py).
        if not may_manage_accounts(request.user):
            raise PermissionDenied
        account = self.get_object(request, unquote(id))
        if account is not None and not may_set_password(request.user, account):
            raise PermissionDenied
        before = account.password if account is not None else None
        response = super().user_change_password(request, id, form_url)
        if account is not None and request.method == "POST":
            account.refresh_from_db(fields=["password"])
            if account.password != before:
                self._password_set_for(request, account, reset=True)
        return response

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change and obj.has_usable_password():
            # A new account's first password is the administrator's, like a reset's.
            self._password_set_for(request, obj, reset=False)

    @staticmethod
    def _password_set_for(request, account, *, reset):
        """The administrator knows the password just set: the account must choose its own at its next login
        (passwords.PASSWORD_SET_BY_ADMINISTRATOR); an administrator's own password change stays theirs."""
        if account.pk != request.user.pk:
            User.objects.filter(pk=account.pk).update(password_changed_at=PASSWORD_SET_BY_ADMINISTRATOR)
            account.password_changed_at = PASSWORD_SET_BY_ADMINISTRATOR
        if reset:
            record_event(
                AuditEvent.Action.PASSWORD_CHANGED,
                request=request,
                obj=account,
                set_by_administrator=True,
                must_change=account.pk != request.user.pk,
            )

    def has_delete_permission(self, request, obj=None):
        # Accounts are deactivated, not deleted: decisions and the audit log keep pointing at them.
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that are written only by the services (or never after their creation): nobody edits them here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The audit log for the auditor, with each event's place in the hash chain: the sequence and the hashes
    let anyone recompute a link by hand, and `manage.py verify_audit` checks them all."""

    list_display = ["sequence", "at", "actor_username", "action", "success", "object_repr", "ip_address", "path"]
    list_filter = ["action", "success"]
    search_fields = ["actor_username", "object_repr", "ip_address", "path"]
    date_hierarchy = "at"
    ordering = ["-sequence"]
    # Every recorded field (several are not editable, so the admin would not show them otherwise).
    fields = [
        "sequence",
        "at",
        "actor",
        "actor_username",
        "action",
        "success",
        "object_type",
        "object_id",
        "object_repr",
        "path",
        "ip_address",
        "user_agent",
        "detail",
        "prev_hash",
        "chain_hash",
    ]
    readonly_fields = fields


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ReadOnlyAdmin):
    """Where the retention purge cut the start of the chain (verification starts there)."""

    list_display = ["created_at", "last_sequence", "last_id", "cutoff", "retention_days", "events", "last_hash"]
    date_hierarchy = "created_at"
    fields = ["created_at", "last_sequence", "last_id", "last_hash", "cutoff", "retention_days", "events"]
    readonly_fields = fields


class WorkCalendarDayForm(forms.ModelForm):
    class Meta:
        model = WorkCalendarDay
        fields = ["date", "is_workday", "name"]

    def clean(self):
        cleaned = super().clean()
        day, is_workday = cleaned.get("date"), cleaned.get("is_workday")
        if day is not None and is_workday is not None and is_workday == (day.weekday() < 5):
            # Only exceptions to the Monday–Friday week are recorded; anything else is the default already.
            if is_workday:
                message = _("%(date)s is a weekday and so already a working day; record only holidays on weekdays.")
            else:
                message = _("%(date)s is a weekend day and so already a rest day; record only make-up working days.")
            raise forms.ValidationError(message % {"date": day.isoformat()})
        return cleaned


@admin.register(WorkCalendarDay)
class WorkCalendarDayAdmin(admin.ModelAdmin):
    """The holidays and make-up working days that working-day deadlines (complaints) count with; a year without
    rows counts Monday to Friday. Deadlines already set keep their dates."""

    form = WorkCalendarDayForm
    list_display = ["date", "weekday", "is_workday", "name"]
    list_filter = ["is_workday"]
    search_fields = ["name"]
    date_hierarchy = "date"
    ordering = ["date"]

    @admin.display(description=_("weekday"), ordering="date")
    def weekday(self, obj):
        return date_format(obj.date, "l")


@admin.register(IssuedDocument)
class IssuedDocumentAdmin(ReadOnlyAdmin):
    """The register of issued documents: read-only (a corrected document is a new issue, made by the service
    that decided), the file downloaded through the audited document view."""

    list_display = ["issued_at", "kind", "document_number", "title", "pages", "issued_by", "pdf_link"]
    list_filter = ["kind", ("issued_at", admin.DateFieldListFilter)]
    search_fields = ["title", "document_number", "verification_code", "sha256"]
    date_hierarchy = "issued_at"
    list_select_related = ["issued_by"]
    fields = [
        "kind",
        "title",
        "document_number",
        "authority",
        "issued_at",
        "issued_by",
        "recipients",
        "pages",
        "size",
        "verification_code",
        "sha256",
        "pdf_link",
        "verify_link",
    ]
    readonly_fields = fields

    @admin.display(description=_("PDF"))
    def pdf_link(self, obj):
        url = reverse("document_download", args=[obj.verification_code])
        return format_html('<a href="{}">{}</a>', url, _("Download"))

    @admin.display(description=_("verification page"))
    def verify_link(self, obj):
        url = reverse("verify_document", args=[obj.verification_code])
        return format_html('<a href="{}">{}</a>', url, url)


@admin.register(BackgroundJob)
class BackgroundJobAdmin(ReadOnlyAdmin):
    """For the system administrator: what ran, for whom, and why it failed."""

    list_display = ["created_at", "kind", "status", "requested_by", "done_steps", "total_steps", "finished_at"]
    list_filter = ["kind", "status"]
    list_select_related = ["requested_by"]
    readonly_fields = [f.name for f in BackgroundJob._meta.fields]


# The security administrator's page of authenticators, in place of django-otp's (which shows their secrets).
register_device_admin(admin.site)
