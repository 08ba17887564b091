from django.db import migrations


def forwards(apps, schema_editor):
    from tangshan_portal.roles import sync_role_groups

    sync_role_groups(apps)


class Migration(migrations.Migration):
    # Every app whose permissions the roles hold must be migrated first.
    dependencies = [
        ("portal", "0002_reference_data"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("providers", "0001_initial"),
        ("enterprises", "0002_initial"),
        ("django_fsm_log", "0005_description_null"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
