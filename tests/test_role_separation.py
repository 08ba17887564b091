"""Separation of the three administrative duties (三权分立; GB/T 22239-2019 level 3, access control and security
management): the system administrator keeps accounts and reference data, the security administrator decides who
holds which role, the auditor reads what both did — and no account holds two of them.

Guards: the membership rule in tangshan_portal.roles (removing the m2m_changed receiver, or SEPARATED_ROLES, makes
the membership tests fail), the division of the permissions between the three roles, and — once the admin applies
it (see the xfail reasons) — the account form's split between role fields and account fields.
"""

from itertools import permutations

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from tangshan_portal.models import User
from tangshan_portal.roles import (
    ROLE_ASSIGNMENT_FIELDS,
    ROLE_PERMISSIONS,
    SEPARATED_ROLES,
    STAFF_ROLES,
    Role,
    may_assign_roles,
    may_manage_accounts,
    validate_role_separation,
)
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

ADMIN_PATCH = (
    "needs the UserAdmin change described in the issue-8 authorization report: a form whose clean_groups calls "
    "roles.validate_role_separation, ROLE_ASSIGNMENT_FIELDS read-only unless roles.may_assign_roles, the account's "
    "own fields read-only unless roles.may_manage_accounts"
)


def group(role):
    return Group.objects.get(name=Role(role).value)


def names(user):
    return set(User.objects.get(pk=user.pk).groups.values_list("name", flat=True))


# --- The role and its permissions ----------------------------------------------------------------------------


def test_the_security_administrator_is_a_staff_role_whose_group_the_sync_creates_without_a_migration():
    """Guards the migration-free sync: every migrate (and flush) writes the role groups from ROLE_PERMISSIONS."""
    assert Role.SECADMIN in STAFF_ROLES
    held = {
        f"{app}.{code}"
        for app, code in group(Role.SECADMIN).permissions.values_list("content_type__app_label", "codename")
    }
    assert held == set(ROLE_PERMISSIONS[Role.SECADMIN])


def test_the_three_duties_are_divided_between_the_roles():
    sysadmin = set(ROLE_PERMISSIONS[Role.SYSADMIN])
    secadmin = set(ROLE_PERMISSIONS[Role.SECADMIN])
    auditor = set(ROLE_PERMISSIONS[Role.AUDITOR])
    # Only the auditor reads the audit log; it changes nothing.
    assert "portal.view_auditevent" in auditor
    assert "portal.view_auditevent" not in sysadmin | secadmin
    assert all(name.split(".", 1)[1].startswith("view_") for name in auditor)
    # Accounts are created by the system administrator only; the security administrator keeps no reference data,
    # no schedules and no business records, and decides no case.
    assert "portal.add_user" in sysadmin and "portal.add_user" not in secadmin
    assert all(name.split(".")[0] in ("portal", "auth") for name in secadmin)
    # Beyond reading, it changes accounts' roles and resets lost authenticators (tangshan_portal/otp.py).
    assert all(
        name.split(".", 1)[1].startswith(("view_", "change_user", "delete_authenticatordevice")) for name in secadmin
    )
    assert not {"portal.view_authenticatordevice", "portal.delete_authenticatordevice"} & (sysadmin | auditor)
    # Neither administrator holds a permission to decide anything of the regulation.
    decisions = {
        name
        for names in ROLE_PERMISSIONS.values()
        for name in names
        if not name.split(".", 1)[1].startswith(("view_", "add_", "change_", "delete_"))
    }
    assert not decisions & (sysadmin | secadmin)


def test_who_assigns_roles_and_who_manages_accounts():
    """Guards roles.may_assign_roles / may_manage_accounts, which the admin asks."""
    users = {role: UserFactory(role=role) for role in (Role.SYSADMIN, Role.SECADMIN, Role.AUDITOR, Role.OFFICER)}
    assert [role for role, user in users.items() if may_assign_roles(user)] == [Role.SECADMIN]
    assert [role for role, user in users.items() if may_manage_accounts(user)] == [Role.SYSADMIN]
    superuser = UserFactory(is_superuser=True)
    assert may_assign_roles(superuser) and may_manage_accounts(superuser)
    users[Role.SECADMIN].is_active = False
    assert not may_assign_roles(users[Role.SECADMIN])


# --- No account holds two of them, however its membership changes ----------------------------------------------

PAIRS = list(permutations(SEPARATED_ROLES, 2))


@pytest.mark.parametrize(("held", "added"), PAIRS, ids=[f"{a.value}+{b.value}" for a, b in PAIRS])
def test_adding_a_second_separated_role_to_a_user_is_refused(held, added):
    user = UserFactory(role=held)
    with pytest.raises(ValidationError) as refused, transaction.atomic():
        user.groups.add(group(added))
    assert refused.value.code == "role_separation"
    assert str(held.label) in refused.value.messages[0] and str(added.label) in refused.value.messages[0]
    assert names(user) == {held.value}


