"""`manage.py seed_scale`: sizes as asked, valid and consistent data, deterministic, refuses a database in use,
and the data is what the public pages, the encryption and the deadline sweep expect. Runs on SQLite (batched
INSERTs) and, with DATABASE_URL naming PostgreSQL, on the COPY path."""

import re
from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import Count, F
from django.utils import timezone
from stdnum.cn import uscc

from complaints.models import Appeal, AppealStatus
from enterprises.models import PilotEnterprise, ServiceContract
from evaluations import services
from evaluations.models import (
    BlacklistEntry,
    RectificationCase,
    RevocationCase,
    SatisfactionRating,
    SurveyAnswer,
    SurveyItem,
)
from opendata.models import PublicChange, PublicVersion
from providers.models import POOL_STATUSES, Provider
from tangshan_portal.models import AuditEvent, DocumentSequence, Organisation
from tangshan_portal.scale import DEFAULTS, Sizes, digest

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
SIZES = {"providers": 40, "enterprises": 60, "contracts": 150, "answers": 250, "cases": 80, "blacklist": 10}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def seed(*extra, seed_number=3, **sizes):
    sizes = {**SIZES, **sizes}
    args = [f"--{name}={value}" for name, value in sizes.items()]
    out = StringIO()
    call_command("seed_scale", *args, f"--seed={seed_number}", "--no-progress", *extra, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_counts_match_the_options():
    out = seed()
    items = SurveyItem.objects.filter(is_active=True).count()
    assert Provider.objects.count() == 40
    assert PilotEnterprise.objects.count() == 60
    assert ServiceContract.objects.count() == 150
    assert SatisfactionRating.objects.count() == 250 // items
    assert SurveyAnswer.objects.count() == 250 // items * items
    assert RectificationCase.objects.count() == 80
    assert BlacklistEntry.objects.count() == RevocationCase.objects.count() == 10
    # One answer per active question on every rating.
    per_rating = set(SurveyAnswer.objects.values("rating").annotate(n=Count("id")).values_list("n", flat=True))
    assert per_rating == {items}
    assert re.search(r"providers\s+40\b", out)
    assert re.search(r"survey answers\s+250\b", out)


def test_scale_multiplies_the_defaults_and_an_explicit_size_wins():
    sizes = Sizes.from_options(scale=0.01, providers=7, cases=None)
    assert sizes.providers == 7
    assert sizes.cases == DEFAULTS["cases"] // 100
    assert sizes.answers == DEFAULTS["answers"] // 100
    assert Sizes.from_options(blacklist=30, providers=40).problems() == [
        "--blacklist can be at most half of --providers"
    ]


def test_every_uscc_is_valid_and_unique():
    seed()
    codes = list(Provider.objects.values_list("uscc", flat=True))
    codes += list(PilotEnterprise.objects.values_list("uscc", flat=True))
    assert len(codes) == 100
    assert len(set(codes)) == len(codes)
    for code in codes:
        assert uscc.is_valid(code), code
        assert len(code) == 18


def test_names_are_varied_so_that_a_fragment_finds_a_few():
    seed(providers=200, enterprises=400, contracts=50, answers=0, cases=0, blacklist=10)
    names = list(PilotEnterprise.objects.values_list("name", flat=True))
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[\u4e00-\u9fff（）]+", name) for name in names)
    # The brand (the two characters after the place name) of any company matches only a few companies.
    brand = Provider.objects.order_by("pk").values_list("name", flat=True)[0][2:4]
    matches = (
        Provider.objects.filter(name__contains=brand).count()
        + PilotEnterprise.objects.filter(name__contains=brand).count()
    )
    assert 1 <= matches < 30


def seeded_digest(seed_number):
    with transaction.atomic():
        seed(seed_number=seed_number)
        value = digest()
        transaction.set_rollback(True)
    return value


def test_the_same_seed_gives_the_same_data():
    first = seeded_digest(5)
    assert Provider.objects.count() == 0  # rolled back
    assert seeded_digest(5) == first
    assert seeded_digest(6) != first


def test_refuses_a_database_with_providers_unless_appending():
    seed()
    with pytest.raises(CommandError, match="--append"):
        seed()
    assert Provider.objects.count() == 40
    seed("--append", seed_number=4)
    assert Provider.objects.count() == 80
    codes = list(Provider.objects.values_list("uscc", flat=True))
    assert len(set(codes)) == 80
    numbers = list(RectificationCase.objects.exclude(document_number=None).values_list("document_number", flat=True))
    assert len(set(numbers)) == len(numbers)


def test_the_blacklist_is_consistent_and_public(client):
    seed()
    entries = BlacklistEntry.objects.select_related("provider", "revocation")
    assert {entry.status for entry in entries} <= {"published", "under_appeal", "removed"}
    for entry in entries:
        assert entry.revocation.provider_id == entry.provider_id
        assert entry.decision_number == entry.revocation.decision_number
        pending = Appeal.objects.filter(object_id=entry.revocation_id, status__in=["submitted", "under_review"])
        if entry.status == "removed":
            assert entry.provider.status == "in_pool"
            assert entry.revocation.status == "reversed"
            assert Appeal.objects.get(object_id=entry.revocation_id).status == AppealStatus.UPHELD
        else:
            assert entry.provider.status == "revoked"
            assert entry.revocation.status == "approved"
            assert pending.exists() == (entry.status == "under_appeal")
    # Every revoked provider has its entry.
    assert not Provider.objects.filter(status="revoked", blacklist_entries=None).exists()
    shown = entries.exclude(status="removed").order_by("-decided_on", "-id").first()
    page = client.get("/blacklist/")
    assert page.status_code == 200
    assert shown.provider_name in page.content.decode()
    assert shown.decision_number in page.content.decode()
    # The public cache moved on, and the change feed names the new records.
    assert PublicVersion.objects.get(pk=1).value >= 1
    assert PublicChange.objects.filter(resource="blacklist").count() == 10


def test_encrypted_columns_hold_no_plaintext():
    seed()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT contact_phone FROM providers_provider "
            "UNION ALL SELECT contact_phone FROM enterprises_pilotenterprise"
        )
        stored = [row[0] for row in cursor.fetchall()]
    assert len(stored) == 100
    assert all(value.startswith("enc1:") for value in stored)
    # Read through the model, they decrypt to phone numbers, none of which appears in the stored text.
    phones = [p.contact_phone for p in Provider.objects.all()] + [
        e.contact_phone for e in PilotEnterprise.objects.all()
    ]
    assert all(re.fullmatch(r"0315-\d{7}|1\d{10}", phone) for phone in phones)
    assert not any(phone in value for phone in phones for value in stored)


