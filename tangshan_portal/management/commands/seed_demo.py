import os
import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Count

from enterprises.models import ContractStatus, PilotEnterprise, ServiceContract
from evaluations.models import BlacklistEntry, RectificationCase, RectificationStatus, RevocationCase, RevocationStatus
from providers.models import ApplicationStatus, Provider, ProviderApplication, ProviderStatus
from tangshan_portal.demo import seed_demo
from tangshan_portal.models import County, Organisation, Scenario, User
from tangshan_portal.reference import load_counties, load_scenarios
from tangshan_portal.roles import Role

REFUSAL = (
    "DEBUG 已关闭，拒绝写入演示数据：演示账号使用公开的已知密码，绝不能意外出现在生产环境。"
    "如确为演示服务器，请加 --allow-production。\n"
    "DEBUG is off: refusing to seed demo data. The demo accounts share a known password and must never reach "
    "production by accident. If this really is a demo server, run again with --allow-production."
)
LABELS = {
    "organisations": "组织 organisations",
    "providers": "服务商 providers",
    "enterprises": "试点企业 pilot enterprises",
    "contracts": "服务合同 service contracts",
    "accounts": "演示账号 demo accounts",
    "rectification_cases": "整改案件 rectification cases",
    "revocation_cases": "撤销资格案件 revocation cases",
    "blacklist_entries": "黑名单 blacklist entries",
    "ratings": "满意度评价 ratings",
    "milestones": "合同里程碑 milestones",
    "applications": "入库申请 provider applications",
    "registration_changes": "登记变更 registration changes",
    "products": "产品目录 catalogue products",
    "price_changes": "价格变动 list-price changes",
    "procurement_items": "采购清单 procurement items",
    "progress_reports": "进度报告 progress reports",
    "change_requests": "变更申请 change requests",
    "internal_acceptances": "内部验收 internal acceptances",
    "assessor_assignments": "评测指派 assessor assignments",
    "level_assessments": "水平评测 level assessments",
    "diagnoses": "诊断报告 diagnosis reports",
    "dossier_surveys": "深度调研 dossier surveys",
    "events": "供需对接会 matchmaking events",
    "intentions": "合作意向 intentions",
    "training_sessions": "培训 training sessions",
    "announcements": "公告 announcements",
    "excellent_batches": "优秀服务商批次 excellent-provider batches",
}


def _width(text):
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text, width):
    return text + " " * (width - _width(text))


