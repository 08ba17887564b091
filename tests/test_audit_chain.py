"""The audit log as a tamper-evident hash chain with bounded retention (issue 8, item 4).

Tampering is done the way someone with database access would: raw SQL, and on PostgreSQL with the append-only
trigger switched off first (ALTER TABLE … DISABLE TRIGGER, rolled back with the test's transaction)."""

import os
import subprocess
import sys
from contextlib import contextmanager
from datetime import date
from io import StringIO
from types import SimpleNamespace

import pytest
from django.apps import apps as global_apps
from django.conf import settings as django_settings
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.utils import DatabaseError, IntegrityError
from django.test import RequestFactory
from django.urls import reverse

from tangshan_portal import audit
from tangshan_portal.audit import CHAIN_FIELDS, GENESIS_HASH, bound_request, chain_digest, record_event, verify_chain
from tangshan_portal.models import AuditCheckpoint, AuditEvent
from tangshan_portal.roles import Role, sync_role_groups
from tests.enforcement import at, travel
from tests.factories import UserFactory
from tests.test_revocation import _in_threads

pytestmark = pytest.mark.django_db

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigger and locks are PostgreSQL's"
)


def sql(statement, params=None):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


@contextmanager
def trigger_off():
    """What an attacker with the table owner's rights does first on PostgreSQL (SQLite has no trigger)."""
    if connection.vendor == "postgresql":
        # ALTER TABLE refuses while the test's own inserts still have deferred foreign-key checks queued.
        sql("SET CONSTRAINTS ALL IMMEDIATE")
        sql("ALTER TABLE portal_auditevent DISABLE TRIGGER portal_auditevent_append_only")
    try:
        yield
    finally:
        if connection.vendor == "postgresql":
            sql("ALTER TABLE portal_auditevent ENABLE TRIGGER portal_auditevent_append_only")


def events(n, **detail):
    return [record_event(AuditEvent.Action.EXPORT, username="clerk", rows=i, **detail) for i in range(n)]


def verify_fails():
    """verify_audit's failure: (exit status, everything it wrote)."""
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit", stdout=out, stderr=err)
    return failure.value.returncode, f"{failure.value}\n{err.getvalue()}"


def verify_passes():
    out = StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


# --- The chain ------------------------------------------------------------------------------------------------


def test_each_event_is_hashed_over_its_fields_and_the_hash_of_the_one_before():
    """Guards the chain itself: sequence without gaps, prev_hash = the previous event's hash, and a hash that
    covers every recorded field."""
    first, second, third = events(3)
    assert (second.sequence, third.sequence) == (first.sequence + 1, first.sequence + 2)
    assert second.prev_hash == first.chain_hash and third.prev_hash == second.chain_hash
    for event in (first, second, third):
        stored = AuditEvent.objects.values(*CHAIN_FIELDS, "prev_hash", "chain_hash").get(pk=event.pk)
        assert chain_digest(stored["prev_hash"], stored) == stored["chain_hash"]
    changed = {**stored, "object_repr": "something else"}
    assert chain_digest(stored["prev_hash"], changed) != stored["chain_hash"]


def test_the_first_event_links_to_the_genesis():
    (event,) = events(1)
    assert (event.sequence, event.prev_hash) == (1, GENESIS_HASH)


def test_awkward_values_hash_the_same_after_the_database_gives_them_back():
    """Guards the canonical form: what the database returns (jsonb numbers, inet text, time zones) must hash
    exactly like the values the event was written with, or every such event would look tampered with."""
    request = RequestFactory().get("/导出/?q=唐山", REMOTE_ADDR="2001:DB8::1", HTTP_USER_AGENT="Mozilla/5.0 \u2028")
    request.user = UserFactory(username="张三")
    record_event(
        AuditEvent.Action.EXPORT,
        request=request,
        big=1e16,
        whole=2.0,
        small=0.1,
        tiny=1e-7,
        day=date(2026, 5, 1),
        nested={"b": [1, "二", None, True], "a": {"z": 1}},
        text='引号"和\\反斜杠',
    )
    report = verify_chain()
    assert report.ok, report.problems
    assert AuditEvent.objects.get(action=AuditEvent.Action.EXPORT).ip_address in ("2001:db8::1",)


