# Art 10(1) privacy controls (issue 8, item 3): the audit actions of consent (granted, revoked) and of the secure
# destruction of an enterprise's data, and the permission to see personal data unmasked in lists and exports
# (tangshan_portal.masking). The roles that hold the permission are written by roles.sync_role_groups after every
# migrate (apps.py). Nothing changes in the tables: choices and permissions live in Django's state and auth tables.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0014_otp_audit_actions"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="user",
            options={
                "permissions": [("view_personal_data", "Can see personal data unmasked in lists and exports")],
                "verbose_name": "user",
                "verbose_name_plural": "users",
            },
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
                    ("consent_granted", "Consent granted"),
                    ("consent_revoked", "Consent revoked"),
                    ("data_destroyed", "Data destroyed"),
                    ("otp_verified", "Second factor passed"),
                    ("otp_failed", "Second factor refused"),
                    ("otp_enrolled", "Authenticator enrolled"),
                    ("otp_reset", "Authenticator reset"),
                ],
                db_index=True,
                max_length=30,
                verbose_name="action",
            ),
        ),
    ]
