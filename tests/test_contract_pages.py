"""The contract pages of both sides and the contract admin: the full walk from draft to internal acceptance with
the two accounts, errors on the forms, files, who may see what, and the "waiting for you" selectors."""

from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from enterprises import services
from enterprises.models import (
    ChangeRequest,
    ContractStatus,
    InternalAcceptance,
    Milestone,
    ProcurementItem,
    ProgressReport,
    ServiceContract,
)
from enterprises.selectors_contracts import enterprise_pending_actions, provider_pending_actions
from providers.models import ProviderStatus
from tangshan_portal.models import Attachment, AuditEvent, County, Notification, Organisation
from tangshan_portal.roles import Role
from tests.enforcement import at, travel
from tests.factories import PilotEnterpriseFactory, ProviderFactory, UserFactory
from tests.factories_contracts import (
    HTML,
    PLAN,
    ProductFactory,
    complete_draft,
    enterprise_staff,
    pdf,
    provider_staff,
)

pytestmark = pytest.mark.django_db

USCC = "914403001922038216"  # a valid test vector (DESIGN.md)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _client(user=None):
    client = Client()
    # The English msgids: stable whatever the translators later write for Chinese.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    if user is not None:
        client.force_login(user)
    return client


def _html(response):
    return response.content.decode()


def _p(name, *args):
    return reverse(f"provider:{name}", args=args)


def _e(name, *args):
    return reverse(f"enterprise:{name}", args=args)


@pytest.fixture
def enterprise():
    return PilotEnterpriseFactory(name="唐山精工机械有限公司", uscc=USCC)


@pytest.fixture
def e_client(enterprise):
    return _client(enterprise_staff(enterprise))


@pytest.fixture
def p_client(provider_user):
    return _client(provider_user)


def _new_contract_post(**overrides):
    data = {
        "enterprise_uscc": USCC,
        "number": "TS-2026-0101",
        "title": "设备联网与MES实施",
        "amount": "300000.00",
        "subsidy": "100000.00",
        "advance_payment": "30000.00",
        "start_on": "2026-03-01",
        "end_on": "2026-09-30",
        **PLAN,
    }
    data.update(overrides)
    return data


def _notified(organisation, kind):
    return Notification.objects.filter(recipient_organisation=organisation, kind=kind).count()


# --- The full walk ----------------------------------------------------------------------------------------------


