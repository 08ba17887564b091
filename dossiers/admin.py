"""The bureau's side of Art 10(1) in the admin: destruction requests (a case officer requests, another person
approves, and the approval carries the destruction out through dossiers.services), the destruction records that
prove it (read-only), and the enterprises' consents (read-only, for supervision).

The request page follows the case admin's pattern (tangshan_portal.admin_actions.ServiceActionAdminMixin): a
read-only record with an actions panel and a timeline, each action a confirmation page that calls a service."""

import json

from django import forms
from django.contrib import admin
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from enterprises.models import PilotEnterprise
from tangshan_portal.admin import ReadOnlyAdmin
from tangshan_portal.admin_actions import CaseAction, ServiceActionAdminMixin
from tangshan_portal.forms import ChoiceListAutocompleteSelect
from tangshan_portal.models import AuditEvent

from . import services
from .models import DestructionRecord, DestructionRequest, DestructionStatus, DossierConsent


def _person(user):
    if user is None:
        return None
    return user.full_name or user.get_username()


def _local(value):
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"


# --- Forms ---------------------------------------------------------------------------------------------------------


class StaffForm(forms.Form):
    required_css_class = "required"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.label = capfirst(field.label)


class DestructionRequestForm(StaffForm):
    enterprise = forms.ModelChoiceField(
        label=_("enterprise"),
        queryset=PilotEnterprise.objects.order_by("name"),
        widget=ChoiceListAutocompleteSelect(DestructionRequest._meta.get_field("enterprise"), admin.site),
        help_text=_("The pilot enterprise whose service has ended; type part of its name or code to search."),
    )
    legal_ground = forms.CharField(
        label=_("legal ground"),
        initial=services.ART_10_1_DESTRUCTION,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("The provision the destruction rests on; it is kept in the destruction record."),
    )
    reason = forms.CharField(
        label=_("reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("E.g. the enterprise left the pilot, or its last contract was accepted."),
    )


class ApproveForm(StaffForm):
    note = forms.CharField(label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))
    confirm = forms.BooleanField(
        label=_("I have checked the request: the data are destroyed now and cannot be restored."),
    )


class RejectForm(StaffForm):
    note = forms.CharField(label=_("reason for the decision"), widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))


class ExecuteForm(StaffForm):
    confirm = forms.BooleanField(label=_("Carry out the approved destruction now."))


def _approve_and_execute(request_obj, user, data):
    # One click, one outcome: when the destruction cannot be carried out, the approval is not recorded either.
    with transaction.atomic():
        approved = services.destruction_approve(request=request_obj, by=user, note=data.get("note", ""))
        return services.destruction_execute(request_id=approved.pk, by=user)


DESTRUCTION_ACTIONS = {
    "approve": CaseAction(
        name="approve",
        method="approve",
        label=_("Approve and destroy"),
        form_class=ApproveForm,
        perform=_approve_and_execute,
        success=lambda record: (
            gettext("The data were destroyed. Destruction record #%(id)s keeps the proof (manifest SHA-256 %(hash)s).")
            % {"id": record.pk, "hash": record.manifest_sha256}
        ),
        explain=lambda obj: gettext(
            "Approving removes the enterprise's personal data and the confidential content listed below at once, "
            "in one step that either completes or changes nothing. Contracts, decisions, issued documents and the "
            "audit log are kept."
        ),
        danger=True,
        redirect_to=lambda record: reverse("admin:dossiers_destructionrecord_change", args=[record.pk]),
    ),
    "reject": CaseAction(
        name="reject",
        method="reject",
        label=_("Reject"),
        form_class=RejectForm,
        perform=lambda obj, user, data: services.destruction_reject(request=obj, by=user, note=data["note"]),
        success=lambda obj: gettext("The request was rejected; the requesting officer is told."),
        field_map={"note": "note"},
    ),
    "execute": CaseAction(
        name="execute",
        method="execute",
        label=_("Carry out"),
        form_class=ExecuteForm,
        perform=lambda obj, user, data: services.destruction_execute(request_id=obj.pk, by=user),
        success=lambda record: (
            gettext("The data were destroyed. Destruction record #%(id)s keeps the proof.") % {"id": record.pk}
        ),
        explain=lambda obj: gettext(
            "The request is approved but was not carried out (the background task does it too); carry it out now."
        ),
        danger=True,
        redirect_to=lambda record: reverse("admin:dossiers_destructionrecord_change", args=[record.pk]),
    ),
}

# The manifest's categories (dossiers.services._destroy) as the record page names them.
CATEGORY_LABELS = {
    "enterprise_contact": _("Enterprise's contact person and phone"),
    "enterprise_staff_phones": _("Phone numbers of the enterprise's accounts"),
    "diagnosis_summaries": _("Overall assessments of diagnoses"),
    "diagnosis_findings": _("Diagnosis findings"),
    "dossier_surveys": _("Deep surveys"),
    "training_attendee_names": _("Names of staff at training"),
    "attachments": _("Files attached to diagnoses"),
    "consents": _("Consents to share the dossier"),
}