def test_the_time_is_the_server_s_and_rows_cannot_be_bulk_inserted():
    """Guards the chain against writes that bypass it: a back-dated `at` and bulk_create (no hash)."""
    with travel(at(2026, 5, 1)):
        event = AuditEvent(action=AuditEvent.Action.EXPORT, at=at(2020, 1, 1))
        event.save()
    assert event.at == at(2026, 5, 1)
    with pytest.raises(PermissionError):
        AuditEvent.objects.bulk_create([AuditEvent(action=AuditEvent.Action.EXPORT)])


def test_existing_events_are_chained_in_id_order_by_the_migration():
    """Guards the data migration: rows written before the chain get it in id order, exactly as record_event
    would have written it (verify_audit recomputes the same hashes)."""
    from importlib import import_module

    migration = import_module("tangshan_portal.migrations.0011_audit_hash_chain")
    written = events(5)
    original = {e.pk: (e.sequence, e.chain_hash) for e in written}
    # As before the migration: no chain at all (values the constraints still accept).
    with trigger_off():
        sql(
            "UPDATE portal_auditevent SET sequence = sequence + 1000, prev_hash = %s, chain_hash = %s",
            ["f" * 64, "f" * 64],
        )
    assert not verify_chain().ok
    migration.chain_existing_events(global_apps, SimpleNamespace(connection=connection))
    assert {
        pk: (seq, digest) for pk, seq, digest in AuditEvent.objects.values_list("pk", "sequence", "chain_hash")
    } == original
    assert verify_chain().ok


# --- verify_audit -----------------------------------------------------------------------------------------------


def test_a_clean_chain_verifies_and_its_head_is_printed():
    written = events(5)
    out = verify_passes()
    assert "intact: 5 event(s), sequence 1–5" in out
    assert f"5:{written[-1].chain_hash}" in out


def test_a_changed_detail_is_reported_with_the_row_that_was_changed():
    """Guards the hash over the fields: a raw UPDATE of one event's detail is named by id."""
    written = events(5)
    target = written[2]
    with trigger_off():
        assert sql("UPDATE portal_auditevent SET detail = %s WHERE id = %s", ['{"rows": 999}', target.pk]) == 1
    status, output = verify_fails()
    assert status == 1
    assert f"event id {target.pk} (sequence {target.sequence}) does not match its hash" in output
    assert f"id {written[1].pk} " not in output and f"id {written[3].pk} " not in output


def test_a_deleted_event_is_reported_as_a_gap_between_its_neighbours():
    """Guards the sequence: a raw DELETE leaves a missing number that names both neighbours."""
    written = events(5)
    with trigger_off():
        assert sql("DELETE FROM portal_auditevent WHERE id = %s", [written[2].pk]) == 1
    status, output = verify_fails()
    assert status == 1
    assert f"sequence 3 missing between event id {written[1].pk} (sequence 2) and event id {written[3].pk}" in output


def test_events_deleted_from_the_start_are_reported():
    written = events(4)
    with trigger_off():
        sql("DELETE FROM portal_auditevent WHERE id IN (%s, %s)", [written[0].pk, written[1].pk])
    assert "sequence 1–2 missing between the start of the chain and event id" in verify_fails()[1]


def test_reordered_events_are_reported():
    """Swapping two rows' ids (their place in the table) keeps every hash valid but not the order."""
    written = events(4)
    a, b = written[1].pk, written[2].pk
    with trigger_off():
        sql("UPDATE portal_auditevent SET id = %s WHERE id = %s", [10**9, a])
        sql("UPDATE portal_auditevent SET id = %s WHERE id = %s", [a, b])
        sql("UPDATE portal_auditevent SET id = %s WHERE id = %s", [b, 10**9])
    _status, output = verify_fails()
    assert f"event id {a} (sequence 3)" in output and "reordered" in output


def test_a_changed_and_rehashed_event_breaks_the_link_to_the_next():
    written = events(4)
    target = written[1]
    stored = AuditEvent.objects.values(*CHAIN_FIELDS, "prev_hash").get(pk=target.pk)
    forged = chain_digest(stored["prev_hash"], {**stored, "actor_username": "someone"})
    with trigger_off():
        sql(
            "UPDATE portal_auditevent SET actor_username = 'someone', chain_hash = %s WHERE id = %s",
            [forged, target.pk],
        )
    output = verify_fails()[1]
    assert f"event id {written[2].pk} (sequence 3) does not link to event id {target.pk} (sequence 2)" in output