def test_the_full_walk_from_draft_to_internal_acceptance(p_client, e_client, provider, enterprise):
    # Drafting: the contract, its milestones, a procurement line and the confidentiality agreement.
    with travel(at(2026, 2, 25)):
        response = p_client.post(_p("contract_new"), _new_contract_post())
        contract = ServiceContract.objects.get(number="TS-2026-0101")
        assert response.status_code == 302 and response["Location"] == _p("contract_detail", contract.pk)
        assert (contract.provider, contract.enterprise, contract.status) == (provider, enterprise, "draft")
        detail = _html(p_client.get(_p("contract_detail", contract.pk)))
        assert "Add the milestones." in detail and _p("contract_submit", contract.pk) not in detail

        for name, planned_on, weight in (("设备联网", "2026-05-31", 60), ("系统上线", "2026-09-15", 40)):
            response = p_client.post(
                _p("contract_milestone_new", contract.pk), {"name": name, "planned_on": planned_on, "weight": weight}
            )
            assert response.status_code == 302
        product = ProductFactory(provider=provider, name="MES 标准版", list_price=Decimal("100000.00"))
        response = p_client.post(
            _p("contract_item_new", contract.pk),
            {
                "product": product.pk,
                "function": "生产计划与执行",
                "purpose": "计划调度数字化",
                "quantity": "1",
                "unit_price": "125000.00",
                "reference_price": "110000.00",
            },
        )
        assert response.status_code == 302
        item = contract.procurement_items.get()
        assert (item.name, item.unit) == ("MES 标准版", product.unit)  # taken from the catalogue
        assert item.above_list_price and not item.above_reference
        response = p_client.post(
            _p("contract_nda", contract.pk), {"signed_on": "2026-02-20", "file": pdf("保密协议.pdf")}
        )
        assert response.status_code == 302

        detail = _html(p_client.get(_p("contract_detail", contract.pk)))
        assert "signing-problems" not in detail and _p("contract_submit", contract.pk) in detail
        assert "Above your list price by more than 20%" in detail and "保密协议.pdf" in detail
        assert p_client.post(_p("contract_submit", contract.pk)).status_code == 302
    contract.refresh_from_db()
    assert contract.submitted_at is not None and _notified(enterprise.organisation, "contract_to_sign") == 1

    # The enterprise sees it waiting, reads the plan and signs.
    listing = _html(e_client.get(_e("contract_list")))
    assert f"Sign contract {contract.number}" in listing
    page = _html(e_client.get(_e("contract_detail", contract.pk)))
    assert PLAN["quality_control"] in page and "MES 标准版" in page and 'value="sign"' in page
    with travel(at(2026, 3, 1)):
        response = e_client.post(_e("contract_detail", contract.pk), {"action": "sign", "sign-confirm": "on"})
    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.status == ContractStatus.SIGNED and contract.signed_on == date(2026, 3, 1)
    assert _notified(provider.organisation, "contract_signed") == 1

    # The provider starts and reports; the enterprise acknowledges.
    with travel(at(2026, 3, 2)):
        assert p_client.post(_p("contract_start", contract.pk)).status_code == 302
    contract.refresh_from_db()
    assert contract.status == ContractStatus.IN_PROGRESS and _notified(enterprise.organisation, "contract_started") == 1
    for milestone in contract.milestones.all():
        with travel(at(2026, 9, 16)):
            response = p_client.post(
                _p("contract_progress_new", contract.pk),
                {"milestone": milestone.pk, "progress": "100", "summary": "已完成", "problems": "", "next_steps": ""},
            )
        assert response.status_code == 302
        report = ProgressReport.objects.get(milestone=milestone)
        with travel(at(2026, 9, 17)):
            response = e_client.post(
                _e("contract_detail", contract.pk),
                {"action": "acknowledge", "report": report.pk, f"report-{report.pk}-comment": "属实"},
            )
        assert response.status_code == 302
    assert set(contract.milestones.values_list("reported_progress", flat=True)) == {100}
    assert _notified(provider.organisation, "progress_acknowledged") == 2

    # Internal acceptance: the provider records and signs it, the enterprise signs.
    with travel(at(2026, 9, 21)):
        response = p_client.post(
            _p("contract_acceptance_new", contract.pk),
            {
                "held_on": "2026-09-20",
                "participants": "企业：王总；服务商：李工",
                "conclusion": "同意通过内部验收",
                "documents": [pdf("实施文档.pdf"), pdf("验收报告.pdf", b"%PDF-1.4\n% another\n")],
            },
        )
    assert response.status_code == 302
    acceptance = contract.internal_acceptances.get()
    assert Attachment.objects.filter(object_id=acceptance.pk, purpose="internal_acceptance").count() == 2
    page = _html(e_client.get(_e("contract_detail", contract.pk)))
    assert "实施文档.pdf" in page and 'value="accept"' in page
    with travel(at(2026, 9, 22)):
        response = e_client.post(_e("contract_detail", contract.pk), {"action": "accept", "acceptance": acceptance.pk})
    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.status == ContractStatus.INTERNALLY_ACCEPTED
    assert _notified(provider.organisation, "internal_acceptance_signed") == 1

    # The history on the provider's page shows each transition.
    detail = _html(p_client.get(_p("contract_detail", contract.pk)))
    history = detail[detail.index('id="history-title"') :]
    for label in ("Draft → Signed", "Signed → In progress", "In progress → Internally accepted"):
        assert label in history


# --- Provider forms ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uscc", "message"),
    [
        ("91350100M000100Y43", "No pilot enterprise is registered with this code."),  # valid, but unknown
        ("91350100M000100Y4Z", "This is not a valid Unified Social Credit Code"),  # invalid
    ],
)
def test_an_unknown_or_invalid_uscc_is_a_field_error(p_client, enterprise, uscc, message):
    response = p_client.post(_p("contract_new"), _new_contract_post(enterprise_uscc=uscc))
    assert response.status_code == 200
    html = _html(response)
    errors = html[html.index('id="id_enterprise_uscc_error"') :]
    assert message in errors[: errors.index("</ul>")] and 'role="alert"' in html
    assert not ServiceContract.objects.exists()


def test_a_service_error_lands_on_its_field(p_client, enterprise):
    response = p_client.post(_p("contract_new"), _new_contract_post(subsidy="400000.00"))
    assert response.status_code == 200
    assert "The subsidy cannot exceed the contract amount." in _html(response)
    assert not ServiceContract.objects.exists()


