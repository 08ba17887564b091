"""Two people acting on the same provider-path record at the same moment (PostgreSQL row locks): exactly one
succeeds, the other gets a clear refusal, and nothing is written twice."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django_fsm_log.models import StateLog

from enterprises import services as contract_services
from enterprises.models import ContractStatus, Milestone, ProgressReport
from providers import services as provider_services
from providers.models import ApplicationStatus, Provider, ProviderStatus
from tangshan_portal.roles import Role
from tests.enforcement import at, travel
from tests.factories import PilotEnterpriseFactory, ProviderFactory, UserFactory
from tests.factories_contracts import DraftContractFactory, enterprise_staff, provider_staff
from tests.factories_providers import submit_application
from tests.test_revocation import _in_threads, needs_postgresql

pytestmark = [needs_postgresql, pytest.mark.django_db(transaction=True)]


def test_the_officer_and_the_sweep_admitting_at_once_create_one_provider():
    officer = UserFactory(role=Role.OFFICER)
    with travel(at(2026, 6, 1)):
        application = submit_application()
        provider_services.application_start_notice(application=application, by=officer, opinion="材料齐全，同意公示")
    with travel(at(2026, 6, 15)):
        results = _in_threads(
            2,
            lambda i: (
                provider_services.application_admit(application=application, by=officer)
                if i == 0
                else provider_services.applications_admit_due()
            ),
        )
    (officer_kind, officer_value), (sweep_kind, sweep_value) = results
    assert sweep_kind == "ok", results
    if officer_kind == "ok":
        assert sweep_value == 0, "the sweep admitted an application the officer had already admitted"
    else:
        assert isinstance(officer_value, ValidationError), results
        assert sweep_value == 1
    application.refresh_from_db()
    assert application.status == ApplicationStatus.ADMITTED
    provider = Provider.objects.get(uscc=application.uscc)
    assert provider.status == ProviderStatus.IN_POOL
    assert application.provider_id == provider.pk
    admitted_logs = StateLog.objects.for_(application).filter(transition="admit")
    assert admitted_logs.count() == 1


def test_two_enterprise_users_acknowledging_one_report_count_it_once():
    provider = ProviderFactory()
    enterprise = PilotEnterpriseFactory()
    contract = DraftContractFactory(
        provider=provider, enterprise=enterprise, status=ContractStatus.IN_PROGRESS, start_on=date(2026, 3, 1)
    )
    milestone = Milestone.objects.create(contract=contract, name="设备联网", planned_on=date(2026, 9, 30), weight=100)
    with travel(at(2026, 6, 1)):
        report = contract_services.progress_report_submit(
            contract=contract, by=provider_staff(provider), milestone=milestone, progress=60, summary="完成60%设备联网"
        )
    users = [enterprise_staff(enterprise), enterprise_staff(enterprise)]
    with travel(at(2026, 6, 2)):
        results = _in_threads(
            2,
            lambda i: contract_services.progress_report_acknowledge(report=report, by=users[i], comment=f"确认{i}"),
        )
    kinds = sorted(kind for kind, _value in results)
    assert kinds == ["error", "ok"], results
    error = next(value for kind, value in results if kind == "error")
    assert isinstance(error, ValidationError)
    report = ProgressReport.objects.get(pk=report.pk)
    assert report.status == ProgressReport.Status.ACKNOWLEDGED
    winner = next(i for i, (kind, _value) in enumerate(results) if kind == "ok")
    assert report.responded_by_id == users[winner].pk
    milestone.refresh_from_db()
    assert milestone.reported_progress == 60


def test_a_change_request_agreed_by_two_users_at_once_is_applied_once():
    provider = ProviderFactory()
    enterprise = PilotEnterpriseFactory()
    contract = DraftContractFactory(
        provider=provider,
        enterprise=enterprise,
        status=ContractStatus.IN_PROGRESS,
        start_on=date(2026, 3, 1),
        end_on=date(2026, 12, 31),
    )
    with travel(at(2026, 6, 1)):
        request = contract_services.change_request_propose(
            contract=contract,
            by=provider_staff(provider),
            description="延长工期一个月",
            reason="设备到货延迟",
            new_end_on=date(2027, 1, 31),
        )
    users = [enterprise_staff(enterprise), enterprise_staff(enterprise)]
    with travel(at(2026, 6, 2)):
        results = _in_threads(
            2, lambda i: contract_services.change_request_decide(request=request, by=users[i], agree=True)
        )
    assert sorted(kind for kind, _value in results) == ["error", "ok"], results
    contract.refresh_from_db()
    assert contract.end_on == date(2027, 1, 31)
    request.refresh_from_db()
    assert request.previous_end_on == date(2026, 12, 31)
