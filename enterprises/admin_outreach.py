"""Admin pages for diagnosis, dossier surveys, matchmaking events and training (Art 4, 5, 6(2), 7).

County bureaus hold the matchmaking events (Art 4): their staff see and change their own county's events only,
and every save goes through enterprises.services_outreach. Diagnoses, surveys and training are the providers'
records: the bureau reads them here and changes nothing."""

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, Sum
from django.http import Http404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tangshan_portal.admin import ReadOnlyAdmin as BaseReadOnlyAdmin
from tangshan_portal.admin import ScopedAdminMixin
from tangshan_portal.files import attachment_response
from tangshan_portal.models import County
from tangshan_portal.services import attachments_of

from . import selectors_outreach as selectors
from . import services_outreach as services
from .models import (
    CooperationIntention,
    DiagnosisFinding,
    DiagnosisReport,
    DossierSurvey,
    EventAttendance,
    MatchmakingEvent,
    TrainingAttendance,
    TrainingSession,
    TrainingTopic,
)
from .selectors import _is_county_limited, enterprises_visible_to


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ScopedAdminMixin, BaseReadOnlyAdmin):
    pass


class AttachmentsAdminMixin:
    """The record's files listed on its page and downloaded by whoever may see the record."""

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/attachment/<int:attachment_id>/",
                self.admin_site.admin_view(self.attachment_view),
                name="{}_{}_attachment".format(*info),
            ),
            *super().get_urls(),
        ]

    @admin.display(description=_("attachments"))
    def attachments(self, obj):
        rows = [
            (
                reverse(
                    f"admin:{self.opts.app_label}_{self.opts.model_name}_attachment",
                    args=[obj.pk, attachment.pk],
                    current_app=self.admin_site.name,
                ),
                attachment.original_name,
            )
            for attachment in attachments_of(obj)
        ]
        if not rows:
            return self.get_empty_value_display()
        return format_html_join(mark_safe("<br>"), '<a href="{}" download>{}</a>', rows)

    def attachment_view(self, request, object_id, attachment_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        attachment = attachments_of(obj).filter(pk=attachment_id).first()
        if attachment is None:
            raise Http404
        return attachment_response(request, attachment, record=f"{self.opts.label}:{obj.pk}")


class OwnCountyFilter(admin.SimpleListFilter):
    """The county; county bureau staff see their own county only, so they get nothing to choose."""

    title = _("county")
    parameter_name = "county"
    field_path = "county"

    def lookups(self, request, model_admin):
        if _is_county_limited(request.user):
            return []
        return [(str(county.pk), county.name) for county in County.objects.order_by("code")]

    def queryset(self, request, queryset):
        value = self.value()
        if not value or not value.isdigit():
            return queryset
        return queryset.filter(**{f"{self.field_path}_id": int(value)})


class EnterpriseCountyFilter(OwnCountyFilter):
    field_path = "enterprise__county"


# --- Matchmaking events (Art 4) -------------------------------------------------------------------------------


class AttendanceInlineForm(forms.ModelForm):
    class Meta:
        model = EventAttendance
        fields = ["provider", "enterprise", "attended"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # Who a row is about is fixed; a wrong row is removed and registered again.
            for name in ("provider", "enterprise"):
                if name in self.fields:
                    self.fields[name].disabled = True

    def clean(self):
        cleaned = super().clean()
        provider, enterprise = cleaned.get("provider"), cleaned.get("enterprise")
        if not self.instance.pk and (provider is None) == (enterprise is None):
            raise ValidationError(gettext("Choose either a provider or an enterprise."), code="provider_xor_enterprise")
        return cleaned


class AttendanceFormSet(forms.BaseInlineFormSet):
    """The rules the services apply, checked before anything is saved so that they show next to the row."""

    def clean(self):
        super().clean()
        event = self.instance
        today = timezone.localdate()
        seen = set()
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or not form.cleaned_data:
                continue
            row = form.instance
            if self._should_delete_form(form):
                if row.pk and services.attendance_has_intentions(row):
                    form.add_error(
                        None,
                        gettext("Cooperation intentions of this event rest on this attendance; it cannot be removed."),
                    )
                continue
            if form.cleaned_data.get("attended") and event.held_on and event.held_on > today:
                form.add_error("attended", gettext("Presence is recorded once the event has taken place."))
            if row.pk:
                unmarked = "attended" in form.changed_data and not form.cleaned_data.get("attended")
                if unmarked and services.attendance_has_intentions(row):
                    form.add_error(
                        "attended",
                        gettext("Cooperation intentions of this event rest on this attendance; it cannot be undone."),
                    )
                continue
            for name in ("provider", "enterprise"):
                party = form.cleaned_data.get(name)
                if party is None:
                    continue
                taken = event.pk is not None and EventAttendance.objects.filter(event=event, **{name: party}).exists()
                if taken or (name, party.pk) in seen:
                    form.add_error(name, gettext("Already registered for this event."))
                seen.add((name, party.pk))


class EventAttendanceInline(admin.TabularInline):
    model = EventAttendance
    form = AttendanceInlineForm
    formset = AttendanceFormSet
    fields = ["provider", "enterprise", "attended", "registered_by", "registered_at"]
    readonly_fields = ["registered_by", "registered_at"]
    autocomplete_fields = ["provider", "enterprise"]
    extra = 0
    verbose_name = _("registration")
    verbose_name_plural = _("registrations and attendance")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "enterprise":
            kwargs["queryset"] = enterprises_visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class CooperationIntentionInline(ReadOnlyInline):
    model = CooperationIntention
    fields = ["provider", "enterprise", "scenario_names", "note", "status", "proposed_at", "answered_at"]
    readonly_fields = fields
    verbose_name_plural = _("cooperation intentions reached")

    @admin.display(description=_("scenarios"))
    def scenario_names(self, obj):
        return "、".join(scenario.name for scenario in obj.scenarios.all()) or "—"


class EventAdminForm(forms.ModelForm):
    class Meta:
        model = MatchmakingEvent
        fields = ["county", "title", "held_on", "venue", "description"]
        # The model's "description" reads as a complaint's in the translations; say what it is here.
        labels = {"description": _("About the event")}
        help_texts = {"description": _("Who should come, the programme, what enterprises may bring.")}


@admin.register(MatchmakingEvent)
class MatchmakingEventAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = EventAdminForm
    list_display = ["held_on", "title", "county", "venue", "registered", "present", "intentions_reached"]
    list_filter = [OwnCountyFilter, "held_on"]
    search_fields = ["title", "venue", "description"]
    date_hierarchy = "held_on"
    list_select_related = ["county"]
    fields = ["county", "title", "held_on", "venue", "description", "created_by", "created_at"]
    readonly_fields = ["created_by", "created_at"]
    inlines = [EventAttendanceInline, CooperationIntentionInline]

    def get_queryset(self, request):
        queryset = (
            super()
            .get_queryset(request)
            .annotate(
                registered_count=Count("attendances", distinct=True),
                present_count=Count("attendances", filter=Q(attendances__attended=True), distinct=True),
                intention_count=Count("intentions", distinct=True),
            )
        )
        return selectors.events_visible_to(request.user, queryset)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "county" and _is_county_limited(request.user):
            # A county bureau holds events in its own county only.
            county = request.user.county
            kwargs["queryset"] = County.objects.filter(pk=county.pk) if county else County.objects.none()
            kwargs["initial"] = county
            kwargs["empty_label"] = None
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("registered"), ordering="registered_count")
    def registered(self, obj):
        return obj.registered_count

    @admin.display(description=_("present"), ordering="present_count")
    def present(self, obj):
        return obj.present_count

    @admin.display(description=_("intentions"), ordering="intention_count")
    def intentions_reached(self, obj):
        return obj.intention_count

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in services.EVENT_FIELDS if name in form.cleaned_data}
        if change:
            services.event_update(by=request.user, event=obj, data=data)
            return
        event = services.event_create(by=request.user, **data)
        # The admin goes on with `obj` (the inlines hang off it): make it the row the service created.
        obj.pk, obj.created_by, obj.created_at = event.pk, event.created_by, event.created_at
        obj._state.adding, obj._state.db = False, event._state.db

    def save_formset(self, request, form, formset, change):
        if formset.model is not EventAttendance:
            return super().save_formset(request, form, formset, change)
        event = form.instance
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for row_form in formset.forms:
            if not hasattr(row_form, "cleaned_data") or not row_form.cleaned_data:
                continue
            row = row_form.instance
            if formset._should_delete_form(row_form):
                if row.pk:
                    services.attendance_remove(by=request.user, attendance=row)
                    formset.deleted_objects.append(row)
                continue
            attended = row_form.cleaned_data.get("attended", False)
            if row.pk is None:
                if not row_form.has_changed():
                    continue
                row = services.attendance_register(
                    by=request.user,
                    event=event,
                    provider=row_form.cleaned_data.get("provider"),
                    enterprise=row_form.cleaned_data.get("enterprise"),
                )
                if attended:
                    row = services.attendance_mark(by=request.user, attendance=row, attended=True)
                row_form.instance = row
                formset.new_objects.append(row)
            elif "attended" in row_form.changed_data:
                services.attendance_mark(by=request.user, attendance=row, attended=attended)
                formset.changed_objects.append((row, ["attended"]))
        return None