class Command(BaseCommand):
    help = (
        "Load deterministic demo data (providers, pilot enterprises, contracts, rectification and revocation "
        "cases in every state, the blacklist, and every provider-path workflow: applications, registration "
        "changes, prices, contracts from draft to acceptance, assessments, diagnosis, matchmaking, training) with "
        "one demo account per role. Idempotent; refuses to run with DEBUG off unless --allow-production is given."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Seed even though DEBUG is off (a demo server). Never use on a production system.",
        )

    def handle(self, *args, allow_production=False, **options):
        if not settings.DEBUG and not allow_production:
            raise CommandError(REFUSAL)
        password = settings.PORTAL_DEMO_PASSWORD
        if not password:
            raise CommandError("PORTAL_DEMO_PASSWORD 为空，无法创建演示账号。/ PORTAL_DEMO_PASSWORD is empty.")
        if not settings.DEBUG and not os.environ.get("PORTAL_DEMO_PASSWORD"):
            raise CommandError(
                "演示服务器须通过 PORTAL_DEMO_PASSWORD 设置自己的演示密码。/ "
                "A demo server must set its own PORTAL_DEMO_PASSWORD; the built-in one is public."
            )
        if not settings.DEBUG:
            self.stderr.write(
                self.style.WARNING("DEBUG 已关闭，按 --allow-production 继续。/ DEBUG is off; continuing.")
            )

        # A demo server (DEBUG off) takes the public demo authenticator secret only when told to.
        otp_secret = (
            settings.PORTAL_DEMO_OTP_SECRET if settings.DEBUG or os.environ.get("PORTAL_DEMO_OTP_SECRET") else ""
        )
        try:
            with transaction.atomic():
                load_counties()
                load_scenarios()
                report = seed_demo(password, otp_secret=otp_secret)
        except ValidationError as exc:
            raise CommandError(f"演示数据无效，未写入任何内容。/ Invalid demo data, nothing written: {exc}") from exc

        if report.anything_created:
            self.stdout.write(self.style.SUCCESS("演示数据已写入。/ Demo data seeded."))
        else:
            self.stdout.write("演示数据已存在，未新建任何记录。/ Demo data already exists; nothing new was created.")
        for key, label in LABELS.items():
            self.stdout.write(
                f"  {_pad(label, 30)} 新建 created {report.created[key]:>4}   已存在 existing {report.existing[key]:>4}"
            )
        for username, _role, changed in report.accounts_changed:
            self.stdout.write(f"  已恢复 restored {username}: {', '.join(changed)}")

        self._accounts_table(report, password)
        self._second_factor(otp_secret)
        self._totals()

    def _accounts_table(self, report, password):
        rows = [("用户名 username", "角色 role", "密码 password")]
        rows += [(username, f"{role.label} ({role.value})", password) for username, role, _changed in report.accounts]
        # The applicants' accounts act for companies that applied to the resource pool; one was admitted.
        provider_role = Role.PROVIDER
        rows += [
            (username, f"{provider_role.label} ({provider_role.value}) · 入库申请 application: {status}", password)
            for username, status in report.applicants
        ]
        widths = [max(_width(str(row[i])) for row in rows) for i in range(3)]
        self.stdout.write("")
        self.stdout.write(
            self.style.WARNING(
                "以下账号仅供演示，密码公开，切勿用于生产环境。/ Demo-only credentials: the password is public; "
                "never use these accounts in production."
            )
        )
        for index, row in enumerate(rows):
            cells = (_pad(str(cell), width) for cell, width in zip(row, widths, strict=True))
            self.stdout.write(("  " + "  ".join(cells)).rstrip())
            if index == 0:
                self.stdout.write("  " + "  ".join("-" * width for width in widths))

    def _second_factor(self, otp_secret):
        roles = "、".join(
            str(Role(value).label) for value in settings.PORTAL_OTP_REQUIRED_ROLES if value in Role.values
        )
        self.stdout.write("")
        if otp_secret:
            self.stdout.write(
                f"两步验证 / Two-step verification ({roles}): 在身份验证器应用中添加密钥 / add this key to an "
                f"authenticator app: {otp_secret}"
            )
        else:
            self.stdout.write(
                f"两步验证 / Two-step verification ({roles}): 首次登录时绑定身份验证器。/ "
                "These accounts set up an authenticator at their first login."
            )

    def _totals(self):
        self.stdout.write("")
        self.stdout.write("数据库现有 / Now in the database:")
        self.stdout.write(
            f"  区县 counties {County.objects.count()}, 场景 scenarios {Scenario.objects.count()}, "
            f"组织 organisations {Organisation.objects.count()}, 用户 users {User.objects.count()}"
        )
        self.stdout.write(
            f"  服务商 providers {Provider.objects.count()}: " + self._by_status(Provider, ProviderStatus)
        )
        self.stdout.write(f"  试点企业 pilot enterprises {PilotEnterprise.objects.count()}")
        self.stdout.write(
            f"  服务合同 service contracts {ServiceContract.objects.count()}: "
            + self._by_status(ServiceContract, ContractStatus)
        )
        self.stdout.write(
            f"  整改案件 rectification cases {RectificationCase.objects.count()}: "
            + self._by_status(RectificationCase, RectificationStatus)
        )
        self.stdout.write(
            f"  撤销资格案件 revocation cases {RevocationCase.objects.count()}: "
            + self._by_status(RevocationCase, RevocationStatus)
            + f"; 黑名单 blacklist entries {BlacklistEntry.objects.count()}"
        )
        self.stdout.write(
            f"  入库申请 provider applications {ProviderApplication.objects.count()}: "
            + self._by_status(ProviderApplication, ApplicationStatus)
        )

    @staticmethod
    def _by_status(model, choices):
        counts = dict(model.objects.values_list("status").annotate(n=Count("pk")).order_by())
        return ", ".join(f"{value} {counts[value]}" for value in choices.values if counts.get(value))
