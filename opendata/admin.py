"""Staff pages for what the public portal publishes: announcements, and the excellent-provider batches (Art 15).

Officers write drafts with the ordinary admin forms. Publishing and withdrawing are confirmation pages at
`<pk>/act/<action>/` that call opendata.services, which check the permission again under a row lock. A
published record is read-only: a correction is a withdrawal and a new announcement.

tangshan_portal.admin_actions.ServiceActionAdminMixin is not used: it derives who may act from django-fsm
transitions and makes every record read-only, while these records have no state machine and drafts are edited
in place."""

import dataclasses
from collections.abc import Callable

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from evaluations.models import ExcellentBatch, ExcellentEntry
from tangshan_portal.models import Announcement

from . import services
from .forms import AnnouncementForm, ConfirmForm, ExcellentBatchForm, ExcellentEntryForm, WithdrawForm

STATE_LABELS = {"draft": _("Draft"), "published": _("Published"), "withdrawn": _("Withdrawn")}


@dataclasses.dataclass(frozen=True)
class ObjectAction:
    name: str  # in the URL
    label: str
    permission: str
    available: Callable  # (obj) -> whether the record's state allows it now
    perform: Callable  # (obj, user, cleaned_data) -> obj, through the service
    success: Callable  # (obj) -> message
    form_class: type = ConfirmForm
    explain: Callable = None  # (obj) -> text on the confirmation page
    danger: bool = False
    refusal: str = _("You may not take this action.")  # to a user without the permission


class ObjectActionAdminMixin:
    """Confirmation pages that call a service, linked from the change page and the list."""

    object_actions = {}
    action_template = "public/admin_action.html"

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/act/<slug:action>/",
                self.admin_site.admin_view(self.action_view),
                name="{}_{}_act".format(*info),
            ),
            *super().get_urls(),
        ]

    def _url(self, name, *args):
        return reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_{name}", args=args, current_app=self.admin_site.name
        )

    def actions_for(self, user, obj):
        return [a for a in self.object_actions.values() if a.available(obj) and user.has_perm(a.permission)]

    def action_links(self, request):
        """The column and read-only field listing the actions this user may take on a record now. Bound to the
        request because Django calls read-only fields with the object only (and a ModelAdmin is shared by all
        requests, so the user cannot be kept on it)."""
        bound = getattr(request, "_object_action_links", None)
        if bound is None:

            def bound(obj):
                actions = self.actions_for(request.user, obj) if obj is not None and obj.pk else []
                if not actions:
                    return "—"
                return format_html_join(
                    " ",
                    '<a class="button" href="{}">{}</a>',
                    ((self._url("act", obj.pk, a.name), a.label) for a in actions),
                )

            bound.short_description = _("actions")
            request._object_action_links = bound
        return bound

    def _bind(self, request, names):
        return [self.action_links(request) if name == "action_links" else name for name in names]

    def get_list_display(self, request):
        return self._bind(request, super().get_list_display(request))

    def summary(self, obj):
        return []

    def action_view(self, request, object_id, action):
        spec = self.object_actions.get(action)
        if spec is None or not self.has_view_permission(request):
            raise Http404 if spec is None else PermissionDenied
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        change_url = self._url("change", obj.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "has_view_permission": True,
            "title": spec.label,
            "subtitle": str(obj),
            "record": obj,
            "action": spec,
            "change_url": change_url,
            "summary": self.summary(obj),
        }
        if not request.user.has_perm(spec.permission):
            context["refusal"] = spec.refusal
            return TemplateResponse(request, self.action_template, context, status=403)
        if request.method == "POST":
            form = spec.form_class(request.POST)
            if form.is_valid():
                try:
                    result = spec.perform(obj, request.user, form.cleaned_data)
                except ValidationError as error:
                    self._put_errors(form, error)
                except PermissionDenied as error:
                    context["refusal"] = str(error) or gettext("You may not take this action.")
                    return TemplateResponse(request, self.action_template, context, status=403)
                else:
                    messages.success(request, spec.success(result))
                    return HttpResponseRedirect(change_url)
        else:
            if not spec.available(obj):
                messages.error(request, gettext("This action is not possible in the record's present state."))
                return HttpResponseRedirect(change_url)
            form = spec.form_class()
        context.update(form=form, explanation=spec.explain(obj) if spec.explain else "", media=self.media + form.media)
        return TemplateResponse(request, self.action_template, context)

    @staticmethod
    def _put_errors(form, error):
        if hasattr(error, "error_dict"):
            for key, texts in error.message_dict.items():
                form.add_error(key if key in form.fields else None, texts)
        else:
            form.add_error(None, error.messages)


# --- Announcements ---------------------------------------------------------------------------------------------


class AnnouncementStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return list(STATE_LABELS.items())

    def queryset(self, request, queryset):
        value = self.value()
        if value == "draft":
            return queryset.filter(published_at__isnull=True)
        if value == "published":
            return queryset.filter(published_at__isnull=False, withdrawn_at__isnull=True)
        if value == "withdrawn":
            return queryset.filter(withdrawn_at__isnull=False)
        return queryset


