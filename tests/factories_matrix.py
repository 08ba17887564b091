"""A two-sided world for the authorization tests (issue 8, item 2): every record a URL can point at exists once
on side A and once on side B, and there is a user of every role.

Side A is what the role × URL matrix requests (the matrix users act for side A: enterprise A, provider A,
county A's bureau, institution A); side B belongs to other organisations of the same roles, whose users must
get 404 for every side-A record (tests/test_object_isolation.py).
"""

import hashlib
import secrets
import tempfile
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask, SolarSchedule
from django_celery_results.models import GroupResult, TaskResult
from rest_framework.authtoken.models import Token

from complaints.models import Appeal, AppealType, ComplaintStatus
from dossiers import services as dossier_services
from dossiers.models import ConsentScope, DossierConsent
from enterprises.models import (
    ChangeRequest,
    ContractStatus,
    CooperationIntention,
    DiagnosisReport,
    EventAttendance,
    Milestone,
    ProcurementItem,
    ProgressReport,
)
from evaluations.models import (
    BlacklistEntry,
    ExcellentBatch,
    Inspection,
    LevelStandard,
    RevocationCase,
    RevocationStatus,
    SatisfactionRating,
    SurveyItem,
)
from providers.models import ProductPriceChange, ProviderStatus, RegistrationChange
from tangshan_portal.models import (
    AuditCheckpoint,
    AuditEvent,
    AuthenticatorDevice,
    BackgroundJob,
    County,
    IssuedDocument,
    Notification,
    Organisation,
    Scenario,
    WorkCalendarDay,
)
from tangshan_portal.roles import Role
from tangshan_portal.services import attachment_store
from tests.factories import (
    OrganisationFactory,
    PilotEnterpriseFactory,
    ProviderFactory,
    ServiceContractFactory,
    UserFactory,
)
from tests.factories_api import complaint, rating, rectification_case
from tests.factories_contracts import PLAN, pdf
from tests.factories_dossier import DossierSurveyFactory, LevelAssessmentFactory
from tests.factories_levels import AssignmentFactory, InstitutionFactory, open_assessment, scored
from tests.factories_outreach import (
    CooperationIntentionFactory,
    DiagnosisFindingFactory,
    DiagnosisReportFactory,
    MatchmakingEventFactory,
    TrainingAttendanceFactory,
    TrainingSessionFactory,
)
from tests.factories_providers import ProductFactory, submit_application
from tests.factories_public import announcement, blacklist_entry, excellent_batch

PDF_BYTES = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def _attach(target, by, name="附件.pdf", purpose=""):
    return attachment_store(target=target, uploaded=pdf(name), by=by, purpose=purpose)


def issued_document(*, target, recipients=(), kind=IssuedDocument.Kind.RECTIFICATION_NOTICE, by=None):
    """A register row with a stored PDF, written directly (the documents' own tests issue them through the
    services; access only reads the row and the file)."""
    body = PDF_BYTES + secrets.token_hex(8).encode()
    doc = IssuedDocument(
        kind=kind,
        title=f"{IssuedDocument.Kind(kind).label}（测试）",
        verification_code=secrets.token_hex(16),
        sha256=hashlib.sha256(body).hexdigest(),
        pages=1,
        size=len(body),
        content_type=ContentType.objects.get_for_model(target),
        object_id=target.pk,
        issued_by=by,
        issued_at=timezone.now(),
        authority=settings.PORTAL_AUTHORITY_NAME,
    )
    doc.file.save(f"{doc.verification_code}.pdf", ContentFile(body), save=False)
    doc.save()
    doc.recipients.set(recipients)
    return doc