def test_milestone_outside_the_period_is_shown_on_the_date(p_client, provider):
    contract = complete_draft(provider=provider)
    response = p_client.post(
        _p("contract_milestone_new", contract.pk), {"name": "太晚", "planned_on": "2027-01-01", "weight": "10"}
    )
    html = _html(response)
    assert response.status_code == 200
    assert "The planned date must lie within the contract period." in html
    assert not Milestone.objects.filter(name="太晚").exists()


def test_a_free_text_item_needs_a_name_and_unit(p_client, provider):
    contract = complete_draft(provider=provider)
    response = p_client.post(
        _p("contract_item_new", contract.pk),
        {"function": "f", "purpose": "p", "quantity": "1", "unit_price": "10"},
    )
    html = _html(response)
    assert "Name the item, or choose a catalogue product." in html
    assert "Enter the unit, or choose a catalogue product." in html
    assert contract.procurement_items.count() == 1


def test_the_nda_must_be_a_real_document(p_client, provider):
    contract = complete_draft(provider=provider, nda_signed_on=None)
    upload = pdf("保密协议.html", HTML)
    response = p_client.post(_p("contract_nda", contract.pk), {"signed_on": "2026-02-20", "file": upload})
    assert response.status_code == 200 and "is not a PDF" in _html(response)
    contract.refresh_from_db()
    assert contract.nda_signed_on is None and not Attachment.objects.exists()


def test_the_acceptance_form_requires_a_document(p_client, provider):
    contract = complete_draft(provider=provider, status=ContractStatus.IN_PROGRESS)
    with travel(at(2026, 9, 21)):
        response = p_client.post(
            _p("contract_acceptance_new", contract.pk),
            {"held_on": "2026-09-20", "participants": "双方", "conclusion": "通过"},
        )
    assert response.status_code == 200 and "Attach at least one document (Art 8)." in _html(response)
    assert not InternalAcceptance.objects.exists()


def test_a_second_acceptance_cannot_be_started_while_one_awaits(p_client, provider):
    contract = complete_draft(provider=provider, status=ContractStatus.IN_PROGRESS)
    with travel(at(2026, 9, 21)):
        services.internal_acceptance_submit(
            contract=contract,
            by=provider_staff(provider),
            held_on=date(2026, 9, 20),
            participants="双方",
            conclusion="通过",
            documents=[pdf()],
        )
        response = p_client.get(_p("contract_acceptance_new", contract.pk), follow=True)
    assert "An internal acceptance already awaits the enterprise&#x27;s signature." in _html(response)
    assert _p("contract_acceptance_new", contract.pk) not in _html(response)


def test_a_change_below_the_subsidy_is_shown_on_the_amount(p_client, provider):
    contract = complete_draft(provider=provider, status=ContractStatus.IN_PROGRESS)
    response = p_client.post(
        _p("contract_change_new", contract.pk),
        {"description": "减少范围", "reason": "预算", "new_amount": "50000.00"},
    )
    html = _html(response)
    assert response.status_code == 200
    assert "The amount cannot fall below the subsidy or the advance payment already agreed." in html
    assert not ChangeRequest.objects.exists()


def test_submitting_an_incomplete_draft_shows_what_is_missing(p_client, provider):
    contract = complete_draft(provider=provider, nda_signed_on=None)
    response = p_client.post(_p("contract_submit", contract.pk), follow=True)
    assert "The confidentiality agreement is not on file." in _html(response)
    contract.refresh_from_db()
    assert contract.submitted_at is None


