"""The audit log becomes a hash chain (tangshan_portal/audit.py) with a sanctioned retention purge.

1. New columns, nullable at first; the rows already present are chained in id order (the order they were
   written in), then `sequence` becomes required and unique.
2. PostgreSQL: the append-only trigger of 0004 is replaced by one that still refuses every UPDATE and every
   DELETE, except deletes in a transaction that set `portal.audit_purge` of events a purge checkpoint already
   covers; checkpoints themselves are append-only.

Deploy with the web and worker processes stopped: an event written by the previous code between the backfill
and the end of this migration would have no place in the chain (and is refused once `sequence` is required).
"""

import django.core.serializers.json
import django.utils.timezone
from django.db import migrations, models

BATCH = 2000

APPEND_ONLY_WITH_PURGE = """
CREATE OR REPLACE FUNCTION portal_audit_append_only() RETURNS trigger AS $$
BEGIN
    -- The retention purge is the one sanctioned DELETE: it sets portal.audit_purge for its own transaction
    -- (SET LOCAL) after writing the checkpoint, and may delete only the events that checkpoint covers.
    IF TG_OP = 'DELETE'
       AND current_setting('portal.audit_purge', true) = 'on'
       AND OLD.sequence <= (SELECT max(last_sequence) FROM portal_auditcheckpoint) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'portal_auditevent is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION portal_audit_checkpoint_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'portal_auditcheckpoint is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER portal_auditcheckpoint_append_only
    BEFORE UPDATE OR DELETE ON portal_auditcheckpoint
    FOR EACH ROW EXECUTE FUNCTION portal_audit_checkpoint_append_only();
"""

# The function as 0004 created it.
APPEND_ONLY_0004 = """
DROP TRIGGER IF EXISTS portal_auditcheckpoint_append_only ON portal_auditcheckpoint;
DROP FUNCTION IF EXISTS portal_audit_checkpoint_append_only();
CREATE OR REPLACE FUNCTION portal_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'portal_auditevent is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
"""


def chain_existing_events(apps, schema_editor):
    """Hash the events written before the chain existed, in id order, exactly as verify_audit recomputes them."""
    from tangshan_portal.audit import CHAIN_FIELDS, GENESIS_HASH, chain_digest

    AuditEvent = apps.get_model("portal", "AuditEvent")
    connection = schema_editor.connection
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    postgresql = connection.vendor == "postgresql"
    columns = ["id", *(name for name in CHAIN_FIELDS if name != "sequence")]
    sequence, prev_hash, last_id = 0, GENESIS_HASH, 0
    with connection.cursor() as cursor:
        if postgresql:
            # The one time rows are rewritten: 0004's trigger would refuse it. ALTER TABLE also locks the table
            # until this migration commits, so nothing is appended meanwhile. It refuses to run while deferred
            # foreign-key checks of rows inserted earlier in the transaction are pending: run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER portal_auditevent_append_only")
        while True:
            page = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id").values(*columns)[:BATCH])
            if not page:
                break
            updates = []
            for row in page:
                sequence += 1
                row["sequence"] = sequence
                digest = chain_digest(prev_hash, row)
                updates.append((sequence, prev_hash, digest, row["id"]))
                prev_hash, last_id = digest, row["id"]
            cursor.executemany(
                f"UPDATE {table} SET sequence = %s, prev_hash = %s, chain_hash = %s WHERE id = %s",  # noqa: S608
                updates,
            )
        if postgresql:
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER portal_auditevent_append_only")


def purge_aware_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY_WITH_PURGE, params=None)


def plain_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY_0004, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0010_issued_documents_and_jobs"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditCheckpoint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name="created"),
                ),
                ("last_sequence", models.BigIntegerField(unique=True, verbose_name="last sequence purged")),
                ("last_id", models.BigIntegerField(verbose_name="last event id purged")),
                ("last_hash", models.CharField(max_length=64, verbose_name="hash of the last event purged")),
                ("cutoff", models.DateTimeField(verbose_name="events before")),
                ("retention_days", models.PositiveIntegerField(verbose_name="retention days")),
                ("events", models.PositiveBigIntegerField(verbose_name="events purged")),
            ],
            options={
                "verbose_name": "audit purge checkpoint",
                "verbose_name_plural": "audit purge checkpoints",
                "ordering": ["-last_sequence"],
            },
        ),
        migrations.AddField(
            model_name="auditevent",
            name="chain_hash",
            field=models.CharField(default="", editable=False, max_length=64, verbose_name="hash"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(default="", editable=False, max_length=64, verbose_name="previous hash"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="sequence",
            field=models.BigIntegerField(null=True, editable=False, verbose_name="sequence"),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("login", "Login"),
                    ("login_failed", "Failed login"),
                    ("logout", "Logout"),
                    ("password_changed", "Password changed"),
                    ("permission_denied", "Permission denied"),
                    ("export", "Export"),
                    ("import", "Import"),
                    ("download", "Download"),
                    ("dossier_view", "Dossier viewed"),
                    ("document_issued", "Document issued"),
                    ("permission_changed", "Permissions changed"),
                    ("audit_purged", "Audit log purged"),
                    ("transition", "State change"),
                ],
                db_index=True,
                max_length=30,
                verbose_name="action",
            ),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="at",
            field=models.DateTimeField(
                db_index=True, default=django.utils.timezone.now, editable=False, verbose_name="time"
            ),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="detail",
            field=models.JSONField(
                blank=True, default=dict, encoder=django.core.serializers.json.DjangoJSONEncoder, verbose_name="detail"
            ),
        ),
        migrations.RunPython(chain_existing_events, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="auditevent",
            name="sequence",
            field=models.BigIntegerField(editable=False, unique=True, verbose_name="sequence"),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.CheckConstraint(
                condition=models.Q(("sequence__gte", 1)), name="auditevent_sequence_positive"
            ),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.CheckConstraint(
                condition=models.Q(("chain_hash__regex", "^[0-9a-f]{64}$"), ("prev_hash__regex", "^[0-9a-f]{64}$")),
                name="auditevent_hashes_hex",
            ),
        ),
        migrations.RunPython(purge_aware_trigger, plain_trigger),
    ]