def _side(tag, county, bureau_officer):
    """The records of one side: an enterprise, a provider and an institution of `county`, their users, and
    every record a URL of the portal can name."""
    s = SimpleNamespace(tag=tag, county=county)
    s.provider = ProviderFactory(county=county, name=f"矩阵{tag}数字科技有限公司")
    s.enterprise = PilotEnterpriseFactory(county=county, name=f"矩阵{tag}制造有限公司")
    s.institution = InstitutionFactory(name=f"矩阵{tag}评测机构")
    s.county_bureau = OrganisationFactory(
        kind=Organisation.Kind.COUNTY_BUREAU, county=county, name=f"{county.name}工信局"
    )

    s.provider_user = UserFactory(role=Role.PROVIDER, organisation=s.provider.organisation, username=f"prov_{tag}")
    s.enterprise_user = UserFactory(role=Role.ENTERPRISE, organisation=s.enterprise.organisation, username=f"ent_{tag}")
    s.county_user = UserFactory(role=Role.COUNTY, organisation=s.county_bureau, username=f"county_{tag}")
    s.assessor = UserFactory(role=Role.ASSESSOR, organisation=s.institution, username=f"assessor_{tag}")
    s.assignment = AssignmentFactory(institution=s.institution, enterprise=s.enterprise, assigned_by=bureau_officer)
    _attach(s.assignment, bureau_officer, "委托书.pdf")

    # A company that applied to the pool and is not admitted: the applicant's pages.
    s.application = submit_application(username=f"applicant_{tag}", name=f"矩阵{tag}申请科技有限公司")
    s.applicant = s.application.applicant

    # The contract in implementation, with what the parties attach and answer to.
    s.contract = ServiceContractFactory(
        provider=s.provider,
        enterprise=s.enterprise,
        status=ContractStatus.IN_PROGRESS,
        signed_on=date(2026, 2, 20),
        submitted_at=timezone.now(),
        nda_signed_on=date(2026, 2, 20),
        number=f"MATRIX-{tag}-1",
        **PLAN,
    )
    s.contract_file = _attach(s.contract, s.provider_user, "保密协议.pdf", purpose="nda")
    s.milestone = Milestone.objects.create(
        contract=s.contract, name="设备联网", planned_on=date(2026, 5, 31), weight=100
    )
    s.progress = ProgressReport.objects.create(
        contract=s.contract,
        milestone=s.milestone,
        progress=40,
        summary="完成设备联网调试。",
        submitted_by=s.provider_user,
        submitted_at=timezone.now(),
    )
    s.change = ChangeRequest.objects.create(
        contract=s.contract,
        description="延长工期一个月。",
        reason="设备到货延迟。",
        new_end_on=date(2026, 10, 31),
        proposed_by=s.provider_user,
        proposed_at=timezone.now(),
    )
    # A draft the provider is still writing: the edit pages of the contract, its milestones and items.
    s.draft = ServiceContractFactory(
        provider=s.provider, enterprise=s.enterprise, status=ContractStatus.DRAFT, number=f"MATRIX-{tag}-2", **PLAN
    )
    s.draft_milestone = Milestone.objects.create(
        contract=s.draft, name="系统上线", planned_on=date(2026, 9, 15), weight=100
    )
    s.draft_item = ProcurementItem.objects.create(
        contract=s.draft,
        name="MES 系统",
        function="生产计划与执行管理",
        purpose="计划调度数字化",
        quantity=Decimal("1"),
        unit="套",
        unit_price=Decimal("120000.00"),
        reference_price=Decimal("110000.00"),
    )

    # Supervision: a warned case with evidence, a proposed revocation, an inspection, a rating, a complaint
    # the bureau accepted, and the provider's appeal against the case.
    s.case = rectification_case(s.provider, by=bureau_officer, contract=s.contract)
    s.case_file = _attach(s.case, bureau_officer, "检查记录.pdf")
    now = timezone.now()
    s.revocation = RevocationCase.objects.create(
        provider=s.provider,
        ground=4,
        finding="向第三方泄露试点企业生产工艺数据。",
        source=RevocationCase.Source.OFFICER,
        proposed_by=bureau_officer,
        status=RevocationStatus.PROPOSED,
        proposed_at=now,
        statement_due_at=now + timedelta(days=5),
    )
    s.revocation_file = _attach(s.revocation, bureau_officer, "证据.pdf")
    s.inspection = Inspection.objects.create(
        kind=Inspection.Kind.SITE_VISIT,
        provider=s.provider,
        contract=s.contract,
        conducted_on=date(2026, 4, 1),
        findings="现场核查发现服务团队未到岗。",
        issues_found=True,
        conducted_by=bureau_officer,
    )
    s.inspection_file = _attach(s.inspection, bureau_officer, "核查记录.pdf")
    s.rating = rating(s.contract, by=s.enterprise_user, overall=SatisfactionRating.Overall.DISSATISFIED)
    s.complaint = complaint(s.contract, by=s.enterprise_user, status=ComplaintStatus.ACCEPTED)
    s.complaint_file = _attach(s.complaint, s.enterprise_user, "投诉材料.pdf")
    s.appeal = Appeal.objects.create(
        provider=s.provider,
        appeal_type=AppealType.OTHER,
        content_type=ContentType.objects.get_for_model(s.case),
        object_id=s.case.pk,
        grounds="整改事由与事实不符。",
        filed_by=s.provider_user,
        filed_at=now,
    )
    s.appeal_file = _attach(s.appeal, s.provider_user, "申诉材料.pdf")

    # The provider registry: a reported registration change with evidence, a product with a price change.
    s.registration = RegistrationChange.objects.create(
        provider=s.provider,
        field="address",
        old_value="唐山市路北区建设北路1号",
        new_value="唐山市路南区新华道2号",
        changed_on=date(2026, 3, 2),
        source=RegistrationChange.Source.PROVIDER,
        status=RegistrationChange.Status.REPORTED,
        recorded_by=s.provider_user,
        recorded_at=now,
    )
    s.registration_file = _attach(s.registration, s.provider_user, "变更证明.pdf")
    s.product = ProductFactory(provider=s.provider)
    s.price_change = ProductPriceChange.objects.create(
        product=s.product,
        old_price=Decimal("100.00"),
        new_price=Decimal("120.00"),
        change_ratio=Decimal("0.2000"),
        changed_by=s.provider_user,
        changed_at=now,
    )

    # Outreach: a submitted diagnosis with a finding and a file, a draft one (its findings are editable), a
    # dossier survey, a matchmaking event the provider attended with an intention, a training with a file.
    s.diagnosis = DiagnosisReportFactory(
        provider=s.provider,
        enterprise=s.enterprise,
        status=DiagnosisReport.Status.SUBMITTED,
        submitted_at=now,
        created_by=s.provider_user,
    )
    DiagnosisFindingFactory(report=s.diagnosis)
    s.diagnosis_file = _attach(s.diagnosis, s.provider_user, "诊断报告.pdf")
    s.diagnosis_draft = DiagnosisReportFactory(provider=s.provider, enterprise=s.enterprise, created_by=s.provider_user)
    s.draft_finding = DiagnosisFindingFactory(report=s.diagnosis_draft)
    s.dossier_survey = DossierSurveyFactory(contract=s.contract, created_by=s.provider_user)
    s.event = MatchmakingEventFactory(county=county, created_by=s.county_user)
    EventAttendance.objects.create(
        event=s.event, provider=s.provider, attended=True, registered_by=s.county_user, registered_at=now
    )
    s.intention = CooperationIntentionFactory(
        event=s.event,
        provider=s.provider,
        enterprise=s.enterprise,
        status=CooperationIntention.Status.PROPOSED,
        proposed_by=s.provider_user,
    )
    s.training = TrainingSessionFactory(provider=s.provider, county=county, created_by=s.provider_user)
    TrainingAttendanceFactory(session=s.training, enterprise=s.enterprise)
    s.training_file = _attach(s.training, s.provider_user, "培训讲义.pdf")

    # Levels: a final baseline assessment by the side's institution.
    s.assessment = LevelAssessmentFactory(
        enterprise=s.enterprise,
        institution=s.institution,
        standard=LevelStandard.objects.get(is_current=True),
        created_by=s.assessor,
    )
    _attach(s.assessment, s.assessor, "评测记录.pdf")
    # A draft the assessor is still scoring: the score sheet and the finalise action are open on it.
    s.assessment_draft = scored(open_assessment(s.assessor, s.enterprise), s.assessor, 30, 1)

    # What is personal to one user or organisation: an issued notice addressed to the provider, the
    # enterprise user's dossier PDF job and a notification.
    s.document = issued_document(target=s.case, recipients=[s.provider.organisation], by=bureau_officer)
    s.job = BackgroundJob.objects.create(
        kind=BackgroundJob.Kind.DOSSIER_PDF,
        status=BackgroundJob.Status.DONE,
        params={"enterprise": s.enterprise.pk},
        requested_by=s.enterprise_user,
        finished_at=now,
    )
    # The enterprise's written consent to share its dossier with a provider that has no contract with it (Art
    # 10(1)): a third provider of the side, so that the other side's provider stays without access.
    s.consent_grantee = ProviderFactory(county=county, name=f"矩阵{tag}受托数字科技有限公司")
    s.consent = DossierConsent.objects.create(
        enterprise=s.enterprise,
        grantee=s.consent_grantee,
        purpose="准备合作方案",
        scope=[ConsentScope.LEVELS, ConsentScope.DIAGNOSES],
        granted_by=s.enterprise_user,
        granted_at=now,
        valid_until=timezone.localdate() + timedelta(days=30),
    )
    s.notification = Notification.objects.create(
        recipient_user=s.enterprise_user,
        kind="matrix",
        subject="测试通知",
        body="测试通知正文",
        link="/enterprise/",
        dedup_key=f"matrix-{tag}",
    )
    return s