def test_the_provider_edits_the_draft_its_milestones_and_items(p_client, provider):
    contract = complete_draft(provider=provider)
    data = _new_contract_post(number=contract.number, plan_goals="新的目标：达到三级")
    del data["enterprise_uscc"]
    assert p_client.post(_p("contract_edit", contract.pk), data).status_code == 302
    contract.refresh_from_db()
    assert contract.plan_goals == "新的目标：达到三级" and contract.title == "设备联网与MES实施"

    milestone = contract.milestones.get(name="设备联网")
    response = p_client.post(
        _p("contract_milestone_edit", contract.pk, milestone.pk),
        {"name": "设备联网（一期）", "planned_on": "2026-06-30", "weight": "50"},
    )
    assert response.status_code == 302
    milestone.refresh_from_db()
    assert (milestone.name, milestone.planned_on, milestone.weight) == ("设备联网（一期）", date(2026, 6, 30), 50)
    assert "The milestone weights add up to 90%" in _html(p_client.get(_p("contract_detail", contract.pk)))
    assert p_client.get(_p("contract_milestone_delete", contract.pk, milestone.pk)).status_code == 200
    assert p_client.post(_p("contract_milestone_delete", contract.pk, milestone.pk)).status_code == 302
    assert not Milestone.objects.filter(pk=milestone.pk).exists()

    item = contract.procurement_items.get()
    response = p_client.post(
        _p("contract_item_edit", contract.pk, item.pk),
        {
            "name": item.name,
            "function": item.function,
            "purpose": item.purpose,
            "quantity": "2",
            "unit": item.unit,
            "unit_price": "140000.00",
            "reference_price": "110000.00",
        },
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.quantity == Decimal("2") and item.above_reference
    assert p_client.post(_p("contract_item_delete", contract.pk, item.pk)).status_code == 302
    assert not contract.procurement_items.exists()


def test_another_providers_product_is_not_offered(p_client, provider):
    contract = complete_draft(provider=provider)
    ProductFactory(provider=provider, name="自家产品")
    ProductFactory(provider=ProviderFactory(), name="别家产品")
    html = _html(p_client.get(_p("contract_item_new", contract.pk)))
    assert "自家产品" in html and "别家产品" not in html


def test_a_submitted_draft_is_read_only_until_recalled(p_client, provider):
    contract = complete_draft(provider=provider)
    services.contract_submit(contract=contract, by=provider_staff(provider))
    detail = _html(p_client.get(_p("contract_detail", contract.pk)))
    assert _p("contract_edit", contract.pk) not in detail and _p("contract_recall", contract.pk) in detail
    response = p_client.post(_p("contract_milestone_new", contract.pk), {"name": "X", "planned_on": "2026-06-01"})
    assert response.status_code == 302 and contract.milestones.count() == 2
    assert p_client.post(_p("contract_recall", contract.pk)).status_code == 302
    contract.refresh_from_db()
    assert contract.submitted_at is None
    assert _p("contract_edit", contract.pk) in _html(p_client.get(_p("contract_detail", contract.pk)))


def test_the_provider_withdraws_a_change_request(p_client, provider):
    contract = complete_draft(provider=provider, status=ContractStatus.SIGNED)
    change = services.change_request_propose(
        contract=contract,
        by=provider_staff(provider),
        description="延期",
        reason="到货晚",
        new_end_on=date(2026, 10, 31),
    )
    assert p_client.post(_p("contract_change_withdraw", contract.pk, change.pk)).status_code == 302
    change.refresh_from_db()
    assert change.status == ChangeRequest.Status.WITHDRAWN


def test_the_provider_list_shows_flags_and_what_waits(p_client, provider):
    flagged = complete_draft(provider=provider, number="C-FLAGGED")
    ProcurementItem.objects.filter(contract=flagged).update(above_reference=True)
    waiting = complete_draft(provider=provider, number="C-WAITING")
    services.contract_submit(contract=waiting, by=provider_staff(provider))
    provider.status = ProviderStatus.APPLIED
    provider.save(update_fields=["status"])
    complete_draft(number="C-SOMEONE-ELSE")
    html = _html(p_client.get(_p("contract_list")))
    assert "C-FLAGGED" in html and "C-WAITING" in html and "C-SOMEONE-ELSE" not in html
    assert "1 flagged price" in html and "Signature" in html and "Not in the resource pool" in html


# --- Enterprise answers ------------------------------------------------------------------------------------------


@pytest.fixture
def running(provider, enterprise):
    contract = complete_draft(provider=provider, enterprise=enterprise)
    p_user, e_user = provider_staff(provider), enterprise_staff(enterprise)
    services.contract_submit(contract=contract, by=p_user)
    services.contract_sign(contract=contract, by=e_user)
    services.contract_start(contract=contract, by=p_user)
    return contract


def test_a_dispute_without_a_reason_is_shown_on_the_report(e_client, running, provider):
    milestone = running.milestones.first()
    report = services.progress_report_submit(
        contract=running, by=provider_staff(provider), milestone=milestone, progress=90, summary="基本完成"
    )
    url = _e("contract_detail", running.pk)
    response = e_client.post(url, {"action": "dispute", "report": report.pk, f"report-{report.pk}-comment": ""})
    assert response.status_code == 200
    html = _html(response)
    assert "Say what in the report is not right." in html
    report.refresh_from_db()
    milestone.refresh_from_db()
    assert report.status == ProgressReport.Status.SUBMITTED and milestone.reported_progress == 0
    response = e_client.post(url, {"action": "dispute", "report": report.pk, f"report-{report.pk}-comment": "未完成"})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == ProgressReport.Status.DISPUTED
    assert _notified(provider.organisation, "progress_disputed") == 1


def test_the_enterprise_agrees_to_and_declines_changes(e_client, running, provider):
    p_user = provider_staff(provider)
    agree = services.change_request_propose(
        contract=running, by=p_user, description="延期", reason="到货晚", new_end_on=date(2026, 10, 31)
    )
    decline = services.change_request_propose(
        contract=running, by=p_user, description="加价", reason="材料涨价", new_amount=Decimal("350000")
    )
    url = _e("contract_detail", running.pk)
    response = e_client.post(url, {"action": "decline", "change": decline.pk})
    assert response.status_code == 200 and "Say why you decline the change." in _html(response)
    assert e_client.post(url, {"action": "agree", "change": agree.pk}).status_code == 302
    response = e_client.post(url, {"action": "decline", "change": decline.pk, f"change-{decline.pk}-comment": "不同意"})
    assert response.status_code == 302
    running.refresh_from_db()
    assert running.end_on == date(2026, 10, 31) and running.amount == Decimal("300000.00")
    page = _html(e_client.get(url))
    assert "was" in page and "2026-09-30" in page  # the previous end date is kept with the agreed change


def test_the_enterprise_returns_a_draft_with_a_reason(e_client, provider, enterprise, p_client):
    contract = complete_draft(provider=provider, enterprise=enterprise)
    services.contract_submit(contract=contract, by=provider_staff(provider))
    url = _e("contract_detail", contract.pk)
    response = e_client.post(url, {"action": "return", "return-reason": ""})
    assert response.status_code == 200 and 'id="id_return-reason_error"' in _html(response)
    contract.refresh_from_db()
    assert contract.submitted_at is not None
    assert e_client.post(url, {"action": "return", "return-reason": "交付成果不明确"}).status_code == 302
    contract.refresh_from_db()
    assert contract.submitted_at is None
    assert "交付成果不明确" in _html(p_client.get(_p("contract_detail", contract.pk)))
    assert "was returned by the enterprise" in _html(p_client.get(_p("contract_list")))


def test_signing_needs_the_confirmation(e_client, provider, enterprise):
    contract = complete_draft(provider=provider, enterprise=enterprise)
    services.contract_submit(contract=contract, by=provider_staff(provider))
    response = e_client.post(_e("contract_detail", contract.pk), {"action": "sign"})
    assert response.status_code == 200 and "Confirm that you signed the contract as shown." in _html(response)
    contract.refresh_from_db()
    assert contract.status == ContractStatus.DRAFT


def test_refusing_the_internal_acceptance_needs_a_reason(e_client, running, provider):
    with travel(at(2026, 9, 21)):
        acceptance = services.internal_acceptance_submit(
            contract=running,
            by=provider_staff(provider),
            held_on=date(2026, 9, 20),
            participants="双方",
            conclusion="通过",
            documents=[pdf()],
        )
    url = _e("contract_detail", running.pk)
    response = e_client.post(url, {"action": "refuse", "acceptance": acceptance.pk})
    assert response.status_code == 200 and "Say why you do not sign." in _html(response)
    response = e_client.post(
        url, {"action": "refuse", "acceptance": acceptance.pk, f"acceptance-{acceptance.pk}-reason": "文档不全"}
    )
    assert response.status_code == 302
    acceptance.refresh_from_db()
    assert acceptance.status == InternalAcceptance.Status.REFUSED and acceptance.refusal_reason == "文档不全"


def test_unknown_actions_and_records_are_bad_requests(e_client, running):
    url = _e("contract_detail", running.pk)
    assert e_client.post(url, {"action": "explode"}).status_code == 400
    assert e_client.post(url, {"action": "acknowledge", "report": "x"}).status_code == 400
    assert e_client.post(url, {"action": "acknowledge", "report": "999999"}).status_code == 404


# --- Files ---------------------------------------------------------------------------------------------------------


def _nda(contract, provider):
    services.contract_nda_store(
        contract=contract, by=provider_staff(provider), signed_on=date(2026, 2, 20), uploaded=pdf("保密协议.pdf")
    )
    return Attachment.objects.get(purpose="nda")


def test_both_parties_download_the_nda_with_safe_headers(p_client, e_client, provider, enterprise):
    contract = complete_draft(provider=provider, enterprise=enterprise)
    attachment = _nda(contract, provider)
    for client, name in ((p_client, "provider:contract_attachment"), (e_client, "enterprise:contract_attachment")):
        response = client.get(reverse(name, args=[contract.pk, attachment.pk]))
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).count() == 2


