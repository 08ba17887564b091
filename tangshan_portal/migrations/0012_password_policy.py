# The password policy (issue 8): when each password was set, and the hashes of recent passwords.
# Existing accounts get the time of this migration, so the policy's maximum age starts counting at deployment
# instead of forcing every user to change the password on the first request.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0011_audit_hash_chain"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="password_changed_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now, editable=False, verbose_name="password changed"
            ),
        ),
        migrations.CreateModel(
            name="PasswordHistory",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("password", models.CharField(max_length=128, verbose_name="password hash")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="set at")),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="password_history",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "previous password",
                "verbose_name_plural": "previous passwords",
                "ordering": ["-created_at", "-id"],
                "indexes": [models.Index(fields=["user", "-created_at"], name="password_history_user_idx")],
            },
        ),
    ]
