"""Serializers of the open-data API (read-only).

They expose no personal data: no user accounts (who proposed, decided, published or submitted), no contact
persons, telephone numbers or e-mail addresses and no legal representatives. Organisations appear with their
name and Unified Social Credit Code, which are public register data. Labels (`…_label`) follow the request's
language; codes never change."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from complaints.models import Complaint, ComplaintCategory, ComplaintStatus
from enterprises.models import ContractStatus, PilotEnterprise, ServiceContract
from evaluations.models import (
    BlacklistEntry,
    ExcellentBatch,
    ExcellentEntry,
    RectificationCase,
    RectificationStatus,
    SatisfactionRating,
    SurveyAnswer,
)
from providers.models import Product, Provider, ProviderType
from tangshan_portal.grounds import Art12Ground, Art13Ground
from tangshan_portal.models import Announcement, County, Scenario

from .models import PublicChange

# The largest id PostgreSQL and SQLite store (a 64-bit signed integer).
MAX_ID = 2**63 - 1


def _label(field_name):
    return serializers.CharField(source=f"get_{field_name}_display", read_only=True)


# --- Query parameters -------------------------------------------------------------------------------------------


class SinceField(serializers.DateTimeField):
    """An ISO 8601 moment; one without an offset is read in the portal's time zone."""

    default_error_messages = {"range": _("Give a moment between the years 1900 and 9998.")}

    def to_internal_value(self, value):
        moment = super().to_internal_value(value)
        # Moments near the ends of the calendar overflow when the database converts them to UTC.
        if not 1900 <= moment.year <= 9998:
            self.fail("range")
        return moment


def since_field():
    return SinceField(
        required=False,
        help_text=_(
            "Only records changed at or after this moment (ISO 8601, e.g. 2026-05-01T00:00:00+08:00). "
            "Records that left the public list are not returned: follow /api/v1/changes/ to learn of removals."
        ),
    )


class BlacklistQuery(serializers.Serializer):
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text=_(
            "Name or Unified Social Credit Code: a complete 18-character code matches exactly, anything else as "
            "a part of the name or the code."
        ),
    )
    ground = serializers.ChoiceField(
        choices=Art13Ground.choices, required=False, help_text=_("Art 13 ground of the decision (1–9).")
    )
    year = serializers.IntegerField(
        required=False, min_value=1900, max_value=9998, help_text=_("Year of the decision.")
    )
    status = serializers.ChoiceField(
        choices=[
            (status.value, status.label)
            for status in (BlacklistEntry.Status.PUBLISHED, BlacklistEntry.Status.UNDER_APPEAL)
        ],
        required=False,
        help_text=_("Published, or under appeal (Art 16(3))."),
    )
    sort = serializers.ChoiceField(
        choices=[
            ("-decided_on", _("Newest decision first")),
            ("decided_on", _("Oldest decision first")),
            ("provider_name", _("By name")),
            ("-provider_name", _("By name, reversed")),
        ],
        required=False,
        default="-decided_on",
        help_text=_("The order of the list."),
    )
    updated_since = since_field()


class BlacklistHistoryQuery(BlacklistQuery):
    status = None


class ProviderQuery(serializers.Serializer):
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text=_("Name, Unified Social Credit Code (complete: exact; else a part) or a product's name."),
    )
    type = serializers.ChoiceField(choices=ProviderType.choices, required=False, help_text=_("Provider type."))
    scenario = serializers.SlugField(required=False, max_length=40, help_text=_("Code of a service scenario."))
    county = serializers.RegexField(
        r"^[0-9]{6}$",
        required=False,
        help_text=_("Division code of a county: registered there or serving an enterprise there."),
    )
    updated_since = since_field()


class UpdatedSinceQuery(serializers.Serializer):
    updated_since = since_field()


class ChangeFeedQuery(serializers.Serializer):
    after = serializers.IntegerField(
        required=False,
        default=0,
        min_value=0,
        max_value=MAX_ID,
        help_text=_("The cursor: only changes with a larger id. Start with 0, then pass the previous next_after."),
    )
    resource = serializers.ChoiceField(
        choices=PublicChange.Resource.choices, required=False, help_text=_("Only changes of this kind of record.")
    )
    limit = serializers.IntegerField(
        required=False, default=100, min_value=1, max_value=1000, help_text=_("At most this many changes (1–1000).")
    )


def _status(choices):
    return serializers.ChoiceField(choices=choices, required=False, help_text=_("Only records in this state."))


class ContractQuery(serializers.Serializer):
    status = _status(ContractStatus.choices)
    updated_since = since_field()


class CaseQuery(serializers.Serializer):
    status = _status(RectificationStatus.choices)


class ComplaintQuery(serializers.Serializer):
    status = _status(ComplaintStatus.choices)


class SurveyQuery(serializers.Serializer):
    overall = serializers.ChoiceField(
        choices=SatisfactionRating.Overall.choices, required=False, help_text=_("Only ratings with this result.")
    )


