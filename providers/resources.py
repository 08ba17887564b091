"""The provider registry as an XLSX file (issue 7, part 2): Chinese column headers, USCC as the key.

Decisions:
- The standing (`status`) is never imported or changed by an import: it moves only through the enforcement
  services, which log who and why. A provider new to the registry comes in with the model default
  ("applied"); admission to the pool stays the Art 2 procedure.
- An existing provider's registration data (name, address, legal representative, business scope, registered
  capital) change only through recorded registration changes (Art 12(1) is judged on that history), so an
  import that would change them is refused for that row; contact data, type, county and scenarios update.
- The headers are fixed Chinese strings, not translated verbose names: the file is an exchange format that
  must read the same whatever language the user's browser asks for.
"""

from django.core.exceptions import ValidationError
from import_export import fields

from tangshan_portal.imports import ChoicesWidget, CodeForeignKeyWidget, CodesManyToManyWidget, RegistryResource
from tangshan_portal.masking import CONTACT_FIELDS, PersonalDataResourceMixin
from tangshan_portal.models import County, Scenario

from .models import Provider, ProviderType, RegisteredField

REGISTERED = tuple(RegisteredField.values)

HEADERS = {
    "name": "企业名称",
    "uscc": "统一社会信用代码",
    "legal_representative": "法定代表人",
    "address": "注册地址",
    "business_scope": "经营范围",
    "registered_capital": "注册资本（万元）",
    "provider_type": "服务商类型",
    "county": "注册地区县代码",
    "scenarios": "服务场景代码",
    "contact_name": "联系人",
    "contact_phone": "联系电话",
    "contact_email": "联系邮箱",
}


class ProviderResource(PersonalDataResourceMixin, RegistryResource):
    # Exported masked unless the admin says the user may see personal data (tangshan_portal.masking).
    personal_data_fields = CONTACT_FIELDS

    provider_type = fields.Field(
        attribute="provider_type", column_name=HEADERS["provider_type"], widget=ChoicesWidget(ProviderType.choices)
    )
    county = fields.Field(
        attribute="county",
        column_name=HEADERS["county"],
        widget=CodeForeignKeyWidget(County, field="code", preload=True),
    )
    scenarios = fields.Field(
        attribute="scenarios", column_name=HEADERS["scenarios"], widget=CodesManyToManyWidget(Scenario, field="code")
    )

    example_row = {
        "name": "唐山示例数字科技有限公司",
        "uscc": "91130200MA0000000X（请填写真实代码）",
        "legal_representative": "张三",
        "address": "唐山市路北区建设路1号",
        "business_scope": "软件开发；信息系统集成服务",
        "registered_capital": "500.00",
        "provider_type": str(ProviderType.INTEGRATED.label),
        "county": "130203",
        "scenarios": "场景代码1,场景代码2",
        "contact_name": "李四",
        "contact_phone": "0315-1234567",
        "contact_email": "contact@example.com",
    }
    template_notes = {
        "name": "必填。已在册服务商的名称只能通过登记变更修改。",
        "uscc": "必填，18 位，校验位须正确；据此判断新增还是更新。",
        "legal_representative": "必填。已在册服务商不可经导入修改。",
        "address": "必填。已在册服务商不可经导入修改。",
        "business_scope": "选填。已在册服务商不可经导入修改。",
        "registered_capital": "选填，单位万元，不得为负。已在册服务商不可经导入修改。",
        "county": "选填，行政区划代码；市外注册留空。",
        "scenarios": "选填，多个场景代码以逗号分隔。",
        "contact_name": "选填。",
        "contact_phone": "选填。",
        "contact_email": "选填。",
    }

    class Meta:
        model = Provider
        import_id_fields = ["uscc"]
        fields = [
            "name",
            "uscc",
            "legal_representative",
            "address",
            "business_scope",
            "registered_capital",
            "provider_type",
            "county",
            "scenarios",
            "contact_name",
            "contact_phone",
            "contact_email",
        ]
        # `status` is not in `fields`: never imported, and full_clean skips nothing it needs (DESIGN.md trap:
        # a protected FSMField breaks full_clean; ours is unprotected but still must not be set by a file).

    @classmethod
    def field_from_django_field(cls, field_name, django_field, readonly):
        # The model's own widget (text, decimal) with the fixed Chinese header.
        field_ = super().field_from_django_field(field_name, django_field, readonly)
        field_.column_name = HEADERS.get(field_name, field_name)
        return field_

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.template_notes = {
            **self.template_notes,
            "provider_type": "必填，填类型名称或代码："
            + "；".join(f"{label}（{value}）" for value, label in ProviderType.choices),
        }

    def check_row(self, instance, errors):
        if instance.registered_capital is not None and instance.registered_capital < 0:
            errors.setdefault("registered_capital", ValidationError("注册资本不得为负数。"))
        if not self.is_new:
            # Compared with the values loaded with the row (RegistryResource keeps them): no query per row.
            for name in REGISTERED:
                old = self.stored(name)
                if name not in errors and old != getattr(instance, name):
                    errors[name] = ValidationError(
                        "已在册服务商的登记信息只能通过“登记变更”修改（第十二条第一款），导入不能更改此项"
                        "（现为“%(old)s”）。",
                        params={"old": "" if old is None else old},
                    )