def test_a_recomputed_or_cut_chain_is_caught_only_by_a_kept_anchor():
    """The documented limit of an unkeyed chain, and its remedy: the head printed by an earlier run."""
    written = events(4)
    anchor = f"4:{written[-1].chain_hash}"
    # The attacker changes event 2 and recomputes every hash after it.
    with trigger_off():
        sql("UPDATE portal_auditevent SET actor_username = 'someone' WHERE id = %s", [written[1].pk])
        prev = written[0].chain_hash
        for event in written[1:]:
            forged = chain_digest(prev, AuditEvent.objects.values(*CHAIN_FIELDS).get(pk=event.pk))
            sql("UPDATE portal_auditevent SET prev_hash = %s, chain_hash = %s WHERE id = %s", [prev, forged, event.pk])
            prev = forged
    assert verify_chain().ok
    with pytest.raises(CommandError, match="broken"):
        call_command("verify_audit", anchor=[anchor], stderr=StringIO())
    # Cutting the end off instead: only the anchor knows the chain was longer.
    with trigger_off():
        sql("DELETE FROM portal_auditevent WHERE id = %s", [written[-1].pk])
    report = verify_chain(anchors=[audit.parse_anchor(anchor)])
    assert [p.kind for p in report.problems] == ["anchor"]
    assert "ends at sequence 3, before the anchor at 4" in report.problems[0].message


def test_all_problems_are_listed_on_request():
    written = events(6)
    with trigger_off():
        sql("UPDATE portal_auditevent SET detail = '{}' WHERE id = %s", [written[1].pk])
        sql("DELETE FROM portal_auditevent WHERE id = %s", [written[4].pk])
    report = verify_chain(stop_at_first=False)
    assert [(p.kind, p.event_id) for p in report.problems] == [("changed", written[1].pk), ("missing", written[5].pk)]


def test_verification_reads_the_chain_in_pages():
    """Constant memory: keyset pages of batch_size rows, the chain carried across page boundaries."""
    events(7)
    assert verify_chain(batch_size=2).events == 7


# --- Retention ----------------------------------------------------------------------------------------------------


def _aged_log():
    """Events on 10 Jan 2025, 1 Jun 2025 and 1 Mar 2026; the purge runs on 15 Jun 2026 (cut-off 15 Jun 2025)."""
    written = []
    for moment in (at(2025, 1, 10), at(2025, 6, 1), at(2026, 3, 1)):
        with travel(moment):
            written += events(2)
    return written


def test_purge_deletes_only_events_older_than_the_retention_and_the_chain_still_verifies(settings):
    """Guards retention with a verifiable chain: the checkpoint, the purge event, and a start from the cut."""
    settings.AUDIT_RETENTION_DAYS = 365
    written = _aged_log()
    with travel(at(2026, 6, 15)):
        call_command("purge_audit", stdout=StringIO())
    remaining = list(AuditEvent.objects.order_by("sequence"))
    assert [e.pk for e in remaining[:2]] == [e.pk for e in written[4:]]
    purge = remaining[-1]
    assert purge.action == AuditEvent.Action.AUDIT_PURGED
    checkpoint = AuditCheckpoint.objects.get()
    assert (checkpoint.last_sequence, checkpoint.last_id, checkpoint.last_hash) == (
        written[3].sequence,
        written[3].pk,
        written[3].chain_hash,
    )
    assert purge.detail["up_to_sequence"] == checkpoint.last_sequence and purge.detail["events"] == 4
    assert "after the purge checkpoint at sequence 4" in verify_passes()
    # A second run the same day has nothing to do and leaves the chain as it was.
    with travel(at(2026, 6, 15, 11)):
        call_command("purge_audit", stdout=StringIO())
    assert AuditCheckpoint.objects.count() == 1
    assert verify_chain().ok


def test_a_dry_run_deletes_nothing(settings):
    settings.AUDIT_RETENTION_DAYS = 365
    _aged_log()
    out = StringIO()
    with travel(at(2026, 6, 15)):
        call_command("purge_audit", dry_run=True, stdout=out)
    assert "Would delete 4 event(s) up to sequence 4" in out.getvalue()
    assert AuditEvent.objects.count() == 6 and not AuditCheckpoint.objects.exists()


