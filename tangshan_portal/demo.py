"""Deterministic demo data for `manage.py seed_demo`, and the USCC helpers the test factories share.

The data is planned in memory first by `build_demo_plan`, a pure function of the seed, the county list and the
scenario list, so every fresh database receives the same rows whatever it already holds. `seed_demo` then
writes only what is missing, keyed on natural keys (USCC, contract number, organisation name, user name), so
a second run creates nothing and leaves edits made through the portal alone.

The enforcement part (Articles 12–14: rectification cases in every state, revocation proposals and decisions,
the blacklist, ratings and milestones) is not written row by row: `seed_enforcement` plays a short history
through the services of `evaluations.services` with the demo accounts, so every case carries the state log,
notifications, document numbers and provider standing the portal itself would have produced. It runs once:
a database that already holds demo cases (recognised by DEMO_CASE_MARKER in the finding) is left alone.
"""

import json
import random
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from stdnum.cn import uscc as stdnum_uscc

SEED = 20260101
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# 9 = registered with the market regulator, 1 = enterprise (GB 32100-2015 positions 1 and 2).
USCC_ENTERPRISE_PREFIX = "91"
CONTRACT_NUMBER_PREFIX = "TS-SZH-2026-"
YEAR_START = date(2026, 1, 1)
YEAR_END = date(2026, 12, 31)

N_PROVIDERS = 30
N_ENTERPRISES = 120

# --- USCC ---------------------------------------------------------------------------------------------


def uscc_from_body(division_code, body, prefix=USCC_ENTERPRISE_PREFIX):
    """Complete 2 + 6 + 9 characters with the check digit and validate the result."""
    first17 = f"{prefix}{division_code}{body}"
    if len(first17) != 17:
        raise ValueError(f"A USCC without its check digit has 17 characters, not {len(first17)}: {first17!r}")
    return stdnum_uscc.validate(first17 + stdnum_uscc.calc_check_digit(first17))


def random_uscc(rng, division_code):
    # Codes issued since 2015 carry "MA" at the start of the organisation part; the factories use other
    # leading letters, so demo rows and factory rows can never collide.
    body = "MA" + "".join(rng.choice(USCC_ALPHABET) for _ in range(7))
    return uscc_from_body(division_code, body)


def sequential_uscc(n, division_code, tag="T"):
    """The n-th code of a series; distinct tags give disjoint series (tests use one per factory)."""
    if tag not in USCC_ALPHABET or tag in "0123456789M":
        raise ValueError(f"tag must be a USCC letter other than M, got {tag!r}")
    digits = []
    for _ in range(8):
        n, rest = divmod(n, len(USCC_ALPHABET))
        digits.append(USCC_ALPHABET[rest])
    if n:
        raise ValueError("sequence number too large for eight base-31 characters")
    return uscc_from_body(division_code, tag + "".join(reversed(digits)))


def city_division_code(counties):
    """The prefecture code (e.g. 130200) from any of its county codes."""
    return counties[0][0][:4] + "00"


# --- Word lists ------------------------------------------------------------------------------------------


def _words(text):
    return tuple(text.split())


SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏"
    "钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段钱汤尹易常武乔贺龚文"
)
GIVEN_NAME_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文俊海波宇浩鹏飞鑫晨雪梅琳婷颖慧佳欣怡晓东辉林斌亮凯"
    "健振宏彬峰瑞博立新春永德庆长旭阳"
)

ROADS = _words(
    "建设路 新华道 北新道 学院路 卫国路 长宁道 光明路 龙泽路 西山道 友谊路 文化路 "
    "凤凰道 华岩路 裕华道 兴源道 朝阳道 南新道 复兴路 幸福道 创业路 科技路 工业路 "
    "园区路 迎宾路 和平路"
)
PARKS = ("经济开发区", "高新技术产业开发区", "工业园区", "科技产业园")

PROVIDER_BRANDS = _words(
    "智造 冀联 数智 云帆 博远 汇智 锐思 数联 慧通 云鼎 智链 睿达 星河 卓信 易联 "
    "天工 凌云 思源 鼎新 华数 恒信 瀚海 远景 精诚 海纳 创联 启航 融智 擎天 蓝海"
)
ENTERPRISE_BRANDS = _words(
    "冀东 华远 金泰 恒达 宏兴 天成 鑫盛 永安 顺达 利达 荣信 海通 广源 聚成 晨光 "
    "福瑞 安康 瑞丰 诚信 嘉禾 润泽 鸿运 泰昌 源丰 盛达 正通 兴业 德润 同力 新元 "
    "东升 万通 宝利 金鼎 华瑞 众合 长兴 燕通 北辰 昌盛"
)

PROVIDER_TYPE_WORDS = {
    "integrated": ("信息技术", "数字科技", "智能科技", "系统集成", "软件技术", "工业互联网"),
    "product": ("云科技", "物联科技", "工业软件", "数据技术", "智能装备科技", "网络科技"),
    "chain_leader": ("钢铁集团", "重工集团", "装备制造", "陶瓷集团", "化工集团", "汽车零部件"),
}
PROVIDER_TYPE_COUNTS = {"integrated": 12, "product": 12, "chain_leader": 6}
# A chain leader is a large manufacturer; the capital is in units of 10,000 yuan, like the model field.
PROVIDER_CAPITAL = {
    "integrated": (1000, 2000, 3000, 5000, 8000, 10000),
    "product": (100, 200, 300, 500, 800, 1000, 1500),
    "chain_leader": (20000, 50000, 100000, 200000),
}
PROVIDER_SCOPE = {
    "integrated": (
        "软件开发",
        "信息系统集成服务",
        "工业互联网数据服务",
        "信息技术咨询服务",
        "数据处理和存储支持服务",
        "智能控制系统集成",
        "网络与信息安全软件开发",
        "人工智能应用软件开发",
    ),
    "product": (
        "工业控制计算机及系统销售",
        "物联网技术服务",
        "软件销售",
        "云计算装备技术服务",
        "智能仪器仪表销售",
        "数字技术服务",
        "工业设计服务",
        "技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广",
    ),
    "chain_leader": (
        "钢、铁冶炼",
        "通用设备制造",
        "金属材料销售",
        "供应链管理服务",
        "工业互联网数据服务",
        "货物进出口",
        "信息系统集成服务",
        "技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广",
    ),
}
SCOPE_TAIL = "（依法须经批准的项目，经相关部门批准后方可开展经营活动）"

# Sub-industry, the words that appear in company names of that trade, and its share of the pilot.
SUB_INDUSTRIES = (
    ("钢铁及深加工", ("钢铁", "钢管", "金属制品", "精密钢材", "型钢"), 20),
    ("装备制造", ("机械", "重工", "装备制造", "机电设备", "矿山机械"), 18),
    ("陶瓷", ("陶瓷", "骨质瓷", "卫浴", "特种陶瓷"), 10),
    ("化工", ("化工", "精细化工", "煤化工"), 8),
    ("食品加工", ("食品", "粮油", "乳业", "食品科技"), 10),
    ("纺织服装", ("纺织", "服饰", "针织"), 6),
    ("建材", ("建材", "新型建材", "水泥制品", "玻璃"), 8),
    ("汽车零部件", ("汽车零部件", "汽车配件", "汽车部件"), 8),
    ("电子信息", ("电子", "电子科技", "电气"), 6),
    ("新材料", ("新材料", "新材料科技", "复合材料"), 6),
)
INDUSTRY = "制造业"
COMPANY_FORMS = ("有限公司", "有限公司", "有限公司", "有限公司", "股份有限公司", "有限责任公司")
SIZES = (("medium", 2), ("small", 5), ("micro", 3))
BASELINE_LEVELS = ((1, 45), (2, 45), (3, 10))

# The first provider is always in the pool: its organisation is the demo provider account's. The standings
# "warned", "under_rectification" and "revoked" are not written as such: those providers start in the pool and
# reach their standing through the cases of `seed_enforcement` (CASE_DRIVEN_STANDINGS).
PROVIDER_STATUS_COUNTS = {
    "in_pool": 19,
    "applied": 3,
    "warned": 2,
    "under_rectification": 2,
    "revoked": 2,
    "rejected": 1,
    "withdrawn": 1,
}
# Contracts with providers that stayed in the pool; the rest depend on the provider's standing.
CONTRACT_STATUS_COUNTS = {
    "draft": 7,
    "signed": 8,
    "in_progress": 16,
    "internally_accepted": 8,
    "accepted": 10,
    "failed": 3,
}
CONTRACTS_PER_REVOKED = 2  # terminated by the revocation (Art 14)
CONTRACTS_PER_WITHDRAWN = 2  # completed before the provider left the pool
CONTRACTS_OUTSIDE_POOL = 2  # an applicant already at work: the Art 2 flag
# (earliest start, latest start, shortest and longest duration in days) per contract status.
CONTRACT_WINDOWS = {
    "draft": (date(2026, 7, 1), date(2026, 10, 31), 60, 120),
    "signed": (date(2026, 6, 1), date(2026, 9, 30), 90, 180),
    "in_progress": (date(2026, 2, 1), date(2026, 6, 30), 120, 240),
    "internally_accepted": (date(2026, 1, 5), date(2026, 3, 31), 60, 150),
    "accepted": (date(2026, 1, 5), date(2026, 3, 31), 60, 150),
    "failed": (date(2026, 1, 5), date(2026, 3, 31), 60, 150),
    "terminated": (date(2026, 1, 5), date(2026, 4, 30), 150, 240),
}
LANDLINE_AREA_CODE = "0315"

CASE_DRIVEN_STANDINGS = frozenset({"warned", "under_rectification", "revoked"})
# A revoked provider's contracts are written in progress; the approved revocation terminates them (Art 14).
CONTRACT_STATUS_BEFORE_REVOCATION = "in_progress"
# Every finding of a demo case starts with this marker: it is how a second seed knows the cases exist.
DEMO_CASE_MARKER = "【演示】"


# --- Plans -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderPlan:
    name: str
    uscc: str
    provider_type: str
    status: str
    legal_representative: str
    address: str
    county_code: str
    business_scope: str
    registered_capital: Decimal
    contact_name: str
    contact_phone: str
    contact_email: str
    scenario_codes: tuple


@dataclass(frozen=True)
class EnterprisePlan:
    name: str
    uscc: str
    county_code: str
    industry: str
    sub_industry: str
    size: str
    contact_name: str
    contact_phone: str
    baseline_level: int