WHAT_IS_DESTROYED = _(
    "Destroyed: the enterprise's contact person and phone and its staff's phone numbers; the texts of its diagnoses "
    "and findings and of its deep surveys; the names of its staff at training; the files attached to its "
    "diagnoses; the consents it gave. Kept: its registry entry, contracts with amounts and their records, "
    "complaints, cases and decisions, issued documents and the audit log."
)


@admin.register(DestructionRequest)
class DestructionRequestAdmin(ServiceActionAdminMixin, admin.ModelAdmin):
    case_actions = DESTRUCTION_ACTIONS
    change_form_template = "admin/complaints/record_change_form.html"
    open_form_class = DestructionRequestForm
    open_title = _("Request the destruction of an enterprise's data")
    add_label = _("Request a destruction")
    created_label = _("Requested")
    transition_labels = {"approve": _("Approved"), "reject": _("Rejected"), "execute": _("Carried out")}

    list_display = ["enterprise", "status", "requested_by", "requested_on", "decided_by", "record_link"]
    list_filter = ["status"]
    search_fields = ["enterprise__name", "enterprise__uscc"]
    list_select_related = ["enterprise", "requested_by", "decided_by"]
    fieldsets = (
        (None, {"fields": ("enterprise", "status", "legal_ground", "reason", "scope_display")}),
        (_("Request"), {"fields": ("requested_by", "requested_at")}),
        (_("Decision"), {"fields": ("decided_by", "decided_at", "decision_note", "executed_at", "record_link")}),
    )

    def get_urls(self):
        # A request has no attachments: the mixin's file view is left out.
        info = f"{self.opts.app_label}_{self.opts.model_name}_attachment"
        return [url for url in super().get_urls() if getattr(url, "name", None) != info]

    def has_add_permission(self, request):
        return request.user.has_perm("dossiers.request_destruction")

    def may_ever_take(self, obj, action, user):
        # The four-eyes rule is explained on the page (action_refusal) rather than answered with a bare 403.
        return user.has_perm("dossiers.approve_destruction")

    def action_refusal(self, request, obj, action):
        if action.name == "approve" and obj.requested_by_id == request.user.pk:
            return gettext("You requested this destruction: another approver must approve it (four eyes).")
        return None

    def available_actions(self, request, obj):
        actions = super().available_actions(request, obj)
        if obj.status == DestructionStatus.REQUESTED and services.destruction_obstacles(obj.enterprise):
            # Approval would be refused: only rejection is offered.
            actions = [action for action in actions if action.name != "approve"]
        return actions

    def not_now_message(self, obj, action):
        return gettext("This action is not possible while the request is “%(status)s”.") % {
            "status": obj.get_status_display()
        }

    def case_notes(self, request, obj):
        notes = []
        if obj.status == DestructionStatus.REQUESTED:
            notes.extend(services.destruction_obstacles(obj.enterprise))
            notes.append(gettext("Approval needs an approver other than the officer who requested it."))
        notes.append(WHAT_IS_DESTROYED)
        return notes

    def summary(self, obj):
        return [
            (_("enterprise"), f"{obj.enterprise.name}（{obj.enterprise.uscc}）"),
            (_("legal ground"), obj.legal_ground),
            (_("reason"), obj.reason or "—"),
            (_("requested by"), f"{_person(obj.requested_by)} · {_local(obj.requested_at)}"),
            (_("status"), obj.get_status_display()),
        ]

    def open_case(self, request, data):
        return services.destruction_request(
            enterprise=data["enterprise"], by=request.user, legal_ground=data["legal_ground"], reason=data["reason"]
        )

    def opened_message(self, obj):
        return gettext("Destruction requested. An approver other than you must approve it before anything is removed.")

    open_prefill = ("enterprise",)

    @admin.display(description=_("requested"), ordering="requested_at")
    def requested_on(self, obj):
        return _local(obj.requested_at)

    @admin.display(description=_("what is destroyed and kept"))
    def scope_display(self, obj):
        return WHAT_IS_DESTROYED

    @admin.display(description=_("destruction record"))
    def record_link(self, obj):
        record = getattr(obj, "record", None) if obj.status == DestructionStatus.EXECUTED else None
        if record is None:
            return "—"
        url = reverse("admin:dossiers_destructionrecord_change", args=[record.pk])
        return format_html('<a href="{}">#{}</a>', url, record.pk)