@pytest.mark.parametrize("days", [0, 30, 183])
def test_a_retention_shorter_than_six_months_is_refused(settings, days):
    """Guards the six-month minimum (184 days cover any six calendar months) in the purge itself."""
    settings.AUDIT_RETENTION_DAYS = days
    _aged_log()
    with travel(at(2026, 6, 15)), pytest.raises(CommandError, match="six months"):
        call_command("purge_audit")
    assert AuditEvent.objects.count() == 6


def test_the_settings_refuse_a_retention_shorter_than_six_months():
    """Guards the settings check: the portal does not start with PORTAL_AUDIT_RETENTION_DAYS below 184."""
    env = {**os.environ, "PORTAL_AUDIT_RETENTION_DAYS": "100", "DJANGO_SETTINGS_MODULE": "tangshan_portal.settings"}
    code = "import django; django.setup()"
    refused = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=django_settings.BASE_DIR
    )
    assert refused.returncode != 0 and "PORTAL_AUDIT_RETENTION_DAYS" in refused.stderr
    env["PORTAL_AUDIT_RETENTION_DAYS"] = "184"
    assert (
        subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, cwd=django_settings.BASE_DIR
        ).returncode
        == 0
    )


def test_an_interrupted_purge_verifies_and_the_next_run_finishes_it(settings, monkeypatch):
    settings.AUDIT_RETENTION_DAYS = 365
    written = _aged_log()
    original = audit._delete_through

    def one_batch_then_crash(sequence, *, using, batch_size):
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT set_config(%s, 'on', true)", [audit.PURGE_GUC])
            cursor.execute("DELETE FROM portal_auditevent WHERE id = %s", [written[0].pk])
        raise RuntimeError("worker killed")

    monkeypatch.setattr(audit, "_delete_through", one_batch_then_crash)
    with travel(at(2026, 6, 15)), pytest.raises(RuntimeError):
        audit.purge_expired_events()
    assert AuditEvent.objects.filter(pk__in=[e.pk for e in written[1:4]]).count() == 3
    assert verify_chain().ok, "rows the checkpoint covers are skipped"
    monkeypatch.setattr(audit, "_delete_through", original)
    with travel(at(2026, 6, 15, 12)):
        result = audit.purge_expired_events(batch_size=2)
    assert result.deleted == 3 and result.checkpoint is None
    assert not AuditEvent.objects.filter(sequence__lte=4).exists()
    assert verify_chain().ok


def test_a_checkpoint_not_written_by_the_purge_is_reported():
    """Someone who deletes the start of the log and forges a checkpoint still has no purge event in the chain."""
    written = events(5)
    with trigger_off():
        sql("DELETE FROM portal_auditevent WHERE sequence <= 2")
    AuditCheckpoint.objects.create(
        last_sequence=2,
        last_id=written[1].pk,
        last_hash=written[1].chain_hash,
        cutoff=written[1].at,
        retention_days=365,
        events=2,
    )
    _status, output = verify_fails()
    assert "no purge event in the chain announces the checkpoint up to sequence 2" in output


@needs_postgresql
def test_postgresql_refuses_every_update_and_delete_but_the_purge_s(settings):
    """Guards the trigger of migration 0011: the purge's session setting opens DELETE only for events a
    checkpoint covers; UPDATE never; checkpoints are append-only too."""
    settings.AUDIT_RETENTION_DAYS = 365
    written = _aged_log()
    old, new = written[0].pk, written[-1].pk

    def refused(statement, params, *, purge=False):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            if purge:
                sql("SELECT set_config(%s, 'on', true)", [audit.PURGE_GUC])
            sql(statement, params)

    refused("DELETE FROM portal_auditevent WHERE id = %s", [old])
    # The session setting alone opens nothing: no checkpoint covers the event yet.
    refused("DELETE FROM portal_auditevent WHERE id = %s", [old], purge=True)
    refused("UPDATE portal_auditevent SET detail = '{}' WHERE id = %s", [old], purge=True)
    with travel(at(2026, 6, 15)):
        result = audit.purge_expired_events()
    assert result.deleted == 4
    refused("DELETE FROM portal_auditevent WHERE id = %s", [new])
    refused("DELETE FROM portal_auditevent WHERE id = %s", [new], purge=True)
    refused("UPDATE portal_auditevent SET detail = '{}' WHERE id = %s", [new], purge=True)
    refused("UPDATE portal_auditcheckpoint SET last_sequence = 5", None)
    refused("DELETE FROM portal_auditcheckpoint", None)
    # The purge switched its setting off again, even inside this test's transaction.
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s, true)", [audit.PURGE_GUC])
        assert cursor.fetchone()[0] != "on"
    assert verify_chain().ok


