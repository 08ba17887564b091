"""Satisfaction surveys and inspections as XLSX files (issue 7, part 2), with fixed Chinese headers.

Survey results are exported only. A rating is the enterprise's own statement about its provider: the one write
path, `services.survey_submit`, refuses anyone but the enterprise's staff, locks the survey once submitted,
records who submitted it and tells the provider of a "dissatisfied" rating, which opens its Art 16(2) appeal
window and counts towards revocation under Art 13(2) (the rule engine reads the ratings). Paper surveys
collected by a county cannot go through that service — the county is not the enterprise — and writing ratings
around it would let a bureau user author the statements that can cost a provider its qualification, with no
appeal notice. So the bureau exports the ratings (scored answers included) and the enterprises enter their
own surveys in the portal.

Inspections are the bureau's own records (Art 11) and are imported through `services.inspection_record`, the
path of the admin's "record an inspection" page: the same permission (evaluations.record_inspection), the
same checks (the contract is the provider's, the findings are written, the date is not in the future), the
importing user as the one who recorded it. An import only adds inspections; a row identical to an inspection
already recorded (same provider, kind, date, contract and findings) is passed over, so a file sent twice does
not record them twice.
"""

from django.core.exceptions import ValidationError
from django.db.models import Q
from import_export import fields

from enterprises.models import ServiceContract
from enterprises.selectors import contracts_visible_to
from providers.models import Provider
from tangshan_portal.imports import (
    ChoicesWidget,
    CodeForeignKeyWidget,
    DateWidget,
    LocalDateTimeWidget,
    RegistryResource,
    TextWidget,
    YesNoWidget,
)

from . import services
from .models import Inspection, SatisfactionRating, SurveyAnswer, SurveyItem

# --- Survey results (export only) ----------------------------------------------------------------------------

RATING_HEADERS = {
    "contract": "合同编号",
    "provider_name": "服务商名称",
    "provider_uscc": "服务商统一社会信用代码",
    "enterprise_name": "企业名称",
    "enterprise_uscc": "企业统一社会信用代码",
    "county": "企业所在区县",
    "stage": "评价阶段",
    "milestone": "里程碑",
    "overall": "总体评价",
    "comment": "评价意见",
    "submitted_at": "提交时间",
    "voided": "已作废",
    "void_reason": "作废原因",
}
ITEM_PREFIX = "item_"


class SatisfactionRatingResource(RegistryResource):
    """The ratings the user may see (the admin's county scope applies), one row per rating, one column per
    survey question with its 1–5 score. Export only: see the module's docstring."""

    import_permissions = ()  # never imported

    contract = fields.Field(attribute="contract__number", column_name=RATING_HEADERS["contract"], readonly=True)
    provider_name = fields.Field(
        attribute="contract__provider__name", column_name=RATING_HEADERS["provider_name"], readonly=True
    )
    provider_uscc = fields.Field(
        attribute="contract__provider__uscc", column_name=RATING_HEADERS["provider_uscc"], readonly=True
    )
    enterprise_name = fields.Field(
        attribute="contract__enterprise__name", column_name=RATING_HEADERS["enterprise_name"], readonly=True
    )
    enterprise_uscc = fields.Field(
        attribute="contract__enterprise__uscc", column_name=RATING_HEADERS["enterprise_uscc"], readonly=True
    )
    county = fields.Field(
        attribute="contract__enterprise__county__name", column_name=RATING_HEADERS["county"], readonly=True
    )
    stage = fields.Field(attribute="stage", column_name=RATING_HEADERS["stage"], readonly=True)
    milestone = fields.Field(attribute="milestone__name", column_name=RATING_HEADERS["milestone"], readonly=True)
    overall = fields.Field(
        attribute="overall",
        column_name=RATING_HEADERS["overall"],
        widget=ChoicesWidget(SatisfactionRating.Overall.choices),
        readonly=True,
    )
    comment = fields.Field(attribute="comment", column_name=RATING_HEADERS["comment"], readonly=True)
    submitted_at = fields.Field(
        attribute="submitted_at",
        column_name=RATING_HEADERS["submitted_at"],
        widget=LocalDateTimeWidget(),
        readonly=True,
    )
    voided = fields.Field(attribute="voided", column_name=RATING_HEADERS["voided"], widget=YesNoWidget(), readonly=True)
    void_reason = fields.Field(attribute="void_reason", column_name=RATING_HEADERS["void_reason"], readonly=True)

    class Meta:
        model = SatisfactionRating
        fields = list(RATING_HEADERS)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # One column per question in use or answered before (a retired question keeps its past scores).
        answered = SurveyAnswer.objects.values("item_id")
        items = SurveyItem.objects.filter(Q(is_active=True) | Q(pk__in=answered)).order_by("sort_order", "pk")
        self.items = list(items)
        for number, item in enumerate(self.items, 1):
            self.fields[f"{ITEM_PREFIX}{item.pk}"] = fields.Field(
                column_name=f"第{number}题 {item.text}（1–5 分）",
                dehydrate_method=self._score_of(item.pk),
                readonly=True,
            )

    @staticmethod
    def _score_of(item_pk):
        def score(rating):
            for answer in rating.answers.all():  # prefetched in filter_export
                if answer.item_id == item_pk:
                    return answer.score
            return ""

        return score

    def get_export_order(self):
        # The scores next to the overall rating, before the comment.
        order = [name for name in super().get_export_order() if not name.startswith(ITEM_PREFIX)]
        scores = [f"{ITEM_PREFIX}{item.pk}" for item in self.items]
        position = order.index("overall") + 1
        return tuple(order[:position] + scores + order[position:])

    def filter_export(self, queryset, **kwargs):
        return (
            super()
            .filter_export(queryset, **kwargs)
            .select_related("contract__provider", "contract__enterprise__county", "milestone")
            .prefetch_related("answers")
        )


