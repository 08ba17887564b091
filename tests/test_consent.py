"""Art 10(1) "共享需书面同意": an enterprise's dossier is shared beyond a provider's own contracts only with the
enterprise's written consent (dossiers.models.DossierConsent), given and revoked on its self-service pages.

Guards: dossiers.selectors.dossier_access / dossier_consents (no consent, an expired, revoked or other
enterprise's consent, a provider cleared out of the pool → 404), the consent's scope in each section, that a
consent never shows another provider's contracts, the audit of giving, revoking and every use, the enterprise's
pages (confirmation step, revocation, other enterprises' consents → 404), and the PDF job's second check."""

import re
import subprocess
from contextlib import nullcontext
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from dossiers import services
from dossiers.models import ConsentScope, DossierConsent
from dossiers.selectors import DOSSIER_CONSENTED, DOSSIER_CONTRACTS, dossier_access
from enterprises.models import ContractStatus
from evaluations.models import LevelAssessment
from providers.models import ProviderStatus
from tangshan_portal.models import AuditEvent, BackgroundJob, Notification
from tangshan_portal.roles import Role
from tests.factories import PilotEnterpriseFactory, ProviderFactory, UserFactory
from tests.factories_documents import plaintext_file
from tests.factories_dossier import (
    ComplaintFactory,
    CooperationIntentionFactory,
    DiagnosisFindingFactory,
    DiagnosisReportFactory,
    DossierSurveyFactory,
    LevelAssessmentFactory,
    SignedContractFactory,
    TrainingAttendanceFactory,
    TrainingSessionFactory,
)

pytestmark = pytest.mark.django_db

PHONE = "13812345678"
SURVEY_SECRET = "热处理炉温曲线与三家合金供应商报价"
DIAGNOSIS_B = "乙：排产依赖人工，设备联网率不足两成"
ALL_PARTS = [ConsentScope.LEVELS, ConsentScope.DIAGNOSES, ConsentScope.SURVEYS, ConsentScope.TRAININGS]


@pytest.fixture
def enterprise(db):
    return PilotEnterpriseFactory(name="唐山恒远机械有限公司", contact_name="赵经理", contact_phone=PHONE)


@pytest.fixture
def staff(enterprise):
    return UserFactory(role=Role.ENTERPRISE, organisation=enterprise.organisation)


@pytest.fixture
def provider_b(db):
    return ProviderFactory(name="乙智能制造有限公司")


@pytest.fixture
def provider_c(db):
    """Met the enterprise at a matchmaking event; no contract with it."""
    return ProviderFactory(name="丙工业互联网有限公司")


@pytest.fixture
def world(enterprise, provider_b, provider_c):
    """The enterprise's information, all of it from provider B's work under B's contract."""
    contract = SignedContractFactory(enterprise=enterprise, provider=provider_b, number="TS-B-7001", title="乙项目")
    DiagnosisFindingFactory(
        report=DiagnosisReportFactory(enterprise=enterprise, provider=provider_b, summary=DIAGNOSIS_B)
    )
    DossierSurveyFactory(contract=contract, production_process=SURVEY_SECRET)
    LevelAssessmentFactory(enterprise=enterprise, level=1, total_score=38)
    LevelAssessmentFactory(
        enterprise=enterprise, contract=contract, kind=LevelAssessment.Kind.ACCEPTANCE, level=3, total_score=72
    )
    TrainingAttendanceFactory(
        enterprise=enterprise, session=TrainingSessionFactory(provider=provider_b, title="乙的培训")
    )
    CooperationIntentionFactory(enterprise=enterprise, provider=provider_b, note="乙的合作意向")
    CooperationIntentionFactory(enterprise=enterprise, provider=provider_c, note="丙的合作意向")
    ComplaintFactory(contract=contract)
    return enterprise


def _user(provider):
    return UserFactory(role=Role.PROVIDER, organisation=provider.organisation)


def _grant(world, staff, provider, scope=ALL_PARTS, days=30, **kwargs):
    return services.consent_grant(
        enterprise=world,
        by=staff,
        grantee=provider,
        purpose="准备设备联网改造方案",
        scope=scope,
        valid_until=timezone.localdate() + timedelta(days=days),
        **kwargs,
    )


def _dossier(client, user, enterprise):
    client.force_login(user)
    return client.get(reverse("dossier:detail", args=[enterprise.pk]))


# --- Without consent nothing; with consent the enterprise's own information ------------------------------------


def test_a_provider_without_contract_or_consent_gets_404(client, world, provider_c):
    user = _user(provider_c)
    assert dossier_access(user, world) is None
    assert _dossier(client, user, world).status_code == 404
    assert client.post(reverse("dossier:pdf", args=[world.pk])).status_code == 404


