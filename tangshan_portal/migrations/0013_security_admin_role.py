# The security administrator (issue 8, separation of duties): a new role, and so a new choice of the notifications'
# role recipient. Nothing changes in the database; the role's group and its permissions are written by
# roles.sync_role_groups after every migrate (apps.py), like every other role's.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0012_password_policy"),
    ]

    operations = [
        migrations.AlterField(
            model_name="notification",
            name="recipient_role",
            field=models.CharField(
                blank=True,
                choices=[
                    ("enterprise", "Pilot enterprise"),
                    ("provider", "Service provider"),
                    ("county", "County bureau"),
                    ("officer", "Case officer"),
                    ("approver", "Approver"),
                    ("assessor", "Third-party assessor"),
                    ("auditor", "Auditor"),
                    ("sysadmin", "System administrator"),
                    ("secadmin", "Security administrator"),
                ],
                max_length=20,
                verbose_name="role",
            ),
        ),
    ]