# --- Training (Art 7) --------------------------------------------------------------------------------------------


class TopicFilter(admin.SimpleListFilter):
    title = _("topic")
    parameter_name = "topic"

    def lookups(self, request, model_admin):
        return TrainingTopic.choices

    def queryset(self, request, queryset):
        value = self.value()
        if value not in TrainingTopic.values:
            return queryset
        # The topics are a JSON list of codes; a quoted code cannot be part of another code.
        return queryset.filter(topics__icontains=f'"{value}"')


class TrainingAttendanceInline(ReadOnlyInline):
    model = TrainingAttendance
    fields = ["enterprise", "attendees", "names"]
    readonly_fields = fields


@admin.register(TrainingSession)
class TrainingSessionAdmin(AttachmentsAdminMixin, ReadOnlyAdmin):
    list_display = ["held_on", "title", "provider", "topic_list", "hours", "county", "attendee_total"]
    list_filter = [TopicFilter, OwnCountyFilter, "held_on", "provider__provider_type"]
    search_fields = ["title", "venue", "provider__name", "provider__uscc"]
    date_hierarchy = "held_on"
    list_select_related = ["provider", "county"]
    fields = [
        "provider",
        "title",
        "topic_list",
        "held_on",
        "hours",
        "county",
        "venue",
        "description",
        "attachments",
        "created_by",
        "created_at",
    ]
    readonly_fields = fields
    inlines = [TrainingAttendanceInline]

    def get_queryset(self, request):
        queryset = super().get_queryset(request).annotate(attendees_sum=Sum("attendances__attendees"))
        return selectors.trainings_visible_to(request.user, queryset)

    @admin.display(description=_("topics"))
    def topic_list(self, obj):
        return "、".join(str(label) for label in obj.topic_labels())

    @admin.display(description=_("attendees"), ordering="attendees_sum")
    def attendee_total(self, obj):
        return obj.attendees_sum or 0


