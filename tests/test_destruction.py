"""Art 10(1) "结束服务及时安全销毁": the destruction of an enterprise's personal data and confidential content at the
end of its pilot service (dossiers.services), with four eyes, all or nothing, once, and a record that proves it.

Guards: what destruction_execute removes (rows' personal values, diagnosis and survey texts, the attached files on
disk, consents) and what it keeps (contracts, issued documents, the audit log); the manifest and its SHA-256 (in the
record and in the audit chain); the precondition (no active contract, the retention period); the four-eyes rule;
atomicity; idempotence (the background task after the page); the admin pages; and, on PostgreSQL, two approvals
or executions at the same moment."""

import hashlib
import json
import threading
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.urls import reverse

from dossiers import services, tasks
from dossiers.models import (
    ConsentScope,
    DestructionRecord,
    DestructionRequest,
    DestructionStatus,
    DossierConsent,
)
from enterprises.models import (
    ContractStatus,
    DiagnosisFinding,
    DiagnosisReport,
    DossierSurvey,
    PilotEnterprise,
    ServiceContract,
    TrainingAttendance,
)
from tangshan_portal.models import Attachment, AuditEvent, IssuedDocument, User
from tangshan_portal.roles import Role
from tangshan_portal.services import attachment_store
from tests.factories import PilotEnterpriseFactory, ProviderFactory, UserFactory
from tests.factories_contracts import pdf
from tests.factories_dossier import (
    DiagnosisFindingFactory,
    DiagnosisReportFactory,
    DossierSurveyFactory,
    SignedContractFactory,
    TrainingAttendanceFactory,
)
from tests.factories_matrix import issued_document

SHANGHAI = ZoneInfo("Asia/Shanghai")
BEFORE = datetime(2026, 10, 10, 10, 0, tzinfo=SHANGHAI)  # the service has ended (contract end 2026-09-30)
AFTER = datetime(2026, 10, 20, 10, 0, tzinfo=SHANGHAI)
PHONE = "13812345678"
STAFF_PHONE = "13987654321"
SUMMARY = "企业设备联网率低，核心工艺参数依赖老师傅经验"
FINDING = "冲压线节拍与模具寿命数据"
SURVEY = "热处理工艺曲线与三家合金供应商年采购价"
ATTENDEES = "王小明、李四"
FILE_CONTENT = b"%PDF-1.4\n% diagnosis evidence of the enterprise\n%%EOF\n"