def build_world():
    """Both sides, the bureau's staff, the public records and one row of every model the admin lists."""
    county_a, county_b = County.objects.order_by("code")[:2]
    w = SimpleNamespace()
    w.bureau = OrganisationFactory(kind=Organisation.Kind.BUREAU, name="矩阵市工业和信息化局")
    w.officer = UserFactory(role=Role.OFFICER, organisation=w.bureau, username="matrix_officer")
    w.approver = UserFactory(role=Role.APPROVER, organisation=w.bureau, username="matrix_approver")
    w.auditor = UserFactory(role=Role.AUDITOR, organisation=w.bureau, username="matrix_auditor")
    w.sysadmin = UserFactory(role=Role.SYSADMIN, organisation=w.bureau, username="matrix_sysadmin")
    w.secadmin = UserFactory(role=Role.SECADMIN, organisation=w.bureau, username="matrix_secadmin")

    w.a = _side("A", county_a, w.officer)
    w.b = _side("B", county_b, w.officer)

    # Public records: a published blacklist entry with its announcement, a removed one, a published
    # excellent batch and announcement.
    w.blacklist = blacklist_entry(
        provider=ProviderFactory(status=ProviderStatus.REVOKED, name="矩阵黑名单科技有限公司")
    )
    w.blacklist_removed = blacklist_entry(status=BlacklistEntry.Status.REMOVED)
    w.public_document = issued_document(
        target=w.blacklist, kind=IssuedDocument.Kind.BLACKLIST_ANNOUNCEMENT, by=w.approver
    )
    w.excellent = excellent_batch(
        providers=[w.a.provider, w.b.provider], status=ExcellentBatch.Status.PUBLISHED, by=w.approver
    )
    w.excellent_draft = excellent_batch(providers=[w.a.provider], name="矩阵草稿优秀服务商名单")
    w.announcement = announcement(created_by=w.officer)
    w.announcement_draft = announcement(title="矩阵草稿公告", state="draft", created_by=w.officer)

    # Rows the admin lists that no side owns.
    w.survey_item = SurveyItem.objects.order_by("pk").first()
    w.audit_event = AuditEvent.objects.create(action=AuditEvent.Action.EXPORT, actor_username="matrix")
    w.audit_checkpoint = AuditCheckpoint.objects.create(
        last_sequence=0, last_id=0, last_hash="0" * 64, cutoff=w.audit_event.at, retention_days=365, events=0
    )
    w.calendar_day = WorkCalendarDay.objects.order_by("pk").first()
    w.periodic_task = PeriodicTask.objects.order_by("pk").first()
    w.crontab = CrontabSchedule.objects.order_by("pk").first() or CrontabSchedule.objects.create(minute="0")
    w.interval = IntervalSchedule.objects.create(every=10, period=IntervalSchedule.MINUTES)
    w.clocked = ClockedSchedule.objects.create(clocked_time=timezone.now())
    w.solar = SolarSchedule.objects.create(event="sunrise", latitude=Decimal("39.63"), longitude=Decimal("118.18"))
    w.task_result = TaskResult.objects.create(task_id="matrix-task", status="SUCCESS")
    w.group_result = GroupResult.objects.create(group_id="matrix-group")
    w.token = Token.objects.create(user=w.a.provider_user)
    # The officer's authenticator (the test client's logins reuse it, tests/otp_helpers.py).
    w.otp_device = AuthenticatorDevice.objects.create(user=w.officer, name="matrix", confirmed=True)
    w.scenario = Scenario.objects.order_by("pk").first()
    w.level_standard = LevelStandard.objects.get(is_current=True)
    # Art 10(1) destruction: a request awaiting approval, and one carried out with its record (enterprises whose
    # service never started, so nothing stands in the way).
    w.destruction_request = dossier_services.destruction_request(
        enterprise=PilotEnterpriseFactory(county=county_a, name="矩阵待销毁制造有限公司"), by=w.officer
    )
    executed = dossier_services.destruction_request(
        enterprise=PilotEnterpriseFactory(county=county_a, name="矩阵已销毁制造有限公司"), by=w.officer
    )
    dossier_services.destruction_approve(request=executed, by=w.approver)
    w.destruction_record = dossier_services.destruction_execute(request_id=executed.pk, by=w.approver)

    w.users = {
        "enterprise": w.a.enterprise_user,
        "provider": w.a.provider_user,
        "applicant": w.a.applicant,
        "county": w.a.county_user,
        "officer": w.officer,
        "approver": w.approver,
        "assessor": w.a.assessor,
        "auditor": w.auditor,
        "sysadmin": w.sysadmin,
        "secadmin": w.secadmin,
    }
    # Users of the same role acting for side B: every side-A record is another organisation's to them.
    w.other_users = {
        "enterprise": w.b.enterprise_user,
        "provider": w.b.provider_user,
        "applicant": w.b.applicant,
        "county": w.b.county_user,
        "assessor": w.b.assessor,
    }
    return w