def test_consent_shows_the_enterprises_information_but_never_another_providers_contracts(
    client, world, staff, provider_c
):
    consent = _grant(world, staff, provider_c)
    user = _user(provider_c)
    assert dossier_access(user, world) == DOSSIER_CONSENTED
    response = _dossier(client, user, world)
    assert response.status_code == 200
    body = response.content.decode()
    dossier = response.context["dossier"]
    # The shared parts: B's diagnosis, the survey, the whole level history, the training.
    assert DIAGNOSIS_B in body
    assert SURVEY_SECRET in body
    assert [a.level for a in dossier.level_history] == [3, 1]
    assert "乙的培训" in body
    # Never B's contract (not even its number next to the acceptance result or the survey), B's intention, the
    # complaints or the contact phone.
    assert dossier.contracts == []
    assert "TS-B-7001" not in body and "乙项目" not in body
    assert "乙的合作意向" not in body and "丙的合作意向" in body
    assert dossier.complaints is None
    assert PHONE not in body
    # The page names the consent it rests on; B's diagnosis is not linked as if it were C's own.
    assert f"#{consent.pk}" in body
    assert reverse("provider:diagnosis_detail", args=[world.diagnoses.get().pk]) not in body


def test_the_consent_shares_only_the_parts_it_names(client, world, staff, provider_c):
    _grant(world, staff, provider_c, scope=[ConsentScope.LEVELS])
    response = _dossier(client, _user(provider_c), world)
    body = response.content.decode()
    assert [a.level for a in response.context["dossier"].level_history] == [3, 1]
    assert DIAGNOSIS_B not in body
    assert SURVEY_SECRET not in body
    assert "乙的培训" not in body


def test_consent_and_contract_together_keep_the_providers_own_contract(client, world, staff, provider_c):
    own = SignedContractFactory(enterprise=world, provider=provider_c, number="TS-C-0001", title="丙项目")
    user = _user(provider_c)
    assert dossier_access(user, world) == DOSSIER_CONTRACTS
    _grant(world, staff, provider_c, scope=[ConsentScope.SURVEYS])
    assert dossier_access(user, world) == DOSSIER_CONSENTED
    body = _dossier(client, user, world).content.decode()
    assert own.number in body and SURVEY_SECRET in body
    assert "TS-B-7001" not in body


@pytest.mark.parametrize("state", ["revoked", "expired", "other_enterprise", "other_provider", "provider_revoked"])
def test_a_consent_that_does_not_apply_gives_nothing(client, world, staff, provider_c, provider_b, state):
    consent = _grant(world, staff, provider_c, days=10)
    user = _user(provider_c)
    assert _dossier(client, user, world).status_code == 200
    target, later = world, nullcontext()
    if state == "revoked":
        services.consent_revoke(consent=consent, by=staff)
    elif state == "expired":
        # Valid through its last day, gone the day after.
        with time_machine.travel(timezone.now() + timedelta(days=10), tick=False):
            assert _dossier(client, user, world).status_code == 200
        later = time_machine.travel(timezone.now() + timedelta(days=11), tick=False)
    elif state == "other_enterprise":
        target = PilotEnterpriseFactory()
    elif state == "other_provider":
        user = _user(ProviderFactory())
    else:
        type(provider_c).objects.filter(pk=provider_c.pk).update(status=ProviderStatus.REVOKED)
    with later:
        assert dossier_access(user, target) is None
        assert _dossier(client, user, target).status_code == 404
        assert client.post(reverse("dossier:pdf", args=[target.pk])).status_code == 404


def test_every_view_under_consent_is_audited_with_the_consent(client, world, staff, provider_c):
    consent = _grant(world, staff, provider_c)
    user = _user(provider_c)
    _dossier(client, user, world)
    client.post(reverse("dossier:pdf", args=[world.pk]))
    views = AuditEvent.objects.filter(action=AuditEvent.Action.DOSSIER_VIEW).order_by("sequence")
    assert [(e.actor, e.object_id, e.detail["access"], e.detail["consents"]) for e in views] == [
        (user, str(world.pk), DOSSIER_CONSENTED, [consent.pk]),
        (user, str(world.pk), DOSSIER_CONSENTED, [consent.pk]),
    ]
    assert views.last().detail["format"] == "pdf"