def at(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture(autouse=True)
def _eager(settings):
    # The approval queues the background task after commit; here it runs in the test, not in a broker.
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture
def approver2(db):
    return UserFactory(role=Role.APPROVER, username="approver_b")


@pytest.fixture
def ended(db, officer, settings, tmp_path):
    """An enterprise whose pilot service ended, with everything destruction touches and everything it keeps."""
    settings.MEDIA_ROOT = tmp_path / "media"
    with at(BEFORE):
        enterprise = PilotEnterpriseFactory(name="唐山终结制造有限公司", contact_name="赵经理", contact_phone=PHONE)
        staff = UserFactory(role=Role.ENTERPRISE, organisation=enterprise.organisation, phone=STAFF_PHONE)
        provider = ProviderFactory()
        provider_user = UserFactory(role=Role.PROVIDER, organisation=provider.organisation, phone="13700000000")
        contract = SignedContractFactory(
            enterprise=enterprise, provider=provider, status=ContractStatus.ACCEPTED, amount=Decimal("300000.00")
        )
        report = DiagnosisReportFactory(enterprise=enterprise, provider=provider, summary=SUMMARY)
        DiagnosisFindingFactory(report=report, current_state=FINDING, recommendation="加装数据采集网关")
        evidence = attachment_store(
            target=report, uploaded=pdf("诊断证据.pdf", FILE_CONTENT), by=provider_user, purpose="diagnosis"
        )
        DossierSurveyFactory(contract=contract, production_process=SURVEY)
        TrainingAttendanceFactory(enterprise=enterprise, names=ATTENDEES)
        DossierConsent.objects.create(
            enterprise=enterprise,
            grantee=ProviderFactory(),
            purpose="方案",
            scope=[ConsentScope.SURVEYS],
            granted_by=staff,
            granted_at=BEFORE,
            valid_until=date(2026, 12, 31),
        )
        # Kept: the contract's own file (the NDA), the audit log. A dossier PDF keeps only its register row.
        nda = attachment_store(target=contract, uploaded=pdf("保密协议.pdf"), by=provider_user, purpose="nda")
        document = issued_document(target=enterprise, kind=IssuedDocument.Kind.DOSSIER, by=officer)
        AuditEvent.objects.create(action=AuditEvent.Action.DOSSIER_VIEW, actor=officer, actor_username="officer_a")
    return {
        "enterprise": enterprise,
        "staff": staff,
        "provider_user": provider_user,
        "contract": contract,
        "report": report,
        "evidence": evidence,
        "nda": nda,
        "document": document,
    }


def _storage():
    return Attachment._meta.get_field("file").storage


def _destroy(ended, officer, approver, django_capture_on_commit_callbacks):
    with at(AFTER):
        request = services.destruction_request(enterprise=ended["enterprise"], by=officer, reason="试点服务已验收结束")
        with django_capture_on_commit_callbacks(execute=True):
            services.destruction_approve(request=request, by=approver)
            record = services.destruction_execute(request_id=request.pk, by=approver)
    return request, record


# --- What is removed, what is kept, and the proof ---------------------------------------------------------------


@pytest.mark.django_db
def test_destruction_removes_personal_data_and_files_and_keeps_what_the_law_needs(
    ended, officer, approver, django_capture_on_commit_callbacks
):
    enterprise, evidence, nda = ended["enterprise"], ended["evidence"], ended["nda"]
    storage = _storage()
    assert storage.exists(evidence.file.name) and storage.exists(nda.file.name)
    events_before = set(AuditEvent.objects.values_list("pk", flat=True))

    request, record = _destroy(ended, officer, approver, django_capture_on_commit_callbacks)

    enterprise = PilotEnterprise.objects.get(pk=enterprise.pk)
    assert (enterprise.contact_name, enterprise.contact_phone) == ("", "")
    assert User.objects.get(pk=ended["staff"].pk).phone == ""
    assert User.objects.get(pk=ended["provider_user"].pk).phone == "13700000000"  # not the enterprise's
    assert DiagnosisReport.objects.get(pk=ended["report"].pk).summary == ""
    assert [(f.current_state, f.recommendation) for f in DiagnosisFinding.objects.all()] == [("", "")]
    survey = DossierSurvey.objects.get()
    assert (survey.production_process, survey.supply_chain, survey.intellectual_property) == ("", "", "")
    assert TrainingAttendance.objects.get().names == ""
    assert not DossierConsent.objects.exists()
    # The diagnosis file: row and stored file gone. The contract's NDA stays, on disk too.
    assert not Attachment.objects.filter(pk=evidence.pk).exists()
    assert not storage.exists(evidence.file.name)
    assert Attachment.objects.filter(pk=nda.pk).exists() and storage.exists(nda.file.name)
    # Kept: the enterprise's registry entry, its contract with the amount, every audit event, and the register row
    # of the dossier PDF with its hash; the PDF's file is a copy of the destroyed texts and goes.
    assert enterprise.name == "唐山终结制造有限公司"
    assert ServiceContract.objects.get(pk=ended["contract"].pk).amount == Decimal("300000.00")
    pdf_name = ended["document"].file.name
    document = IssuedDocument.objects.get(pk=ended["document"].pk)
    assert (document.file.name, document.sha256) == ("", ended["document"].sha256)
    assert not storage.exists(pdf_name)
    assert events_before <= set(AuditEvent.objects.values_list("pk", flat=True))

    # The record: who, when, on which ground, and a manifest whose SHA-256 matches, repeated in the audit chain.
    request.refresh_from_db()
    assert request.status == DestructionStatus.EXECUTED
    assert (record.requested_by, record.approved_by, record.executed_by) == (officer, approver, approver)
    assert record.legal_ground == services.ART_10_1_DESTRUCTION
    assert record.enterprise_uscc == enterprise.uscc
    canonical = json.dumps(record.manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    assert hashlib.sha256(canonical.encode()).hexdigest() == record.manifest_sha256
    stored = DestructionRecord.objects.get(pk=record.pk)
    assert services.manifest_digest(stored.manifest) == stored.manifest_sha256
    counts = {entry["category"]: entry["rows"] for entry in record.manifest["categories"]}
    assert counts == {
        "enterprise_contact": 1,
        "enterprise_staff_phones": 1,
        "diagnosis_summaries": 1,
        "diagnosis_findings": 1,
        "dossier_surveys": 1,
        "training_attendee_names": 1,
        "attachments": 1,
        "dossier_pdfs": 1,
        "consents": 1,
    }
    assert record.manifest["files"] == [
        {
            "attachment": evidence.pk,
            "purpose": "diagnosis",
            "sha256": evidence.sha256,
            "size": len(FILE_CONTENT),
            "storage_name": evidence.file.name,
            "file_removed": True,
        },
        {
            "issued_document": ended["document"].pk,
            "purpose": "dossier",
            "sha256": ended["document"].sha256,
            "size": ended["document"].size,
            "storage_name": pdf_name,
            "file_removed": True,
        },
    ]
    # The proof holds no content.
    text = json.dumps(record.manifest, ensure_ascii=False)
    for secret in (PHONE, STAFF_PHONE, SUMMARY, FINDING, SURVEY, ATTENDEES, "赵经理", "诊断证据"):
        assert secret not in text
    event = AuditEvent.objects.get(action=AuditEvent.Action.DATA_DESTROYED)
    assert (event.actor, event.object_type, event.object_id) == (approver, "dossiers.DestructionRecord", str(record.pk))
    assert event.detail["manifest_sha256"] == record.manifest_sha256
    assert event.detail["counts"] == counts


@pytest.mark.django_db
def test_a_destroyed_dossier_pdf_still_verifies_but_is_no_longer_handed_out(
    ended, officer, approver, client, django_capture_on_commit_callbacks
):
    notice = issued_document(target=ended["enterprise"], kind=IssuedDocument.Kind.RECTIFICATION_NOTICE, by=officer)
    code = ended["document"].verification_code
    client.force_login(officer)
    assert client.get(reverse("document_download", args=[code])).status_code == 200

    _destroy(ended, officer, approver, django_capture_on_commit_callbacks)

    client.force_login(officer)
    assert client.get(reverse("document_download", args=[code])).status_code == 404
    assert client.get(reverse("verify_document", args=[code])).status_code == 200
    # Not a copy of the destroyed data: a decision about the enterprise keeps its file.
    assert client.get(reverse("document_download", args=[notice.verification_code])).status_code == 200


@pytest.mark.django_db
def test_a_file_another_record_still_uses_is_kept(ended, officer, approver, django_capture_on_commit_callbacks):
    evidence = ended["evidence"]
    twin = Attachment.objects.create(
        content_type=evidence.content_type,
        object_id=ended["contract"].pk + 100000,
        file=evidence.file.name,
        original_name="同一文件.pdf",
        mime_type=evidence.mime_type,
        size=evidence.size,
        sha256=evidence.sha256,
        uploaded_by=evidence.uploaded_by,
        uploaded_at=evidence.uploaded_at,
    )
    _request, record = _destroy(ended, officer, approver, django_capture_on_commit_callbacks)
    assert record.manifest["files"][0]["file_removed"] is False
    assert _storage().exists(twin.file.name)


@pytest.mark.django_db
def test_the_record_is_never_changed_or_deleted(ended, officer, approver, django_capture_on_commit_callbacks):
    _request, record = _destroy(ended, officer, approver, django_capture_on_commit_callbacks)
    record.legal_ground = "改写"
    with pytest.raises(PermissionError):
        record.save()
    with pytest.raises(PermissionError):
        record.delete()
    with pytest.raises(PermissionError):
        DestructionRecord.objects.update(manifest_sha256="0" * 64)
    with pytest.raises(PermissionError):
        DestructionRecord.objects.all().delete()


# --- When and by whom -------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "status", [ContractStatus.SIGNED, ContractStatus.IN_PROGRESS, ContractStatus.INTERNALLY_ACCEPTED]
)
def test_destruction_is_refused_while_a_contract_is_active(ended, officer, status):
    ServiceContract.objects.filter(pk=ended["contract"].pk).update(status=status)
    with at(AFTER), pytest.raises(services.DestructionError) as error:
        services.destruction_request(enterprise=ended["enterprise"], by=officer)
    assert ended["contract"].number in str(error.value)
    assert not DestructionRequest.objects.exists()


@pytest.mark.django_db
def test_a_contract_sent_for_signing_also_blocks(ended, officer):
    SignedContractFactory(
        enterprise=ended["enterprise"], status=ContractStatus.DRAFT, signed_on=None, number="TS-DRAFT-1"
    )
    with at(AFTER), pytest.raises(services.DestructionError):
        services.destruction_request(enterprise=ended["enterprise"], by=officer)


@pytest.mark.django_db
def test_a_contract_signed_after_the_request_stops_the_approval_and_nothing_is_removed(
    ended, officer, approver, django_capture_on_commit_callbacks
):
    with at(AFTER):
        request = services.destruction_request(enterprise=ended["enterprise"], by=officer)
        SignedContractFactory(enterprise=ended["enterprise"], status=ContractStatus.SIGNED)
        with pytest.raises(services.DestructionError):
            services.destruction_approve(request=request, by=approver)
    request.refresh_from_db()
    assert request.status == DestructionStatus.REQUESTED
    assert PilotEnterprise.objects.get(pk=ended["enterprise"].pk).contact_phone == PHONE


@pytest.mark.django_db
def test_the_retention_period_counts_from_the_end_of_service(ended, officer, settings):
    settings.PORTAL_DESTRUCTION_RETENTION_DAYS = 30
    # Accepted without a state log (the factory), so it counts from its last change: 2026-10-10, later than its end
    # date (2026-09-30).
    assert services.service_ended_on(ended["enterprise"]) == date(2026, 10, 10)
    with at(datetime(2026, 11, 8, 12, tzinfo=SHANGHAI)), pytest.raises(services.DestructionError) as error:
        services.destruction_request(enterprise=ended["enterprise"], by=officer)
    assert "2026-11-09" in str(error.value)
    with at(datetime(2026, 11, 9, 9, tzinfo=SHANGHAI)):
        assert services.destruction_request(enterprise=ended["enterprise"], by=officer).pk


@pytest.mark.django_db
def test_the_requester_may_not_approve_their_own_request(ended, officer, client):
    # An officer who also holds the approver role: the four-eyes rule, not the role, refuses.
    officer.groups.add(Group.objects.get(name=Role.APPROVER))
    officer = User.objects.get(pk=officer.pk)
    assert officer.has_perm("dossiers.approve_destruction")
    with at(AFTER):
        request = services.destruction_request(enterprise=ended["enterprise"], by=officer)
        with pytest.raises(PermissionDenied):
            services.destruction_approve(request=request, by=officer)
        client.force_login(officer)
        url = reverse("admin:dossiers_destructionrequest_act", args=[request.pk, "approve"])
        page = client.get(url)
        assert page.status_code == 403
        assert "four eyes" in page.content.decode() or "双人" in page.content.decode()
        assert client.post(url, {"confirm": "on"}).status_code == 403
    request.refresh_from_db()
    assert request.status == DestructionStatus.REQUESTED
    assert not DestructionRecord.objects.exists()


@pytest.mark.django_db
def test_only_officers_request_and_only_approvers_approve(ended, officer, approver):
    auditor = UserFactory(role=Role.AUDITOR)
    with at(AFTER):
        for user in (approver, auditor, ended["staff"]):
            with pytest.raises(PermissionDenied):
                services.destruction_request(enterprise=ended["enterprise"], by=user)
        request = services.destruction_request(enterprise=ended["enterprise"], by=officer)
        for user in (auditor, UserFactory(role=Role.OFFICER)):
            with pytest.raises(PermissionDenied):
                services.destruction_approve(request=request, by=user)
        with pytest.raises(services.DestructionError):
            services.destruction_request(enterprise=ended["enterprise"], by=officer)  # one open request


@pytest.mark.django_db
def test_a_rejected_request_destroys_nothing(ended, officer, approver):
    with at(AFTER):
        request = services.destruction_request(enterprise=ended["enterprise"], by=officer)
        with pytest.raises(services.DestructionError):
            services.destruction_reject(request=request, by=approver, note=" ")
        services.destruction_reject(request=request, by=approver, note="企业仍在申诉期")
        with pytest.raises(services.DestructionError):
            services.destruction_execute(request_id=request.pk, by=approver)
    assert DestructionRequest.objects.get().status == DestructionStatus.REJECTED
    assert PilotEnterprise.objects.get(pk=ended["enterprise"].pk).contact_phone == PHONE


# --- All or nothing, and once --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_failure_during_execution_leaves_everything_in_place(
    ended, officer, approver, monkeypatch, django_capture_on_commit_callbacks
):
    with at(AFTER):
        request = services.destruction_request(enterprise=ended["enterprise"], by=officer)
        services.destruction_approve(request=request, by=approver)

        def broken(manifest):
            raise RuntimeError("disk full")

        monkeypatch.setattr(services, "manifest_digest", broken)
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
            services.destruction_execute(request_id=request.pk, by=approver)
    assert PilotEnterprise.objects.get(pk=ended["enterprise"].pk).contact_phone == PHONE
    assert DiagnosisReport.objects.get().summary == SUMMARY
    assert DossierSurvey.objects.get().production_process == SURVEY
    assert DossierConsent.objects.count() == 1
    assert Attachment.objects.filter(pk=ended["evidence"].pk).exists()
    assert _storage().exists(ended["evidence"].file.name)
    assert DestructionRequest.objects.get().status == DestructionStatus.APPROVED
    assert not DestructionRecord.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DATA_DESTROYED).exists()


