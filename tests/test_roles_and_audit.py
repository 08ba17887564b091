import pytest
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.urls import reverse

from tangshan_portal.models import AuditEvent
from tangshan_portal.roles import ROLE_PERMISSIONS, STAFF_ROLES, Role, sync_role_groups

pytestmark = pytest.mark.django_db


def test_the_nine_role_groups_exist_with_exactly_their_declared_permissions():
    assert set(Group.objects.values_list("name", flat=True)) >= {role.value for role in Role}
    assert len(Role) == 9
    for role, names in ROLE_PERMISSIONS.items():
        held = {
            f"{app}.{code}"
            for app, code in Group.objects.get(name=role.value).permissions.values_list(
                "content_type__app_label", "codename"
            )
        }
        assert held == set(names), role


def test_every_declared_permission_exists():
    # A typo in ROLE_PERMISSIONS would otherwise silently grant nothing.
    assert sync_role_groups() == []


def test_auditor_reads_everything_and_changes_nothing():
    names = ROLE_PERMISSIONS[Role.AUDITOR]
    assert "portal.view_auditevent" in names
    assert all(name.split(".", 1)[1].startswith("view_") for name in names)


def test_system_administrator_decides_nothing_and_does_not_read_the_audit_log():
    names = set(ROLE_PERMISSIONS[Role.SYSADMIN])
    assert not any(name.startswith(("providers.", "enterprises.")) for name in names)
    assert "portal.view_auditevent" not in names


def test_provider_and_enterprise_roles_have_no_admin_access():
    assert Role.PROVIDER not in STAFF_ROLES
    assert Role.ENTERPRISE not in STAFF_ROLES
    assert ROLE_PERMISSIONS[Role.PROVIDER] == []
    assert ROLE_PERMISSIONS[Role.ENTERPRISE] == []


def test_login_success_failure_and_logout_are_audited(client, django_user_model):
    django_user_model.objects.create_user("clerk", password="Clerk-pass-2026")
    client.post(reverse("login"), {"username": "clerk", "password": "wrong-password"}, REMOTE_ADDR="10.0.0.7")
    failed = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILED)
    assert (failed.actor_username, failed.success, failed.ip_address) == ("clerk", False, "10.0.0.7")
    assert "wrong-password" not in str(failed.detail)

    response = client.post(reverse("login"), {"username": "clerk", "password": "Clerk-pass-2026"})
    assert response.status_code == 302
    login = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN)
    assert login.actor.username == "clerk" and login.success

    client.post(reverse("logout"))
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LOGOUT, actor_username="clerk").count() == 1


def test_login_page_is_chinese_and_a_wrong_password_gets_a_chinese_error(client, django_user_model):
    page = client.get(reverse("login")).content.decode()
    assert "登录" in page and "用户名" in page
    django_user_model.objects.create_user("clerk", password="Clerk-pass-2026")
    response = client.post(reverse("login"), {"username": "clerk", "password": "nope"})
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()


def test_password_change_needs_login_and_is_audited(client, django_user_model):
    url = reverse("password_change")
    assert client.get(url).status_code == 302
    user = django_user_model.objects.create_user("clerk", password="Clerk-pass-2026")
    client.force_login(user)
    page = client.get(url).content.decode()
    assert "修改密码" in page
    weak = client.post(url, {"old_password": "Clerk-pass-2026", "new_password1": "123", "new_password2": "123"})
    assert weak.status_code == 200
    assert "密码" in weak.content.decode()
    user.refresh_from_db()
    assert user.check_password("Clerk-pass-2026")
    response = client.post(
        url,
        {"old_password": "Clerk-pass-2026", "new_password1": "Xin-mima-2026!", "new_password2": "Xin-mima-2026!"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Xin-mima-2026!")
    assert AuditEvent.objects.filter(action=AuditEvent.Action.PASSWORD_CHANGED, actor=user).exists()


def test_audit_rows_cannot_be_changed_or_deleted_through_the_orm():
    event = AuditEvent.objects.create(action=AuditEvent.Action.EXPORT, actor_username="clerk")
    event.action = AuditEvent.Action.LOGIN
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(action="login")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get().action == AuditEvent.Action.EXPORT


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the append-only trigger is PostgreSQL's")
def test_postgresql_refuses_raw_update_and_delete_of_audit_rows():
    event = AuditEvent.objects.create(action=AuditEvent.Action.EXPORT, actor_username="clerk")
    for sql in (
        "UPDATE portal_auditevent SET action = 'login' WHERE id = %s",
        "DELETE FROM portal_auditevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.get().action == AuditEvent.Action.EXPORT