# --- Inspections (imported through the service) ----------------------------------------------------------------

INSPECTION_HEADERS = {
    "provider": "服务商统一社会信用代码",
    "provider_name": "服务商名称",
    "kind": "检查方式",
    "contract": "合同编号",
    "conducted_on": "检查日期",
    "findings": "检查发现",
    "issues_found": "是否发现问题",
    "conducted_by": "记录人",
    "recorded_at": "录入时间",
}


def _providers_in_scope(user, queryset):
    # A county bureau (should it be granted the permission) reaches the providers working in its county only.
    county = getattr(user, "county", None)
    if county is None:
        return queryset
    return queryset.filter(contracts__enterprise__county=county).distinct()


def _contracts_in_scope(user, queryset):
    return queryset if user is None else contracts_visible_to(user, queryset)


class InspectionResource(RegistryResource):
    """Inspections: exported as the admin lists them; imported, one new inspection per row, through
    `services.inspection_record` with the importing user as the recorder (see the module's docstring)."""

    import_permissions = ("evaluations.record_inspection",)
    import_help = "每一行登记一次检查，记录人为导入人；与已登记的检查完全相同的行不会重复登记。"

    provider = fields.Field(
        attribute="provider",
        column_name=INSPECTION_HEADERS["provider"],
        widget=CodeForeignKeyWidget(
            Provider, field="uscc", scope=_providers_in_scope, not_found="统一社会信用代码“{}”不在服务商名录中。"
        ),
    )
    provider_name = fields.Field(
        attribute="provider__name", column_name=INSPECTION_HEADERS["provider_name"], readonly=True
    )
    kind = fields.Field(
        attribute="kind", column_name=INSPECTION_HEADERS["kind"], widget=ChoicesWidget(Inspection.Kind.choices)
    )
    contract = fields.Field(
        attribute="contract",
        column_name=INSPECTION_HEADERS["contract"],
        widget=CodeForeignKeyWidget(
            ServiceContract,
            field="number",
            scope=_contracts_in_scope,
            not_found="合同编号“{}”不存在（或不在您的管辖范围内）。",
        ),
    )
    conducted_on = fields.Field(
        attribute="conducted_on", column_name=INSPECTION_HEADERS["conducted_on"], widget=DateWidget()
    )
    findings = fields.Field(attribute="findings", column_name=INSPECTION_HEADERS["findings"], widget=TextWidget())
    issues_found = fields.Field(
        attribute="issues_found", column_name=INSPECTION_HEADERS["issues_found"], widget=YesNoWidget()
    )
    conducted_by = fields.Field(
        attribute="conducted_by__full_name", column_name=INSPECTION_HEADERS["conducted_by"], readonly=True
    )
    recorded_at = fields.Field(
        attribute="recorded_at",
        column_name=INSPECTION_HEADERS["recorded_at"],
        widget=LocalDateTimeWidget(),
        readonly=True,
    )

    example_row = {
        "provider": "91130200MA0000000X（请填写真实代码）",
        "kind": str(Inspection.Kind.SITE_VISIT.label),
        "contract": "TS-2026-0001",
        "conducted_on": "2026-05-20",
        "findings": "现场查看设备联网进度，与计划一致。",
        "issues_found": "否",
    }
    template_notes = {
        "provider": "必填，被检查服务商的统一社会信用代码。",
        "contract": "选填；填写时须是该服务商的合同。",
        "conducted_on": "必填，日期，如 2026-05-20；不能晚于今天。",
        "findings": "必填。",
        "issues_found": "填“是”或“否”，留空视为“否”。",
    }

    class Meta:
        model = Inspection
        fields = list(INSPECTION_HEADERS)
        # Every row is a new inspection; there is no key to update by.
        force_init_instance = True
        import_id_fields = []

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.template_notes = {
            **self.template_notes,
            "kind": "必填，填方式名称或代码："
            + "；".join(f"{label}（{value}）" for value, label in Inspection.Kind.choices),
        }

    def filter_export(self, queryset, **kwargs):
        return super().filter_export(queryset, **kwargs).select_related("provider", "contract", "conducted_by")

    def check_row(self, instance, errors):
        if self.importing_user is None:
            errors.setdefault("conducted_by", ValidationError("需要导入人才能登记检查。"))
        else:
            instance.conducted_by = self.importing_user
        if instance.issues_found is None:
            instance.issues_found = False
        # The service refuses these too (and stays the judge); checked here as well so that a row lists all its
        # errors at once, not one per upload.
        if instance.conducted_on and instance.conducted_on > services._local_today():
            errors.setdefault("conducted_on", ValidationError("检查日期不能晚于今天。"))
        if instance.contract_id and instance.provider_id and instance.contract.provider_id != instance.provider_id:
            errors.setdefault("contract", ValidationError("该合同不是此服务商的合同。"))

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if import_validation_errors or instance.provider_id is None or not instance.conducted_on:
            return False
        return Inspection.objects.filter(
            provider_id=instance.provider_id,
            kind=instance.kind,
            conducted_on=instance.conducted_on,
            contract_id=instance.contract_id,
            findings=(instance.findings or "").strip(),
        ).exists()

    def do_instance_save(self, instance, is_create):
        # The admin's "record an inspection" path; its refusals (CaseError) become this row's errors.
        recorded = services.inspection_record(
            kind=instance.kind,
            provider=instance.provider,
            contract=instance.contract,
            conducted_on=instance.conducted_on,
            findings=instance.findings or "",
            issues_found=bool(instance.issues_found),
            by=self.importing_user,
        )
        instance.pk = recorded.pk
        instance.recorded_at = recorded.recorded_at
        instance._state.adding = False