def test_cases_follow_the_rules_and_the_sweep_finds_the_overdue_ones():
    seed()
    today = timezone.localdate()
    days_max = django_settings.RECTIFICATION_DAYS_MAX
    for case in RectificationCase.objects.exclude(ordered_at=None):
        assert case.document_number and case.deadline
        assert case.deadline <= timezone.localdate(case.ordered_at) + timedelta(days=days_max)
        assert case.ordered_at < timezone.now()
    # The portal's next number follows the seeded ones.
    year = today.year
    last = DocumentSequence.objects.get(prefix=django_settings.DOCUMENT_NUMBER_PREFIX, year=year).last_number
    assert not RectificationCase.objects.filter(
        document_number=f"{django_settings.DOCUMENT_NUMBER_PREFIX}〔{year}〕{last + 1}号"
    ).exists()
    # A pool provider's standing follows its open cases.
    for provider in Provider.objects.filter(status__in=POOL_STATUSES):
        assert provider.status == services.standing_for(provider), provider

    running = RectificationCase.objects.filter(status__in=["rectifying", "returned"])
    past = running.filter(deadline__lt=today).count()
    assert running.count() > 20
    assert 0.75 <= past / running.count() < 1
    result = services.deadlines_check()
    assert result["overdue"] == past
    assert not RectificationCase.objects.filter(status__in=["rectifying", "returned"], deadline__lt=today).exists()


def test_contracts_are_sensible():
    seed()
    for contract in ServiceContract.objects.all():
        assert 0 <= contract.subsidy <= contract.amount
        assert contract.advance_payment <= contract.amount
        assert contract.start_on <= contract.end_on
        if contract.status != "draft":
            assert contract.signed_on is not None
    assert not ServiceContract.objects.filter(provider__status="revoked", status__in=["signed", "in_progress"]).exists()
    # The first enterprise is a rich one for the dossier: several contracts, ratings and a diagnosis.
    first = PilotEnterprise.objects.order_by("pk").first()
    assert first.contracts.count() >= 5
    assert SatisfactionRating.objects.filter(contract__enterprise=first).exists()
    assert first.diagnoses.get().summary.startswith("企业")
    assert Organisation.objects.filter(kind="enterprise").count() == 60
    assert not SatisfactionRating.objects.exclude(
        submitted_by__organisation=F("contract__enterprise__organisation")
    ).exists()


def test_one_audit_event_says_what_was_loaded():
    seed()
    event = AuditEvent.objects.get(action=AuditEvent.Action.IMPORT, actor_username="seed_scale")
    assert event.detail["sizes"]["providers"] == 40
    assert event.detail["created"]["providers"] == 40


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the COPY path and its key handling are PostgreSQL's")
def test_postgresql_keys_come_back_and_sequences_follow():
    query = "SELECT count(*) FROM pg_constraint WHERE contype = 'f'"
    with connection.cursor() as cursor:
        cursor.execute(query)
        before = cursor.fetchone()[0]
    seed()
    with connection.cursor() as cursor:
        cursor.execute(query)
        assert cursor.fetchone()[0] == before
    # New rows get ids after the seeded ones.
    provider = Provider.objects.order_by("pk").last()
    organisation = Organisation.objects.create(name="新建组织有限公司", kind="provider")
    assert organisation.pk > provider.organisation_id