def test_a_file_of_another_contract_is_not_served_through_this_one(p_client, provider):
    mine = complete_draft(provider=provider)
    other = complete_draft(provider=provider)
    attachment = _nda(other, provider)
    assert p_client.get(_p("contract_attachment", mine.pk, attachment.pk)).status_code == 404


# --- Access ---------------------------------------------------------------------------------------------------------


def _provider_urls(contract, milestone, item, change, attachment):
    pk = contract.pk
    return [
        ("get", _p("contract_list")),
        ("get", _p("contract_new")),
        ("get", _p("contract_detail", pk)),
        ("get", _p("contract_edit", pk)),
        ("get", _p("contract_milestone_new", pk)),
        ("get", _p("contract_milestone_edit", pk, milestone.pk)),
        ("get", _p("contract_milestone_delete", pk, milestone.pk)),
        ("get", _p("contract_item_new", pk)),
        ("get", _p("contract_item_edit", pk, item.pk)),
        ("get", _p("contract_item_delete", pk, item.pk)),
        ("get", _p("contract_nda", pk)),
        ("post", _p("contract_submit", pk)),
        ("post", _p("contract_recall", pk)),
        ("post", _p("contract_start", pk)),
        ("get", _p("contract_progress_new", pk)),
        ("get", _p("contract_change_new", pk)),
        ("post", _p("contract_change_withdraw", pk, change.pk)),
        ("get", _p("contract_acceptance_new", pk)),
        ("get", _p("contract_attachment", pk, attachment.pk)),
    ]


