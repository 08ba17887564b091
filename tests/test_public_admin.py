"""The staff side of the public portal: officers draft announcements and excellent-provider batches in the admin;
publishing and withdrawing go through opendata.services (permission-checked, atomic); what is published appears
on the public pages at once and is read-only afterwards."""

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django_fsm_log.models import StateLog

from evaluations.models import ExcellentBatch, ExcellentEntry
from opendata import services
from opendata.admin import ExcellentBatchAdmin
from providers.models import ProviderStatus
from tangshan_portal.models import Announcement
from tangshan_portal.roles import Role
from tests.factories import UserFactory
from tests.factories_public import announcement, excellent_batch, pool_provider

pytestmark = pytest.mark.django_db

ANN_LIST = reverse("admin:portal_announcement_changelist")
ANN_ADD = reverse("admin:portal_announcement_add")
BATCH_ADD = reverse("admin:evaluations_excellentbatch_add")


@pytest.fixture(autouse=True)
def _empty_cache():
    # Public pages are cached per PublicChange id, and ids repeat after each test's rollback.
    cache.clear()
    yield
    cache.clear()


def act_url(obj, action):
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_act", args=[obj.pk, action])


def change_url(obj):
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


@pytest.fixture
def county_user(db):
    return UserFactory(role=Role.COUNTY, organisation__county_bureau=True)


# --- Announcements -----------------------------------------------------------------------------------------------


def test_an_officer_drafts_publishes_and_withdraws_an_announcement_and_the_public_sees_each_step(client, officer):
    client.force_login(officer)
    response = client.post(
        ANN_ADD,
        {"title": "关于开展2026年服务商评价的通知", "category": "notice", "body": "各服务商：\n\n请按时提交材料。"},
    )
    assert response.status_code == 302
    draft = Announcement.objects.get()
    assert (draft.published_at, draft.created_by) == (None, officer)
    client.logout()
    assert client.get(f"/announcements/{draft.pk}/").status_code == 404
    assert draft.title not in client.get("/announcements/").content.decode()

    client.force_login(officer)
    assert client.get(act_url(draft, "publish")).status_code == 200
    assert client.post(act_url(draft, "publish")).status_code == 302
    draft.refresh_from_db()
    assert draft.published_at is not None
    log = StateLog.objects.for_(draft).get()
    assert (log.by, log.state, log.transition) == (officer, "published", "publish")
    client.logout()
    assert draft.title in client.get("/announcements/").content.decode()
    html = client.get(f"/announcements/{draft.pk}/").content.decode()
    assert "<p>请按时提交材料。</p>" in html

    client.force_login(officer)
    response = client.post(act_url(draft, "withdraw"), {"reason": "  "})
    assert response.status_code == 200
    assert 'class="errornote"' in response.content.decode()
    draft.refresh_from_db()
    assert draft.withdrawn_at is None  # nothing half-saved
    assert client.post(act_url(draft, "withdraw"), {"reason": "时间安排有变，另行通知"}).status_code == 302
    draft.refresh_from_db()
    assert draft.withdrawn_at is not None and draft.withdrawal_reason == "时间安排有变，另行通知"
    client.logout()
    assert draft.title not in client.get("/announcements/").content.decode()
    gone = client.get(f"/announcements/{draft.pk}/")
    assert gone.status_code == 410 and "时间安排有变，另行通知" in gone.content.decode()


def test_a_published_announcement_is_read_only(client, officer):
    item = announcement(title="已发布公告", body="原文")
    client.force_login(officer)
    page = client.get(change_url(item))
    assert page.status_code == 200
    assert 'name="body"' not in page.content.decode()  # shown, not editable
    response = client.post(change_url(item), {"title": "改过的标题", "category": "notice", "body": "改过"})
    assert response.status_code == 403
    item.refresh_from_db()
    assert (item.title, item.body) == ("已发布公告", "原文")
    with pytest.raises(ValidationError):
        services.announcement_publish(announcement=item, by=officer)