@admin.register(DestructionRecord)
class DestructionRecordAdmin(ReadOnlyAdmin):
    """The proof of each destruction, as it was written: nothing here can be changed or deleted."""

    list_display = ["executed_on", "enterprise_name", "enterprise_uscc", "requested_by", "approved_by", "executor"]
    search_fields = ["enterprise_name", "enterprise_uscc", "manifest_sha256"]
    list_select_related = ["requested_by", "approved_by", "executed_by"]
    date_hierarchy = "executed_at"
    fieldsets = (
        (None, {"fields": ("enterprise_name", "enterprise_uscc", "legal_ground", "request_link")}),
        (
            _("Who and when"),
            {"fields": ("requested_by", "requested_at", "approved_by", "approved_at", "executor", "executed_at")},
        ),
        (
            _("What was destroyed"),
            {"fields": ("categories_display", "files_display", "kept_display")},
        ),
        (
            _("Proof"),
            {"fields": ("manifest_sha256", "hash_check", "audit_display", "manifest_display")},
        ),
    )

    def get_readonly_fields(self, request, obj=None):
        return [name for _title, options in self.fieldsets for name in options["fields"]]

    @admin.display(description=_("carried out"), ordering="executed_at")
    def executed_on(self, obj):
        return _local(obj.executed_at)

    @admin.display(description=_("carried out by"))
    def executor(self, obj):
        return _person(obj.executed_by) or gettext("Background task")

    @admin.display(description=_("request"))
    def request_link(self, obj):
        url = reverse("admin:dossiers_destructionrequest_change", args=[obj.request_id])
        return format_html('<a href="{}">#{}</a>', url, obj.request_id)

    @admin.display(description=_("categories"))
    def categories_display(self, obj):
        rows = [
            (
                CATEGORY_LABELS.get(entry["category"], entry["category"]),
                entry["model"],
                ", ".join(entry.get("fields", [])),
                entry["rows"],
                gettext("deleted") if entry["action"] == "deleted" else gettext("emptied"),
            )
            for entry in obj.manifest.get("categories", [])
        ]
        return format_html(
            "<table><thead><tr><th scope='col'>{}</th><th scope='col'>{}</th><th scope='col'>{}</th>"
            "<th scope='col'>{}</th><th scope='col'>{}</th></tr></thead><tbody>{}</tbody></table>",
            gettext("Category"),
            gettext("Model"),
            gettext("Fields"),
            gettext("Rows"),
            gettext("Action"),
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )

    @admin.display(description=_("files"))
    def files_display(self, obj):
        files = obj.manifest.get("files", [])
        if not files:
            return gettext("No file.")
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li><code>{}</code> · {} · {}</li>",
                (
                    (
                        entry["sha256"],
                        filesizeformat(entry["size"]),
                        gettext("removed") if entry.get("file_removed") else gettext("kept: another record uses it"),
                    )
                    for entry in files
                ),
            ),
        )

    @admin.display(description=_("kept"))
    def kept_display(self, obj):
        return "；".join(obj.manifest.get("kept", []))

    @admin.display(description=_("manifest matches its SHA-256"))
    def hash_check(self, obj):
        if services.manifest_digest(obj.manifest) == obj.manifest_sha256:
            return gettext("Yes")
        return format_html('<strong class="errornote">{}</strong>', gettext("No: the manifest was changed"))

    @admin.display(description=_("audit event"))
    def audit_display(self, obj):
        events = AuditEvent.objects.filter(
            action=AuditEvent.Action.DATA_DESTROYED, object_type=obj._meta.label, object_id=str(obj.pk)
        )
        return format_html_join(
            "",
            "<p>{} · {} · {}</p>",
            ((event.sequence, _local(event.at), event.detail.get("manifest_sha256", "")) for event in events),
        ) or gettext("None")

    @admin.display(description=_("manifest"))
    def manifest_display(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.manifest, ensure_ascii=False, indent=2, sort_keys=True))


@admin.register(DossierConsent)
class DossierConsentAdmin(ReadOnlyAdmin):
    """The consents enterprises gave, for the bureau's supervision of sharing; only the enterprise gives or
    revokes them (its self-service pages)."""

    list_display = ["enterprise", "grantee", "parts", "valid_until", "status_display", "granted_on", "revoked_on"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["enterprise__name", "enterprise__uscc", "grantee__name", "grantee__uscc"]
    list_select_related = ["enterprise", "grantee"]
    fields = [
        "enterprise",
        "grantee",
        "purpose",
        "parts",
        "granted_by",
        "granted_at",
        "valid_until",
        "revoked_by",
        "revoked_at",
        "status_display",
    ]
    readonly_fields = fields

    @admin.display(description=_("parts shared"))
    def parts(self, obj):
        return "、".join(str(label) for label in obj.scope_labels)

    @admin.display(description=_("status"))
    def status_display(self, obj):
        return {"active": gettext("In force"), "revoked": gettext("Revoked")}.get(obj.status(), gettext("Expired"))

    @admin.display(description=_("given"), ordering="granted_at")
    def granted_on(self, obj):
        return _local(obj.granted_at)

    @admin.display(description=_("revoked"), ordering="revoked_at")
    def revoked_on(self, obj):
        return _local(obj.revoked_at) if obj.revoked_at else "—"