def test_giving_and_revoking_are_audited_and_told_to_the_provider(world, staff, provider_c):
    consent = _grant(world, staff, provider_c)
    granted = AuditEvent.objects.get(action=AuditEvent.Action.CONSENT_GRANTED)
    assert (granted.actor, granted.object_type, granted.object_id) == (
        staff,
        "dossiers.DossierConsent",
        str(consent.pk),
    )
    assert granted.detail["grantee"] == provider_c.pk and granted.detail["scope"] == ALL_PARTS
    services.consent_revoke(consent=consent, by=staff)
    revoked = AuditEvent.objects.get(action=AuditEvent.Action.CONSENT_REVOKED)
    assert (revoked.actor, revoked.object_id) == (staff, str(consent.pk))
    notices = Notification.objects.filter(recipient_organisation=provider_c.organisation).order_by("pk")
    assert [n.kind for n in notices] == ["dossier_consent_granted", "dossier_consent_revoked"]


# --- The rules of giving and revoking --------------------------------------------------------------------------


def test_only_the_enterprises_own_staff_give_or_revoke(world, staff, provider_c, officer):
    other_enterprise = UserFactory(role=Role.ENTERPRISE, organisation=PilotEnterpriseFactory().organisation)
    for user in (other_enterprise, officer, _user(provider_c)):
        with pytest.raises(PermissionDenied):
            _grant(world, user, provider_c)
    consent = _grant(world, staff, provider_c)
    for user in (other_enterprise, officer, _user(provider_c)):
        with pytest.raises(PermissionDenied):
            services.consent_revoke(consent=consent, by=user)
    assert DossierConsent.objects.get().revoked_at is None


def test_purpose_scope_and_a_bounded_end_are_required(world, staff, provider_c, settings):
    settings.PORTAL_CONSENT_MAX_DAYS = 60
    with pytest.raises(services.ConsentError) as error:
        services.consent_grant(enterprise=world, by=staff, grantee=provider_c, purpose=" ", scope=[], valid_until=None)
    assert set(error.value.message_dict) == {"purpose", "scope", "valid_until"}
    for valid_until in (timezone.localdate() + timedelta(days=61), timezone.localdate() - timedelta(days=1)):
        with pytest.raises(services.ConsentError) as error:
            services.consent_grant(
                enterprise=world, by=staff, grantee=provider_c, purpose="x", scope=ALL_PARTS, valid_until=valid_until
            )
        assert set(error.value.message_dict) == {"valid_until"}
    with pytest.raises(services.ConsentError) as error:
        _grant(world, staff, provider_c, scope=["contracts"])
    assert set(error.value.message_dict) == {"scope"}
    assert _grant(world, staff, provider_c, days=60).valid_until == timezone.localdate() + timedelta(days=60)


def test_only_a_provider_in_the_pool_may_receive_a_consent(world, staff):
    for status in (ProviderStatus.REVOKED, ProviderStatus.APPLIED, ProviderStatus.WITHDRAWN):
        with pytest.raises(services.ConsentError) as error:
            _grant(world, staff, ProviderFactory(status=status))
        assert set(error.value.message_dict) == {"grantee"}
    assert not DossierConsent.objects.exists()


# --- The enterprise's pages --------------------------------------------------------------------------------------


def _form(provider, **overrides):
    return {
        "grantee": provider.pk,
        "purpose": "准备设备联网改造方案",
        "scope": [ConsentScope.LEVELS, ConsentScope.SURVEYS],
        "valid_until": (timezone.localdate() + timedelta(days=90)).isoformat(),
        **overrides,
    }


def test_the_enterprise_gives_a_consent_after_a_confirmation_page(client, world, staff, provider_c):
    client.force_login(staff)
    url = reverse("enterprise:consent_new")
    page = client.get(url)
    assert page.status_code == 200
    assert provider_c.name in page.content.decode()
    # The first POST only shows what will be shared.
    confirm = client.post(url, _form(provider_c))
    assert confirm.status_code == 200
    assert "dossiers/consent_confirm.html" in [t.name for t in confirm.templates]
    assert not DossierConsent.objects.exists()
    body = confirm.content.decode()
    assert 'name="confirm"' in body and provider_c.name in body
    # "Change" brings the form back with what was entered; nothing is given.
    again = client.post(url, {**_form(provider_c), "edit": "1"})
    assert "dossiers/consent_form.html" in [t.name for t in again.templates]
    assert not DossierConsent.objects.exists()
    # Confirmed.
    done = client.post(url, {**_form(provider_c), "confirm": "1"})
    assert done.status_code == 302 and done["Location"] == reverse("enterprise:consent_list")
    consent = DossierConsent.objects.get()
    assert (consent.enterprise, consent.grantee, consent.granted_by) == (world, provider_c, staff)
    assert consent.scope == [ConsentScope.LEVELS, ConsentScope.SURVEYS]
    listing = client.get(reverse("enterprise:consent_list")).content.decode()
    assert provider_c.name in listing and reverse("enterprise:consent_revoke", args=[consent.pk]) in listing


