"""Bulk test data at national scale for `manage.py seed_scale`: providers, pilot enterprises, contracts,
satisfaction surveys, rectification cases and the blacklist, in the numbers of a large pilot city or of the
whole programme (defaults: 10k providers, 200k enterprises, 500k contracts, 2M survey answers, 100k cases,
5k blacklist entries).

Unlike `seed_demo`, nothing goes through the services: a history of this size played transition by transition
would take hours. The rows are planned in memory from one seeded RNG (same seed, same day → same rows), with
ids assigned here so that references need no round trip, and written table by table: with COPY on PostgreSQL,
with batched INSERTs elsewhere. Both paths write the same tuples, including the dates that the models stamp by
themselves (`auto_now_add`): a case opened "today" but ordered a month ago would not look real, and bulk_create
would overwrite them. The rules the services keep are kept by construction instead:

- every USCC is a valid, unique GB 32100 code (tangshan_portal.demo's helpers);
- a provider's standing follows its open cases (evaluations.services.standing_for); a blacklisted provider is
  revoked and has an approved revocation with a decision number and a published entry; an entry under appeal
  has a pending Art 16(3) appeal; a removed entry has an upheld appeal, a reversed revocation and a provider
  back in the pool; a revoked provider's active contracts are terminated (Art 14);
- an ordered case has its document number (one series per year with the revocation decisions, like
  tangshan_portal.services.document_number_allocate, whose counter is moved past the numbers used) and a
  deadline at most RECTIFICATION_DAYS_MAX days after the order; about 90 % of the running cases are past it, so
  the deadline sweep has work;
- encrypted columns hold ciphertext made by the field itself, never plaintext;
- every date lies before today (local time), so nothing happened in the future.

The public data version is bumped and one PublicChange row is written per public record, so cached public pages
and the change feed show the new data; one audit event records what was loaded.
"""

import hashlib
import importlib
import random
import sys
from bisect import bisect_left
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import accumulate
from time import perf_counter

from django.db import models
from stdnum.cn import uscc as stdnum_uscc

from . import demo

DEFAULTS = {
    "providers": 10_000,
    "enterprises": 200_000,
    "contracts": 500_000,
    "answers": 2_000_000,
    "cases": 100_000,
    "blacklist": 5_000,
}
# Rows per COPY write or INSERT batch.
CHUNK = 5000

# Standings of the providers that are not blacklisted; the pool's share is split by the cases later.
OTHER_STANDINGS = (("applied", 3), ("rejected", 2), ("withdrawn", 2), ("in_pool", 93))
# Share of the pool's providers that have open rectification cases (the rest has at most closed ones).
TROUBLED_SHARE = 0.25
BLACKLIST_STATUSES = (("published", 85), ("under_appeal", 10), ("removed", 5))
CONTRACT_STATUSES = (
    ("draft", 5),
    ("signed", 10),
    ("in_progress", 35),
    ("internally_accepted", 10),
    ("accepted", 36),
    ("failed", 4),
)
RATED_CONTRACT_STATUSES = ("in_progress", "internally_accepted", "accepted", "failed", "terminated")
CASE_STATUSES = (
    ("rectifying", 45),
    ("returned", 10),
    ("responded", 8),
    ("warned", 5),
    ("draft", 1),
    ("verified", 22),
    ("overdue", 4),
    ("withdrawn", 5),
)
OPEN_CASE_STATUSES = ("draft", "warned", "rectifying", "responded", "returned", "overdue")
RUNNING_CASE_STATUSES = ("rectifying", "returned")
# Share of the running cases whose deadline has passed (the sweep marks them overdue).
PAST_DEADLINE_SHARE = 0.9
# Share of the troubled providers' contracts in progress that lag far behind their milestones (engine ground 3).
LAGGING_SHARE = 0.1
RATING_STAGES = ("中期评价", "验收评价", "季度回访", "年度回访")
STAFF = (("scale_officer_1", "officer", "王建华"), ("scale_officer_2", "officer", "李红梅"))
STAFF += (("scale_approver_1", "approver", "张振国"), ("scale_approver_2", "approver", "赵立新"))

# Two-character brands from these give some 3,000 names per trade, so that a search by a brand finds a few
# companies, not all of them (the word lists of seed_demo are made for 150 companies).
BRAND_CHARS = (
    "华鑫瑞泰恒盛达宏兴源聚德润鼎信诚嘉禾丰茂昌隆顺通远航博智睿思创联汇海天宇星辰金中冀燕凯越腾翔安康永利和众正东方北"
)
PROVIDER_WORDS = {
    "integrated": ("信息技术", "数字科技", "智能科技", "系统集成", "软件技术", "工业互联网", "网络技术", "数据科技"),
    "product": ("云科技", "物联科技", "工业软件", "数据技术", "智能装备科技", "网络科技", "软件", "信息科技"),
    "chain_leader": ("钢铁集团", "重工集团", "装备制造", "陶瓷集团", "化工集团", "汽车零部件", "机械集团"),
}
PROVIDER_TYPES = (("integrated", 45), ("product", 40), ("chain_leader", 15))
CONTRACT_TITLES = (
    "数字化转型改造项目",
    "生产管理系统（MES）实施项目",
    "企业资源计划（ERP）上云项目",
    "设备联网与数据采集项目",
    "智能仓储改造项目",
    "质量追溯系统建设项目",
    "能耗在线监测项目",
    "供应链协同平台项目",
    "经营决策驾驶舱项目",
    "工业互联网标识解析应用项目",
)
REGISTRATION_ITEMS = ("名称", "住所", "法定代表人", "经营范围", "注册资本")
SERVICE_ISSUES = ("驻场人员频繁更换", "响应不及时", "实施团队专业能力不足", "未按合同约定进场", "需求调研流于形式")
PRICED_ITEMS = ("工业网关", "MES软件许可", "数据采集终端", "云服务器租用", "ERP模块授权", "视觉检测设备")
THIRD_PARTY_WORK = ("评测", "验收", "监理")
REVOCATION_FINDINGS = {
    1: "限期整改后仍未整改到位，整改期限届满拒不整改。",
    2: "试点企业满意度评价“不满意”累计达到 2 次。",
    3: "服务合同实施进度严重滞后于序时进度。",
    4: "未经试点企业同意向第三方提供其生产工艺数据。",
    5: "与试点企业签订虚假服务合同，套取项目资金。",
    6: "以低于成本价格恶意竞争，并散布其他服务商不实信息。",
    7: "宣传材料所列产品功能与实际交付不符。",
    8: "入库产品价格短期内大幅上调后又大幅下调，扰乱市场秩序。",
    9: "存在严重违法违规行为，经有关部门查实。",
}


@dataclass
class Sizes:
    providers: int
    enterprises: int
    contracts: int
    answers: int
    cases: int
    blacklist: int

    @classmethod
    def from_options(cls, *, scale=1.0, **given):
        """Every default multiplied by `scale`; an explicitly given size wins."""
        values = {
            name: given[name] if given.get(name) is not None else max(0, round(default * scale))
            for name, default in DEFAULTS.items()
        }
        return cls(**values)

    def problems(self):
        found = []
        for name, value in vars(self).items():
            if value < 0:
                found.append(f"--{name} cannot be negative")
        if self.blacklist > self.providers // 2:
            found.append("--blacklist can be at most half of --providers")
        if self.contracts and (self.providers < 2 or self.enterprises < 1):
            found.append("contracts need at least 2 providers and 1 enterprise")
        if (self.cases or self.answers) and not self.contracts:
            found.append("rectification cases and survey answers need contracts")
        return found