@pytest.mark.django_db
def test_the_background_task_carries_out_an_approved_request_once(
    ended, officer, approver, django_capture_on_commit_callbacks
):
    with at(AFTER):
        request = services.destruction_request(enterprise=ended["enterprise"], by=officer)
        services.destruction_approve(request=request, by=approver)
        with django_capture_on_commit_callbacks(execute=True):
            first = tasks.execute_destruction(request.pk)
        with django_capture_on_commit_callbacks(execute=True):
            second = tasks.execute_destruction(request.pk)
        # The approval page's own run after the task finds it done too.
        third = services.destruction_execute(request_id=request.pk, by=approver)
    record = DestructionRecord.objects.get()
    assert first == second == {"record": record.pk, "manifest_sha256": record.manifest_sha256}
    assert third == record and record.executed_by is None
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DATA_DESTROYED).count() == 1
    event = AuditEvent.objects.get(action=AuditEvent.Action.DATA_DESTROYED)
    assert event.actor is None and event.actor_username == "dossiers.execute_destruction"
    assert not _storage().exists(ended["evidence"].file.name)


@pytest.mark.django_db
def test_the_approval_queues_the_task_after_commit(ended, officer, approver, django_capture_on_commit_callbacks):
    with at(AFTER):
        request = services.destruction_request(enterprise=ended["enterprise"], by=officer)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            services.destruction_approve(request=request, by=approver)
    assert len(callbacks) == 1
    assert DestructionRequest.objects.get().status == DestructionStatus.APPROVED