def test_a_draft_is_edited_in_place(client, officer):
    item = announcement(title="草稿", state="draft", created_by=officer)
    client.force_login(officer)
    assert 'name="body"' in client.get(change_url(item)).content.decode()
    response = client.post(change_url(item), {"title": "草稿（修改）", "category": "policy", "body": "新的正文"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.title, item.category, item.body, item.published_at) == ("草稿（修改）", "policy", "新的正文", None)


def test_the_actions_offered_follow_the_state_and_the_permission(client, officer, approver):
    draft = announcement(title="草稿", state="draft")
    client.force_login(officer)
    html = client.get(ANN_LIST).content.decode()
    assert act_url(draft, "publish") in html and act_url(draft, "withdraw") not in html
    # Withdrawing a draft is not possible: back to the record with a message, nothing changed.
    response = client.get(act_url(draft, "withdraw"))
    assert response.status_code == 302 and response["Location"] == change_url(draft)
    with pytest.raises(ValidationError):
        services.announcement_withdraw(announcement=draft, by=officer, reason="误发")
    # The approver may read announcements but not publish them (portal.publish_announcement is the officer's).
    client.force_login(approver)
    assert act_url(draft, "publish") not in client.get(change_url(draft)).content.decode()
    assert client.post(act_url(draft, "publish")).status_code == 403
    draft.refresh_from_db()
    assert draft.published_at is None


@pytest.mark.parametrize("role", [Role.APPROVER, Role.COUNTY, Role.ENTERPRISE, Role.PROVIDER])
def test_only_a_user_with_the_permission_may_publish_an_announcement(client, role):
    user = UserFactory(role=role, **({"organisation__county_bureau": True} if role == Role.COUNTY else {}))
    draft = announcement(title="草稿", state="draft")
    client.force_login(user)
    response = client.post(act_url(draft, "publish"))
    if user.is_staff:
        assert response.status_code == 403
    else:
        assert response.status_code == 302 and reverse("admin:login") in response["Location"]
    with pytest.raises(PermissionDenied):
        services.announcement_publish(announcement=draft, by=user)
    draft.refresh_from_db()
    assert draft.published_at is None


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    draft = announcement(state="draft")
    for url in (ANN_LIST, change_url(draft), act_url(draft, "publish")):
        response = client.get(url)
        assert response.status_code == 302 and reverse("admin:login") in response["Location"], url
    assert client.get(reverse("admin:portal_announcement_act", args=[999999, "publish"])).status_code == 302


def test_an_unknown_action_or_record_answers_404(client, officer):
    draft = announcement(state="draft")
    client.force_login(officer)
    assert client.get(act_url(draft, "delete-everything")).status_code == 404
    assert client.get(reverse("admin:portal_announcement_act", args=[999999, "publish"])).status_code == 404


# --- Excellent-provider batches ---------------------------------------------------------------------------------


def batch_form(providers, **overrides):
    data = {
        "name": "2026年上半年优秀服务商",
        "period_start": "2026-01-01",
        "period_end": "2026-06-30",
        "document_number": "唐工信〔2026〕66号",
        "entries-TOTAL_FORMS": str(len(providers)),
        "entries-INITIAL_FORMS": "0",
        "entries-MIN_NUM_FORMS": "0",
        "entries-MAX_NUM_FORMS": "1000",
    }
    for i, provider in enumerate(providers):
        data.update(
            {
                f"entries-{i}-rank": str(i + 1),
                f"entries-{i}-provider": str(provider.pk),
                f"entries-{i}-score": f"{96 - i}.50",
                f"entries-{i}-citation": f"满意度评价优秀（{i + 1}）",
            }
        )
    data.update(overrides)
    return data


def test_an_officer_drafts_a_batch_the_approver_publishes_it_with_its_announcement(client, officer, approver):
    first, second = pool_provider(name="优秀甲公司"), pool_provider(name="优秀乙公司")
    client.force_login(officer)
    assert client.post(BATCH_ADD, batch_form([first, second])).status_code == 302
    batch = ExcellentBatch.objects.get()
    assert batch.status == ExcellentBatch.Status.DRAFT
    assert list(batch.entries.order_by("rank").values_list("provider__name", flat=True)) == ["优秀甲公司", "优秀乙公司"]
    # The officer may not publish: no link, 403 on the page, and the service refuses too.
    assert act_url(batch, "publish") not in client.get(change_url(batch)).content.decode()
    refused = client.post(act_url(batch, "publish"))
    assert refused.status_code == 403
    with translation.override("zh-hans"):
        assert escape(str(ExcellentBatchAdmin.object_actions["publish"].refusal)) in refused.content.decode()
    with pytest.raises(PermissionDenied):
        services.excellent_batch_publish(batch=batch, by=officer)
    client.logout()
    assert client.get(f"/excellent/{batch.pk}/").status_code == 404

    client.force_login(approver)
    assert act_url(batch, "publish") in client.get(change_url(batch)).content.decode()
    assert "优秀甲公司" in client.get(act_url(batch, "publish")).content.decode()
    assert client.post(act_url(batch, "publish")).status_code == 302
    batch.refresh_from_db()
    assert (batch.status, batch.published_by) == (ExcellentBatch.Status.PUBLISHED, approver)
    notice = Announcement.objects.get(category=Announcement.Category.EXCELLENT)
    assert notice.published_at == batch.published_at and notice.withdrawn_at is None
    assert batch.name in notice.title and "唐工信〔2026〕66号" in notice.title
    assert f"/excellent/{batch.pk}/" in notice.body and "1. 优秀甲公司" in notice.body

    client.logout()
    html = client.get(f"/excellent/{batch.pk}/").content.decode()
    assert html.index("优秀甲公司") < html.index("优秀乙公司") and "96.5" in html
    assert batch.name in client.get("/excellent/").content.decode()
    assert notice.title in client.get("/announcements/", {"category": "excellent"}).content.decode()
    html = client.get(f"/announcements/{notice.pk}/").content.decode()
    assert f'<a href="/excellent/{batch.pk}/">' in html


def test_a_published_batch_is_read_only_and_cannot_be_published_twice(client, officer, approver):
    provider = pool_provider(name="优秀甲公司")
    batch = excellent_batch(providers=[provider], status=ExcellentBatch.Status.PUBLISHED, by=approver)
    client.force_login(officer)
    page = client.get(change_url(batch)).content.decode()
    assert 'name="name"' not in page and 'name="entries-0-rank"' not in page
    assert client.post(change_url(batch), batch_form([provider], name="改名")).status_code == 403
    batch.refresh_from_db()
    assert batch.name == "2026年第一批优秀服务商"
    with pytest.raises(ValidationError):
        services.excellent_batch_publish(batch=batch, by=approver)
    assert not Announcement.objects.exists()


def test_a_batch_naming_a_provider_revoked_since_the_draft_is_not_published(client, approver):
    kept, revoked = pool_provider(name="仍在池中公司"), pool_provider(name="已被取消公司")
    batch = excellent_batch(providers=[kept, revoked])
    revoked.status = ProviderStatus.REVOKED
    revoked.save()
    client.force_login(approver)
    response = client.post(act_url(batch, "publish"))
    assert response.status_code == 200
    assert "已被取消公司" in response.content.decode() and 'class="errornote"' in response.content.decode()
    batch.refresh_from_db()
    assert batch.status == ExcellentBatch.Status.DRAFT and batch.published_at is None
    assert not Announcement.objects.exists()


def test_an_empty_batch_is_not_published(approver):
    batch = excellent_batch(providers=[])
    with pytest.raises(ValidationError):
        services.excellent_batch_publish(batch=batch, by=approver)
    batch.refresh_from_db()
    assert batch.status == ExcellentBatch.Status.DRAFT


def test_the_draft_form_offers_only_pool_members_and_checks_the_period(client, officer):
    member = pool_provider(name="池内公司")
    outsider = pool_provider(name="池外公司", status=ProviderStatus.REVOKED)
    client.force_login(officer)
    form = client.get(BATCH_ADD).content.decode()
    assert "池内公司" in form and "池外公司" not in form
    response = client.post(BATCH_ADD, batch_form([outsider]))
    assert response.status_code == 200 and not ExcellentBatch.objects.exists()
    response = client.post(BATCH_ADD, batch_form([member], period_end="2025-12-31"))
    assert response.status_code == 200 and not ExcellentBatch.objects.exists()
    assert not ExcellentEntry.objects.exists()


def test_a_county_user_reads_batches_but_may_not_publish(client, county_user):
    batch = excellent_batch(providers=[pool_provider()])
    client.force_login(county_user)
    assert client.get(change_url(batch)).status_code == 200
    assert client.post(act_url(batch, "publish")).status_code == 403
    batch.refresh_from_db()
    assert batch.status == ExcellentBatch.Status.DRAFT
