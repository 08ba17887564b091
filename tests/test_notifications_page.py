"""The in-portal notifications page: only the user's own notices, unread marking, marking read, the header count."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tangshan_portal.models import Notification, NotificationRead
from tangshan_portal.roles import Role
from tangshan_portal.services import notify
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _notice(key, **recipient):
    notify(kind="test", subject=f"主题-{key}", body=f"正文-{key}", dedup_key=f"test:{key}", **recipient)
    return Notification.objects.get(dedup_key=f"test:{key}")


@pytest.fixture
def user(db):
    return UserFactory(role=Role.OFFICER, organisation=OrganisationFactory())


@pytest.fixture
def notices(user):
    stranger = UserFactory(role=Role.APPROVER)
    return {
        "mine": _notice("mine", user=user, link="/provider/cases/1/"),
        "org": _notice("org", organisation=user.organisation),
        "role": _notice("role", role=Role.OFFICER, link="https://evil.example/phish"),
        "other_user": _notice("other_user", user=stranger),
        "other_org": _notice("other_org", organisation=stranger.organisation),
        "other_role": _notice("other_role", role=Role.APPROVER),
    }


def test_anonymous_users_are_sent_to_the_login_page(client, notices):
    for response in (
        client.get(reverse("notifications")),
        client.post(reverse("notification_read", args=[notices["mine"].pk])),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")
    assert not NotificationRead.objects.exists()


def test_the_page_lists_only_the_users_own_notifications_newest_first(client, user, notices):
    client.force_login(user)
    response = client.get(reverse("notifications"))
    assert response.status_code == 200
    html = response.content.decode()
    shown = [n.dedup_key for n in response.context["page"].object_list]
    assert shown == ["test:role", "test:org", "test:mine"]
    for key in ("mine", "org", "role"):
        assert f"主题-{key}" in html and f"正文-{key}" in html
    for key in ("other_user", "other_org", "other_role"):
        assert f"主题-{key}" not in html


def test_unread_notifications_are_marked_and_counted_in_the_header(client, user, notices):
    NotificationRead.objects.create(notification=notices["org"], user=user, read_at="2026-05-01T10:00:00+08:00")
    client.force_login(user)
    html = client.get(reverse("notifications")).content.decode()
    assert html.count('class="notification notification-unread"') == 2
    assert html.count('class="notification"') == 1
    assert '<span class="nav-count" aria-hidden="true">2</span>' in html


def test_the_unread_count_costs_one_count_query(client, user, notices):
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("notifications"))
    unread_counts = [q["sql"] for q in queries if "COUNT(" in q["sql"] and "notificationread" in q["sql"]]
    assert len(unread_counts) == 1


def test_external_links_are_not_rendered(client, user, notices):
    client.force_login(user)
    html = client.get(reverse("notifications")).content.decode()
    assert "evil.example" not in html


def test_marking_read_opens_a_local_link(client, user, notices):
    client.force_login(user)
    response = client.post(reverse("notification_read", args=[notices["mine"].pk]), {"next": "/notifications/"})
    assert response.status_code == 302
    assert response["Location"] == "/provider/cases/1/"
    assert NotificationRead.objects.filter(notification=notices["mine"], user=user).exists()


def test_marking_read_without_a_local_link_goes_back(client, user, notices):
    client.force_login(user)
    response = client.post(reverse("notification_read", args=[notices["role"].pk]), {"next": "/notifications/?page=1"})
    assert response["Location"] == "/notifications/?page=1"
    response = client.post(reverse("notification_read", args=[notices["org"].pk]), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("notifications")
    for key in ("role", "org"):
        assert NotificationRead.objects.filter(notification=notices[key], user=user).exists()


@pytest.mark.parametrize("link", ["//evil.example/x", "/\\evil.example", "javascript:alert(1)"])
def test_a_link_to_another_host_is_never_followed(client, user, link):
    notice = _notice("tricky", user=user, link=link)
    client.force_login(user)
    response = client.post(reverse("notification_read", args=[notice.pk]))
    assert response["Location"] == reverse("notifications")


def test_marking_another_users_notification_answers_404(client, user, notices):
    client.force_login(user)
    for key in ("other_user", "other_org", "other_role"):
        assert client.post(reverse("notification_read", args=[notices[key].pk])).status_code == 404
    assert not NotificationRead.objects.exists()


def test_marking_read_needs_post(client, user, notices):
    client.force_login(user)
    assert client.get(reverse("notification_read", args=[notices["mine"].pk])).status_code == 405
    assert not NotificationRead.objects.filter(notification=notices["mine"]).exists()


def test_the_list_is_paginated(client, user):
    for n in range(25):
        _notice(f"n{n:02d}", user=user)
    client.force_login(user)
    first = client.get(reverse("notifications")).context["page"]
    second = client.get(reverse("notifications"), {"page": 2}).context["page"]
    assert (len(first.object_list), len(second.object_list)) == (20, 5)
    assert first.object_list[0].dedup_key == "test:n24"
    assert list(second.object_list)[-1].dedup_key == "test:n00"


def test_an_empty_list_has_an_empty_state(client, user):
    client.force_login(user)
    response = client.get(reverse("notifications"))
    assert response.status_code == 200
    assert 'class="empty"' in response.content.decode()
    assert 'class="nav-count"' not in response.content.decode()


def test_a_colleague_reading_an_organisation_notice_leaves_it_unread_for_me(client, user, notices):
    colleague = UserFactory(organisation=user.organisation)
    client.force_login(colleague)
    client.post(reverse("notification_read", args=[notices["org"].pk]))
    client.force_login(user)
    html = client.get(reverse("notifications")).content.decode()
    assert html.count('class="notification notification-unread"') == 3