# --- Small shared parts -----------------------------------------------------------------------------------


class CountySerializer(serializers.ModelSerializer):
    class Meta:
        model = County
        fields = ["code", "name"]


class ScenarioSerializer(serializers.ModelSerializer):
    class Meta:
        model = Scenario
        fields = ["code", "name", "family"]


class ProviderRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Provider
        fields = ["id", "name", "uscc"]


class EnterpriseRefSerializer(serializers.ModelSerializer):
    county = CountySerializer(read_only=True)

    class Meta:
        model = PilotEnterprise
        fields = ["id", "name", "uscc", "county"]


class ContractRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = ServiceContract
        fields = ["id", "number", "title"]


# --- Public data ----------------------------------------------------------------------------------------


class BlacklistEntrySerializer(serializers.ModelSerializer):
    """A blacklist entry (Art 13) as announced; a removed one keeps its date and reason of removal (Art 16)."""

    ground = serializers.ChoiceField(choices=Art13Ground.choices, read_only=True)
    ground_label = _label("ground")
    status = serializers.ChoiceField(choices=BlacklistEntry.Status.choices, read_only=True)
    status_label = _label("status")
    url = serializers.SerializerMethodField(help_text=_("The entry's permanent address in this API."))

    class Meta:
        model = BlacklistEntry
        fields = [
            "id",
            "url",
            "provider_name",
            "uscc",
            "ground",
            "ground_label",
            "ground_wording",
            "decision_number",
            "decided_on",
            "authority",
            "remedy",
            "status",
            "status_label",
            "published_at",
            "removed_at",
            "removal_reason",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_url(self, entry):
        return reverse("v1:blacklist-detail", args=[entry.pk])


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "name", "functions", "unit", "list_price"]


