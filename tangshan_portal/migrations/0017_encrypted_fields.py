# Encryption at rest (issue 8, item 3; Art 10(1)): users' phone numbers become an encrypted text column
# (tangshan_portal.fields) and the numbers already stored are encrypted; the audit action of
# `manage.py rotate_encryption_keys`.

import tangshan_portal.fields
from django.db import migrations, models

ENCRYPT, DECRYPT = tangshan_portal.fields.encrypt_columns_migration(
    "portal.User.phone",
)


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0016_privacy_audit_actions"),
    ]

    operations = [
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
                    ("encryption_rotated", "Encryption keys rotated"),
                ],
                db_index=True,
                max_length=30,
                verbose_name="action",
            ),
        ),
        migrations.AlterField(
            model_name="user",
            name="phone",
            field=tangshan_portal.fields.EncryptedCharField(blank=True, max_length=30, verbose_name="phone"),
        ),
        # Last: the columns hold the values as they were; encrypted here (and decrypted again in reverse).
        migrations.RunPython(ENCRYPT, DECRYPT),
    ]