# --- The object each parameterised URL names -------------------------------------------------------------
#
# For every URL pattern with parameters: (side, world) -> the URL's kwargs naming that side's record. The matrix
# requests side A's records as side-A users; the isolation tests request the same side-A URLs as side-B users.
# A list of kwargs means every one of them is requested (a pattern whose parameter is a closed set of values).

URL_KWARGS = {
    # Documents, jobs, notifications (personal to an organisation or a user).
    "verify_document": lambda s, w: {"code": s.document.verification_code},
    "verify_document_download": lambda s, w: {"code": w.public_document.verification_code},
    "document_download": lambda s, w: {"code": s.document.verification_code},
    "job_status": lambda s, w: {"pk": s.job.pk},
    "notification_read": lambda s, w: {"pk": s.notification.pk},
    # Provider self-service.
    "provider:case_detail": lambda s, w: {"pk": s.case.pk},
    "provider:case_attachment": lambda s, w: {"pk": s.case.pk, "attachment_pk": s.case_file.pk},
    "provider:revocation_detail": lambda s, w: {"pk": s.revocation.pk},
    "provider:complaint_detail": lambda s, w: {"pk": s.complaint.pk},
    "provider:appeal_detail": lambda s, w: {"pk": s.appeal.pk},
    "provider:application_withdraw": lambda s, w: {"pk": s.application.pk},
    "provider:application_attachment": lambda s, w: {
        "pk": s.application.pk,
        "attachment_pk": first_attachment(s.application).pk,
    },
    "provider:registration_attachment": lambda s, w: {"pk": s.registration.pk, "attachment_pk": s.registration_file.pk},
    "provider:product_edit": lambda s, w: {"pk": s.product.pk},
    "provider:contract_detail": lambda s, w: {"pk": s.contract.pk},
    "provider:contract_edit": lambda s, w: {"pk": s.draft.pk},
    "provider:contract_milestone_new": lambda s, w: {"pk": s.draft.pk},
    "provider:contract_milestone_edit": lambda s, w: {"pk": s.draft.pk, "milestone_pk": s.draft_milestone.pk},
    "provider:contract_milestone_delete": lambda s, w: {"pk": s.draft.pk, "milestone_pk": s.draft_milestone.pk},
    "provider:contract_item_new": lambda s, w: {"pk": s.draft.pk},
    "provider:contract_item_edit": lambda s, w: {"pk": s.draft.pk, "item_pk": s.draft_item.pk},
    "provider:contract_item_delete": lambda s, w: {"pk": s.draft.pk, "item_pk": s.draft_item.pk},
    "provider:contract_nda": lambda s, w: {"pk": s.draft.pk},
    "provider:contract_submit": lambda s, w: {"pk": s.draft.pk},
    "provider:contract_recall": lambda s, w: {"pk": s.draft.pk},
    "provider:contract_start": lambda s, w: {"pk": s.contract.pk},
    "provider:contract_progress_new": lambda s, w: {"pk": s.contract.pk},
    "provider:contract_change_new": lambda s, w: {"pk": s.contract.pk},
    "provider:contract_change_withdraw": lambda s, w: {"pk": s.contract.pk, "change_pk": s.change.pk},
    "provider:contract_acceptance_new": lambda s, w: {"pk": s.contract.pk},
    "provider:contract_attachment": lambda s, w: {"pk": s.contract.pk, "attachment_pk": s.contract_file.pk},
    "provider:diagnosis_detail": lambda s, w: {"pk": s.diagnosis.pk},
    "provider:diagnosis_finding_edit": lambda s, w: {"pk": s.diagnosis_draft.pk, "finding_pk": s.draft_finding.pk},
    "provider:diagnosis_attachment": lambda s, w: {"pk": s.diagnosis.pk, "attachment_pk": s.diagnosis_file.pk},
    "provider:dossier_survey_new": lambda s, w: {"contract_pk": s.contract.pk},
    "provider:dossier_survey_detail": lambda s, w: {"pk": s.dossier_survey.pk},
    "provider:dossier_survey_edit": lambda s, w: {"pk": s.dossier_survey.pk},
    "provider:event_register": lambda s, w: {"pk": s.event.pk},
    "provider:intention_new": lambda s, w: {"event_pk": s.event.pk},
    "provider:training_detail": lambda s, w: {"pk": s.training.pk},
    "provider:training_edit": lambda s, w: {"pk": s.training.pk},
    "provider:training_attachment": lambda s, w: {"pk": s.training.pk, "attachment_pk": s.training_file.pk},
    # Enterprise self-service.
    "enterprise:complaint_detail": lambda s, w: {"pk": s.complaint.pk},
    "enterprise:complaint_attachment": lambda s, w: {"pk": s.complaint.pk, "attachment_pk": s.complaint_file.pk},
    "enterprise:survey_detail": lambda s, w: {"contract_pk": s.contract.pk, "stage": s.rating.stage},
    "enterprise:contract_detail": lambda s, w: {"pk": s.contract.pk},
    "enterprise:contract_attachment": lambda s, w: {"pk": s.contract.pk, "attachment_pk": s.contract_file.pk},
    "enterprise:intention_answer": lambda s, w: {"pk": s.intention.pk},
    "enterprise:diagnosis_detail": lambda s, w: {"pk": s.diagnosis.pk},
    "enterprise:diagnosis_attachment": lambda s, w: {"pk": s.diagnosis.pk, "attachment_pk": s.diagnosis_file.pk},
    "enterprise:training_material": lambda s, w: {"session_pk": s.training.pk, "attachment_pk": s.training_file.pk},
    "enterprise:consent_revoke": lambda s, w: {"pk": s.consent.pk},
    # The dossier of one enterprise.
    "dossier:detail": lambda s, w: {"pk": s.enterprise.pk},
    "dossier:pdf": lambda s, w: {"pk": s.enterprise.pk},
    # Public records.
    "public:blacklist_detail": lambda s, w: {"pk": w.blacklist.pk},
    "public:provider_detail": lambda s, w: {"pk": s.provider.pk},
    "public:excellent_detail": lambda s, w: {"pk": w.excellent.pk},
    "public:announcement_detail": lambda s, w: {"pk": w.announcement.pk},
    "downloads:file": lambda s, w: [
        {"slug": slug, "fmt": fmt}
        for slug in ("blacklist", "blacklist-history", "providers")
        for fmt in ("csv", "xlsx", "json")
    ],
    # The API.
    "v1:blacklist-detail": lambda s, w: {"pk": w.blacklist.pk},
    "v1:provider-detail": lambda s, w: {"pk": s.provider.pk},
    "v1:excellent-batch-detail": lambda s, w: {"pk": w.excellent.pk},
    "v1:announcement-detail": lambda s, w: {"pk": w.announcement.pk},
    "v1:me-contract-detail": lambda s, w: {"pk": s.contract.pk},
    "v1:me-case-detail": lambda s, w: {"pk": s.case.pk},
    "v1:me-survey-detail": lambda s, w: {"pk": s.rating.pk},
    "v1:me-complaint-detail": lambda s, w: {"pk": s.complaint.pk},
}