@dataclass
class Result:
    counts: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)


# --- Writing rows ---------------------------------------------------------------------------------------------


def _escaped(value):
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


# COPY's text format, by Python type (psycopg's write_row does the same, several times slower).
_COPY_TEXT = {
    str: _escaped,
    int: str,
    Decimal: str,
    bool: lambda value: "t" if value else "f",
    datetime: datetime.isoformat,
    date: date.isoformat,
    type(None): lambda value: "\\N",
}


def _copy_line(row):
    return "\t".join([_COPY_TEXT[type(value)](value) for value in row]) + "\n"


class TableWriter:
    """Writes planned rows to one table: COPY … FROM STDIN on PostgreSQL, batched INSERTs elsewhere."""

    def __init__(self, connection, *, progress, stream):
        self.connection = connection
        self.postgres = connection.vendor == "postgresql"
        self.progress = progress
        self.stream = stream

    def write(self, model, fields, rows, *, total, label, line_format=None):
        """`line_format`: a %-format of one COPY line, for tables of integers only (the largest ones)."""
        from tqdm import tqdm

        meta_fields = [model._meta.get_field(name) for name in fields]
        extras = _unlisted_values(model, meta_fields)
        if extras:
            meta_fields += [f for f, _value in extras]
            tail = tuple(value for _f, value in extras)
            rows = (row + tail for row in rows)
        quote = self.connection.ops.quote_name
        table = quote(model._meta.db_table)
        columns = ", ".join(quote(f.column) for f in meta_fields)
        bar = tqdm(total=total, desc=label, unit=" rows", file=self.stream, disable=not self.progress, leave=True)
        written = 0
        with bar, self.connection.cursor() as cursor:
            if self.postgres:
                raw = cursor.cursor
                with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for chunk in _chunks(rows):
                        if line_format:
                            copy.write("".join([line_format % row for row in chunk]))
                        else:
                            copy.write("".join([_copy_line(row) for row in chunk]))
                        written += len(chunk)
                        bar.update(len(chunk))
            else:
                # The backend's own conversion (dates, decimals); encrypted columns arrive as ciphertext already.
                converters = [
                    None if getattr(f, "encrypted", False) else _converter(f, self.connection) for f in meta_fields
                ]
                placeholders = ", ".join(["%s"] * len(meta_fields))
                # Table and column names come from the models, quoted by the backend.
                statement = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608
                for chunk in _chunks(rows):
                    cursor.executemany(
                        statement,
                        [
                            tuple(v if c is None else c(v) for c, v in zip(converters, row, strict=True))
                            for row in chunk
                        ],
                    )
                    written += len(chunk)
                    bar.update(len(chunk))
        return written


def _unlisted_values(model, listed):
    """(field, value) for the columns a plan leaves out: their default, or "" for a blank text. COPY and raw
    INSERTs apply no model defaults, and the database has none (Django keeps defaults in Python)."""
    extras = []
    for model_field in model._meta.concrete_fields:
        if model_field in listed or model_field.primary_key or model_field.null:
            continue
        if model_field.has_default():
            value = model_field.get_default()
        elif model_field.blank and isinstance(model_field, (models.CharField, models.TextField)):
            value = ""
        else:
            raise ValueError(f"{model._meta.label}.{model_field.name} needs a value in the plan")
        extras.append((model_field, value))
    return extras


def _converter(model_field, connection):
    def convert(value):
        return model_field.get_db_prep_value(value, connection, prepared=False)

    return convert


def _chunks(rows):
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def encrypt(model, field_name, value, connection):
    """The ciphertext the field itself would store (tangshan_portal.fields); never plaintext."""
    return model._meta.get_field(field_name).get_db_prep_value(value, connection, prepared=False)


# --- Helpers --------------------------------------------------------------------------------------------------


