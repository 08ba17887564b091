from django.db import migrations


def forwards(apps, schema_editor):
    from tangshan_portal.roles import sync_role_groups

    sync_role_groups(apps)


class Migration(migrations.Migration):
    # The role groups receive the permissions of the case models created in 0001.
    dependencies = [
        ("evaluations", "0001_initial"),
        ("enterprises", "0003_feeconsequence_milestone"),
        ("portal", "0005_documentsequence_attachment_notification"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
