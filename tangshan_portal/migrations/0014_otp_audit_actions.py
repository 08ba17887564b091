# The second factor (issue 8, tangshan_portal/otp.py): four audit actions (a code passed or refused, an authenticator
# enrolled or reset) and the portal's proxy of django-otp's TOTP device, whose permissions let the security
# administrator reset a device (roles.py; the role groups are synced after every migrate, apps.py). Nothing
# changes in the database.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("otp_totp", "0003_add_timestamps"),
        ("portal", "0013_security_admin_role"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuthenticatorDevice",
            fields=[],
            options={
                "verbose_name": "authenticator",
                "verbose_name_plural": "authenticators",
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("otp_totp.totpdevice",),
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