@pytest.mark.parametrize(("held", "added"), PAIRS, ids=[f"{a.value}+{b.value}" for a, b in PAIRS])
def test_adding_a_user_to_a_second_separated_group_is_refused(held, added):
    """The other side of the same table: Group.user_set, as a group admin or a script would do it."""
    user = UserFactory(role=held)
    bystander = UserFactory()
    with pytest.raises(ValidationError), transaction.atomic():
        group(added).user_set.add(bystander, user)
    # Nobody was added, not even the account that could have held the role.
    assert names(user) == {held.value}
    assert names(bystander) == set()


def test_setting_two_separated_roles_at_once_is_refused_and_nothing_is_saved():
    user = UserFactory()
    with pytest.raises(ValidationError), transaction.atomic():
        user.groups.set([group(Role.OFFICER), group(Role.SYSADMIN), group(Role.AUDITOR)])
    assert names(user) == set()


def test_one_separated_role_can_replace_another():
    """set() removes before it adds: moving a person from one duty to another is one change, not two roles."""
    user = UserFactory(role=Role.SYSADMIN)
    user.groups.set([group(Role.AUDITOR)])
    assert names(user) == {Role.AUDITOR.value}
    group(Role.AUDITOR).user_set.remove(user)
    group(Role.SECADMIN).user_set.add(user)
    assert names(user) == {Role.SECADMIN.value}


def test_other_roles_are_not_affected_by_the_rule():
    user = UserFactory(role=Role.OFFICER)
    user.groups.add(group(Role.APPROVER), group(Role.AUDITOR))
    assert names(user) == {Role.OFFICER.value, Role.APPROVER.value, Role.AUDITOR.value}
    validate_role_separation(["officer", "approver", "sysadmin", "no-such-group"])


# --- The account form in the admin ---------------------------------------------------------------------------


def account_form(user, **changes):
    """The admin's change form of `user` as the browser would post it, with `changes`."""
    data = {
        "username": user.username,
        "full_name": user.full_name,
        "email": user.email,
        "phone": user.phone,
        "organisation": user.organisation_id or "",
        "is_active": "on" if user.is_active else "",
        "is_staff": "on" if user.is_staff else "",
        "groups": [g.pk for g in user.groups.all()],
        "user_permissions": [],
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value not in ("", None)}


def change_url(user):
    return reverse("admin:portal_user_change", args=[user.pk])


@pytest.fixture
def clerk():
    return UserFactory(full_name="王小明", organisation=OrganisationFactory())


def test_the_security_administrator_assigns_roles_in_the_admin(client, clerk):
    client.force_login(UserFactory(role=Role.SECADMIN))
    response = client.post(change_url(clerk), account_form(clerk, groups=[group(Role.OFFICER).pk], is_staff="on"))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert names(clerk) == {Role.OFFICER.value}


def test_the_system_administrator_creates_accounts_and_edits_them(client, clerk):
    client.force_login(UserFactory(role=Role.SYSADMIN))
    response = client.post(change_url(clerk), account_form(clerk, full_name="王晓明"))
    assert response.status_code == 302
    clerk.refresh_from_db()
    assert clerk.full_name == "王晓明"


def test_the_admin_refuses_a_second_separated_role_with_a_chinese_error(client, clerk):
    clerk.groups.add(group(Role.SYSADMIN))
    client.force_login(UserFactory(role=Role.SECADMIN))
    response = client.post(
        change_url(clerk), account_form(clerk, groups=[group(Role.SYSADMIN).pk, group(Role.AUDITOR).pk])
    )
    assert response.status_code == 200
    assert "只能担任" in response.content.decode()
    assert names(clerk) == {Role.SYSADMIN.value}


def test_the_system_administrator_cannot_change_roles(client, clerk):
    client.force_login(UserFactory(role=Role.SYSADMIN))
    client.post(change_url(clerk), account_form(clerk, groups=[group(Role.OFFICER).pk], is_staff="on"))
    clerk.refresh_from_db()
    assert names(clerk) == set()
    assert not clerk.is_staff


def test_the_security_administrator_cannot_change_the_account_itself(client, clerk):
    client.force_login(UserFactory(role=Role.SECADMIN))
    client.post(change_url(clerk), account_form(clerk, full_name="冒名者", is_active=""))
    clerk.refresh_from_db()
    assert (clerk.full_name, clerk.is_active) == ("王小明", True)


def test_the_role_fields_are_the_accounts_permission_fields():
    # What the security administrator changes is exactly what decides an account's access; if a field is added
    # to the account form that grants access, it belongs here.
    assert set(ROLE_ASSIGNMENT_FIELDS) == {"groups", "user_permissions", "is_staff", "is_superuser"}