def _enterprise_urls(contract, attachment):
    return [
        ("get", _e("contract_list")),
        ("get", _e("contract_detail", contract.pk)),
        ("post", _e("contract_detail", contract.pk)),
        ("get", _e("contract_attachment", contract.pk, attachment.pk)),
    ]


@pytest.fixture
def world(provider, enterprise):
    contract = complete_draft(provider=provider, enterprise=enterprise)
    attachment = _nda(contract, provider)
    change = ChangeRequest.objects.create(
        contract=contract, description="d", reason="r", proposed_by=provider_staff(provider), proposed_at=at(2026, 3, 1)
    )
    return {
        "contract": contract,
        "provider_urls": _provider_urls(
            contract, contract.milestones.first(), contract.procurement_items.first(), change, attachment
        ),
        "enterprise_urls": _enterprise_urls(contract, attachment),
    }


def test_anonymous_users_are_sent_to_the_login_page(world):
    client = _client()
    for method, url in world["provider_urls"] + world["enterprise_urls"]:
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


def test_another_provider_gets_404_for_every_contract_page(world):
    client = _client(provider_staff(ProviderFactory()))
    for method, url in world["provider_urls"][2:]:
        assert getattr(client, method)(url).status_code == 404, url
    html = _html(client.get(_p("contract_list")))
    assert world["contract"].number not in html


def test_another_enterprise_gets_404_for_every_contract_page(world):
    client = _client(enterprise_staff(PilotEnterpriseFactory()))
    for method, url in world["enterprise_urls"][1:]:
        assert getattr(client, method)(url).status_code == 404, url
    assert world["contract"].number not in _html(client.get(_e("contract_list")))


def test_the_provider_cannot_use_the_enterprise_pages_and_vice_versa(world, provider_user, enterprise):
    provider_client = _client(provider_user)
    for method, url in world["enterprise_urls"]:
        assert getattr(provider_client, method)(url).status_code == 403, url
    enterprise_client = _client(enterprise_staff(enterprise))
    for method, url in world["provider_urls"]:
        assert getattr(enterprise_client, method)(url).status_code == 403, url
    bureau = _client(UserFactory(role=Role.OFFICER))
    for method, url in world["provider_urls"][:3] + world["enterprise_urls"][:2]:
        assert getattr(bureau, method)(url).status_code == 403, url


def test_a_provider_posting_an_enterprise_answer_changes_nothing(world, provider_user):
    contract = world["contract"]
    services.contract_submit(contract=contract, by=provider_user)
    response = _client(provider_user).post(_e("contract_detail", contract.pk), {"action": "sign", "sign-confirm": "on"})
    assert response.status_code == 403
    contract.refresh_from_db()
    assert contract.status == ContractStatus.DRAFT


# --- What waits for whom ---------------------------------------------------------------------------------------------


