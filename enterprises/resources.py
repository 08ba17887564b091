"""The pilot enterprises and the service contracts as XLSX files (issue 7, part 2): Chinese column headers;
enterprises are imported by USCC, contract lists are checked against the register (ServiceContractResource).

The headers are fixed Chinese strings, not translated verbose names: the file is an exchange format that must
read the same whatever language the user's browser asks for. The account organisation is not in the file:
linking accounts stays an admin decision.
"""

from django.core.exceptions import ValidationError
from import_export import fields

from providers.models import Provider
from tangshan_portal.imports import ChoicesWidget, CodeForeignKeyWidget, CodesManyToManyWidget, RegistryResource
from tangshan_portal.masking import PersonalDataResourceMixin, mask_name, mask_phone
from tangshan_portal.models import County, Scenario

from . import selectors
from .models import ContractStatus, EnterpriseSize, PilotEnterprise, ServiceContract

HEADERS = {
    "name": "企业名称",
    "uscc": "统一社会信用代码",
    "county": "所在区县代码",
    "industry": "行业",
    "sub_industry": "细分行业",
    "size": "企业规模",
    "contact_name": "联系人",
    "contact_phone": "联系电话",
    "baseline_level": "改造前数字化水平等级",
}


class PilotEnterpriseResource(PersonalDataResourceMixin, RegistryResource):
    # Exported masked unless the admin says the user may see personal data (tangshan_portal.masking).
    personal_data_fields = {"contact_name": mask_name, "contact_phone": mask_phone}

    county = fields.Field(
        attribute="county",
        column_name=HEADERS["county"],
        widget=CodeForeignKeyWidget(County, field="code", preload=True),
    )
    size = fields.Field(attribute="size", column_name=HEADERS["size"], widget=ChoicesWidget(EnterpriseSize.choices))

    example_row = {
        "name": "唐山示例机械制造有限公司",
        "uscc": "91130200MA0000000X（请填写真实代码）",
        "county": "130203",
        "industry": "装备制造",
        "sub_industry": "通用设备制造",
        "size": "small",
        "contact_name": "王五",
        "contact_phone": "13800000000",
        "baseline_level": "2",
    }
    template_notes = {
        "name": "必填。",
        "uscc": "必填，18 位，校验位须正确；据此判断新增还是更新。",
        "county": "必填，区县行政区划代码（6 位）。",
        "industry": "必填。",
        "sub_industry": "必填。",
        "contact_name": "选填。",
        "contact_phone": "选填。",
        "baseline_level": "选填，1–4 级（中小企业数字化水平评测）。",
    }

    class Meta:
        model = PilotEnterprise
        import_id_fields = ["uscc"]
        fields = list(HEADERS)

    @classmethod
    def field_from_django_field(cls, field_name, django_field, readonly):
        # The model's own widget (text, integer) with the fixed Chinese header.
        field_ = super().field_from_django_field(field_name, django_field, readonly)
        field_.column_name = HEADERS.get(field_name, field_name)
        return field_

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.template_notes = {
            **self.template_notes,
            "size": "必填，填规模名称或代码："
            + "；".join(f"{label}（{value}）" for value, label in EnterpriseSize.choices),
        }

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self._visible = None

    def visible_pks(self, user):
        """The enterprises the importing user may see, read once per import rather than once per row."""
        if self._visible is None:
            self._visible = set(selectors.enterprises_visible_to(user).values_list("pk", flat=True))
        return self._visible

    def check_row(self, instance, errors):
        if instance.baseline_level is not None and not 1 <= instance.baseline_level <= 4:
            errors.setdefault("baseline_level", ValidationError("数字化水平等级须为 1–4。"))
        user = self.importing_user
        if user is not None and not user.is_superuser:
            # The admin shows a county bureau its own county only; an import must not reach further, neither by
            # updating another county's enterprise nor by creating one there.
            if instance.pk and instance.pk not in self.visible_pks(user):
                errors["uscc"] = ValidationError("该企业不在您的管辖范围内，不能经导入修改。")
            elif selectors._is_county_limited(user) and instance.county_id != getattr(user.county, "pk", None):
                errors.setdefault("county", ValidationError("只能导入本区县的企业。"))


# --- Service contracts: exported, and a county's list checked against the registry --------------------------------

CONTRACT_HEADERS = {
    "number": "合同编号",
    "title": "项目名称",
    "provider": "服务商统一社会信用代码",
    "provider_name": "服务商名称",
    "enterprise": "企业统一社会信用代码",
    "enterprise_name": "企业名称",
    "county": "企业所在区县",
    "amount": "合同金额（元）",
    "subsidy": "补贴金额（元）",
    "advance_payment": "预付款（元）",
    "signed_on": "签订日期",
    "start_on": "开始日期",
    "end_on": "结束日期",
    "scenarios": "服务场景代码",
    "plan_goals": "服务目标",
    "plan_content": "服务内容",
    "plan_process": "实施流程",
    "plan_deliverables": "交付成果",
    "quality_control": "质量控制与定期评估",
    "maintenance_commitment": "试点结束后的运维承诺",
    "nda_signed_on": "保密协议签订日期",
    "status": "合同状态",
}