class ProviderSerializer(serializers.ModelSerializer):
    """A provider in the resource pool (Art 2) with what the directory shows."""

    provider_type = serializers.ChoiceField(choices=ProviderType.choices, read_only=True)
    provider_type_label = _label("provider_type")
    county = CountySerializer(read_only=True, allow_null=True, help_text=_("County of registration."))
    scenarios = ScenarioSerializer(many=True, read_only=True)
    products = ProductSerializer(many=True, read_only=True, help_text=_("Products and services offered."))
    counties_served = serializers.SerializerMethodField(
        help_text=_("Counties of the pilot enterprises the provider has signed contracts with.")
    )
    url = serializers.SerializerMethodField()

    class Meta:
        model = Provider
        fields = [
            "id",
            "url",
            "name",
            "uscc",
            "provider_type",
            "provider_type_label",
            "county",
            "scenarios",
            "products",
            "counties_served",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(CountySerializer(many=True))
    def get_counties_served(self, provider):
        served = self.context.get("counties_served", {})
        return CountySerializer(served.get(provider.pk, []), many=True).data

    @extend_schema_field(OpenApiTypes.STR)
    def get_url(self, provider):
        return reverse("v1:provider-detail", args=[provider.pk])


class ExcellentEntrySerializer(serializers.ModelSerializer):
    provider = ProviderRefSerializer(read_only=True)

    class Meta:
        model = ExcellentEntry
        fields = ["rank", "provider", "score", "citation"]


class ExcellentBatchSerializer(serializers.ModelSerializer):
    """A published batch of excellent providers (Art 15) with its entries by rank."""

    entries = ExcellentEntrySerializer(many=True, read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = ExcellentBatch
        fields = [
            "id",
            "url",
            "name",
            "period_start",
            "period_end",
            "document_number",
            "published_at",
            "updated_at",
            "entries",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_url(self, batch):
        return reverse("v1:excellent-batch-detail", args=[batch.pk])


class AnnouncementSerializer(serializers.ModelSerializer):
    category = serializers.ChoiceField(choices=Announcement.Category.choices, read_only=True)
    category_label = _label("category")
    url = serializers.SerializerMethodField()

    class Meta:
        model = Announcement
        fields = ["id", "url", "title", "category", "category_label", "body", "published_at", "updated_at"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_url(self, announcement):
        return reverse("v1:announcement-detail", args=[announcement.pk])


CHANGE_DETAIL_ROUTES = {
    PublicChange.Resource.BLACKLIST: "v1:blacklist-detail",
    PublicChange.Resource.PROVIDER: "v1:provider-detail",
    PublicChange.Resource.EXCELLENT: "v1:excellent-batch-detail",
    PublicChange.Resource.ANNOUNCEMENT: "v1:announcement-detail",
}


class PublicChangeSerializer(serializers.ModelSerializer):
    resource = serializers.ChoiceField(choices=PublicChange.Resource.choices, read_only=True)
    url = serializers.SerializerMethodField(
        help_text=_(
            "Where the record is now. It answers 404 when the record is no longer public (a provider that "
            "left the pool, a withdrawn announcement): remove it from your copy."
        )
    )

    class Meta:
        model = PublicChange
        fields = ["id", "resource", "object_id", "changed_at", "url"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_url(self, change):
        return reverse(CHANGE_DETAIL_ROUTES[change.resource], args=[change.object_id])


class ChangeFeedSerializer(serializers.Serializer):
    results = PublicChangeSerializer(many=True)
    next_after = serializers.IntegerField(help_text=_("Pass as `after` to get the changes that follow."))
    has_more = serializers.BooleanField(help_text=_("True when more changes follow right away."))


# --- Each role's own records -------------------------------------------------------------------------------


class ContractSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=ContractStatus.choices, read_only=True)
    status_label = _label("status")
    provider = ProviderRefSerializer(read_only=True)
    enterprise = EnterpriseRefSerializer(read_only=True)
    scenarios = ScenarioSerializer(many=True, read_only=True)

    class Meta:
        model = ServiceContract
        fields = [
            "id",
            "number",
            "title",
            "status",
            "status_label",
            "provider",
            "enterprise",
            "amount",
            "subsidy",
            "advance_payment",
            "signed_on",
            "start_on",
            "end_on",
            "scenarios",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class RectificationCaseSerializer(serializers.ModelSerializer):
    """A rectification case (Art 12). Who opened or ordered it is left out: a person, not the bureau's act."""

    ground = serializers.ChoiceField(choices=Art12Ground.choices, read_only=True)
    ground_label = _label("ground")
    ground_wording = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=RectificationStatus.choices, read_only=True)
    status_label = _label("status")
    provider = ProviderRefSerializer(read_only=True)
    contract = ContractRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = RectificationCase
        fields = [
            "id",
            "provider",
            "contract",
            "ground",
            "ground_label",
            "ground_wording",
            "finding",
            "status",
            "status_label",
            "warned_at",
            "reply_due_at",
            "provider_reply",
            "replied_at",
            "document_number",
            "ordered_at",
            "deadline",
            "report",
            "responded_at",
            "return_count",
            "closed_at",
            "overdue_at",
            "closing_note",
        ]
        read_only_fields = fields


class SurveyAnswerSerializer(serializers.ModelSerializer):
    question = serializers.CharField(source="item.text", read_only=True)

    class Meta:
        model = SurveyAnswer
        fields = ["question", "score"]


class SatisfactionRatingSerializer(serializers.ModelSerializer):
    """A satisfaction rating (Art 11, 13(2)); who submitted it is left out."""

    overall = serializers.ChoiceField(choices=SatisfactionRating.Overall.choices, read_only=True)
    overall_label = _label("overall")
    contract = ContractRefSerializer(read_only=True)
    provider = ProviderRefSerializer(source="contract.provider", read_only=True)
    enterprise = EnterpriseRefSerializer(source="contract.enterprise", read_only=True)
    milestone = serializers.CharField(source="milestone.name", read_only=True, allow_null=True, default=None)
    answers = SurveyAnswerSerializer(many=True, read_only=True)

    class Meta:
        model = SatisfactionRating
        fields = [
            "id",
            "contract",
            "provider",
            "enterprise",
            "stage",
            "milestone",
            "overall",
            "overall_label",
            "comment",
            "answers",
            "submitted_at",
            "voided",
            "voided_at",
            "void_reason",
        ]
        read_only_fields = fields


class ComplaintSerializer(serializers.ModelSerializer):
    """A complaint (Art 11). Shown to the provider it is about, a complaint whose enterprise asked to keep its
    identity has neither enterprise nor contract (`protect_identity`)."""

    category = serializers.ChoiceField(choices=ComplaintCategory.choices, read_only=True)
    category_label = _label("category")
    status = serializers.ChoiceField(choices=ComplaintStatus.choices, read_only=True)
    status_label = _label("status")
    provider = ProviderRefSerializer(read_only=True)
    enterprise = EnterpriseRefSerializer(read_only=True, allow_null=True)
    contract = ContractRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Complaint
        fields = [
            "id",
            "status",
            "status_label",
            "category",
            "category_label",
            "description",
            "provider",
            "enterprise",
            "contract",
            "protect_identity",
            "submitted_at",
            "acknowledge_by",
            "resolve_by",
            "accepted_at",
            "closed_at",
            "conclusion",
            "provider_response",
            "provider_responded_at",
        ]
        read_only_fields = fields

    def to_representation(self, complaint):
        data = super().to_representation(complaint)
        if complaint.protect_identity and self.context.get("hide_protected_complainant"):
            data["enterprise"] = None
            data["contract"] = None
        return data


# --- Error answers (documented in the schema) --------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text=_("What went wrong, in the request's language."))


# A 400 names each wrong query parameter with its messages.
VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
    "example": {"ground": ["“10” is not a valid choice."]},
}