@dataclass(frozen=True)
class ContractPlan:
    number: str
    provider_uscc: str
    enterprise_uscc: str
    title: str
    amount: Decimal
    subsidy: Decimal
    advance_payment: Decimal
    signed_on: date | None
    start_on: date
    end_on: date
    status: str
    scenario_codes: tuple


@dataclass(frozen=True)
class DemoPlan:
    providers: tuple
    enterprises: tuple
    contracts: tuple


@dataclass(frozen=True)
class DemoAccount:
    role: str
    username: str
    full_name: str
    # Which organisation the account acts for: bureau, county_bureau, institution, provider or enterprise.
    organisation: str


DEMO_ACCOUNTS = (
    DemoAccount("enterprise", "demo_enterprise", "王海燕", "enterprise"),
    DemoAccount("provider", "demo_provider", "李志强", "provider"),
    DemoAccount("county", "demo_county", "张建国", "county_bureau"),
    DemoAccount("officer", "demo_officer", "刘晓东", "bureau"),
    DemoAccount("approver", "demo_approver", "陈立新", "bureau"),
    DemoAccount("assessor", "demo_assessor", "杨慧敏", "institution"),
    DemoAccount("auditor", "demo_auditor", "赵文静", "bureau"),
    DemoAccount("sysadmin", "demo_sysadmin", "周俊峰", "bureau"),
    DemoAccount("secadmin", "demo_secadmin", "孙立新", "bureau"),
)


def short_place_name(name):
    """路北区 → 路北, 迁安市 → 迁安; two-character names keep their suffix (as companies do: 滦县 stays)."""
    if len(name) > 2 and name[-1] in "省市区县":
        return name[:-1]
    return name