@admin.register(Announcement)
class AnnouncementAdmin(ObjectActionAdminMixin, admin.ModelAdmin):
    form = AnnouncementForm
    list_display = ["title", "category", "state", "published_at", "created_by", "action_links"]
    list_filter = [AnnouncementStateFilter, "category"]
    search_fields = ["title", "body"]
    list_select_related = ["created_by"]
    date_hierarchy = "created_at"
    object_actions = {
        "publish": ObjectAction(
            name="publish",
            label=_("Publish"),
            permission=services.ANNOUNCEMENT_PUBLISH_PERMISSION,
            available=lambda a: services.announcement_state(a) == "draft",
            perform=lambda a, user, data: services.announcement_publish(announcement=a, by=user),
            success=lambda a: gettext("“%(title)s” is published on the public portal.") % {"title": a.title},
            explain=lambda a: gettext(
                "The announcement appears on the public portal at once. After that its text cannot be changed; "
                "a correction is a withdrawal and a new announcement."
            ),
        ),
        "withdraw": ObjectAction(
            name="withdraw",
            label=_("Withdraw"),
            permission=services.ANNOUNCEMENT_PUBLISH_PERMISSION,
            available=lambda a: services.announcement_state(a) == "published",
            perform=lambda a, user, data: services.announcement_withdraw(
                announcement=a, by=user, reason=data["reason"]
            ),
            success=lambda a: gettext("“%(title)s” is withdrawn.") % {"title": a.title},
            form_class=WithdrawForm,
            explain=lambda a: gettext(
                "The announcement leaves the public list. Its address keeps answering with the date and the reason "
                "of the withdrawal (410 Gone)."
            ),
            danger=True,
        ),
    }

    def get_fieldsets(self, request, obj=None):
        main = (None, {"fields": ["title", "category", "body"]})
        if obj is None:
            return [main]
        return [
            main,
            (
                _("Publication"),
                {
                    "fields": [
                        "state",
                        "public_link",
                        "published_at",
                        "withdrawn_at",
                        "withdrawal_reason",
                        "created_by",
                        self.action_links(request),
                    ]
                },
            ),
        ]

    def get_readonly_fields(self, request, obj=None):
        fields = ["state", "public_link", "published_at", "withdrawn_at", "withdrawal_reason", "created_by"]
        return [*fields, self.action_links(request)]

    @admin.display(description=_("state"))
    def state(self, obj):
        return STATE_LABELS[services.announcement_state(obj)]

    @admin.display(description=_("public page"))
    def public_link(self, obj):
        if obj.published_at is None:
            return gettext("None while a draft")
        url = reverse("public:announcement_detail", args=[obj.pk])
        return format_html('<a href="{0}">{0}</a>', url)

    def summary(self, obj):
        return [
            (_("title"), obj.title),
            (_("category"), obj.get_category_display()),
            (_("state"), self.state(obj)),
        ]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def has_change_permission(self, request, obj=None):
        # Published text is fixed: what the public read stays on record exactly as it was.
        if obj is not None and obj.published_at is not None:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.published_at is not None:
            return False
        return super().has_delete_permission(request, obj)


# --- Excellent-provider batches (Art 15) ------------------------------------------------------------------------


class ExcellentEntryInline(admin.TabularInline):
    model = ExcellentEntry
    form = ExcellentEntryForm
    fields = ["rank", "provider", "score", "citation"]
    extra = 3
    ordering = ["rank"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "provider":
            # A provider is chosen here, never added or edited from a list of honours.
            for flag in ("can_add_related", "can_change_related", "can_delete_related", "can_view_related"):
                setattr(formfield.widget, flag, False)
        return formfield

    def _draft(self, obj):
        return obj is None or obj.status == ExcellentBatch.Status.DRAFT

    def has_add_permission(self, request, obj=None):
        return self._draft(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._draft(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._draft(obj) and super().has_delete_permission(request, obj)


@admin.register(ExcellentBatch)
class ExcellentBatchAdmin(ObjectActionAdminMixin, admin.ModelAdmin):
    form = ExcellentBatchForm
    inlines = [ExcellentEntryInline]
    list_display = ["name", "period_start", "period_end", "status", "size", "published_at", "action_links"]
    list_filter = ["status"]
    search_fields = ["name", "document_number", "entries__provider__name"]
    object_actions = {
        "publish": ObjectAction(
            name="publish",
            label=_("Approve and publish"),
            permission=services.EXCELLENT_PUBLISH_PERMISSION,
            available=lambda b: b.status == ExcellentBatch.Status.DRAFT,
            perform=lambda b, user, data: services.excellent_batch_publish(batch=b, by=user),
            success=lambda b: gettext("“%(name)s” is published, with its announcement.") % {"name": b.name},
            explain=lambda b: gettext(
                "The ranked list appears on the public portal at once, and an announcement of the category "
                "“Excellent providers” links to it. After that the batch cannot be changed."
            ),
            refusal=_("Only an approver may publish an excellent-provider list; officers draft it."),
        ),
    }

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(entry_count=Count("entries"))

    @admin.display(description=_("providers"), ordering="entry_count")
    def size(self, obj):
        return obj.entry_count

    def get_fieldsets(self, request, obj=None):
        main = (None, {"fields": ["name", "period_start", "period_end", "document_number"]})
        if obj is None:
            return [main]
        publication = ["status", "public_link", "published_at", "published_by", self.action_links(request)]
        return [main, (_("Publication"), {"fields": publication})]

    def get_readonly_fields(self, request, obj=None):
        return ["status", "public_link", "published_at", "published_by", self.action_links(request)]

    @admin.display(description=_("public page"))
    def public_link(self, obj):
        if obj.status != ExcellentBatch.Status.PUBLISHED:
            return gettext("None while a draft")
        url = reverse("public:excellent_detail", args=[obj.pk])
        return format_html('<a href="{0}">{0}</a>', url)

    def summary(self, obj):
        entries = obj.entries.select_related("provider").order_by("rank")
        return [
            (_("name"), obj.name),
            (_("period"), f"{obj.period_start:%Y-%m-%d} – {obj.period_end:%Y-%m-%d}"),
            (_("providers"), "\n".join(f"{e.rank}. {e.provider.name}" for e in entries) or "—"),
        ]

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status != ExcellentBatch.Status.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.status != ExcellentBatch.Status.DRAFT:
            return False
        return super().has_delete_permission(request, obj)