def test_the_form_refuses_a_consent_longer_than_the_policy(client, world, staff, provider_c, settings):
    settings.PORTAL_CONSENT_MAX_DAYS = 30
    client.force_login(staff)
    too_long = (timezone.localdate() + timedelta(days=31)).isoformat()
    response = client.post(
        reverse("enterprise:consent_new"), {**_form(provider_c, valid_until=too_long), "confirm": "1"}
    )
    assert response.status_code == 200
    assert "valid_until" in response.context["form"].errors
    assert not DossierConsent.objects.exists()


def test_revoking_on_the_page_ends_the_providers_access_at_once(client, world, staff, provider_c):
    consent = _grant(world, staff, provider_c)
    provider_client = type(client)()
    assert _dossier(provider_client, _user(provider_c), world).status_code == 200
    client.force_login(staff)
    url = reverse("enterprise:consent_revoke", args=[consent.pk])
    confirm = client.get(url)
    assert confirm.status_code == 200 and provider_c.name in confirm.content.decode()
    assert DossierConsent.objects.get().revoked_at is None
    assert client.post(url).status_code == 302
    consent.refresh_from_db()
    assert consent.revoked_by == staff and consent.revoked_at is not None
    assert provider_client.get(reverse("dossier:detail", args=[world.pk])).status_code == 404
    # Revoked once: the page is gone.
    assert client.get(url).status_code == 404


def test_another_enterprise_cannot_see_or_revoke_the_consent(client, world, staff, provider_c):
    consent = _grant(world, staff, provider_c)
    other = UserFactory(role=Role.ENTERPRISE, organisation=PilotEnterpriseFactory().organisation)
    client.force_login(other)
    url = reverse("enterprise:consent_revoke", args=[consent.pk])
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert provider_c.name not in client.get(reverse("enterprise:consent_list")).content.decode()
    assert DossierConsent.objects.get().revoked_at is None


def test_the_provider_sees_the_consents_it_holds(client, world, staff, provider_c, provider_b):
    active = _grant(world, staff, provider_c)
    other = PilotEnterpriseFactory(name="唐山已撤回有限公司")
    old = _grant(other, UserFactory(role=Role.ENTERPRISE, organisation=other.organisation), provider_c)
    services.consent_revoke(consent=old, by=old.granted_by)
    client.force_login(_user(provider_c))
    response = client.get(reverse("provider:consent_list"))
    assert response.status_code == 200
    assert [c.pk for c in response.context["active"]] == [active.pk]
    assert [c.pk for c in response.context["past"]] == [old.pk]
    body = response.content.decode()
    assert reverse("dossier:detail", args=[world.pk]) in body
    assert reverse("dossier:detail", args=[other.pk]) not in body
    # Another provider holds none of them.
    client.force_login(_user(provider_b))
    assert not client.get(reverse("provider:consent_list")).context["active"]


# --- The PDF respects the same access ------------------------------------------------------------------------------


def _pdf_text(doc):
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(plaintext_file(doc)), "-"], check=True, capture_output=True, text=True
    ).stdout
    return re.sub(r"\s+", "", text)


def test_the_pdf_under_consent_holds_the_shared_parts_and_no_other_contract(
    client, world, staff, provider_c, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    consent = _grant(world, staff, provider_c, scope=[ConsentScope.SURVEYS])
    client.force_login(_user(provider_c))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("dossier:pdf", args=[world.pk]))
    job = BackgroundJob.objects.get(pk=response["Location"].rstrip("/").rsplit("/", 1)[-1])
    assert job.status == BackgroundJob.Status.DONE, job.error
    assert job.result["access"] == DOSSIER_CONSENTED
    text = _pdf_text(job.document)
    assert SURVEY_SECRET in text
    assert f"同意书第{consent.pk}号" in text
    assert "TS-B-7001" not in text and "乙项目" not in text and DIAGNOSIS_B not in text and PHONE not in text


def test_a_consent_revoked_while_the_pdf_waits_means_no_pdf(
    client, world, staff, provider_c, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    consent = _grant(world, staff, provider_c)
    client.force_login(_user(provider_c))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("dossier:pdf", args=[world.pk]))
    assert response.status_code == 302
    services.consent_revoke(consent=consent, by=staff)
    for callback in callbacks:
        callback()
    job = BackgroundJob.objects.get()
    assert job.status == BackgroundJob.Status.FAILED and job.document is None


def test_contract_statuses_still_decide_without_consent(world, provider_c):
    """A draft or terminated contract gives nothing, consent or not (unchanged rule)."""
    SignedContractFactory(enterprise=world, provider=provider_c, status=ContractStatus.TERMINATED)
    assert dossier_access(_user(provider_c), world) is None