# --- Concurrency (PostgreSQL) ---------------------------------------------------------------------------------


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_writers_at_once_build_one_unbroken_chain():
    """Guards the chain lock: without it both writers read the same head and the second insert breaks the
    unique sequence (or, without that constraint, forks the chain)."""
    before = AuditEvent.objects.count()
    per_writer = 150

    def write(i):
        for n in range(per_writer):
            # Some events alone, some several to a transaction (a request that records two), as in real use.
            with transaction.atomic():
                record_event(AuditEvent.Action.EXPORT, username=f"writer{i}", n=n)
                if n % 5 == 0:
                    record_event(AuditEvent.Action.DOWNLOAD, username=f"writer{i}", n=n)
        return per_writer

    results = _in_threads(2, write)
    assert results == [("ok", per_writer), ("ok", per_writer)], results
    written = AuditEvent.objects.count() - before
    assert written == 2 * (per_writer + per_writer // 5)
    sequences = list(AuditEvent.objects.order_by("id").values_list("sequence", flat=True))
    assert sequences == list(range(sequences[0], sequences[0] + len(sequences)))
    assert set(AuditEvent.objects.values_list("actor_username", flat=True)) >= {"writer0", "writer1"}
    report = verify_chain()
    assert report.ok, report.problems
    times = list(AuditEvent.objects.order_by("sequence").values_list("at", flat=True))
    assert times == sorted(times), "the time is taken under the lock"


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_purge_while_others_write_leaves_a_verifiable_chain(settings):
    settings.AUDIT_RETENTION_DAYS = 365
    with travel(at(2025, 1, 10)):
        events(20)

    def act(i):
        if i == 0:
            return audit.purge_expired_events(batch_size=3).deleted
        for n in range(40):
            record_event(AuditEvent.Action.EXPORT, username="writer", n=n)
        return 40

    # One clock for both threads (time-machine patches the process).
    with travel(at(2026, 6, 15)):
        results = _in_threads(2, act)
    assert results == [("ok", 20), ("ok", 40)], results
    assert verify_chain().ok


def test_a_fork_is_refused_even_without_the_lock(monkeypatch):
    """The unique sequence is the backstop behind the lock: two events linked to the same head cannot both
    be stored."""
    (first,) = events(1)
    monkeypatch.setattr(audit, "chain_head", lambda cursor: (first.sequence - 1, first.prev_hash))
    with pytest.raises(IntegrityError), transaction.atomic():
        events(1)


# --- Permission changes --------------------------------------------------------------------------------------


def _changes(obj=None):
    rows = AuditEvent.objects.filter(action=AuditEvent.Action.PERMISSION_CHANGED).order_by("sequence")
    if obj is not None:
        rows = rows.filter(object_type=obj._meta.label, object_id=str(obj.pk))
    return [
        (e.detail.get("relation"), e.detail.get("added"), e.detail.get("removed"), e.detail.get("changed"))
        for e in rows
    ]


@pytest.fixture
def admin_request():
    """A request of the security administrator (who assigns roles), bound as AuditContextMiddleware binds it."""
    secadmin = UserFactory(role=Role.SECADMIN, username="secadmin_a")
    request = RequestFactory().post("/admin/portal/user/1/change/", REMOTE_ADDR="10.1.2.3")
    request.user = secadmin
    with bound_request(request):
        yield request


def test_group_membership_changes_are_audited_from_either_side(admin_request):
    """Guards the m2m_changed receivers on User.groups: adding, removing and clearing, from the user or from
    the group, each name the user, the groups, the actor and the address."""
    clerk = UserFactory(username="clerk")
    officer, auditor = Group.objects.get(name=Role.OFFICER), Group.objects.get(name=Role.AUDITOR)
    clerk.groups.add(officer)
    auditor.user_set.add(clerk)
    clerk.groups.remove(officer)
    clerk.groups.clear()
    assert _changes(clerk) == [
        ("groups", ["officer"], None, None),
        ("groups", ["auditor"], None, None),
        ("groups", None, ["officer"], None),
        ("groups", None, ["auditor"], None),
    ]
    event = AuditEvent.objects.filter(action=AuditEvent.Action.PERMISSION_CHANGED, object_id=str(clerk.pk)).first()
    assert (event.actor.username, event.ip_address, event.object_repr, event.success) == (
        "secadmin_a",
        "10.1.2.3",
        str(clerk),
        True,
    )


def test_individual_and_group_permission_changes_are_audited(admin_request):
    """Guards the receivers on User.user_permissions and Group.permissions (also of a role group in a request)."""
    clerk = UserFactory(username="clerk")
    extend = Permission.objects.get(codename="extend_rectification_deadline")
    clerk.user_permissions.add(extend)
    officer = Group.objects.get(name=Role.OFFICER)
    officer.permissions.add(extend)
    extend.group_set.remove(officer)
    assert _changes(clerk) == [("user_permissions", ["evaluations.extend_rectification_deadline"], None, None)]
    assert _changes(officer) == [
        ("group_permissions", ["evaluations.extend_rectification_deadline"], None, None),
        ("group_permissions", None, ["evaluations.extend_rectification_deadline"], None),
    ]


def test_superuser_staff_and_active_flags_are_audited_but_a_login_save_is_not(admin_request):
    clerk = UserFactory(username="clerk")
    clerk.is_superuser = True
    clerk.is_active = False
    clerk.save()
    clerk.save(update_fields=["last_login"])
    clerk.full_name = "新名字"
    clerk.save()
    assert _changes(clerk) == [("flags", None, None, {"is_superuser": [False, True], "is_active": [True, False]})]
    # record_event found the request itself (no request argument): the bound one gives actor and address.
    event = AuditEvent.objects.get(action=AuditEvent.Action.PERMISSION_CHANGED, object_id=str(clerk.pk))
    assert (event.actor_username, event.ip_address) == ("secadmin_a", "10.1.2.3")


def test_outside_a_request_an_event_has_no_actor_or_address():
    (event,) = events(1)
    assert (event.actor, event.ip_address, event.path) == (None, None, "")


def test_the_declared_role_permissions_applied_by_migrate_are_not_logged_as_changes():
    """sync_role_groups (every migrate and test flush) re-applies roles.py, outside any request."""
    officer = Group.objects.get(name=Role.OFFICER)
    officer.permissions.clear()
    assert sync_role_groups() == []  # what post_migrate runs
    assert officer.permissions.exists()
    assert _changes(officer) == []


def test_a_group_change_in_the_user_admin_is_audited_with_the_administrator_and_address(client, settings):
    """End to end through the admin's user form and AuditContextMiddleware, which binds the request."""
    middleware = "tangshan_portal.audit.AuditContextMiddleware"
    if middleware not in settings.MIDDLEWARE:
        auth = settings.MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware")
        settings.MIDDLEWARE = [*settings.MIDDLEWARE[: auth + 1], middleware, *settings.MIDDLEWARE[auth + 1 :]]
    secadmin = UserFactory(role=Role.SECADMIN, username="secadmin_a")
    clerk = UserFactory(username="clerk", role=Role.ENTERPRISE)
    client.force_login(secadmin)
    before = AuditEvent.objects.order_by("sequence").last().sequence
    url = reverse("admin:portal_user_change", args=[clerk.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: form.initial.get(name) for name in form.fields if name not in ("password",)}
    data = {k: v for k, v in data.items() if v not in (None, False)}
    data["organisation"] = clerk.organisation_id
    data["groups"] = [Group.objects.get(name=Role.OFFICER).pk]
    data["user_permissions"] = []
    response = client.post(url, data, REMOTE_ADDR="10.9.8.7")
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    changes = AuditEvent.objects.filter(action=AuditEvent.Action.PERMISSION_CHANGED, sequence__gt=before)
    assert {(e.actor_username, e.ip_address, e.path) for e in changes} == {("secadmin_a", "10.9.8.7", url)}
    # The form sets the groups: the one dropped, then the one added.
    assert _changes(clerk)[-2:] == [("groups", None, ["enterprise"], None), ("groups", ["officer"], None, None)]


# --- State changes in the chain (signals.audit_transition) ------------------------------------------------------


def _warned_case():
    from tests.enforcement import warned_case
    from tests.factories import ProviderFactory

    return warned_case(provider=ProviderFactory(), officer=UserFactory(role=Role.OFFICER, username="officer_t"))


def test_every_state_log_row_is_mirrored_into_the_chain_with_its_states_and_actor():
    case = _warned_case()
    from django_fsm_log.models import StateLog

    logs = list(StateLog.objects.for_(case).order_by("id"))
    mirrored = list(
        AuditEvent.objects.filter(
            action=AuditEvent.Action.TRANSITION, object_type="evaluations.RectificationCase", object_id=str(case.pk)
        ).order_by("sequence")
    )
    assert [e.detail["state_log"] for e in mirrored] == [log.pk for log in logs]
    warn = mirrored[-1]
    assert (warn.object_type, warn.object_id, warn.actor_username) == (
        "evaluations.RectificationCase",
        str(case.pk),
        "officer_t",
    )
    assert (warn.detail["transition"], warn.detail["source_state"], warn.detail["state"]) == ("warn", "draft", "warned")
    assert verify_chain().ok


def test_a_transition_that_rolls_back_leaves_no_event_behind():
    """The event is written in the transition's transaction: no event for a change that did not happen."""
    from evaluations import services
    from tests.factories import ProviderFactory

    officer = UserFactory(role=Role.OFFICER)
    before = AuditEvent.objects.filter(action=AuditEvent.Action.TRANSITION).count()
    with pytest.raises(RuntimeError), transaction.atomic():
        case = services.rectification_open(provider=ProviderFactory(), ground=2, finding="未按合同进驻", by=officer)
        services.rectification_warn(case=case, by=officer)
        assert AuditEvent.objects.filter(action=AuditEvent.Action.TRANSITION).count() > before
        raise RuntimeError("the request fails after the transition")
    assert AuditEvent.objects.filter(action=AuditEvent.Action.TRANSITION).count() == before


def test_a_transition_whose_event_cannot_be_written_does_not_happen(monkeypatch):
    """The other way round: no state change escapes the log (AuditEvent.save joins without a savepoint)."""
    from evaluations import services
    from evaluations.models import RectificationCase, RectificationStatus
    from tests.factories import ProviderFactory

    officer = UserFactory(role=Role.OFFICER)
    case = services.rectification_open(provider=ProviderFactory(), ground=2, finding="未按合同进驻", by=officer)

    def broken(*args, **kwargs):
        raise DatabaseError("the audit table is not writable")

    monkeypatch.setattr(audit, "link_event", broken)
    with pytest.raises(DatabaseError):
        services.rectification_warn(case=case, by=officer)
    assert RectificationCase.objects.get(pk=case.pk).status == RectificationStatus.DRAFT


# --- The chain in the admin, for the auditor ------------------------------------------------------------------


def test_the_auditor_sees_each_events_place_in_the_chain_and_the_checkpoints(client, settings):
    """Guards AuditEventAdmin.fields (sequence, both hashes) and AuditCheckpointAdmin with the auditor's view
    permission; both read-only."""
    settings.AUDIT_RETENTION_DAYS = 200
    with travel(at(2025, 1, 1)):
        events(2)
    with travel(at(2026, 6, 1)):
        (kept,) = events(1)
        audit.purge_expired_events()
    checkpoint = AuditCheckpoint.objects.get()
    client.force_login(UserFactory(role=Role.AUDITOR))
    page = client.get(reverse("admin:portal_auditevent_change", args=[kept.pk])).content.decode()
    assert kept.chain_hash in page and kept.prev_hash in page
    listing = client.get(reverse("admin:portal_auditevent_changelist")).content.decode()
    assert f">{kept.sequence}<" in listing
    checkpoints = client.get(reverse("admin:portal_auditcheckpoint_changelist"))
    assert checkpoints.status_code == 200 and checkpoint.last_hash in checkpoints.content.decode()
    detail = client.get(reverse("admin:portal_auditcheckpoint_change", args=[checkpoint.pk]))
    assert detail.status_code == 200 and checkpoint.last_hash in detail.content.decode()
    assert not detail.context["adminform"].form.fields and not detail.context["has_change_permission"]
    assert client.post(reverse("admin:portal_auditcheckpoint_delete", args=[checkpoint.pk])).status_code == 403
    assert client.get(reverse("admin:portal_auditcheckpoint_add")).status_code == 403
    for role in (Role.SYSADMIN, Role.SECADMIN, Role.OFFICER):
        client.force_login(UserFactory(role=role))
        assert client.get(reverse("admin:portal_auditcheckpoint_changelist")).status_code == 403, role