def test_enterprise_pending_actions(provider, enterprise):
    p_user, e_user = provider_staff(provider), enterprise_staff(enterprise)
    to_sign = complete_draft(provider=provider, enterprise=enterprise, number="C-SIGN")
    services.contract_submit(contract=to_sign, by=p_user)
    complete_draft(provider=provider, enterprise=enterprise, number="C-PREPARING")
    running = complete_draft(provider=provider, enterprise=enterprise, number="C-RUN")
    services.contract_submit(contract=running, by=p_user)
    services.contract_sign(contract=running, by=e_user)
    services.contract_start(contract=running, by=p_user)
    report = services.progress_report_submit(
        contract=running, by=p_user, milestone=running.milestones.first(), progress=50, summary="一半"
    )
    answered = services.progress_report_submit(
        contract=running, by=p_user, milestone=running.milestones.last(), progress=20, summary="开始"
    )
    services.progress_report_acknowledge(report=answered, by=e_user)
    change = services.change_request_propose(contract=running, by=p_user, description="延期", reason="到货晚")
    with travel(at(2026, 9, 21)):
        acceptance = services.internal_acceptance_submit(
            contract=running,
            by=p_user,
            held_on=date(2026, 9, 20),
            participants="双方",
            conclusion="通过",
            documents=[pdf()],
        )
    # Another enterprise's items never show.
    complete_draft(provider=provider, number="C-OTHER")

    pending = enterprise_pending_actions(enterprise)
    assert pending.contracts_to_sign == [to_sign]
    assert pending.progress_reports == [report]
    assert pending.change_requests == [change]
    assert pending.internal_acceptances == [acceptance]
    assert pending.counts == {
        "contracts_to_sign": 1,
        "progress_reports": 1,
        "change_requests": 1,
        "internal_acceptances": 1,
    }
    assert pending.total == 4 and bool(pending)
    assert not enterprise_pending_actions(PilotEnterpriseFactory())


def test_provider_pending_actions(provider, enterprise):
    p_user, e_user = provider_staff(provider), enterprise_staff(enterprise)
    returned = complete_draft(provider=provider, enterprise=enterprise, number="C-RETURNED")
    with travel(at(2026, 2, 1)):
        services.contract_submit(contract=returned, by=p_user)
    with travel(at(2026, 2, 2)):
        services.contract_return_to_provider(contract=returned, by=e_user, reason="补充")
    resent = complete_draft(provider=provider, enterprise=enterprise, number="C-RESENT")
    with travel(at(2026, 2, 1)):
        services.contract_submit(contract=resent, by=p_user)
    with travel(at(2026, 2, 2)):
        services.contract_return_to_provider(contract=resent, by=e_user, reason="补充")
    with travel(at(2026, 2, 3)):
        services.contract_submit(contract=resent, by=p_user)

    signed = complete_draft(provider=provider, enterprise=enterprise, number="C-SIGNED")
    services.contract_submit(contract=signed, by=p_user)
    services.contract_sign(contract=signed, by=e_user)

    running = complete_draft(provider=provider, enterprise=enterprise, number="C-RUN")
    services.contract_submit(contract=running, by=p_user)
    services.contract_sign(contract=running, by=e_user)
    services.contract_start(contract=running, by=p_user)
    first, second = running.milestones.all()
    with travel(at(2026, 4, 1)):
        disputed = services.progress_report_submit(
            contract=running, by=p_user, milestone=first, progress=50, summary="一半"
        )
        followed_up = services.progress_report_submit(
            contract=running, by=p_user, milestone=second, progress=10, summary="开始"
        )
    services.progress_report_dispute(report=disputed, by=e_user, comment="不属实")
    services.progress_report_dispute(report=followed_up, by=e_user, comment="不属实")
    with travel(at(2026, 4, 5)):
        services.progress_report_submit(contract=running, by=p_user, milestone=second, progress=5, summary="更正")
    with travel(at(2026, 5, 1)):
        declined = services.change_request_propose(contract=running, by=p_user, description="加价", reason="涨价")
    with travel(at(2026, 5, 2)):
        services.change_request_decide(request=declined, by=e_user, agree=False, comment="不同意")
    with travel(at(2026, 9, 21)):
        refused = services.internal_acceptance_submit(
            contract=running,
            by=p_user,
            held_on=date(2026, 9, 20),
            participants="双方",
            conclusion="通过",
            documents=[pdf()],
        )
        services.internal_acceptance_refuse(acceptance=refused, by=e_user, reason="文档不全")

    pending = provider_pending_actions(provider)
    assert pending.returned_contracts == [returned]
    assert pending.contracts_to_start == [signed]
    assert pending.disputed_reports == [disputed]
    assert pending.declined_changes == [declined]
    assert pending.refused_acceptances == [refused]
    assert pending.total == 5
    assert not provider_pending_actions(ProviderFactory())

    html = _html(_client(p_user).get(_p("contract_list")))
    assert "Draft C-RETURNED was returned by the enterprise" in html and "C-RESENT was returned" not in html


