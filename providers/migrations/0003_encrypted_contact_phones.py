# Encryption at rest (issue 8, item 3; Art 10(1)): the contact phone numbers of providers and applications become
# encrypted text columns (tangshan_portal.fields), and the numbers already stored are encrypted.

import tangshan_portal.fields
from django.db import migrations

ENCRYPT, DECRYPT = tangshan_portal.fields.encrypt_columns_migration(
    "providers.Provider.contact_phone",
    "providers.ProviderApplication.contact_phone",
)


class Migration(migrations.Migration):
    dependencies = [
        ("providers", "0002_product_productpricechange_providerapplication_and_more"),
    ]

    operations = [
        migrations.AlterField(
            model_name="provider",
            name="contact_phone",
            field=tangshan_portal.fields.EncryptedCharField(blank=True, max_length=30, verbose_name="contact phone"),
        ),
        migrations.AlterField(
            model_name="providerapplication",
            name="contact_phone",
            field=tangshan_portal.fields.EncryptedCharField(max_length=30, verbose_name="contact phone"),
        ),
        # Last: the columns hold the values as they were; encrypted here (and decrypted again in reverse).
        migrations.RunPython(ENCRYPT, DECRYPT),
    ]