# --- The admin ------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_admin_request_approve_and_record_pages(
    ended, officer, approver, client, django_capture_on_commit_callbacks
):
    enterprise = ended["enterprise"]
    with at(AFTER):
        client.force_login(officer)
        add = reverse("admin:dossiers_destructionrequest_add")
        assert client.get(add).status_code == 200
        response = client.post(
            add, {"enterprise": enterprise.pk, "legal_ground": services.ART_10_1_DESTRUCTION, "reason": "服务结束"}
        )
        assert response.status_code == 302
        request = DestructionRequest.objects.get()
        assert request.requested_by == officer
        # The officer may not approve (no permission): no action offered, the action page refused.
        change = client.get(reverse("admin:dossiers_destructionrequest_change", args=[request.pk]))
        assert (
            reverse("admin:dossiers_destructionrequest_act", args=[request.pk, "approve"])
            not in change.content.decode()
        )
        act = reverse("admin:dossiers_destructionrequest_act", args=[request.pk, "approve"])
        assert client.get(act).status_code == 403

        client.force_login(approver)
        change = client.get(reverse("admin:dossiers_destructionrequest_change", args=[request.pk])).content.decode()
        assert act in change
        refused = client.post(act, {})  # the confirmation box is required
        assert refused.status_code == 200 and not DestructionRecord.objects.exists()
        with django_capture_on_commit_callbacks(execute=True):
            done = client.post(act, {"confirm": "on", "note": "核对无误"})
        record = DestructionRecord.objects.get()
        assert done.status_code == 302
        assert done["Location"] == reverse("admin:dossiers_destructionrecord_change", args=[record.pk])
        assert PilotEnterprise.objects.get(pk=enterprise.pk).contact_phone == ""

    auditor = UserFactory(role=Role.AUDITOR)
    client.force_login(auditor)
    page = client.get(reverse("admin:dossiers_destructionrecord_change", args=[record.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert record.manifest_sha256 in body and ended["evidence"].sha256 in body
    assert client.get(reverse("admin:dossiers_destructionrecord_changelist")).status_code == 200
    assert client.post(reverse("admin:dossiers_destructionrecord_change", args=[record.pk]), {}).status_code == 403
    # The enterprise's dossier says what happened.
    client.force_login(officer)
    dossier = client.get(reverse("dossier:detail", args=[enterprise.pk])).content.decode()
    assert f"#{record.pk}" in dossier and SURVEY not in dossier and SUMMARY not in dossier


# --- Concurrency on PostgreSQL ------------------------------------------------------------------------------------


def _in_threads(n, target):
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        try:
            barrier.wait()
            results[i] = ("ok", target(i))
        except Exception as exc:
            results[i] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_approvals_and_executions_at_once_destroy_once(ended, officer, approver, approver2):
    with at(AFTER):
        request = services.destruction_request(enterprise=ended["enterprise"], by=officer)
        approvers = [approver, approver2]
        approved = _in_threads(2, lambda i: services.destruction_approve(request=request, by=approvers[i]))
        assert sorted(kind for kind, _value in approved) == ["error", "ok"], approved
        error = next(value for kind, value in approved if kind == "error")
        assert isinstance(error, services.DestructionError)
        executed = _in_threads(3, lambda i: services.destruction_execute(request_id=request.pk, by=approvers[i % 2]).pk)
    assert [kind for kind, _value in executed] == ["ok", "ok", "ok"], executed
    assert len({value for _kind, value in executed}) == 1
    assert DestructionRecord.objects.count() == 1
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DATA_DESTROYED).count() == 1
    assert DestructionRequest.objects.get().status == DestructionStatus.EXECUTED