# --- Diagnosis (Art 5) and the dossier survey (Art 6(2)) -----------------------------------------------------------


class DiagnosisFindingInline(ReadOnlyInline):
    model = DiagnosisFinding
    fields = ["scenario", "family", "current_state", "recommendation", "priority"]
    readonly_fields = fields

    @admin.display(description=_("scenario family"))
    def family(self, obj):
        return obj.scenario.get_family_display()


@admin.register(DiagnosisReport)
class DiagnosisReportAdmin(AttachmentsAdminMixin, ReadOnlyAdmin):
    list_display = ["enterprise", "provider", "diagnosed_on", "status", "finding_count", "submitted_at"]
    list_filter = ["status", EnterpriseCountyFilter, "diagnosed_on"]
    search_fields = ["enterprise__name", "enterprise__uscc", "provider__name", "provider__uscc"]
    date_hierarchy = "diagnosed_on"
    list_select_related = ["enterprise", "provider"]
    fields = [
        "enterprise",
        "provider",
        "diagnosed_on",
        "summary",
        "status",
        "attachments",
        "created_by",
        "created_at",
        "submitted_at",
    ]
    readonly_fields = fields
    inlines = [DiagnosisFindingInline]

    def get_queryset(self, request):
        queryset = super().get_queryset(request).annotate(findings_total=Count("findings"))
        return selectors.diagnoses_visible_to(request.user, queryset)

    @admin.display(description=_("findings"), ordering="findings_total")
    def finding_count(self, obj):
        return obj.findings_total


@admin.register(DossierSurvey)
class DossierSurveyAdmin(ReadOnlyAdmin):
    """Confidential core information (Art 6(2), 10(1)): only staff holding enterprises.view_dossiersurvey see it,
    within their data scope."""

    list_display = ["enterprise", "contract", "provider", "surveyed_on", "created_at"]
    list_filter = [EnterpriseCountyFilter, "surveyed_on"]
    search_fields = ["enterprise__name", "enterprise__uscc", "contract__number"]
    date_hierarchy = "surveyed_on"
    list_select_related = ["enterprise", "contract__provider"]
    fields = [
        "enterprise",
        "contract",
        "provider",
        "surveyed_on",
        "production_process",
        "supply_chain",
        "intellectual_property",
        "other_core_information",
        "created_by",
        "created_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return selectors.surveys_visible_to(request.user, super().get_queryset(request))

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("enterprises.view_dossiersurvey")

    @admin.display(description=_("provider"), ordering="contract__provider__name")
    def provider(self, obj):
        return obj.contract.provider