def person_name(rng):
    given = "".join(rng.choice(GIVEN_NAME_CHARS) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(SURNAMES) + given


def phone_number(rng):
    if rng.random() < 0.5:
        return f"{LANDLINE_AREA_CODE}-{rng.randint(2000000, 8999999)}"
    return f"1{rng.choice('3589')}{rng.randint(0, 9)}{rng.randint(0, 99999999):08d}"


def address(rng, city_name, county_name):
    number = rng.randint(1, 299)
    if rng.random() < 0.4:
        park = short_place_name(county_name) + rng.choice(PARKS)
        return f"{city_name}{county_name}{park}{rng.choice(ROADS)}{number}号"
    return f"{city_name}{county_name}{rng.choice(ROADS)}{number}号"


def _weighted(rng, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


def _unique(make, taken, attempts=1000):
    for _ in range(attempts):
        value = make()
        if value not in taken:
            taken.add(value)
            return value
    raise RuntimeError("the word lists are too small for the number of demo rows")


def _shuffled_tail(rng, first, counts):
    """`first`, then the remaining counts in a seeded random order."""
    rest = [status for status, count in counts.items() for _ in range(count)]
    rest.remove(first)
    rng.shuffle(rest)
    return [first, *rest]


def _date_between(rng, start, end):
    return start + timedelta(days=rng.randint(0, (end - start).days))


def _money(rng, low_yuan, high_yuan, step=1000):
    return Decimal(rng.randrange(low_yuan, high_yuan + 1, step)).quantize(Decimal("0.01"))


def _share(amount, percent):
    return (amount * percent / 100).quantize(Decimal("0.01"))


def build_demo_plan(*, city_name, counties, scenarios, seed=SEED):
    """Plan the demo rows. `counties` and `scenarios` are sequences of (code, name) pairs in a fixed order."""
    rng = random.Random(seed)  # noqa: S311 (demo data must be reproducible, not unpredictable)
    counties = list(counties)
    scenario_codes = [code for code, _name in scenarios]
    scenario_names = dict(scenarios)
    city_short = short_place_name(city_name)
    city_code = city_division_code(counties)
    names, codes = set(), set()

    providers = []
    types = [kind for kind, count in PROVIDER_TYPE_COUNTS.items() for _ in range(count)]
    rng.shuffle(types)
    statuses = _shuffled_tail(rng, "in_pool", PROVIDER_STATUS_COUNTS)
    if len(types) != N_PROVIDERS or len(statuses) != N_PROVIDERS:
        raise RuntimeError("provider type and status counts must add up to N_PROVIDERS")
    for index, (provider_type, status) in enumerate(zip(types, statuses, strict=True)):
        county_code, county_name = rng.choice(counties)

        def make_name(provider_type=provider_type, county_name=county_name):
            place = city_short if rng.random() < 0.7 else short_place_name(county_name)
            words = PROVIDER_TYPE_WORDS[provider_type]
            form = "股份有限公司" if provider_type == "chain_leader" and rng.random() < 0.5 else "有限公司"
            return f"{place}{rng.choice(PROVIDER_BRANDS)}{rng.choice(words)}{form}"

        name = _unique(make_name, names)
        division = county_code if rng.random() < 0.6 else city_code
        uscc_code = _unique(lambda division=division: random_uscc(rng, division), codes)
        scope_items = rng.sample(PROVIDER_SCOPE[provider_type], rng.randint(4, 6))
        chosen = set(rng.sample(scenario_codes, rng.randint(2, 5)))
        providers.append(
            ProviderPlan(
                name=name,
                uscc=uscc_code,
                provider_type=provider_type,
                status=status,
                legal_representative=person_name(rng),
                address=address(rng, city_name, county_name),
                county_code=county_code,
                business_scope="；".join(scope_items) + "。" + SCOPE_TAIL,
                registered_capital=Decimal(rng.choice(PROVIDER_CAPITAL[provider_type])).quantize(Decimal("0.01")),
                contact_name=person_name(rng),
                contact_phone=phone_number(rng),
                contact_email=f"contact{index + 1:02d}@example.com",
                scenario_codes=tuple(code for code in scenario_codes if code in chosen),
            )
        )

    enterprises = []
    industry_rows = [(row, row[2]) for row in SUB_INDUSTRIES]
    for index in range(N_ENTERPRISES):
        # Round-robin first so that every county has enterprises, then a seeded spread.
        if index < 3 * len(counties):
            county_code, county_name = counties[index % len(counties)]
        else:
            county_code, county_name = rng.choice(counties)
        sub_industry, name_words, _weight = _weighted(rng, industry_rows)

        def make_name(county_name=county_name, name_words=name_words):
            place = short_place_name(county_name) if rng.random() < 0.75 else city_short
            return f"{place}{rng.choice(ENTERPRISE_BRANDS)}{rng.choice(name_words)}{rng.choice(COMPANY_FORMS)}"

        enterprises.append(
            EnterprisePlan(
                name=_unique(make_name, names),
                uscc=_unique(lambda county_code=county_code: random_uscc(rng, county_code), codes),
                county_code=county_code,
                industry=INDUSTRY,
                sub_industry=sub_industry,
                size=_weighted(rng, SIZES),
                contact_name=person_name(rng),
                contact_phone=phone_number(rng),
                baseline_level=_weighted(rng, BASELINE_LEVELS),
            )
        )

    pool = [p for p in providers if p.status in ("in_pool", "warned", "under_rectification")]
    jobs = [(providers[0], enterprises[0], "in_progress")]
    remaining = dict(CONTRACT_STATUS_COUNTS)
    remaining["in_progress"] -= 1
    for status, count in remaining.items():
        jobs.extend((rng.choice(pool), rng.choice(enterprises), status) for _ in range(count))
    for provider in providers:
        if provider.status == "revoked":
            jobs.extend((provider, rng.choice(enterprises), "terminated") for _ in range(CONTRACTS_PER_REVOKED))
        elif provider.status == "withdrawn":
            jobs.extend((provider, rng.choice(enterprises), "accepted") for _ in range(CONTRACTS_PER_WITHDRAWN))
    applicants = [p for p in providers if p.status == "applied"]
    for i in range(CONTRACTS_OUTSIDE_POOL):
        jobs.append((applicants[i % len(applicants)], rng.choice(enterprises), ("draft", "signed")[i % 2]))
    head, tail = jobs[:1], jobs[1:]
    rng.shuffle(tail)

    contracts = []
    for index, (provider, enterprise, status) in enumerate(head + tail, start=1):
        earliest, latest, shortest, longest = CONTRACT_WINDOWS[status]
        start_on = _date_between(rng, earliest, latest)
        end_on = min(start_on + timedelta(days=rng.randint(shortest, longest)), YEAR_END)
        signed_on = None if status == "draft" else max(start_on - timedelta(days=rng.randint(3, 20)), YEAR_START)
        amount = _money(rng, 100_000, 2_000_000)
        subsidy = min(_share(amount, rng.choice((30, 40, 50))), Decimal("500000.00"))
        advance = Decimal("0.00") if status == "draft" else _share(amount, rng.choice((0, 10, 20, 30)))
        chosen = rng.sample(provider.scenario_codes, min(len(provider.scenario_codes), rng.randint(1, 3)))
        codes_in_order = tuple(code for code in scenario_codes if code in chosen)
        contracts.append(
            ContractPlan(
                number=f"{CONTRACT_NUMBER_PREFIX}{index:04d}",
                provider_uscc=provider.uscc,
                enterprise_uscc=enterprise.uscc,
                title="、".join(scenario_names[code] for code in codes_in_order) + "数字化转型服务项目",
                amount=amount,
                subsidy=subsidy,
                advance_payment=advance,
                signed_on=signed_on,
                start_on=start_on,
                end_on=end_on,
                status=status,
                scenario_codes=codes_in_order,
            )
        )
    return DemoPlan(providers=tuple(providers), enterprises=tuple(enterprises), contracts=tuple(contracts))


def demo_plan_from_settings():
    from django.conf import settings

    from .reference import SCENARIOS_FILE

    rows = json.loads(SCENARIOS_FILE.read_text(encoding="utf-8"))
    return build_demo_plan(
        city_name=settings.PORTAL_CITY_NAME,
        counties=settings.PORTAL_COUNTIES,
        scenarios=[(row["code"], row["name"]) for row in rows],
    )


def support_organisation_names():
    """The bureau, the first county's bureau and the third-party institution, named from the settings."""
    from django.conf import settings

    county_code, county_name = settings.PORTAL_COUNTIES[0]
    return {
        "bureau": settings.PORTAL_AUTHORITY_NAME,
        "county_bureau": f"{county_name}工业和信息化局",
        "county_code": county_code,
        "institution": f"{settings.PORTAL_CITY_NAME}中小企业数字化转型促进中心",
    }


# --- Writing ---------------------------------------------------------------------------------------------


@dataclass
class SeedReport:
    created: dict = field(default_factory=dict)
    existing: dict = field(default_factory=dict)
    # (username, role value, what changed) for every demo account.
    accounts: list = field(default_factory=list)
    # (username, application status) for every demo applicant's account.
    applicants: list = field(default_factory=list)

    @property
    def anything_created(self):
        return any(self.created.values())

    @property
    def accounts_changed(self):
        return [row for row in self.accounts if row[2]]


def _create_missing(model, key, wanted, report, label):
    """Insert the objects of `wanted` (key value → unsaved instance) whose key is not in the table yet."""
    present = set(model.objects.filter(**{f"{key}__in": list(wanted)}).values_list(key, flat=True))
    new = [obj for value, obj in wanted.items() if value not in present]
    for obj in new:
        # Validation catches a plan that breaks a constraint with a readable message, not an IntegrityError.
        obj.full_clean()
    model.objects.bulk_create(new)
    report.created[label] = len(new)
    report.existing[label] = len(present)
    return {getattr(obj, key) for obj in new}


def demo_authenticator(user, secret):
    """Give a demo staff account exactly one confirmed authenticator (tangshan_portal/otp.py) with the public demo
    secret (base32), so that the demo logins need no enrolment. Returns whether anything changed."""
    from base64 import b32decode

    from django_otp.plugins.otp_totp.models import TOTPDevice

    compact = "".join(secret.split()).upper()
    key = b32decode(compact + "=" * (-len(compact) % 8)).hex()
    devices = list(TOTPDevice.objects.filter(user=user))
    if len(devices) == 1 and devices[0].confirmed and devices[0].key == key:
        return False
    TOTPDevice.objects.filter(user=user).delete()
    TOTPDevice.objects.create(user=user, name="demo", key=key, confirmed=True)
    return True


def seed_demo(password, otp_secret=""):
    """Write the demo plan and accounts; the caller holds the transaction. Returns a SeedReport.

    With `otp_secret` the demo accounts that need the second factor get an authenticator with that secret;
    without it they enrol their own at their first login."""
    from django.conf import settings
    from django.contrib.auth.models import Group

    from enterprises.models import PilotEnterprise, ServiceContract
    from providers.models import Provider

    from .models import County, Organisation, Scenario, User
    from .roles import STAFF_ROLES, Role, sync_role_groups

    plan = demo_plan_from_settings()
    report = SeedReport()
    counties = {county.code: county for county in County.objects.all()}
    scenarios = {scenario.code: scenario for scenario in Scenario.objects.all()}
    support = support_organisation_names()

    kinds = Organisation.Kind
    wanted_orgs = {
        support["bureau"]: Organisation(name=support["bureau"], kind=kinds.BUREAU),
        support["county_bureau"]: Organisation(
            name=support["county_bureau"], kind=kinds.COUNTY_BUREAU, county=counties[support["county_code"]]
        ),
        support["institution"]: Organisation(name=support["institution"], kind=kinds.INSTITUTION),
    }
    # Only a county bureau's organisation names a county: there it limits what its staff can see.
    for p in plan.providers:
        wanted_orgs[p.name] = Organisation(name=p.name, kind=kinds.PROVIDER)
    for e in plan.enterprises:
        wanted_orgs[e.name] = Organisation(name=e.name, kind=kinds.ENTERPRISE)
    _create_missing(Organisation, "name", wanted_orgs, report, "organisations")
    orgs = {org.name: org for org in Organisation.objects.filter(name__in=list(wanted_orgs))}

    wanted = {
        p.uscc: Provider(
            organisation=orgs[p.name],
            name=p.name,
            uscc=p.uscc,
            legal_representative=p.legal_representative,
            address=p.address,
            business_scope=p.business_scope,
            registered_capital=p.registered_capital,
            provider_type=p.provider_type,
            county=counties[p.county_code],
            contact_name=p.contact_name,
            contact_phone=p.contact_phone,
            contact_email=p.contact_email,
            status="in_pool" if p.status in CASE_DRIVEN_STANDINGS else p.status,
        )
        for p in plan.providers
    }
    new_providers = _create_missing(Provider, "uscc", wanted, report, "providers")
    providers = {p.uscc: p for p in Provider.objects.filter(uscc__in=list(wanted))}
    Provider.scenarios.through.objects.bulk_create(
        Provider.scenarios.through(provider_id=providers[p.uscc].pk, scenario_id=scenarios[code].pk)
        for p in plan.providers
        if p.uscc in new_providers
        for code in p.scenario_codes
    )

    wanted = {
        e.uscc: PilotEnterprise(
            organisation=orgs[e.name],
            name=e.name,
            uscc=e.uscc,
            county=counties[e.county_code],
            industry=e.industry,
            sub_industry=e.sub_industry,
            size=e.size,
            contact_name=e.contact_name,
            contact_phone=e.contact_phone,
            baseline_level=e.baseline_level,
        )
        for e in plan.enterprises
    }
    _create_missing(PilotEnterprise, "uscc", wanted, report, "enterprises")
    enterprises = {e.uscc: e for e in PilotEnterprise.objects.filter(uscc__in=list(wanted))}

    revoked = {p.uscc for p in plan.providers if p.status == "revoked"}
    wanted = {
        c.number: ServiceContract(
            number=c.number,
            provider=providers[c.provider_uscc],
            enterprise=enterprises[c.enterprise_uscc],
            title=c.title,
            amount=c.amount,
            subsidy=c.subsidy,
            advance_payment=c.advance_payment,
            signed_on=c.signed_on,
            start_on=c.start_on,
            end_on=c.end_on,
            status=CONTRACT_STATUS_BEFORE_REVOCATION if c.provider_uscc in revoked else c.status,
        )
        for c in plan.contracts
    }
    new_contracts = _create_missing(ServiceContract, "number", wanted, report, "contracts")
    contracts = {c.number: c for c in ServiceContract.objects.filter(number__in=list(wanted))}
    ServiceContract.scenarios.through.objects.bulk_create(
        ServiceContract.scenarios.through(servicecontract_id=contracts[c.number].pk, scenario_id=scenarios[code].pk)
        for c in plan.contracts
        if c.number in new_contracts
        for code in c.scenario_codes
    )

    account_orgs = {
        "bureau": orgs[support["bureau"]],
        "county_bureau": orgs[support["county_bureau"]],
        "institution": orgs[support["institution"]],
        "provider": orgs[plan.providers[0].name],
        "enterprise": orgs[plan.enterprises[0].name],
    }
    groups = {group.name: group for group in Group.objects.filter(name__in=Role.values)}
    if len(groups) != len(Role.values):
        # The groups come from a migration; recreate them with their permissions if someone removed one.
        sync_role_groups()
        groups = {group.name: group for group in Group.objects.filter(name__in=Role.values)}
    report.created["accounts"] = report.existing["accounts"] = 0
    for account in DEMO_ACCOUNTS:
        role = Role(account.role)
        user, created = User.objects.get_or_create(username=account.username)
        report.created["accounts"] += created
        report.existing["accounts"] += not created
        desired = {
            "full_name": account.full_name,
            "email": f"{account.username}@example.com",
            "organisation": account_orgs[account.organisation],
            "is_staff": role in STAFF_ROLES,
            "is_superuser": False,
            "is_active": True,
        }
        changed = [name for name, value in desired.items() if getattr(user, name) != value]
        for name in changed:
            setattr(user, name, desired[name])
        # Compared first so that a second run leaves the stored hash (and the row) exactly as it was.
        if not user.check_password(password):
            user.set_password(password)
            changed.append("password")
        if changed:
            user.save()
        group = groups[role.value]
        if list(user.groups.all()) != [group]:
            user.groups.set([group])
            changed.append("groups")
        if otp_secret and role.value in settings.PORTAL_OTP_REQUIRED_ROLES and demo_authenticator(user, otp_secret):
            changed.append("authenticator")
        report.accounts.append((account.username, role, [] if created else changed))

    users = {user.username: user for user in User.objects.filter(username__in=[a.username for a in DEMO_ACCOUNTS])}
    seed_enforcement(plan, users=users, report=report)
    # After the enforcement history: the flagged applicant matches a provider that history revoked.
    seed_workflows(plan, users=users, password=password, report=report)
    return report


# --- Enforcement (Articles 12–14), played through the services ---------------------------------------------

ENFORCEMENT_LABELS = ("rectification_cases", "revocation_cases", "blacklist_entries", "ratings", "milestones")
MILESTONES = (("需求调研与实施方案", 30), ("系统部署与数据集成", 40), ("试运行与验收准备", 30))
# Contracts on schedule report the progress planned this many days ahead, so they stay on schedule for a while
# after seeding instead of turning into schedule-lag findings the next morning.
ON_TRACK_LEAD_DAYS = 60
RATED_CONTRACT_STATUSES = ("accepted", "internally_accepted", "in_progress")


def _moment(today, days_ago, hour=9):
    """`days_ago` days before `today`, at `hour` o'clock local time."""
    from django.utils import timezone

    return timezone.make_aware(datetime.combine(today - timedelta(days=days_ago), time(hour)))


@contextmanager
def _dated(when):
    """Date the state-log rows and notifications written inside the block at the simulated moment `when`.

    The services take `now=` for the cases' own dates, but django-fsm-log and the outbox stamp their rows with
    the clock; without this, the timeline of a case warned "60 days ago" would show today's date everywhere."""
    from django.db.models import Max
    from django_fsm_log.models import StateLog

    from .models import Notification

    last_log = StateLog.objects.aggregate(n=Max("pk"))["n"] or 0
    last_notification = Notification.objects.aggregate(n=Max("pk"))["n"] or 0
    yield when
    StateLog.objects.filter(pk__gt=last_log).update(timestamp=when)
    Notification.objects.filter(pk__gt=last_notification).update(created_at=when)


def _progress_share(contract, planned_on, on_day):
    """The time-proportional share of one milestone on a day (as in evaluations.selectors.planned_progress)."""
    span = (planned_on - contract.start_on).days
    if span <= 0:
        return 1.0
    return min(1.0, max(0.0, (on_day - contract.start_on).days / span))


def _enforcement_counts():
    from enterprises.models import Milestone
    from evaluations.models import BlacklistEntry, RectificationCase, RevocationCase, SatisfactionRating

    models = {
        "rectification_cases": RectificationCase,
        "revocation_cases": RevocationCase,
        "blacklist_entries": BlacklistEntry,
        "ratings": SatisfactionRating,
        "milestones": Milestone,
    }
    return {label: model.objects.count() for label, model in models.items()}


def seed_enforcement(plan, *, users, report):
    """Cases in every state, revocations proposed, pending, approved and dismissed, the blacklist, ratings
    and milestones — each written by the service the portal uses, with the demo accounts as actors.

    Dates: the deadline sweep compares deadlines with the real date, so a case that must be running (or
    overdue) today cannot be placed at a fixed date. Every event is therefore placed relative to the day of
    seeding (`today`), and the services receive it as `now=`. The rows differ in their dates from one seeding
    day to the next; the states, numbers and links do not.
    """
    from django.utils import timezone

    from enterprises.models import ContractStatus, Milestone, ServiceContract
    from evaluations import services
    from evaluations.models import RectificationCase, RevocationCase, SatisfactionRating
    from providers.models import POOL_STATUSES, Provider

    before = _enforcement_counts()
    report.existing.update(before)
    report.created.update(dict.fromkeys(ENFORCEMENT_LABELS, 0))
    if (
        RectificationCase.objects.filter(finding__startswith=DEMO_CASE_MARKER).exists()
        or RevocationCase.objects.filter(finding__startswith=DEMO_CASE_MARKER).exists()
    ):
        return  # seeded before: never a second history, and edits made in the portal stay

    now = timezone.now()
    today = timezone.localdate(now)
    officer, approver = users["demo_officer"], users["demo_approver"]
    provider_staff, enterprise_staff = users["demo_provider"], users["demo_enterprise"]

    providers = {p.uscc: p for p in Provider.objects.filter(uscc__in=[p.uscc for p in plan.providers])}
    contracts = {}
    for contract in ServiceContract.objects.filter(number__in=[c.number for c in plan.contracts]).order_by("number"):
        contracts.setdefault(contract.provider_id, []).append(contract)

    def planned(status):
        return [providers[p.uscc] for p in plan.providers if p.status == status]

    def contract_of(provider, statuses=None):
        return next((c for c in contracts.get(provider.pk, []) if statuses is None or c.status in statuses), None)

    demo = providers[plan.providers[0].uscc]  # the demo provider account's organisation
    candidates = planned("in_pool")[1:]

    def take(condition=lambda provider: True):
        provider = next(p for p in candidates if condition(p))
        candidates.remove(provider)
        return provider

    lagging = take(lambda p: contract_of(p, [ContractStatus.IN_PROGRESS]))
    dissatisfying = take(lambda p: contract_of(p, RATED_CONTRACT_STATUSES))
    drafted, withdrawn, dismissed, pending = take(), take(), take(), take()
    warned_1, warned_2 = planned("warned")
    rectifying, overdue = planned("under_rectification")
    revoked_1, revoked_2 = planned("revoked")

    def at(days_ago, hour=9):
        return _moment(today, days_ago, hour)

    def play(days_ago, service, **kwargs):
        with _dated(at(days_ago)) as when:
            return service(now=when, **kwargs)

    def open_case(days_ago, provider, ground, finding, *, warn=True):
        """Opened at 9:00 and, unless `warn` is false, warned at 10:00 the same day."""
        with _dated(at(days_ago)) as when:
            case = services.rectification_open(
                provider=provider,
                ground=ground,
                finding=DEMO_CASE_MARKER + finding,
                by=officer,
                contract=contract_of(provider),
            )
            RectificationCase.objects.filter(pk=case.pk).update(opened_at=when)
        if warn:
            with _dated(at(days_ago, hour=10)) as when:
                case = services.rectification_warn(case=case, by=officer, now=when)
        return case

    def order(days_ago, case):
        return play(days_ago, services.rectification_order, case=case, by=officer)

    def propose(days_ago, provider, ground, finding):
        provider.refresh_from_db()
        if provider.status not in POOL_STATUSES:  # a database seeded before revocations went through services
            return None
        return play(
            days_ago,
            services.revocation_propose,
            provider=provider,
            ground=ground,
            finding=DEMO_CASE_MARKER + finding,
            by=officer,
            evidence=[c for c in [contract_of(provider)] if c],
        )

    def respond(days_ago, case, report):
        return play(days_ago, services.rectification_respond, case=case, by=provider_staff, report=report)

    def decide(days_ago, service, revocation, reason):
        if revocation is not None:
            play(days_ago, service, revocation=revocation, by=approver, reason=reason)

    # The history, oldest first, so that document numbers follow the calendar; days are counted back from today.
    # The demo provider's cases: verified, responded (the officer can verify or return it), returned, rectifying
    # and warned (the provider can respond or state its case in the browser).
    verified = open_case(60, demo, 1, "注册地址变更后超过三十日未向主管部门报告")
    order(54, verified)
    overdue_case = open_case(50, overdue, 5, "拒不配合第三方支撑机构开展中期评测")
    order(44, overdue_case)  # its deadline passed 14 days ago: the sweep below marks it overdue
    respond(40, verified, "已补报注册地址变更材料并完成备案。")
    approved = propose(40, revoked_1, 5, "与试点企业虚构服务合同，套取补助资金")
    play(35, services.rectification_verify, case=verified, by=officer, note="变更已备案，整改到位。")
    rectifying_case = open_case(31, rectifying, 4, "改造成效与实施方案存在明显偏差，未通过企业内部验收")
    responded = open_case(30, demo, 2, "驻场实施人员不足，企业反映需求响应不及时")
    rejected = propose(30, dismissed, 8, "报价较备案价格大幅下调，涉嫌扰乱市场")
    decide(30, services.revocation_approve, approved, "经查证，事实清楚，证据确凿。")
    play(
        28,
        services.rectification_reply,
        case=responded,
        by=provider_staff,
        statement="已增派实施工程师，请给予整改机会。",
    )
    returned = open_case(27, demo, 4, "设备联网改造未达到实施方案约定的数据采集范围")
    order(25, rectifying_case)  # due in five days: the sweep below sends its 7-day reminder
    approved_later = propose(25, revoked_2, 4, "擅自将试点企业生产数据提供给第三方")
    order(24, responded)
    decide(22, services.revocation_dismiss, rejected, "价格调整有成本依据，不构成恶意竞争。")
    order(20, returned)
    withdrawn_case = open_case(20, withdrawn, 1, "法定代表人变更未及时报告")
    decide(16, services.revocation_approve, approved_later, "泄露企业敏感数据，情节严重。")
    play(
        14, services.rectification_withdraw, case=withdrawn_case, by=officer, reason="经核实变更已按期报告，撤回警示。"
    )
    rectifying_demo = open_case(12, demo, 3, "软件采购清单中标准化产品报价高于同期市场价格")
    propose(9, pending, 7, "宣传材料夸大产品功能，与实际交付不符")  # statement period over: the approver decides
    open_case(8, warned_1, 2, "服务团队未按合同约定进驻企业")  # statement period over: withdraw or order
    respond(8, returned, "已扩展数据采集点位至 30 个。")
    order(5, rectifying_demo)
    play(3, services.rectification_return, case=returned, by=officer, reason="仍缺少热处理工段的数据接入，请补充。")
    open_case(3, demo, 2, "项目经理多次更换，企业投诉对接不畅")
    respond(2, responded, "驻场团队已增至五人并建立周报机制。")
    open_case(2, warned_2, 3, "解决方案中软件功能与费用罗列不完整")
    open_case(1, drafted, 6, "涉嫌以低于成本价格参与竞争，待核实", warn=False)

    _seed_ratings(
        today,
        demo_contract=contract_of(demo),
        dissatisfying_contract=contract_of(dissatisfying, RATED_CONTRACT_STATUSES),
        others=[contract_of(p, [ContractStatus.ACCEPTED]) for p in candidates],
        enterprise_staff=enterprise_staff,
        officer=officer,
        model=SatisfactionRating,
    )
    _seed_milestones(
        today,
        now=now,
        # Read again: the approved revocations terminated the revoked providers' contracts.
        contracts=list(
            ServiceContract.objects.filter(
                number__in=[c.number for c in plan.contracts], status=ContractStatus.IN_PROGRESS
            ).order_by("number")
        ),
        lagging=contract_of(lagging, [ContractStatus.IN_PROGRESS]),
        model=Milestone,
    )
    # The sweep, as the hourly task would run it now: the overdue case, the reminder, and the rule engine's
    # proposals (the demo provider's fourth ordered case, the overdue case, the two "dissatisfied" ratings, the
    # lagging contract), each with its statement period still open.
    services.deadlines_check(now=now)

    after = _enforcement_counts()
    report.created.update({label: after[label] - before[label] for label in ENFORCEMENT_LABELS})


def _seed_ratings(today, *, demo_contract, dissatisfying_contract, others, enterprise_staff, officer, model):
    """Ratings have no service yet (the survey comes with the complaints issue). The demo enterprise rates its
    own contract; the others are recorded by the case officer from the bureau's satisfaction survey."""
    others = [c for c in others if c is not None][:2]
    rows = [
        (demo_contract, "中期评价", "satisfied", "实施团队响应及时。", enterprise_staff, 20),
        (dissatisfying_contract, "中期评价", "dissatisfied", "驻场人员频繁更换，进度严重滞后。", officer, 45),
        (dissatisfying_contract, "回访评价", "dissatisfied", "问题整改后仍未解决，系统无法正常使用。", officer, 10),
    ]
    rows += [
        (contract, "验收评价", overall, "", officer, 50 - 15 * index)
        for index, (contract, overall) in enumerate(zip(others, ("basically_satisfied", "satisfied"), strict=False))
    ]
    model.objects.bulk_create(
        model(
            contract=contract,
            stage=stage,
            overall=overall,
            comment=comment,
            submitted_by=by,
            submitted_at=_moment(today, days_ago, 15),
        )
        for contract, stage, overall, comment, by, days_ago in rows
        if contract is not None
    )


def _seed_milestones(today, *, now, contracts, lagging, model):
    """Three milestones per contract in progress, on schedule except for one that is far behind (engine
    ground 3). Before the contracts' start dates nothing can lag yet, and the engine finds no schedule lag."""
    rows = []
    for contract in contracts:
        span = (contract.end_on - contract.start_on).days
        planned_dates = [contract.start_on + timedelta(days=span * k // 3) for k in (1, 2, 3)]
        for index, ((name, weight), planned_on) in enumerate(zip(MILESTONES, planned_dates, strict=True)):
            if lagging is not None and contract.pk == lagging.pk:
                progress = 20 if index == 0 else 0
            else:
                share = _progress_share(contract, planned_on, today + timedelta(days=ON_TRACK_LEAD_DAYS))
                progress = round(100 * share)
            rows.append(
                model(
                    contract=contract,
                    name=name,
                    planned_on=planned_on,
                    weight=weight,
                    reported_progress=progress,
                    reported_at=now if progress else None,
                )
            )
    model.objects.bulk_create(rows)


# --- The provider-path workflows, played through the services -------------------------------------------------
#
# Every workflow of the provider path can be walked in the browser with the demo accounts: admission (Art 2),
# registration changes (Art 12(1)), the catalogue and its prices (Art 12(3), 13(8)), contracts from the draft to
# evaluation acceptance (Art 6, 8, 9, 14), the digital-level assessments, diagnosis (Art 5), the dossier survey
# (Art 6(2)), matchmaking (Art 4) and training (Art 7). As in `seed_enforcement`, the history is placed in the
# days before seeding: every row is written by the service the portal uses, and afterwards the clock-stamped
# columns of that row (and the state log and notifications written with it, see `_dated`) are moved to the
# simulated moment. The services' rules ran on the real call; only the date a row shows is moved back.

WORKFLOW_LABELS = (
    "applications",
    "registration_changes",
    "products",
    "price_changes",
    "procurement_items",
    "progress_reports",
    "change_requests",
    "internal_acceptances",
    "assessor_assignments",
    "level_assessments",
    "diagnoses",
    "dossier_surveys",
    "events",
    "intentions",
    "training_sessions",
    "announcements",
    "excellent_batches",
)


@dataclass(frozen=True)
class DemoApplication:
    """An application to the resource pool and the applicant's account (which logs in with the demo password)."""

    username: str
    full_name: str
    stage: str  # submitted, flagged, notice_over, admitted, rejected
    name: str
    provider_type: str
    legal_representative: str
    capital: int  # 10,000 yuan
    scenario_codes: tuple


# Company names follow the city's short name (唐山凯航数字科技有限公司 for the default city).
DEMO_APPLICATIONS = (
    DemoApplication(
        username="demo_applicant",
        full_name="孙嘉怡",
        stage="submitted",
        name="凯航数字科技有限公司",
        provider_type="integrated",
        legal_representative="孙嘉怡",
        capital=1200,
        scenario_codes=("equipment-retrofit", "line-retrofit"),
    ),
    # Its legal representative is the revoked demo provider's (filled in from the plan): the screening flags it.
    DemoApplication(
        username="demo_applicant_flagged",
        full_name="周明轩",
        stage="flagged",
        name="曜石工业软件有限公司",
        provider_type="product",
        legal_representative="",
        capital=300,
        scenario_codes=("quality-management", "om-service"),
    ),
    DemoApplication(
        username="demo_applicant_notice",
        full_name="韩雨桐",
        stage="notice_over",
        name="知行物联科技有限公司",
        provider_type="product",
        legal_representative="韩志远",
        capital=500,
        scenario_codes=("energy-environment", "safety-control", "smart-warehousing"),
    ),
    DemoApplication(
        username="demo_applicant_admitted",
        full_name="郑思远",
        stage="admitted",
        name="青禾信息技术有限公司",
        provider_type="integrated",
        legal_representative="郑国华",
        capital=2000,
        scenario_codes=("digital-supply-chain", "chain-collaboration"),
    ),
    DemoApplication(
        username="demo_applicant_rejected",
        full_name="冯晓彤",
        stage="rejected",
        name="速联网络科技有限公司",
        provider_type="product",
        legal_representative="冯建军",
        capital=100,
        scenario_codes=("smart-management", "planning-scheduling"),
    ),
)
REJECTION_REASON = "申报材料所列参考案例无法核实，且未提供信息系统集成相关资质证明，不符合入库条件。"

# The demo provider's catalogue: (name, functions, unit, list price, scenario codes).
DEMO_PRODUCTS = (
    (
        "工艺路线数字化设计软件",
        "工艺路线与工艺卡片在线编制、版本管理与审签。",
        "套",
        Decimal("28000.00"),
        ("process-design",),
    ),
    (
        "工业数据采集网关",
        "PLC 与仪表数据采集，支持 Modbus、OPC UA 协议。",
        "台",
        Decimal("6800.00"),
        ("process-design",),
    ),
    (
        "经营决策驾驶舱（SaaS）",
        "产销存与财务指标的实时看板和预警。",
        "账号·年",
        Decimal("9600.00"),
        ("smart-management",),
    ),
    ("实施与培训服务", "现场实施、系统配置与操作培训。", "人·天", Decimal("1500.00"), ()),
)
# A cut of more than PRICE_CHANGE_THRESHOLD: the officers see it as a drastic change (Art 13(8)).
DRASTIC_PRICE = ("经营决策驾驶舱（SaaS）", Decimal("3600.00"), "参加试点期间的推广价格。")


@dataclass(frozen=True)
class DemoContract:
    """A contract of the demo provider with the demo enterprise, taken to `stage` through the services.

    Days are counted from the day of seeding (negative: in the past)."""

    suffix: str
    stage: str  # ready, sent, in_progress, internally_accepted, accepted, failed
    title: str
    amount: Decimal
    advance_percent: int
    start: int
    end: int
    scenario_codes: tuple
    level: int | None = None  # the acceptance assessment's digital level


WORKFLOW_CONTRACT_PREFIX = CONTRACT_NUMBER_PREFIX + "W"
DEMO_CONTRACTS = (
    DemoContract(
        "01", "ready", "工艺路线数字化设计项目（二期）", Decimal("380000.00"), 0, 30, 210, ("process-design",)
    ),
    DemoContract("02", "sent", "质量追溯与工艺参数管理项目", Decimal("265000.00"), 0, 15, 195, ("process-design",)),
    DemoContract(
        "03",
        "in_progress",
        "工艺设计数字化与经营决策驾驶舱建设项目",
        Decimal("1180000.00"),
        20,
        -40,
        140,
        ("process-design", "smart-management"),
    ),
    DemoContract(
        "04",
        "internally_accepted",
        "生产工艺数据采集与分析项目",
        Decimal("640000.00"),
        20,
        -200,
        -20,
        ("process-design",),
        level=2,
    ),
    DemoContract(
        "05",
        "accepted",
        "经营管理决策驾驶舱一期项目",
        Decimal("920000.00"),
        30,
        -300,
        -120,
        ("smart-management",),
        level=3,
    ),
    DemoContract(
        "06", "failed", "工艺知识库与仿真平台项目", Decimal("450000.00"), 30, -280, -100, ("process-design",), level=1
    ),
)
# Points as a share of each indicator's maximum, and the scenario levels, that give each digital level under
# the 2024 rule (even totals keep every indicator's points to one decimal place).
LEVEL_PROFILES = {
    1: (Decimal("30"), (1, 1, 1, 1)),
    2: (Decimal("48"), (2, 2, 1, 1, 1)),
    3: (Decimal("66"), (3, 3, 3, 2, 2, 2)),
    4: (Decimal("86"), (4, 4, 4, 4, 4, 3, 3)),
}
ASSESSED_SCENARIOS_FIRST = ("process_design", "decision_support", "quality_management", "production_control")
EVENT_TITLE = "中小企业数字化转型供需对接会"  # after the county's name
TRAINING_TITLE = "数字化工具应用与数据安全专题培训"
PARTICIPANTS = "企业：生产副总、信息化主管；服务商：项目经理、实施工程师"


def _pdf(reference):
    """A valid one-page PDF standing in for a signed document: the services store only checked uploads.
    `reference` (ASCII) is printed on the page and makes each file's content, and so its hash, distinct."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    text = f"Demo placeholder document {reference}".encode("ascii")
    stream = b"BT /F1 14 Tf 72 770 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    content = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(content))
        content += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(content)
    content += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    content += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    content += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return SimpleUploadedFile(f"{reference}.pdf", content, content_type="application/pdf")


def _workflow_counts():
    from enterprises.models import (
        ChangeRequest,
        CooperationIntention,
        DiagnosisReport,
        DossierSurvey,
        InternalAcceptance,
        MatchmakingEvent,
        ProcurementItem,
        ProgressReport,
        TrainingSession,
    )
    from evaluations.models import AssessorAssignment, ExcellentBatch, LevelAssessment
    from providers.models import Product, ProductPriceChange, ProviderApplication, RegistrationChange

    from .models import Announcement

    models = {
        "applications": ProviderApplication,
        "registration_changes": RegistrationChange,
        "products": Product,
        "price_changes": ProductPriceChange,
        "procurement_items": ProcurementItem,
        "progress_reports": ProgressReport,
        "change_requests": ChangeRequest,
        "internal_acceptances": InternalAcceptance,
        "assessor_assignments": AssessorAssignment,
        "level_assessments": LevelAssessment,
        "diagnoses": DiagnosisReport,
        "dossier_surveys": DossierSurvey,
        "events": MatchmakingEvent,
        "intentions": CooperationIntention,
        "training_sessions": TrainingSession,
        "announcements": Announcement,
        "excellent_batches": ExcellentBatch,
    }
    return {label: model.objects.count() for label, model in models.items()}


def _restamp(obj, **values):
    """Move clock-stamped columns of a row the service just wrote to the simulated moment (see above)."""
    type(obj).objects.filter(pk=obj.pk).update(**values)
    for name, value in values.items():
        setattr(obj, name, value)
    return obj


class _Timeline:
    """Moments counted in days from the day of seeding: `at(-3)` is three days ago at 9:00."""

    def __init__(self, today):
        self.today = today

    def day(self, offset):
        return self.today + timedelta(days=offset)

    def at(self, offset, hour=9):
        if offset > 0:
            raise ValueError("the demo history cannot happen in the future")
        return _moment(self.today, -offset, hour)

    @contextmanager
    def dated(self, offset, hour=9):
        """`_dated` at the moment, and the files stored meanwhile shown as uploaded then too."""
        from django.db.models import Max

        from .models import Attachment

        last = Attachment.objects.aggregate(n=Max("pk"))["n"] or 0
        with _dated(self.at(offset, hour)) as when:
            yield when
        Attachment.objects.filter(pk__gt=last).update(uploaded_at=when)


def seed_workflows(plan, *, users, password, report):
    """The demo rows of every provider-path workflow. Each part is written once: a part whose rows exist
    (recognised by natural keys) is left alone, so a second run creates nothing and portal edits stay."""
    from django.utils import timezone

    from enterprises.models import Milestone, PilotEnterprise
    from providers.models import Provider, ProviderApplication

    from .models import Organisation

    before = _workflow_counts()
    report.existing.update(before)
    # The applicants bring their organisations, the admitted one a new pool member, the contracts milestones.
    applied = ProviderApplication.objects.filter(uscc__in=_application_uscc_codes(plan))
    report.existing["organisations"] += applied.values("organisation").distinct().count()
    report.existing["providers"] += applied.exclude(provider=None).count()
    outside = {
        "organisations": Organisation.objects.count(),
        "providers": Provider.objects.count(),
        "milestones": Milestone.objects.count(),
    }
    timeline = _Timeline(timezone.localdate())
    provider = Provider.objects.get(uscc=plan.providers[0].uscc)
    enterprise = PilotEnterprise.objects.get(uscc=plan.enterprises[0].uscc)

    report.applicants = _seed_applications(plan, users=users, password=password, timeline=timeline)
    _seed_registration_changes(provider, users=users, timeline=timeline)
    products = _seed_products(provider, users=users, timeline=timeline)
    _seed_assessor_and_baseline(enterprise, users=users, timeline=timeline)
    _seed_contracts(provider, enterprise, products, users=users, timeline=timeline, report=report)
    _seed_outreach(provider, enterprise, plan, users=users, timeline=timeline)
    _seed_public(plan, users=users, timeline=timeline)

    after = _workflow_counts()
    report.created.update({label: after[label] - before[label] for label in WORKFLOW_LABELS})
    report.created["organisations"] += Organisation.objects.count() - outside["organisations"]
    report.created["providers"] += Provider.objects.count() - outside["providers"]
    report.created["milestones"] += Milestone.objects.count() - outside["milestones"]


def _application_uscc_codes(plan):
    """One code per demo application: seeded apart from the plan's series, never one of the plan's codes."""
    from django.conf import settings

    rng = random.Random(f"{SEED}-applications")  # noqa: S311 (reproducible, not secret)
    taken = {p.uscc for p in plan.providers} | {e.uscc for e in plan.enterprises}
    division = city_division_code(settings.PORTAL_COUNTIES)
    return [_unique(lambda: random_uscc(rng, division), taken) for _ in DEMO_APPLICATIONS]


def _seed_applications(plan, *, users, password, timeline):
    """Five applicants: awaiting review, flagged by the screening, in a public notice that is over (the
    officer admits it), admitted (a new pool member) and rejected with the reason. Returns the applicant
    accounts as (username, application status)."""
    from django.conf import settings
    from django.utils.translation import gettext

    from providers import services
    from providers.models import ProviderApplication

    from .models import County, Notification, Scenario, User
    from .workdays import add_working_days

    officer = users["demo_officer"]
    revoked = next(p for p in plan.providers if p.status == "revoked")
    county = County.objects.get(code=settings.PORTAL_COUNTIES[0][0])
    codes = _application_uscc_codes(plan)
    # Oldest first: (submitted, notice started, decided) in days from today.
    days = {
        "admitted": (-60, -50, -40),
        "rejected": (-30, None, -25),
        "notice_over": (-24, -18, None),
        "submitted": (-3, None, None),
        "flagged": (-2, None, None),
    }
    applicants = []
    for entry, uscc in sorted(zip(DEMO_APPLICATIONS, codes, strict=True), key=lambda pair: days[pair[0].stage][0]):
        existing = ProviderApplication.objects.filter(uscc=uscc).order_by("pk").first()
        if existing is not None or User.objects.filter(username=entry.username).exists():
            applicants.append((entry.username, _application_state(existing) if existing else ""))
            continue
        submitted, noticed, decided = days[entry.stage]
        legal_representative = revoked.legal_representative if entry.stage == "flagged" else entry.legal_representative
        number = DEMO_APPLICATIONS.index(entry) + 1
        data = {
            "name": short_place_name(settings.PORTAL_CITY_NAME) + entry.name,
            "uscc": uscc,
            "legal_representative": legal_representative,
            "address": f"{settings.PORTAL_CITY_NAME}{county.name}{ROADS[number * 3]}{number * 17}号",
            "business_scope": "；".join(PROVIDER_SCOPE[entry.provider_type][:4]) + "。" + SCOPE_TAIL,
            "registered_capital": Decimal(entry.capital).quantize(Decimal("0.01")),
            "provider_type": entry.provider_type,
            "county": county,
            "qualifications": "高新技术企业证书\nISO 9001 质量管理体系认证\n信息技术服务管理体系认证",
            "products": "面向中小制造企业的轻量化数字化产品与实施服务。",
            "reference_cases": "为本市三家中小制造企业完成生产数据采集与可视化项目。",
            "contact_name": entry.full_name,
            "contact_phone": f"1391501{number:04d}",
            "contact_email": f"{entry.username}@example.com",
        }
        account = {
            "username": entry.username,
            "full_name": entry.full_name,
            "phone": data["contact_phone"],
            "email": data["contact_email"],
        }
        with timeline.dated(submitted):
            application = services.application_submit(
                account=account,
                data=data,
                scenarios=list(Scenario.objects.filter(code__in=entry.scenario_codes)),
                attachments=[_pdf(f"licence-{uscc}")],
                password=password,
            )
            _restamp(application, submitted_at=timeline.at(submitted))
        if noticed is not None:
            with timeline.dated(noticed, hour=10):
                application = services.application_start_notice(
                    application=application, by=officer, opinion="材料齐全，资质与案例经核实，同意进入公示。"
                )
            # The service opens the notice today and runs it ADMISSION_NOTICE_WORKING_DAYS working days; a
            # notice that is already over cannot come from it without travelling in time. The notice is
            # therefore moved to the day the review happened in the demo history; admission, by the service
            # below or by the demo officer, still checks that the period is over.
            starts = timeline.day(noticed)
            ends = add_working_days(starts, settings.ADMISSION_NOTICE_WORKING_DAYS)
            _restamp(application, notice_starts_on=starts, notice_ends_on=ends)
            # The applicant's notice named the end date of the service's period: the same message, moved too.
            Notification.objects.filter(dedup_key=f"application:{application.pk}:notice_started").update(
                subject=gettext("Your application is in public notice until %(date)s") % {"date": ends}
            )
        if entry.stage == "admitted":
            with timeline.dated(decided):
                application = services.application_admit(application=application, by=officer)
                _restamp(application, decided_at=timeline.at(decided))
        elif entry.stage == "rejected":
            with timeline.dated(decided):
                application = services.application_reject(application=application, by=officer, reason=REJECTION_REASON)
                _restamp(application, decided_at=timeline.at(decided))
        applicants.append((entry.username, _application_state(application)))
    order = {entry.username: index for index, entry in enumerate(DEMO_APPLICATIONS)}
    return sorted(applicants, key=lambda row: order[row[0]])


def _application_state(application):
    return f"{application.status} (flagged)" if application.flagged else application.status


def _seed_registration_changes(provider, *, users, timeline):
    """Acknowledged, awaiting acknowledgement, and one the registry shows but the provider never reported
    (older than REGISTRATION_CHANGE_REPORT_DAYS, so it is flagged as a possible Art 12(1) ground)."""
    from django.conf import settings

    from providers import services
    from providers.models import RegisteredField, RegistrationChange

    if RegistrationChange.objects.filter(provider=provider).exists():
        return
    staff, officer = users["demo_provider"], users["demo_officer"]
    capital = (provider.registered_capital * 2).quantize(Decimal("0.01"))
    with timeline.dated(-65):
        acknowledged = services.registration_change_report(
            provider=provider,
            by=staff,
            field=RegisteredField.REGISTERED_CAPITAL,
            new_value=str(capital),
            changed_on=timeline.day(-70),
            explanation="股东增资，注册资本翻倍。",
            evidence=[_pdf(f"capital-{provider.uscc}")],
        )
        _restamp(acknowledged, recorded_at=timeline.at(-65))
    with timeline.dated(-60):
        services.registration_change_acknowledge(change=acknowledged, by=officer)
        _restamp(acknowledged, acknowledged_at=timeline.at(-60))
    unreported_on = -(settings.REGISTRATION_CHANGE_REPORT_DAYS + 25)
    with timeline.dated(-20):
        recorded = services.registration_change_record(
            provider=provider,
            by=officer,
            field=RegisteredField.BUSINESS_SCOPE,
            new_value=provider.business_scope.replace(SCOPE_TAIL, "；数据处理服务。" + SCOPE_TAIL),
            changed_on=timeline.day(unreported_on),
            explanation="国家企业信用信息公示系统比对发现。",
        )
        _restamp(recorded, recorded_at=timeline.at(-20))
    with timeline.dated(-4):
        reported = services.registration_change_report(
            provider=provider,
            by=staff,
            field=RegisteredField.ADDRESS,
            new_value=provider.address.rsplit("号", 1)[0] + "号科技大厦12层",
            changed_on=timeline.day(-6),
            explanation="公司办公场所迁址，已完成工商变更登记。",
            evidence=[_pdf(f"address-{provider.uscc}")],
        )
        _restamp(reported, recorded_at=timeline.at(-4))


def _seed_products(provider, *, users, timeline):
    """The demo provider's catalogue with list prices, one of them cut drastically. Returns {name: product}."""
    from providers import services
    from providers.models import Product

    from .models import Scenario

    staff = users["demo_provider"]
    products = {product.name: product for product in Product.objects.filter(provider=provider)}
    created = set()
    for name, functions, unit, price, codes in DEMO_PRODUCTS:
        if name in products:
            continue
        products[name] = services.product_create(
            provider=provider,
            by=staff,
            name=name,
            functions=functions,
            unit=unit,
            list_price=price,
            scenarios=list(Scenario.objects.filter(code__in=codes)),
        )
        created.add(name)
    name, new_price, reason = DRASTIC_PRICE
    if name in created:
        product = products[name]
        with timeline.dated(-12):
            product = services.product_update(
                product=product,
                by=staff,
                name=product.name,
                functions=product.functions,
                unit=product.unit,
                list_price=new_price,
                scenarios=list(product.scenarios.all()),
                reason=reason,
            )
            product.price_changes.update(changed_at=timeline.at(-12))
        products[name] = product
    return products


def _level_inputs(standard, level):
    """Indicator points and scenario levels that give `level` under the standard's rule."""
    from evaluations.services_levels import level_compute

    score, scenario_levels = LEVEL_PROFILES[level]
    items = list(standard.items.order_by("sort_order"))
    scenarios = list(standard.scenarios.order_by("sort_order"))
    points = {item.pk: (item.max_points * score / 100).quantize(Decimal("0.1")) for item in items}
    levels = {scenario.pk: 0 for scenario in scenarios}
    # The scenarios the demo provider's work touches rise first; the others follow in the standard's order.
    first = {code: index for index, code in enumerate(ASSESSED_SCENARIOS_FIRST)}
    ordered = sorted(scenarios, key=lambda s: (first.get(s.code, len(first)), s.sort_order))
    for scenario, value in zip(ordered, scenario_levels, strict=False):
        levels[scenario.pk] = value
    reached = level_compute(rule=standard.rule, total_score=sum(points.values()), scenario_levels=levels.values())
    if reached != level:
        raise RuntimeError(f"LEVEL_PROFILES[{level}] gives level {reached} under standard {standard.code}")
    return points, levels


def _assess(*, enterprise, assessor, kind, offset, level, timeline, contract=None, conclusion=""):
    from evaluations import services_levels
    from evaluations.models import LevelStandard

    standard = LevelStandard.objects.get(is_current=True)
    points, levels = _level_inputs(standard, level)
    with timeline.dated(offset, hour=14):
        assessment = services_levels.assessment_create(
            enterprise=enterprise, by=assessor, kind=kind, assessed_on=timeline.day(offset), contract=contract
        )
        services_levels.assessment_record(
            assessment=assessment, by=assessor, item_points=points, scenario_levels=levels, conclusion=conclusion
        )
        assessment = services_levels.assessment_finalise(assessment=assessment, by=assessor)
        return _restamp(assessment, finalised_at=timeline.at(offset, hour=14))


def _seed_assessor_and_baseline(enterprise, *, users, timeline):
    """The demo assessor's institution is assigned to the demo enterprise and made its baseline assessment, at
    the level the plan gives the enterprise."""
    from evaluations import services_levels
    from evaluations.models import AssessorAssignment, LevelAssessment

    assessor = users["demo_assessor"]
    if not AssessorAssignment.objects.filter(institution=assessor.organisation, enterprise=enterprise).exists():
        with timeline.dated(-345):
            assignment = services_levels.assessor_assign(
                institution=assessor.organisation, enterprise=enterprise, by=users["demo_officer"]
            )
            _restamp(assignment, assigned_at=timeline.at(-345))
    if LevelAssessment.objects.filter(enterprise=enterprise, kind=LevelAssessment.Kind.BASELINE).exists():
        return
    _assess(
        enterprise=enterprise,
        assessor=assessor,
        kind=LevelAssessment.Kind.BASELINE,
        offset=-340,  # before the first demo contract (drafted 320 days ago)
        level=enterprise.baseline_level or 1,
        timeline=timeline,
        conclusion="试点前基线评测：已部署财务与进销存系统，生产环节数据采集以人工记录为主。",
    )


def _contract_data(entry, number, timeline):
    from django.conf import settings

    start_on, end_on = timeline.day(entry.start), timeline.day(entry.end)
    return {
        "number": number,
        "title": entry.title,
        "amount": entry.amount,
        "subsidy": min(_share(entry.amount, 40), Decimal("500000.00")),
        "advance_payment": _share(entry.amount, entry.advance_percent),
        "start_on": start_on,
        "end_on": end_on,
        "plan_goals": f"围绕“{entry.title}”，实现关键工序数据在线采集与工艺知识沉淀，"
        f"项目结束时企业数字化水平达到{settings.ACCEPTANCE_MIN_LEVEL}级及以上。",
        "plan_content": "现状调研与需求梳理；软件部署与配置；设备联网与数据接入；业务流程固化；操作培训。",
        "plan_process": "调研（第1个月）→ 部署与集成（第2—4个月）→ 试运行与优化（第5—6个月）→ 内部验收。",
        "plan_deliverables": "实施方案、系统部署文档、数据接口清单、培训记录、试运行报告、验收报告。",
        "quality_control": "每两周向企业提交进度报告；每个里程碑结束时由企业确认；项目经理驻场。",
        "maintenance_commitment": "试点结束后提供一年免费运维，7×12 小时远程响应，重大故障 24 小时内到场。",
    }


def _procurement_rows(entry, products):
    """(product or None, name, quantity, unit, unit price, reference market price) per line. The contract in
    progress carries one non-catalogue line well above the usual market price (Art 12(3))."""
    design, gateway, cockpit, service = (products[row[0]] for row in DEMO_PRODUCTS)
    rows = [
        (design, design.name, Decimal("1"), design.unit, design.list_price, design.list_price * Decimal("1.05")),
        (service, service.name, Decimal("40"), service.unit, service.list_price, Decimal("1600.00")),
    ]
    if "process-design" in entry.scenario_codes:
        rows.append((gateway, gateway.name, Decimal("8"), gateway.unit, gateway.list_price, Decimal("7200.00")))
    if "smart-management" in entry.scenario_codes:
        rows.append((cockpit, cockpit.name, Decimal("10"), cockpit.unit, cockpit.list_price, Decimal("4000.00")))
    if entry.stage == "in_progress":
        rows.append(
            (None, "工业以太网交换机（24 口，非目录产品）", Decimal("4"), "台", Decimal("9800.00"), Decimal("6500.00"))
        )
    return rows


def _seed_contracts(provider, enterprise, products, *, users, timeline, report):
    """One contract of the demo provider with the demo enterprise in each state of its lifecycle."""
    from enterprises.models import ServiceContract

    from .models import Scenario

    numbers = [WORKFLOW_CONTRACT_PREFIX + entry.suffix for entry in DEMO_CONTRACTS]
    present = set(ServiceContract.objects.filter(number__in=numbers).values_list("number", flat=True))
    report.created["contracts"] += len(numbers) - len(present)
    report.existing["contracts"] += len(present)
    for entry, number in zip(DEMO_CONTRACTS, numbers, strict=True):
        if number in present:
            continue
        scenarios = list(Scenario.objects.filter(code__in=entry.scenario_codes))
        _play_contract(entry, number, provider, enterprise, products, scenarios, users=users, timeline=timeline)


def _play_contract(entry, number, provider, enterprise, products, scenarios, *, users, timeline):
    from enterprises import services
    from evaluations import services_levels
    from evaluations.models import LevelAssessment

    staff, client = users["demo_provider"], users["demo_enterprise"]
    if entry.start <= 0:
        drafted, nda, sent, signed = entry.start - 20, entry.start - 18, entry.start - 10, entry.start - 6
    else:  # not started yet: drafted in the last week
        drafted, nda, sent, signed = -7, -6, -1, None

    with timeline.dated(drafted):
        contract = services.contract_draft_save(
            by=staff,
            provider=provider,
            enterprise=enterprise,
            data=_contract_data(entry, number, timeline),
            scenarios=scenarios,
        )
        span = (contract.end_on - contract.start_on).days
        milestones = [
            services.milestone_save(
                contract=contract,
                by=staff,
                name=name,
                planned_on=contract.start_on + timedelta(days=span * k // len(MILESTONES)),
                weight=weight,
            )
            for k, (name, weight) in enumerate(MILESTONES, start=1)
        ]
        for product, name, quantity, unit, price, reference in _procurement_rows(entry, products):
            services.procurement_item_save(
                contract=contract,
                by=staff,
                data={
                    "product": product,
                    "name": name,
                    "function": product.functions if product else "车间设备联网的汇聚交换。",
                    "purpose": f"用于“{entry.title}”的实施。",
                    "quantity": quantity,
                    "unit": unit,
                    "unit_price": price,
                    "reference_price": reference.quantize(Decimal("0.01")),
                },
            )
    with timeline.dated(nda):
        contract = services.contract_nda_store(
            contract=contract, by=staff, signed_on=timeline.day(nda), uploaded=_pdf(f"nda-{number}")
        )
    if entry.stage == "ready":
        return contract
    with timeline.dated(sent):
        contract = services.contract_submit(contract=contract, by=staff)
        _restamp(contract, submitted_at=timeline.at(sent))
    if entry.stage == "sent":
        return contract
    with timeline.dated(signed, hour=15):
        contract = services.contract_sign(contract=contract, by=client)
        _restamp(contract, signed_on=timeline.day(signed))
    with timeline.dated(entry.start):
        contract = services.contract_start(contract=contract, by=staff)

    def report(milestone, progress, submitted, acknowledged, summary):
        with timeline.dated(submitted, hour=16):
            row = services.progress_report_submit(
                contract=contract,
                by=staff,
                milestone=milestone,
                progress=progress,
                summary=summary,
                next_steps="按实施方案推进下一阶段工作。",
            )
            _restamp(row, submitted_at=timeline.at(submitted, hour=16))
        if acknowledged is not None:
            with timeline.dated(acknowledged, hour=11):
                row = services.progress_report_acknowledge(report=row, by=client, comment="情况属实，予以确认。")
                _restamp(row, responded_at=timeline.at(acknowledged, hour=11))
                _restamp(milestone, reported_at=timeline.at(acknowledged, hour=11))
        return row

    if entry.stage == "in_progress":
        # Acknowledged progress keeps the contract on schedule for about seven weeks after seeding, so the
        # rule engine does not take the demo provider's main project for a schedule lag (Art 13(3)).
        first, second, _third = milestones
        report(first, 100, -9, -8, "完成现状调研与实施方案评审，企业已确认方案。")
        report(second, 40, -5, -4, "软件已部署，完成 12 台关键设备联网。")
        report(second, 60, -1, None, "完成热处理与精整工段的数据接入，正在联调驾驶舱指标。")
        with timeline.dated(-3, hour=14):
            change = services.change_request_propose(
                contract=contract,
                by=staff,
                description="增加成品质量追溯模块，合同金额相应增加，工期顺延 30 天。",
                reason="企业在试运行前提出质量追溯需求，需新增一项功能模块。",
                new_end_on=contract.end_on + timedelta(days=30),
                new_amount=contract.amount + Decimal("60000.00"),
            )
            _restamp(change, proposed_at=timeline.at(-3, hour=14))
        return contract

    for milestone in milestones:
        due = (milestone.planned_on - timeline.today).days
        report(milestone, 100, due, due + 2, f"“{milestone.name}”阶段工作全部完成。")
    held, answered = entry.end + 5, entry.end + 8
    with timeline.dated(held):
        acceptance = services.internal_acceptance_submit(
            contract=contract,
            by=staff,
            held_on=timeline.day(held),
            participants=PARTICIPANTS,
            conclusion="项目按实施方案完成建设，系统运行稳定，同意通过内部验收。",
            documents=[_pdf(f"internal-acceptance-{number}")],
        )
        _restamp(acceptance, provider_signed_at=timeline.at(held))
    with timeline.dated(answered, hour=15):
        acceptance = services.internal_acceptance_sign(acceptance=acceptance, by=client)
        _restamp(acceptance, enterprise_signed_at=timeline.at(answered, hour=15))
    contract = type(contract).objects.get(pk=contract.pk)  # internally accepted by the signature above
    assessed = entry.end + 15
    assessment = _assess(
        enterprise=enterprise,
        assessor=users["demo_assessor"],
        kind=LevelAssessment.Kind.ACCEPTANCE,
        offset=assessed,
        level=entry.level,
        timeline=timeline,
        contract=contract,
        conclusion=f"验收评测：企业数字化水平为{entry.level}级。",
    )
    if entry.stage == "internally_accepted":
        return contract  # the demo assessor decides the acceptance in the browser
    with timeline.dated(assessed + 2, hour=10):
        services_levels.acceptance_decide(
            assessment=assessment,
            by=users["demo_assessor"],
            passed=entry.stage == "accepted",
            reason=(
                "数字化水平达到验收要求，项目成效符合实施方案，验收通过。"
                if entry.stage == "accepted"
                else "数字化水平未达到验收要求，工艺仿真功能未交付，验收不通过。"
            ),
        )
    return contract


# --- Diagnosis, dossier survey, matchmaking and training ------------------------------------------------------


def _seed_outreach(provider, enterprise, plan, *, users, timeline):
    """A submitted diagnosis with findings in two scenario families (Art 5), a dossier survey (Art 6(2)), a past
    matchmaking event in the demo enterprise's county that both attended, with a cooperation intention awaiting
    the enterprise (Art 4), and a training session with its attendance (Art 7)."""
    from enterprises import services_outreach as services
    from enterprises.models import (
        DiagnosisFinding,
        DiagnosisReport,
        DossierSurvey,
        MatchmakingEvent,
        PilotEnterprise,
        ServiceContract,
        TrainingSession,
        TrainingTopic,
    )
    from providers.models import Provider

    from .models import Scenario

    staff, county_staff = users["demo_provider"], users["demo_county"]
    scenarios = {scenario.code: scenario for scenario in Scenario.objects.all()}

    # After the first demo contract was drafted (320 days ago): a provider diagnoses an enterprise it has a
    # contract or a confirmed intention with.
    if not DiagnosisReport.objects.filter(provider=provider, enterprise=enterprise).exists():
        with timeline.dated(-315):
            diagnosis = services.diagnosis_save(
                by=staff,
                enterprise=enterprise,
                diagnosed_on=timeline.day(-315),
                summary="企业信息化基础较好，工艺设计与经营决策环节数字化程度低，"
                "建议优先推进工艺设计数字化和经营数据可视化。",
                free_of_charge=True,
            )
            for code, state, advice, priority in (
                ("process-design", "工艺卡片以纸质和 Excel 编制，版本混乱。", "部署工艺路线设计软件，统一工艺数据。",
                 DiagnosisFinding.Priority.HIGH),
                ("quality-management", "质检数据人工记录，无法追溯到批次。", "建设质量追溯模块，关联工艺参数。",
                 DiagnosisFinding.Priority.MEDIUM),
                ("smart-management", "经营数据月末手工汇总，决策滞后。", "建设经营决策驾驶舱，按日更新关键指标。",
                 DiagnosisFinding.Priority.MEDIUM),
            ):  # fmt: skip
                services.diagnosis_finding_save(
                    by=staff,
                    report=diagnosis,
                    scenario=scenarios[code],
                    current_state=state,
                    recommendation=advice,
                    priority=priority,
                )
        with timeline.dated(-313):
            diagnosis = services.diagnosis_submit(by=staff, report=diagnosis)
            _restamp(diagnosis, submitted_at=timeline.at(-313))

    contract = ServiceContract.objects.get(number=WORKFLOW_CONTRACT_PREFIX + "03")
    if not DossierSurvey.objects.filter(contract=contract).exists():
        with timeline.dated(-30):
            survey = services.dossier_survey_save(
                by=staff,
                contract=contract,
                data={
                    "surveyed_on": timeline.day(-30),
                    "production_process": "下料 → 成形 → 热处理 → 精整 → 检验 → 包装；热处理为关键工序。",
                    "supply_chain": "主要原料来自三家供应商；产品销往京津冀地区。",
                    "intellectual_property": "实用新型专利 4 项，工艺诀窍 2 项（未公开）。",
                    "other_core_information": "年产能约 12 万吨；关键工艺参数属企业商业秘密。",
                },
            )
            _restamp(survey, created_at=timeline.at(-30))

    event_title = enterprise.county.name + EVENT_TITLE
    if not MatchmakingEvent.objects.filter(title=event_title, county=enterprise.county).exists():
        other = Provider.objects.get(uscc=next(p.uscc for p in plan.providers[1:] if p.status == "in_pool"))
        with timeline.dated(-35):
            event = services.event_create(
                by=county_staff,
                county=enterprise.county,
                title=event_title,
                held_on=timeline.day(-21),
                venue=f"{enterprise.county.name}工业和信息化局三楼会议室",
                description="服务商介绍解决方案，试点企业提出需求，现场洽谈。",
            )
            _restamp(event, created_at=timeline.at(-35))
            attendances = [
                services.attendance_register(by=county_staff, event=event, **party)
                for party in ({"provider": provider}, {"provider": other}, {"enterprise": enterprise})
            ]
            for attendance in attendances:
                _restamp(attendance, registered_at=timeline.at(-35))
        with timeline.dated(-21, hour=17):
            for attendance in attendances:
                services.attendance_mark(by=county_staff, attendance=attendance, attended=True)
        with timeline.dated(-20):
            intention = services.intention_propose(
                by=staff,
                event=event,
                enterprise=enterprise,
                scenarios=[scenarios["quality-management"], scenarios["smart-management"]],
                note="就成品质量追溯与经营看板达成初步合作意向，拟于下季度签订服务合同。",
            )
            _restamp(intention, proposed_at=timeline.at(-20))

    if not TrainingSession.objects.filter(provider=provider, title=TRAINING_TITLE).exists():
        other = PilotEnterprise.objects.get(uscc=plan.enterprises[len(plan.enterprises) // 2].uscc)
        with timeline.dated(-14, hour=17):
            session = services.training_save(
                by=staff,
                data={
                    "title": TRAINING_TITLE,
                    "held_on": timeline.day(-14),
                    "hours": Decimal("3.5"),
                    "county": enterprise.county,
                    "venue": f"{enterprise.name}培训室",
                    "description": "工艺设计软件与驾驶舱的日常操作；生产数据分级与账号安全管理。",
                },
                topics=[TrainingTopic.DIGITAL_TOOLS, TrainingTopic.DATA_SECURITY],
            )
            _restamp(session, created_at=timeline.at(-14, hour=17))
            services.training_attendance_save(
                by=staff, session=session, enterprise=enterprise, attendees=6, names="王海燕、刘洋、陈静、赵鹏"
            )
            services.training_attendance_save(by=staff, session=session, enterprise=other, attendees=3)


DEMO_ANNOUNCEMENT_TITLE = "关于开展中小企业数字化转型服务商服务质量监督检查的通知"


def _seed_public(plan, *, users, timeline):
    """What the public portal shows besides the blacklist: a published notice, a draft the officer can publish,
    and a published excellent-provider batch (Art 15) of three pool members, with its announcement."""
    from django.conf import settings

    from evaluations.models import ExcellentBatch, ExcellentEntry
    from opendata import services
    from providers.models import Provider

    from .models import Announcement

    officer, approver = users["demo_officer"], users["demo_approver"]
    if not Announcement.objects.filter(title=DEMO_ANNOUNCEMENT_TITLE).exists():
        notice = Announcement.objects.create(
            title=DEMO_ANNOUNCEMENT_TITLE,
            category=Announcement.Category.NOTICE,
            body=(
                f"依据《{settings.PORTAL_REGULATION_TITLE}》第十一条，{settings.PORTAL_AUTHORITY_NAME}将通过问卷调查、"
                "电话访谈、实地走访、项目抽查等方式，对资源池内服务商的服务情况进行跟踪评价。"
                "请各试点企业如实填写满意度评价问卷。"
            ),
            created_by=officer,
        )
        services.announcement_publish(announcement=notice, by=officer, now=timeline.at(-20))
        Announcement.objects.create(
            title="关于征集第二批优秀服务商推荐材料的通知（草稿）",
            category=Announcement.Category.EXCELLENT,
            body="草稿：待经办人员发布。",
            created_by=officer,
        )
    name = "2026年度第一批优秀数字化服务商"
    if not ExcellentBatch.objects.filter(name=name).exists():
        today = timeline.today
        batch = ExcellentBatch.objects.create(
            name=name, period_start=today.replace(month=1, day=1), period_end=today.replace(month=6, day=30)
        )
        pool = list(Provider.objects.in_pool().order_by("name")[:3])
        for rank, provider in enumerate(pool, start=1):
            ExcellentEntry.objects.create(
                batch=batch,
                provider=provider,
                rank=rank,
                score=95 - 3 * rank,
                citation="服务响应及时，试点企业满意度高，项目按期通过评测验收。",
            )
        services.excellent_batch_publish(batch=batch, by=approver, now=timeline.at(-10))