def _contracts_in_scope(user, queryset):
    return queryset if user is None else selectors.contracts_visible_to(user, queryset)


class ServiceContractResource(RegistryResource):
    """The contract register as an XLSX file; a file of contracts is *checked* against it, never written.

    Why a file cannot create or change a contract: every field of a contract is either the two parties'
    agreement or the lifecycle's. The provider drafts the contract with its service plan and the enterprise
    signs exactly what was sent (enterprises.services.contract_draft_save and contract_sign, each refusing
    anyone but that party); after signing, the end date and the amount change only by a change request the
    enterprise agrees to (Art 6(3)), and the plan and the confidentiality agreement are the parties' own
    (Art 10(2)). The status moves only through those services. No service lets the bureau write a contract, so
    an import would be a second write path around all of them: a contract created from a county's list would be
    one that neither party drafted or signed, counted in the registry, the dossier and the open data.

    What the bureau does with the lists counties send is compare them with the register. Here that is the
    import page: every row is matched by contract number within the user's scope, and the page lists, by row
    and column, the contracts the portal does not have and every value that differs from the registered one.
    Nothing is saved (the resource forces a dry run and refuses to write), so the view permission suffices and a
    county bureau may check its own county's list; the check is written to the audit log."""

    import_mode = "check"
    import_permissions = ("enterprises.view_servicecontract",)
    import_help = (
        "合同列表只作核对：按合同编号与门户登记逐行比对，列出门户中没有的合同和每一处不一致；不会写入任何内容。"
    )
    not_in_registry_message = (
        "门户中没有这一合同编号（或不在您的管辖范围内）。合同由服务商在门户中起草、企业确认签署，不能经导入新建。"
    )
    difference_message = (
        "与门户登记不一致，门户中为“%(stored)s”。合同内容只能由双方在门户中修改（签署后经变更申请，第六条第三款），"
        "导入只作核对。"
    )

    provider = fields.Field(
        attribute="provider",
        column_name=CONTRACT_HEADERS["provider"],
        widget=CodeForeignKeyWidget(Provider, field="uscc", not_found="统一社会信用代码“{}”不在服务商名录中。"),
    )
    provider_name = fields.Field(
        attribute="provider__name", column_name=CONTRACT_HEADERS["provider_name"], readonly=True
    )
    enterprise = fields.Field(
        attribute="enterprise",
        column_name=CONTRACT_HEADERS["enterprise"],
        widget=CodeForeignKeyWidget(
            PilotEnterprise, field="uscc", not_found="统一社会信用代码“{}”不在试点企业名录中。"
        ),
    )
    enterprise_name = fields.Field(
        attribute="enterprise__name", column_name=CONTRACT_HEADERS["enterprise_name"], readonly=True
    )
    county = fields.Field(attribute="enterprise__county__name", column_name=CONTRACT_HEADERS["county"], readonly=True)
    scenarios = fields.Field(
        attribute="scenarios",
        column_name=CONTRACT_HEADERS["scenarios"],
        widget=CodesManyToManyWidget(Scenario, field="code"),
    )
    status = fields.Field(
        attribute="status",
        column_name=CONTRACT_HEADERS["status"],
        widget=ChoicesWidget(ContractStatus.choices),
        readonly=True,
    )

    example_row = {
        "number": "TS-2026-0001",
        "title": "生产设备联网与数据采集改造项目",
        "provider": "91130200MA0000000X（请填写真实代码）",
        "enterprise": "91130200MA0000001X（请填写真实代码）",
        "amount": "300000.00",
        "subsidy": "100000.00",
        "advance_payment": "0.00",
        "signed_on": "2026-03-01",
        "start_on": "2026-03-01",
        "end_on": "2026-09-30",
        "scenarios": "场景代码1,场景代码2",
    }
    template_notes = {
        "number": "必填；据此找到门户中的合同。",
        "title": "与门户登记比对。",
        "provider": "服务商的统一社会信用代码，与门户登记比对。",
        "enterprise": "试点企业的统一社会信用代码，与门户登记比对。",
        "amount": "单位元。",
        "subsidy": "单位元。",
        "advance_payment": "单位元。",
        "signed_on": "日期，如 2026-03-01。",
        "start_on": "日期，如 2026-03-01。",
        "end_on": "日期，如 2026-09-30。",
        "scenarios": "多个场景代码以逗号分隔。",
        "nda_signed_on": "日期。",
    }

    class Meta:
        model = ServiceContract
        import_id_fields = ["number"]
        fields = list(CONTRACT_HEADERS)
        export_order = list(CONTRACT_HEADERS)

    @classmethod
    def field_from_django_field(cls, field_name, django_field, readonly):
        field_ = super().field_from_django_field(field_name, django_field, readonly)
        field_.column_name = CONTRACT_HEADERS.get(field_name, field_name)
        return field_

    def get_queryset(self):
        # Only the user's contracts are found: one outside the county reads as "not in the portal".
        return _contracts_in_scope(
            self.importing_user, ServiceContract.objects.select_related("provider", "enterprise")
        )

    def filter_export(self, queryset, **kwargs):
        return super().filter_export(queryset, **kwargs).select_related("provider", "enterprise__county")