# --- The admin -------------------------------------------------------------------------------------------------------


def _county_user(county):
    org = Organisation.objects.create(name=f"{county.name}工信局", kind=Organisation.Kind.COUNTY_BUREAU, county=county)
    return UserFactory(role=Role.COUNTY, organisation=org)


CHANGELIST = reverse("admin:enterprises_servicecontract_changelist")


def test_county_staff_see_only_their_county_in_the_contract_admin(provider):
    own, other = County.objects.order_by("code")[:2]
    mine = complete_draft(provider=provider, enterprise=PilotEnterpriseFactory(county=own), number="C-OWN")
    theirs = complete_draft(provider=provider, enterprise=PilotEnterpriseFactory(county=other), number="C-OTHER")
    attachment = _nda(theirs, provider)
    client = Client()
    client.force_login(_county_user(own))
    listing = _html(client.get(CHANGELIST))
    assert "C-OWN" in listing and "C-OTHER" not in listing
    assert client.get(reverse("admin:enterprises_servicecontract_change", args=[mine.pk])).status_code == 200
    assert client.get(reverse("admin:enterprises_servicecontract_change", args=[theirs.pk])).status_code == 404
    file_url = reverse("admin:enterprises_servicecontract_file", args=[theirs.pk, attachment.pk])
    assert client.get(file_url).status_code == 404


def test_the_contract_admin_shows_the_parties_records_read_only(provider, enterprise):
    contract = complete_draft(provider=provider, enterprise=enterprise, number="C-ADMIN")
    attachment = _nda(contract, provider)
    ProcurementItem.objects.filter(contract=contract).update(above_reference=True)
    p_user, e_user = provider_staff(provider), enterprise_staff(enterprise)
    services.contract_submit(contract=contract, by=p_user)
    services.contract_sign(contract=contract, by=e_user)
    services.contract_start(contract=contract, by=p_user)
    services.progress_report_submit(
        contract=contract, by=p_user, milestone=contract.milestones.first(), progress=30, summary="进展说明文字"
    )
    services.change_request_propose(contract=contract, by=p_user, description="变更说明文字", reason="原因")
    with travel(at(2026, 9, 21)):
        services.internal_acceptance_submit(
            contract=contract,
            by=p_user,
            held_on=date(2026, 9, 20),
            participants="参与人员名单",
            conclusion="验收结论文字",
            documents=[pdf("验收材料.pdf")],
        )
    client = Client()
    client.force_login(UserFactory(role=Role.OFFICER))
    html = _html(client.get(reverse("admin:enterprises_servicecontract_change", args=[contract.pk])))
    for text in (PLAN["plan_goals"], "MES 系统", "进展说明文字", "变更说明文字", "验收结论文字", "验收材料.pdf"):
        assert text in html
    # Nothing the parties wrote can be edited or added here.
    editable = {
        "milestones": "weight",
        "procurement_items": "unit_price",
        "progress_reports": "progress",
        "change_requests": "description",
        "internal_acceptances": "conclusion",
    }
    for prefix, field in editable.items():
        assert f"{prefix}-0-{field}" not in html  # no input for an existing row
        assert f"{prefix}-__prefix__-{field}" not in html  # no empty row to add one
    assert 'name="plan_goals"' not in html and 'name="nda_signed_on"' not in html
    file_url = reverse("admin:enterprises_servicecontract_file", args=[contract.pk, attachment.pk])
    assert file_url in html
    response = client.get(file_url)
    assert response.status_code == 200 and response["X-Content-Type-Options"] == "nosniff"


def test_the_contract_admin_filters_flagged_prices():
    flagged = complete_draft(number="C-FLAG")
    ProcurementItem.objects.filter(contract=flagged).update(above_list_price=True)
    complete_draft(number="C-CLEAN")
    client = Client()
    client.force_login(UserFactory(role=Role.OFFICER))
    yes = _html(client.get(CHANGELIST + "?flagged_prices=yes"))
    no = _html(client.get(CHANGELIST + "?flagged_prices=no"))
    assert "C-FLAG" in yes and "C-CLEAN" not in yes
    assert "C-CLEAN" in no and "C-FLAG" not in no
