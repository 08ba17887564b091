from django.db import migrations

# Defence in depth for the append-only audit log on the production database: even a raw UPDATE or DELETE
# (a bug, a console session) is refused. TRUNCATE, used by test teardown, is not a row event. SQLite, the
# embedded development default, has no TRUNCATE (its flush is DELETE), so it relies on the model guards.
CREATE = """
CREATE OR REPLACE FUNCTION portal_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'portal_auditevent is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER portal_auditevent_append_only
    BEFORE UPDATE OR DELETE ON portal_auditevent
    FOR EACH ROW EXECUTE FUNCTION portal_audit_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS portal_auditevent_append_only ON portal_auditevent;
DROP FUNCTION IF EXISTS portal_audit_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("portal", "0003_role_groups")]

    operations = [migrations.RunPython(forwards, backwards)]