def first_attachment(record):
    from tangshan_portal.services import attachments_of

    return attachments_of(record).order_by("pk").first()


# The record each admin's change, history and delete pages are requested for ("app_label.model" -> record).
ADMIN_OBJECTS = {
    "auth.group": lambda w: _group(Role.OFFICER),
    "portal.county": lambda w: w.a.county,
    "portal.scenario": lambda w: w.scenario,
    "portal.organisation": lambda w: w.a.provider.organisation,
    "portal.user": lambda w: w.a.provider_user,
    "portal.auditevent": lambda w: w.audit_event,
    "portal.auditcheckpoint": lambda w: w.audit_checkpoint,
    "portal.workcalendarday": lambda w: w.calendar_day,
    "portal.issueddocument": lambda w: w.a.document,
    "portal.backgroundjob": lambda w: w.a.job,
    "portal.announcement": lambda w: w.announcement,
    "portal.authenticatordevice": lambda w: w.otp_device,
    "providers.provider": lambda w: w.a.provider,
    "providers.providerapplication": lambda w: w.a.application,
    "providers.registrationchange": lambda w: w.a.registration,
    "providers.product": lambda w: w.a.product,
    "providers.productpricechange": lambda w: w.a.price_change,
    "enterprises.pilotenterprise": lambda w: w.a.enterprise,
    "enterprises.servicecontract": lambda w: w.a.contract,
    "enterprises.matchmakingevent": lambda w: w.a.event,
    "enterprises.trainingsession": lambda w: w.a.training,
    "enterprises.diagnosisreport": lambda w: w.a.diagnosis,
    "enterprises.dossiersurvey": lambda w: w.a.dossier_survey,
    "evaluations.rectificationcase": lambda w: w.a.case,
    "evaluations.revocationcase": lambda w: w.a.revocation,
    "evaluations.blacklistentry": lambda w: w.blacklist,
    "evaluations.satisfactionrating": lambda w: w.a.rating,
    "evaluations.inspection": lambda w: w.a.inspection,
    "evaluations.surveyitem": lambda w: w.survey_item,
    "evaluations.levelstandard": lambda w: w.level_standard,
    "evaluations.assessorassignment": lambda w: w.a.assignment,
    "evaluations.levelassessment": lambda w: w.a.assessment,
    "evaluations.excellentbatch": lambda w: w.excellent,
    "complaints.complaint": lambda w: w.a.complaint,
    "complaints.appeal": lambda w: w.a.appeal,
    "django_celery_beat.periodictask": lambda w: w.periodic_task,
    "django_celery_beat.crontabschedule": lambda w: w.crontab,
    "django_celery_beat.intervalschedule": lambda w: w.interval,
    "django_celery_beat.clockedschedule": lambda w: w.clocked,
    "django_celery_beat.solarschedule": lambda w: w.solar,
    "django_celery_results.taskresult": lambda w: w.task_result,
    "django_celery_results.groupresult": lambda w: w.group_result,
    "authtoken.tokenproxy": lambda w: w.token,
    "dossiers.destructionrequest": lambda w: w.destruction_request,
    "dossiers.destructionrecord": lambda w: w.destruction_record,
    "dossiers.dossierconsent": lambda w: w.a.consent,
}


def admin_object_id(label, w):
    obj = ADMIN_OBJECTS[label](w)
    # The token admin addresses a token by its user (rest_framework.authtoken.admin.TokenAdmin).
    return obj.user_id if label == "authtoken.tokenproxy" else obj.pk


def _group(role):
    from django.contrib.auth.models import Group

    return Group.objects.get(name=role.value)


# --- Fixtures shared by the authorization tests: import the three *_fixture functions into the test module ---------


@pytest.fixture(scope="module", name="matrix_media")
def matrix_media_fixture():
    with tempfile.TemporaryDirectory(prefix="matrix-media-") as folder:
        yield folder


@pytest.fixture(scope="module", name="world")
def world_fixture(django_db_setup, django_db_blocker, matrix_media):
    """One world for a whole test module, built once inside a transaction that is rolled back when the module
    ends; each test runs in a savepoint of it (pytest-django's `db`), so nothing leaks into other modules.
    The files go to a folder of the module's own, which `_media_root` keeps for every test of it."""
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=matrix_media):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture(autouse=True, name="_media_root")
def matrix_media_root_fixture(settings, matrix_media):
    # Replaces conftest's per-test media folder: the world's files must stay readable in every test.
    settings.MEDIA_ROOT = matrix_media