class Rng(random.Random):
    """random.Random with float-based randint, randrange and choice: several times faster than the exact
    integer versions, and as reproducible (test data must be reproducible, not unpredictable); the slight
    bias does not matter here."""

    def randint(self, a, b):
        return a + int(self.random() * (b - a + 1))

    def randrange(self, start, stop=None, step=1):
        if stop is None:
            start, stop = 0, start
        return start + step * int(self.random() * ((stop - start + step - 1) // step))

    def choice(self, seq):
        return seq[int(self.random() * len(seq))]


class Picker:
    """Weighted choice from (value, weight) pairs by bisection: fast enough for millions of rows."""

    def __init__(self, pairs):
        self.values = [value for value, _weight in pairs]
        self.cumulative = list(accumulate(weight for _value, weight in pairs))
        self.total = self.cumulative[-1]

    def __call__(self, rng):
        return self.values[bisect_left(self.cumulative, rng.random() * self.total)]


def _next_id(model):
    from django.db.models import Max

    return (model.objects.aggregate(n=Max("pk"))["n"] or 0) + 1


def _money(rng, low, high, step=1000):
    return Decimal(rng.randrange(low, high + 1, step)).quantize(Decimal("0.01"))


def _share(amount, percent):
    return (amount * percent / 100).quantize(Decimal("0.01"))


class Clock:
    """Moments before today (local time); everything seeded lies in the past, relative to the seeding day."""

    def __init__(self, today):
        from django.utils import timezone

        self.today = today
        self.zone = timezone.get_default_timezone()
        self.midnight = datetime.combine(today, time(0), tzinfo=self.zone)
        self.last = self.midnight - timedelta(minutes=1)

    def day(self, offset):
        return self.today + timedelta(days=offset)

    def at(self, day, hour=9, minute=0):
        """A moment on `day` (a date); never later than one minute before today's midnight."""
        moment = datetime.combine(day, time(hour, minute), tzinfo=self.zone)
        return moment if moment < self.last else self.last


# --- The plan -------------------------------------------------------------------------------------------------


class Loader:
    def __init__(self, *, sizes, seed, today, progress, stream):
        from django.conf import settings
        from django.db import connection

        self.sizes = sizes
        self.seed = seed
        self.rng = Rng(seed)
        self.clock = Clock(today)
        self.connection = connection
        self.writer = TableWriter(connection, progress=progress, stream=stream)
        self.result = Result()
        self.settings = settings
        self.provider_contracts = {}
        self.contract_status, self.contract_provider, self.contract_enterprise = [], [], []
        self.contract_base = 0
        self.entry_ids = []

    # Reference data and the bureau's staff -----------------------------------------------------------------

    def reference(self):
        from django.contrib.auth.models import Group

        from evaluations.models import SurveyItem

        from .models import County, Organisation, Scenario, User
        from .reference import load_counties, load_scenarios
        from .roles import sync_role_groups

        if not County.objects.exists():
            load_counties()
        if not Scenario.objects.exists():
            load_scenarios()
        if Group.objects.filter(name__in=["provider", "enterprise", "officer", "approver"]).count() != 4:
            sync_role_groups()
        if not SurveyItem.objects.filter(is_active=True).exists():
            # The questions the complaints migration starts the survey with.
            migration = importlib.import_module("complaints.migrations.0002_role_permissions_and_survey_items")
            SurveyItem.objects.bulk_create(
                SurveyItem(text=text, sort_order=order) for order, text in enumerate(migration.DEFAULT_ITEMS, 1)
            )
        self.counties = list(County.objects.order_by("code").values_list("id", "code", "name"))
        self.scenario_ids = list(Scenario.objects.order_by("sort_order", "code").values_list("id", flat=True))
        self.item_ids = list(
            SurveyItem.objects.filter(is_active=True).order_by("sort_order", "id").values_list("id", flat=True)
        )
        self.groups = dict(Group.objects.values_list("name", "id"))
        bureau, _ = Organisation.objects.get_or_create(
            name=self.settings.PORTAL_AUTHORITY_NAME, defaults={"kind": Organisation.Kind.BUREAU}
        )
        self.staff = {}
        for username, role, full_name in STAFF:
            user, created = User.objects.get_or_create(
                username=username, defaults={"full_name": full_name, "organisation": bureau, "is_staff": True}
            )
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
                user.groups.add(self.groups[role])
            self.staff.setdefault(role, []).append(user.pk)

    # Organisations, accounts, providers, enterprises ----------------------------------------------------------

    def companies(self):
        from django.db.models import Max

        from enterprises.models import PilotEnterprise
        from providers.models import Provider

        from .models import Organisation, User

        rng = self.rng
        sizes = self.sizes
        city = self.settings.PORTAL_CITY_NAME
        city_short = demo.short_place_name(city)
        city_code = demo.city_division_code([(code, name) for _id, code, name in self.counties])
        taken_names = set(Organisation.objects.values_list("name", flat=True))
        taken_names |= set(Provider.objects.values_list("name", flat=True))
        taken_names |= set(PilotEnterprise.objects.values_list("name", flat=True))
        taken_codes = set(Provider.objects.values_list("uscc", flat=True))
        taken_codes |= set(PilotEnterprise.objects.values_list("uscc", flat=True))

        def brand():
            first, second = rng.sample(BRAND_CHARS, 2)
            return first + second

        def unique_name(make):
            for _ in range(1000):
                name = make()
                if name not in taken_names:
                    taken_names.add(name)
                    return name
            raise RuntimeError("the name lists are too small for this many companies")

        alphabet = demo.USCC_ALPHABET

        def unique_uscc(division):
            # As demo.random_uscc (an "MA…" organisation part, the check digit from python-stdnum), without its
            # second pass through validate(): the codes are checked in the tests, and this runs 200,000 times.
            for _ in range(1000):
                first17 = (
                    demo.USCC_ENTERPRISE_PREFIX + division + "MA" + "".join(rng.choice(alphabet) for _ in range(7))
                )
                code = first17 + stdnum_uscc.calc_check_digit(first17)
                if code not in taken_codes:
                    taken_codes.add(code)
                    return code
            raise RuntimeError("could not draw a new USCC")

        # Standings: the blacklisted first (their entry's status decides), then the others.
        n_p = sizes.providers
        statuses = []
        blacklist_picker = Picker(BLACKLIST_STATUSES)
        self.entry_status = [blacklist_picker(rng) for _ in range(sizes.blacklist)]
        other_picker = Picker(OTHER_STANDINGS)
        others = [other_picker(rng) for _ in range(n_p - sizes.blacklist)]
        order = list(range(n_p))
        rng.shuffle(order)
        # The blacklisted are spread over the id range (the list is not simply the oldest providers).
        blacklisted_positions = order[: sizes.blacklist]
        self.blacklisted = {}  # provider index → blacklist index
        for k, position in enumerate(blacklisted_positions):
            self.blacklisted[position] = k
        other_iter = iter(others)
        for index in range(n_p):
            if index in self.blacklisted:
                status = "in_pool" if self.entry_status[self.blacklisted[index]] == "removed" else "revoked"
            else:
                status = next(other_iter)
            statuses.append(status)
        pool = [i for i, s in enumerate(statuses) if s == "in_pool" and i not in self.blacklisted]
        self.troubled = set(rng.sample(pool, round(len(pool) * TROUBLED_SHARE))) if pool else set()

        org_base = _next_id(Organisation)
        user_base = _next_id(User)
        self.provider_base = _next_id(Provider)
        self.enterprise_base = _next_id(PilotEnterprise)
        n_e = sizes.enterprises
        type_picker = Picker(PROVIDER_TYPES)
        conn = self.connection
        day = self.clock.day
        at = self.clock.at

        providers = []
        for index in range(n_p):
            county_id, county_code, county_name = rng.choice(self.counties)
            provider_type = type_picker(rng)

            def make(provider_type=provider_type, county_name=county_name):
                place = city_short if rng.random() < 0.6 else demo.short_place_name(county_name)
                form = "股份有限公司" if provider_type == "chain_leader" and rng.random() < 0.5 else "有限公司"
                return f"{place}{brand()}{rng.choice(PROVIDER_WORDS[provider_type])}{form}"

            name = unique_name(make)
            division = county_code if rng.random() < 0.6 else city_code
            applied = at(day(-rng.randint(400, 1100)), rng.randint(8, 17), rng.randint(0, 59))
            scope = rng.sample(demo.PROVIDER_SCOPE[provider_type], rng.randint(3, 5))
            providers.append(
                (
                    self.provider_base + index,
                    org_base + index,
                    name,
                    unique_uscc(division),
                    demo.person_name(rng),
                    demo.address(rng, city, county_name),
                    "；".join(scope) + "。" + demo.SCOPE_TAIL,
                    Decimal(rng.choice(demo.PROVIDER_CAPITAL[provider_type])).quantize(Decimal("0.01")),
                    provider_type,
                    county_id if division == county_code else None,
                    demo.person_name(rng),
                    encrypt(Provider, "contact_phone", demo.phone_number(rng), conn),
                    f"service{self.provider_base + index}@example.com",
                    statuses[index],
                    applied,
                    applied + timedelta(days=rng.randint(20, 300)),
                )
            )
        self.provider_status = statuses
        self.provider_names = [row[2] for row in providers]
        self.provider_usccs = [row[3] for row in providers]

        enterprises = []
        industry_picker = Picker([((sub, words), weight) for sub, words, weight in demo.SUB_INDUSTRIES])
        size_picker = Picker(demo.SIZES)
        level_picker = Picker(demo.BASELINE_LEVELS)
        for index in range(n_e):
            county_id, county_code, county_name = (
                self.counties[index % len(self.counties)] if index < len(self.counties) else rng.choice(self.counties)
            )
            sub_industry, words = industry_picker(rng)

            def make(county_name=county_name, words=words):
                place = demo.short_place_name(county_name) if rng.random() < 0.75 else city_short
                return f"{place}{brand()}{rng.choice(words)}{rng.choice(demo.COMPANY_FORMS)}"

            created = at(day(-rng.randint(300, 1000)), rng.randint(8, 17), rng.randint(0, 59))
            enterprises.append(
                (
                    self.enterprise_base + index,
                    org_base + n_p + index,
                    unique_name(make),
                    unique_uscc(county_code),
                    county_id,
                    demo.INDUSTRY,
                    sub_industry,
                    size_picker(rng),
                    demo.person_name(rng),
                    encrypt(PilotEnterprise, "contact_phone", demo.phone_number(rng), conn),
                    level_picker(rng),
                    created,
                    created + timedelta(days=rng.randint(0, 200)),
                )
            )
        self.enterprise_usccs = [row[3] for row in enterprises]

        # One organisation and one account per company: ratings and appeals name the person who filed them.
        organisations = [(row[1], row[2], "provider", True, row[14]) for row in providers]
        organisations += [(row[1], row[2], "enterprise", True, row[11]) for row in enterprises]
        self._write(Organisation, ["id", "name", "kind", "is_active", "created_at"], organisations, "organisations")
        self.provider_user = [user_base + i for i in range(n_p)]
        self.enterprise_user = [user_base + n_p + i for i in range(n_e)]
        users = []
        for i, row in enumerate(providers):
            users.append(self._user(user_base + i, f"fws{row[0]:06d}", row[10], row[1], row[14]))
        for i, row in enumerate(enterprises):
            users.append(self._user(user_base + n_p + i, f"qy{row[0]:07d}", row[8], row[1], row[11]))
        self._write(
            User,
            [
                "id",
                "password",
                "is_superuser",
                "username",
                "first_name",
                "last_name",
                "email",
                "is_staff",
                "is_active",
                "date_joined",
                "full_name",
                "organisation_id",
                "phone",
                "password_changed_at",
            ],
            users,
            "accounts",
        )
        membership = User.groups.through
        base = (membership.objects.aggregate(n=Max("pk"))["n"] or 0) + 1
        provider_group, enterprise_group = self.groups["provider"], self.groups["enterprise"]
        self._write(
            membership,
            ["id", "user_id", "group_id"],
            ((base + k, user_base + k, provider_group if k < n_p else enterprise_group) for k in range(n_p + n_e)),
            "account roles",
            total=n_p + n_e,
            line_format="%d\t%d\t%d\n",
        )
        self._write(
            Provider,
            [
                "id",
                "organisation_id",
                "name",
                "uscc",
                "legal_representative",
                "address",
                "business_scope",
                "registered_capital",
                "provider_type",
                "county_id",
                "contact_name",
                "contact_phone",
                "contact_email",
                "status",
                "applied_at",
                "updated_at",
            ],
            providers,
            "providers",
        )
        through = Provider.scenarios.through
        base = (through.objects.aggregate(n=Max("pk"))["n"] or 0) + 1
        links = []
        for row in providers:
            for scenario_id in sorted(rng.sample(self.scenario_ids, min(len(self.scenario_ids), rng.randint(2, 5)))):
                links.append((base + len(links), row[0], scenario_id))
        self._write(
            through, ["id", "provider_id", "scenario_id"], links, "provider scenarios", line_format="%d\t%d\t%d\n"
        )
        self._write(
            PilotEnterprise,
            [
                "id",
                "organisation_id",
                "name",
                "uscc",
                "county_id",
                "industry",
                "sub_industry",
                "size",
                "contact_name",
                "contact_phone",
                "baseline_level",
                "created_at",
                "updated_at",
            ],
            enterprises,
            "enterprises",
        )
        self.result.counts["organisations"] = len(organisations)
        self.result.counts["accounts"] = len(users)

    def _user(self, pk, username, full_name, organisation_id, joined):
        # An unusable password ("!" + random text, as Django's set_unusable_password): no one logs in as them.
        password = f"!{self.rng.getrandbits(160):040x}"
        return (pk, password, False, username, "", "", "", False, True, joined, full_name, organisation_id, "", joined)

    # Contracts, milestones, ratings and answers ----------------------------------------------------------------

    def contracts(self):
        from django.db.models import Max

        from enterprises.models import Milestone, ServiceContract

        rng = self.rng
        day, at = self.clock.day, self.clock.at
        n_c = self.sizes.contracts
        status_picker = Picker(CONTRACT_STATUSES)
        # Who can hold contracts: providers that are or were in the pool; a few providers hold many contracts.
        holders = [i for i, s in enumerate(self.provider_status) if s not in ("applied", "rejected")]
        healthy = [i for i in holders if self.provider_status[i] == "in_pool" and i not in self.troubled]
        weights = list(accumulate(rng.paretovariate(1.5) for _ in holders))
        total_weight = weights[-1] if weights else 0
        self.contract_provider = []
        self.contract_enterprise = []
        self.contract_status = []
        self.contract_dates = []
        self.provider_contracts = {}
        base = _next_id(ServiceContract)
        self.contract_base = base
        number_prefix = f"SZH-{self.clock.today.year}-"
        rich = ["in_progress", "in_progress", "accepted", "internally_accepted", "signed", "accepted"]
        rows = []
        for k in range(n_c):
            if k < len(rich) and healthy:
                # The first enterprise is a "rich" one: several contracts in every phase (the dossier shows them).
                provider = healthy[k % len(healthy)]
                enterprise = 0
                status = rich[k]
            else:
                provider = holders[bisect_left(weights, rng.random() * total_weight)]
                enterprise = rng.randrange(self.sizes.enterprises)
                status = status_picker(rng)
            standing = self.provider_status[provider]
            if standing == "withdrawn":
                status = "accepted"
            elif standing == "revoked" and status in ("signed", "in_progress", "internally_accepted"):
                status = "terminated"
            start, end, signed, submitted = self._contract_dates(status)
            amount = _money(rng, 50_000, 2_000_000)
            number = f"{number_prefix}{base + k:07d}"
            rows.append(
                (
                    base + k,
                    number,
                    self.provider_base + provider,
                    self.enterprise_base + enterprise,
                    rng.choice(CONTRACT_TITLES),
                    amount,
                    _share(amount, rng.choice((20, 30, 40, 50))),
                    _share(amount, rng.choice((0, 10, 20, 30))),
                    signed,
                    start,
                    end,
                    signed - timedelta(days=rng.randint(0, 10)) if signed else None,
                    submitted,
                    status,
                    submitted or at(day(-rng.randint(1, 30))),
                    at(min(day(-1), end), 16),
                )
            )
            self.contract_provider.append(provider)
            self.contract_enterprise.append(enterprise)
            self.contract_status.append(status)
            self.contract_dates.append((start, end))
            self.provider_contracts.setdefault(provider, []).append(k)
        self._write(
            ServiceContract,
            [
                "id",
                "number",
                "provider_id",
                "enterprise_id",
                "title",
                "amount",
                "subsidy",
                "advance_payment",
                "signed_on",
                "start_on",
                "end_on",
                "nda_signed_on",
                "submitted_at",
                "status",
                "created_at",
                "updated_at",
            ],
            rows,
            "contracts",
        )
        del rows
        through = ServiceContract.scenarios.through
        link_base = (through.objects.aggregate(n=Max("pk"))["n"] or 0) + 1
        count = [0]

        scenarios = self.scenario_ids
        n_s = len(scenarios)

        def links():
            # One or two scenarios per contract (two neighbours in the list: related ones, and no duplicate).
            pk = link_base
            for k in range(n_c):
                first = int(rng.random() * n_s)
                chosen = (first,) if n_s < 2 or rng.random() < 0.5 else (first, (first + 1) % n_s)
                for index in sorted(chosen):
                    yield (pk, base + k, scenarios[index])
                    pk += 1
            count[0] = pk - link_base

        self._write(
            through,
            ["id", "servicecontract_id", "scenario_id"],
            links(),
            "contract scenarios",
            total=None,
            line_format="%d\t%d\t%d\n",
        )
        self.result.counts["contract scenarios"] = count[0]

        # Milestones for the contracts in progress: on schedule, except some of the troubled providers'.
        milestone_rows = []
        milestone_base = _next_id(Milestone)
        today = self.clock.today
        ahead = today + timedelta(days=demo.ON_TRACK_LEAD_DAYS)
        for k, status in enumerate(self.contract_status):
            if status != "in_progress":
                continue
            start, end = self.contract_dates[k]
            lagging = self.contract_provider[k] in self.troubled and rng.random() < LAGGING_SHARE
            span = (end - start).days
            for index, (name, weight) in enumerate(demo.MILESTONES):
                planned = start + timedelta(days=span * (index + 1) // 3)
                if lagging:
                    progress = 20 if index == 0 else 0
                else:
                    share = (
                        1.0 if planned <= start else min(1.0, max(0.0, (ahead - start).days / (planned - start).days))
                    )
                    progress = round(100 * share)
                milestone_rows.append(
                    (
                        milestone_base + len(milestone_rows),
                        base + k,
                        name,
                        planned,
                        weight,
                        progress,
                        at(day(-rng.randint(1, 20)), 17) if progress else None,
                    )
                )
        self._write(
            Milestone,
            ["id", "contract_id", "name", "planned_on", "weight", "reported_progress", "reported_at"],
            milestone_rows,
            "milestones",
        )

    def _contract_dates(self, status):
        rng, day = self.rng, self.clock.day
        if status == "draft":
            start = day(rng.randint(10, 120))
            return start, start + timedelta(days=rng.randint(90, 270)), None, None
        if status == "signed":
            start = day(rng.randint(-10, 60))
            signed = min(start - timedelta(days=rng.randint(3, 20)), day(-1))
        elif status in ("in_progress", "terminated"):
            start = day(-rng.randint(30, 300))
            signed = start - timedelta(days=rng.randint(3, 20))
        else:
            start = day(-rng.randint(200, 720))
            signed = start - timedelta(days=rng.randint(3, 20))
        if status in ("signed", "in_progress", "terminated"):
            end = max(start + timedelta(days=rng.randint(120, 360)), day(rng.randint(30, 200)))
        else:
            end = min(start + timedelta(days=rng.randint(120, 240)), day(-rng.randint(1, 60)))
        submitted = self.clock.at(signed - timedelta(days=rng.randint(1, 5)), rng.randint(8, 17))
        return start, end, signed, submitted

    def ratings(self):
        from evaluations.models import SatisfactionRating, SurveyAnswer

        rng = self.rng
        day, at = self.clock.day, self.clock.at
        n_items = len(self.item_ids)
        wanted = self.sizes.answers // n_items if n_items else 0
        eligible = [k for k, status in enumerate(self.contract_status) if status in RATED_CONTRACT_STATUSES]
        if not eligible or not wanted:
            self.result.counts["ratings"] = 0
            return
        # The rich enterprise's contracts are rated first; then a seeded walk over the others, one stage each.
        rich = [k for k in eligible if self.contract_enterprise[k] == 0]
        rest = [k for k in eligible if self.contract_enterprise[k] != 0]
        rng.shuffle(rest)
        order = rich + rest
        base = _next_id(SatisfactionRating)
        answer_base = _next_id(SurveyAnswer)
        planned = []
        rounds = 0
        while len(planned) < wanted:
            stage = RATING_STAGES[rounds] if rounds < len(RATING_STAGES) else f"回访评价{rounds + 1}"
            for k in order[: wanted - len(planned)]:
                planned.append((k, stage))
            rounds += 1
        rows = []
        scores = []
        for index, (k, stage) in enumerate(planned):
            provider = self.contract_provider[k]
            troubled = provider in self.troubled
            roll = rng.random()
            if troubled and roll < 0.15:
                overall, low, high = "dissatisfied", 1, 3
            elif roll < 0.3:
                overall, low, high = "basically_satisfied", 3, 4
            else:
                overall, low, high = "satisfied", 4, 5
            start, end = self.contract_dates[k]
            last = min(end, day(-1))
            when = start + timedelta(days=rng.randint(0, max(0, (last - start).days)))
            comment = "" if overall == "satisfied" else rng.choice(SERVICE_ISSUES)
            rows.append(
                (
                    base + index,
                    self.contract_base + k,
                    stage,
                    overall,
                    comment,
                    self.enterprise_user[self.contract_enterprise[k]],
                    at(max(min(when, last), day(-720)), rng.randint(9, 17)),
                    False,
                    "",
                )
            )
            scores.append((low, high))
        self._write(
            SatisfactionRating,
            [
                "id",
                "contract_id",
                "stage",
                "overall",
                "comment",
                "submitted_by_id",
                "submitted_at",
                "voided",
                "void_reason",
            ],
            rows,
            "ratings",
        )
        item_ids = self.item_ids

        def answers():
            pk = answer_base
            for index, (low, high) in enumerate(scores):
                for item in item_ids:
                    yield (pk, base + index, item, rng.randint(low, high))
                    pk += 1

        self._write(
            SurveyAnswer,
            ["id", "rating_id", "item_id", "score"],
            answers(),
            "survey answers",
            total=len(rows) * n_items,
            line_format="%d\t%d\t%d\t%d\n",
        )

    # Rectification cases ---------------------------------------------------------------------------------------

    def cases(self, numbers):
        from evaluations.models import RectificationCase

        rng = self.rng
        days_max = self.settings.RECTIFICATION_DAYS_MAX
        reply_days = self.settings.WARNING_REPLY_DAYS
        status_picker = Picker(CASE_STATUSES)
        troubled = sorted(self.troubled)
        ever_in_pool = [i for i, s in enumerate(self.provider_status) if s in ("in_pool", "revoked")]
        base = _next_id(RectificationCase)
        self.case_base = base
        planned = []
        open_by_provider = {}
        for k in range(self.sizes.cases):
            status = status_picker(rng)
            if status in OPEN_CASE_STATUSES and troubled:
                provider = rng.choice(troubled)
                open_by_provider.setdefault(provider, set()).add(status)
            else:
                if status in OPEN_CASE_STATUSES:
                    status = "verified"
                provider = rng.choice(ever_in_pool)
            planned.append((k, status, provider, self._case_dates(status, days_max, reply_days)))
        # Ordered cases take their document number in the order they were issued (see `numbers`).
        for k, _status, _provider, dates in planned:
            if dates["ordered_at"] is not None:
                numbers.append((dates["ordered_at"], "case", k))
        self.planned_cases = planned
        self.open_by_provider = open_by_provider

    def write_cases(self, case_numbers):
        from evaluations.models import RectificationCase

        rng = self.rng
        officers = self.staff["officer"]

        def rows():
            for k, status, provider, dates in self.planned_cases:
                ground = rng.randint(1, 6)
                contracts = self.provider_contracts.get(provider)
                contract = rng.choice(contracts) if contracts and ground != 1 and rng.random() < 0.8 else None
                officer = rng.choice(officers)
                yield (
                    self.case_base + k,
                    self.provider_base + provider,
                    None if contract is None else self.contract_base + contract,
                    ground,
                    self._finding(ground, contract),
                    status,
                    officer,
                    dates["opened_at"],
                    dates["warned_at"],
                    dates["reply_due_at"],
                    dates["provider_reply"],
                    dates["replied_at"],
                    case_numbers.get(k),
                    dates["ordered_at"],
                    officer if dates["ordered_at"] else None,
                    dates["deadline"],
                    "",
                    dates["report"],
                    dates["responded_at"],
                    dates["return_count"],
                    dates["closed_at"],
                    dates["overdue_at"],
                    dates["closing_note"],
                )

        self._write(
            RectificationCase,
            [
                "id",
                "provider_id",
                "contract_id",
                "ground",
                "finding",
                "status",
                "opened_by_id",
                "opened_at",
                "warned_at",
                "reply_due_at",
                "provider_reply",
                "replied_at",
                "document_number",
                "ordered_at",
                "ordered_by_id",
                "deadline",
                "extension_reason",
                "report",
                "responded_at",
                "return_count",
                "closed_at",
                "overdue_at",
                "closing_note",
            ],
            rows(),
            "rectification cases",
            total=len(self.planned_cases),
        )

    def _finding(self, ground, contract):
        rng = self.rng
        number = f"SZH-{self.clock.today.year}-{self.contract_base + contract:07d}" if contract is not None else ""
        on = f"在合同 {number} 履行中" if number else "经核查，"
        if ground == 1:
            return f"{rng.choice(REGISTRATION_ITEMS)}变更后 {rng.randint(31, 120)} 日内未向主管部门报告说明。"
        if ground == 2:
            return f"{on}{rng.choice(SERVICE_ISSUES)}，试点企业投诉 {rng.randint(1, 4)} 次。"
        if ground == 3:
            return f"{on}软件采购清单所列{rng.choice(PRICED_ITEMS)}单价高于同期市场价格 {rng.randint(21, 80)}%。"
        if ground == 4:
            return f"{on}改造成效与实施方案存在明显偏差，企业内部验收未通过。"
        if ground == 5:
            return f"{on}拒不配合第三方支撑机构开展{rng.choice(THIRD_PARTY_WORK)}工作。"
        return f"{on}存在以低于成本价格承揽项目等不正当竞争行为。"

    def _case_dates(self, status, days_max, reply_days):
        rng, day, at = self.rng, self.clock.day, self.clock.at
        dates = dict.fromkeys(
            ("warned_at", "reply_due_at", "replied_at", "ordered_at", "deadline", "responded_at"), None
        )
        dates.update(provider_reply="", report="", return_count=0, closed_at=None, overdue_at=None, closing_note="")
        if status == "draft":
            dates["opened_at"] = at(day(-rng.randint(1, 10)), rng.randint(9, 17))
            return dates
        if status in ("warned", "withdrawn"):
            warned = day(-rng.randint(1, 4) if status == "warned" else -rng.randint(30, 600))
        else:
            if status in RUNNING_CASE_STATUSES:
                if rng.random() < PAST_DEADLINE_SHARE:
                    deadline = day(-rng.randint(1, 120))
                else:
                    deadline = day(rng.randint(1, days_max - 1))
            elif status == "responded":
                deadline = day(rng.randint(-30, days_max - 1))
            elif status == "overdue":
                deadline = day(-rng.randint(2, 400))
            else:  # verified
                deadline = day(-rng.randint(10, 700))
            # The order is at most RECTIFICATION_DAYS_MAX days before the deadline, and in the past.
            lead = rng.randint(max(15, (deadline - self.clock.today).days + 1), days_max)
            ordered = deadline - timedelta(days=lead)
            dates["deadline"] = deadline
            dates["ordered_at"] = at(ordered, rng.randint(9, 11))
            warned = ordered - timedelta(days=rng.randint(reply_days + 1, reply_days + 15))
        dates["warned_at"] = at(warned, rng.randint(9, 11))
        dates["opened_at"] = dates["warned_at"] - timedelta(days=rng.randint(0, 3), hours=1)
        dates["reply_due_at"] = dates["warned_at"] + timedelta(days=reply_days)
        if rng.random() < 0.5 and warned < day(-1):
            dates["provider_reply"] = "已收到警示，正在核实相关情况，将按要求说明。"
            dates["replied_at"] = at(warned + timedelta(days=rng.randint(1, reply_days - 1)), 15)
        if status == "withdrawn":
            dates["closed_at"] = at(warned + timedelta(days=reply_days + 2), 10)
            dates["closing_note"] = "服务商陈述理由成立，撤回案件。"
            return dates
        if status in ("returned", "responded", "verified"):
            ordered = dates["ordered_at"].date()
            latest = min(dates["deadline"], day(-1))
            responded = ordered + timedelta(days=rng.randint(1, max(1, (latest - ordered).days)))
            dates["responded_at"] = at(min(responded, latest), 16)
            dates["report"] = "已按整改通知要求完成整改，整改报告及佐证材料已上传。"
            if status == "returned":
                dates["return_count"] = rng.randint(1, 2)
            if status == "verified":
                dates["closed_at"] = dates["responded_at"] + timedelta(days=rng.randint(1, 10))
                dates["closed_at"] = min(dates["closed_at"], self.clock.midnight - timedelta(minutes=1))
                dates["closing_note"] = "经核查，整改到位，予以结案。"
        if status == "overdue":
            dates["overdue_at"] = at(dates["deadline"] + timedelta(days=1), 1)
        return dates

    def standings(self):
        """A troubled provider's standing follows its open cases (evaluations.services.standing_for)."""
        for provider, statuses in self.open_by_provider.items():
            if statuses & {"rectifying", "responded", "returned", "overdue"}:
                self.provider_status[provider] = "under_rectification"
            elif "warned" in statuses:
                self.provider_status[provider] = "warned"

    # Revocations, the blacklist, appeals ------------------------------------------------------------------------

    def revocations(self, numbers):
        rng, day, at = self.rng, self.clock.day, self.clock.at
        self.planned_revocations = []
        for provider, k in sorted(self.blacklisted.items(), key=lambda item: item[1]):
            decided = at(day(-rng.randint(20, 1000)), rng.randint(9, 17))
            self.planned_revocations.append((k, provider, rng.randint(1, 9), decided))
            numbers.append((decided, "revocation", k))

    def write_revocations(self, revocation_numbers):
        from django.contrib.contenttypes.models import ContentType
        from django.utils import timezone, translation

        from complaints.models import Appeal
        from evaluations.models import BlacklistEntry, RevocationCase

        from .grounds import cite_art13

        rng = self.rng
        settings = self.settings
        officer, approver = self.staff["officer"][0], self.staff["approver"][0]
        reviewer = self.staff["approver"][1]
        base = _next_id(RevocationCase)
        entry_base = _next_id(BlacklistEntry)
        appeal_base = _next_id(Appeal)
        with translation.override(settings.LANGUAGE_CODE):
            # The wording the portal itself writes into an entry (evaluations.services.revocation_approve).
            remedy = str(
                translation.gettext(
                    "The provider may appeal against the grounds of this decision (Art 16(3)) within %(days)s days "
                    "of its publication, through the portal or in writing to %(authority)s."
                )
                % {"days": settings.APPEAL_WINDOW_DAYS, "authority": settings.PORTAL_AUTHORITY_NAME}
            )
        revocations, entries, appeals = [], [], []
        for k, provider, ground, decided in self.planned_revocations:
            status = self.entry_status[k]
            number = revocation_numbers[k]
            proposed = decided - timedelta(days=rng.randint(10, 40))
            engine = ground <= 3 and rng.random() < 0.5
            appeal_filed = decided + timedelta(days=rng.randint(1, settings.APPEAL_WINDOW_DAYS - 1))
            appeal_filed = min(appeal_filed, self.clock.midnight - timedelta(minutes=2))
            upheld = appeal_filed + timedelta(days=rng.randint(10, 30))
            upheld = min(upheld, self.clock.midnight - timedelta(minutes=1))
            reversal = f"申诉{appeal_base + len(appeals)}成立：原认定事实证据不足。" if status == "removed" else ""
            revocations.append(
                (
                    base + k,
                    self.provider_base + provider,
                    ground,
                    REVOCATION_FINDINGS[ground],
                    "engine" if engine else "officer",
                    "reversed" if status == "removed" else "approved",
                    None if engine else officer,
                    proposed,
                    proposed + timedelta(days=settings.WARNING_REPLY_DAYS),
                    approver,
                    decided,
                    "事实清楚，证据确凿，依据第十三条作出撤销资格决定。",
                    number,
                    upheld if status == "removed" else None,
                    reversal,
                )
            )
            entries.append(
                (
                    entry_base + k,
                    base + k,
                    self.provider_base + provider,
                    self.provider_names[provider],
                    self.provider_usccs[provider],
                    ground,
                    cite_art13(ground),
                    number,
                    timezone.localdate(decided),
                    settings.PORTAL_AUTHORITY_NAME,
                    remedy,
                    status,
                    decided,
                    upheld if status == "removed" else None,
                    reversal,
                    upheld if status == "removed" else appeal_filed if status == "under_appeal" else decided,
                )
            )
            if status != "published":
                pending = status == "under_appeal"
                under_review = pending and rng.random() < 0.5
                appeals.append(
                    (
                        appeal_base + len(appeals),
                        self.provider_base + provider,
                        3,
                        base + k,
                        "撤销决定认定的事实与实际情况不符，请求复核并撤销决定。",
                        self.provider_user[provider],
                        appeal_filed,
                        "under_review" if under_review else "submitted" if pending else "upheld",
                        None if status == "under_appeal" and not under_review else reviewer,
                        appeal_filed + timedelta(minutes=30) if not pending or under_review else None,
                        None if pending else upheld,
                        "" if pending else "原认定事实证据不足，申诉成立，撤销原决定。",
                    )
                )
        self._write(
            RevocationCase,
            [
                "id",
                "provider_id",
                "ground",
                "finding",
                "source",
                "status",
                "proposed_by_id",
                "proposed_at",
                "statement_due_at",
                "decided_by_id",
                "decided_at",
                "decision_reason",
                "decision_number",
                "reversed_at",
                "reversal_reason",
            ],
            revocations,
            "revocation cases",
        )
        self._write(
            BlacklistEntry,
            [
                "id",
                "revocation_id",
                "provider_id",
                "provider_name",
                "uscc",
                "ground",
                "ground_wording",
                "decision_number",
                "decided_on",
                "authority",
                "remedy",
                "status",
                "published_at",
                "removed_at",
                "removal_reason",
                "updated_at",
            ],
            entries,
            "blacklist entries",
        )
        content_type = ContentType.objects.get_for_model(RevocationCase).pk
        self._write(
            Appeal,
            [
                "id",
                "provider_id",
                "appeal_type",
                "object_id",
                "grounds",
                "filed_by_id",
                "filed_at",
                "status",
                "reviewer_id",
                "review_started_at",
                "decided_at",
                "decision",
                "content_type_id",
            ],
            [(*row, content_type) for row in appeals],
            "appeals",
        )
        self.entry_ids = [row[0] for row in entries]

    def write_standings(self):
        """Write the standings the cases gave (the providers were written before the cases were planned)."""
        from providers.models import Provider

        changed = {}
        for provider in self.open_by_provider:
            changed.setdefault(self.provider_status[provider], []).append(self.provider_base + provider)
        for status, ids in changed.items():
            for start in range(0, len(ids), CHUNK):
                # A bulk UPDATE on purpose: the PublicChange rows are written once for all providers afterwards.
                Provider.objects.filter(pk__in=ids[start : start + CHUNK]).update(status=status)

    # The first enterprise's dossier: a diagnosis written through the ORM (it encrypts) --------------------------

    def rich_enterprise(self):
        from enterprises.models import DiagnosisFinding, DiagnosisReport

        if not self.sizes.enterprises or not self.contract_status:
            return
        contracts = [k for k, e in enumerate(self.contract_enterprise) if e == 0]
        if not contracts:
            return
        provider = self.contract_provider[contracts[0]]
        diagnosed = self.clock.day(-400)
        report = DiagnosisReport.objects.create(
            enterprise_id=self.enterprise_base,
            provider_id=self.provider_base + provider,
            diagnosed_on=diagnosed,
            summary="企业生产设备联网率低，计划排产依靠人工经验，质量数据分散在纸质记录中，具备实施数字化改造的基础。",
            status=DiagnosisReport.Status.SUBMITTED,
            created_by_id=self.provider_user[provider],
            submitted_at=self.clock.at(diagnosed, 16),
        )
        findings = (
            ("关键设备未联网，生产数据靠人工抄录。", "部署工业网关，实现关键设备数据实时采集。", "high"),
            ("计划排产依靠人工经验，交期难以保证。", "上线高级排产模块，与订单系统打通。", "medium"),
            ("质量检验记录为纸质，难以追溯。", "建设质量追溯系统，检验数据电子化。", "medium"),
        )
        DiagnosisFinding.objects.bulk_create(
            DiagnosisFinding(
                report=report, scenario_id=scenario_id, current_state=state, recommendation=advice, priority=priority
            )
            for scenario_id, (state, advice, priority) in zip(self.scenario_ids, findings, strict=False)
        )
        self.result.counts["diagnosis reports"] = 1

    # Bookkeeping ----------------------------------------------------------------------------------------------

    def _write(self, model, fields, rows, label, total=-1, line_format=None):
        if total == -1:
            total = len(rows)
        started = perf_counter()
        written = self.writer.write(model, fields, rows, total=total, label=label, line_format=line_format)
        self.result.counts[label] = written
        self.result.seconds[label] = round(perf_counter() - started, 2)
        return written


@contextmanager
def foreign_keys_checked_at_end(connection, models_written):
    """PostgreSQL checks a deferred foreign key once per inserted row at commit (a trigger event per row): for
    millions of rows that takes longer than the COPY. Dropped for the load and added back before the commit,
    each key is checked with one set-based query over the whole table instead. All in the load's transaction:
    if anything fails, the keys come back with the rollback."""
    if connection.vendor != "postgresql":
        yield
        return
    quote = connection.ops.quote_name
    tables = sorted({m._meta.db_table for m in models_written})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k "
            "JOIN pg_class c ON c.oid = k.conrelid WHERE k.contype = 'f' AND c.relname = ANY(%s) "
            "AND c.relnamespace = current_schema()::regnamespace ORDER BY c.relname, k.conname",
            [tables],
        )
        keys = cursor.fetchall()
        # A table with pending deferred checks cannot be altered: run them now (the staff accounts written by
        # reference()), and defer again what remains deferrable.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for table, name, _definition in keys:
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for table, name, definition in keys:
            cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")


@contextmanager
def indexes_built_at_end(connection, models_written):
    """Inserting into a dozen B-tree indexes row by row (names under a linguistic collation, their LIKE twins,
    every foreign key's) costs more than writing the rows; an index built afterwards sorts once. Indexes that
    back a constraint (primary keys, unique constraints) stay, so duplicates are refused during the load. In
    the load's transaction, like the keys."""
    if connection.vendor != "postgresql":
        yield
        return
    tables = sorted({m._meta.db_table for m in models_written})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
            "AND i.tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint k "
            "WHERE k.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass) "
            "ORDER BY i.tablename, i.indexname",
            [tables],
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _name, definition in indexes:
            cursor.execute(definition)


def _assign_numbers(numbers, prefix):
    """Document numbers in the order of issue, one series per year: {(kind, index): number}, {year: last}."""
    from django.utils import timezone

    from .models import DocumentSequence
    from .services import format_document_number

    last = dict(DocumentSequence.objects.filter(prefix=prefix).values_list("year", "last_number"))
    assigned = {}
    for moment, kind, index in sorted(numbers, key=lambda item: (item[0], item[1], item[2])):
        year = timezone.localdate(moment).year
        last[year] = last.get(year, 0) + 1
        assigned[(kind, index)] = format_document_number(prefix, year, last[year])
    return assigned, last


def seed_scale(*, sizes, seed=1, today=None, progress=False, stream=None):
    """Load the planned rows in one transaction; returns a Result with the counts written per table."""
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.db.models import F
    from django.utils import timezone

    from complaints.models import Appeal
    from enterprises.models import Milestone, PilotEnterprise, ServiceContract
    from evaluations.models import (
        BlacklistEntry,
        RectificationCase,
        RevocationCase,
        SatisfactionRating,
        SurveyAnswer,
    )
    from opendata.models import PublicChange, PublicVersion
    from providers.models import Provider

    from .audit import record_event
    from .models import AuditEvent, DocumentSequence, Organisation, User

    stream = stream if stream is not None else sys.stderr
    loader = Loader(sizes=sizes, seed=seed, today=today or timezone.localdate(), progress=progress, stream=stream)
    prefix = loader.settings.DOCUMENT_NUMBER_PREFIX
    written = [
        Organisation,
        User,
        User.groups.through,
        Provider,
        Provider.scenarios.through,
        PilotEnterprise,
        ServiceContract,
        ServiceContract.scenarios.through,
        Milestone,
        SatisfactionRating,
        SurveyAnswer,
        RectificationCase,
        RevocationCase,
        BlacklistEntry,
        Appeal,
    ]
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Ids are assigned here from the current maximum: no one else may insert until the load commits.
            tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in written)
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")
        loader.reference()
        with foreign_keys_checked_at_end(connection, written), indexes_built_at_end(connection, written):
            loader.companies()
            if sizes.contracts:
                loader.contracts()
                loader.ratings()
            numbers = []
            loader.planned_cases, loader.open_by_provider = [], {}
            if sizes.cases:
                loader.cases(numbers)
            loader.revocations(numbers)
            assigned, last = _assign_numbers(numbers, prefix)
            loader.write_cases({index: number for (kind, index), number in assigned.items() if kind == "case"})
            loader.write_revocations(
                {index: number for (kind, index), number in assigned.items() if kind == "revocation"}
            )
            loader.standings()
            loader.write_standings()
            loader.rich_enterprise()
            loader.keys_started = perf_counter()
        loader.result.seconds["(indexes, foreign keys)"] = round(perf_counter() - loader.keys_started, 2)
        for year, number in last.items():
            DocumentSequence.objects.update_or_create(prefix=prefix, year=year, defaults={"last_number": number})

        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for statement in connection.ops.sequence_reset_sql(no_style(), written):
                    cursor.execute(statement)

        # Public pages and the change feed: one change per public record, one new version for all of them.
        change_base = _next_id(PublicChange)
        changes = [("provider", loader.provider_base + i) for i in range(sizes.providers)]
        changes += [("blacklist", pk) for pk in loader.entry_ids]
        loader._write(
            PublicChange,
            ["id", "resource", "object_id", "changed_at"],
            [(change_base + i, resource, pk, timezone.now()) for i, (resource, pk) in enumerate(changes)],
            "public changes",
        )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for statement in connection.ops.sequence_reset_sql(no_style(), [PublicChange]):
                    cursor.execute(statement)
        if not PublicVersion.objects.filter(pk=1).update(value=F("value") + 1):
            PublicVersion.objects.create(pk=1, value=1)
        counts = dict(loader.result.counts)
        record_event(
            AuditEvent.Action.IMPORT,
            username="seed_scale",
            target=("seed_scale", "", "manage.py seed_scale"),
            seed=seed,
            sizes=vars(sizes),
            created=counts,
        )
        # The deferred foreign-key checks of every row run at commit: time them with it.
        commit_started = perf_counter()
    seconds = loader.result.seconds
    seconds["(commit)"] = round(perf_counter() - commit_started, 2)
    if connection.vendor == "postgresql":
        analyze_started = perf_counter()
        with connection.cursor() as cursor:
            for model in [*written, PublicChange]:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        seconds["(analyze)"] = round(perf_counter() - analyze_started, 2)
    return loader.result


def digest(tables=None):
    """SHA-256 over the seeded rows' deterministic columns (everything but ciphertext and load-time stamps)."""
    from django.db import connection

    tables = tables or DIGEST_QUERIES
    hasher = hashlib.sha256()
    with connection.cursor() as cursor:
        for query in tables:
            cursor.execute(query)
            for row in cursor.fetchall():
                hasher.update(repr(tuple(str(v) for v in row)).encode())
    return hasher.hexdigest()


DIGEST_QUERIES = (
    "SELECT id, name, uscc, legal_representative, address, provider_type, county_id, status, applied_at "
    "FROM providers_provider ORDER BY id",
    "SELECT id, name, uscc, county_id, sub_industry, size, baseline_level FROM enterprises_pilotenterprise ORDER BY id",
    "SELECT id, number, provider_id, enterprise_id, amount, start_on, end_on, status FROM enterprises_servicecontract "
    "ORDER BY id",
    "SELECT id, contract_id, stage, overall, submitted_at FROM evaluations_satisfactionrating ORDER BY id",
    "SELECT id, rating_id, item_id, score FROM evaluations_surveyanswer ORDER BY id",
    "SELECT id, provider_id, ground, finding, status, document_number, ordered_at, deadline "
    "FROM evaluations_rectificationcase ORDER BY id",
    "SELECT id, provider_name, uscc, decision_number, decided_on, status FROM evaluations_blacklistentry ORDER BY id",
)
