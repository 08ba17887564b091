# Encryption at rest (issue 8, item 3; Art 10(1)): the enterprise's contact phone, its diagnoses (overall
# assessment, each finding's current state and recommendation) and its dossier survey (the trade secrets) become
# encrypted text columns (tangshan_portal.fields), and what is already stored is encrypted.

import tangshan_portal.fields
from django.db import migrations

ENCRYPT, DECRYPT = tangshan_portal.fields.encrypt_columns_migration(
    "enterprises.PilotEnterprise.contact_phone",
    "enterprises.DiagnosisReport.summary",
    "enterprises.DiagnosisFinding.current_state",
    "enterprises.DiagnosisFinding.recommendation",
    "enterprises.DossierSurvey.production_process",
    "enterprises.DossierSurvey.supply_chain",
    "enterprises.DossierSurvey.intellectual_property",
    "enterprises.DossierSurvey.other_core_information",
)


class Migration(migrations.Migration):
    dependencies = [
        ("enterprises", "0005_procurementitem_product_progressreport_contract_and_more"),
    ]

    operations = [
        migrations.AlterField(
            model_name="diagnosisfinding",
            name="current_state",
            field=tangshan_portal.fields.EncryptedTextField(verbose_name="current state"),
        ),
        migrations.AlterField(
            model_name="diagnosisfinding",
            name="recommendation",
            field=tangshan_portal.fields.EncryptedTextField(verbose_name="recommended retrofit"),
        ),
        migrations.AlterField(
            model_name="diagnosisreport",
            name="summary",
            field=tangshan_portal.fields.EncryptedTextField(verbose_name="overall assessment"),
        ),
        migrations.AlterField(
            model_name="dossiersurvey",
            name="intellectual_property",
            field=tangshan_portal.fields.EncryptedTextField(blank=True, verbose_name="intellectual property"),
        ),
        migrations.AlterField(
            model_name="dossiersurvey",
            name="other_core_information",
            field=tangshan_portal.fields.EncryptedTextField(blank=True, verbose_name="other core information"),
        ),
        migrations.AlterField(
            model_name="dossiersurvey",
            name="production_process",
            field=tangshan_portal.fields.EncryptedTextField(verbose_name="production process"),
        ),
        migrations.AlterField(
            model_name="dossiersurvey",
            name="supply_chain",
            field=tangshan_portal.fields.EncryptedTextField(verbose_name="supply-chain data"),
        ),
        migrations.AlterField(
            model_name="pilotenterprise",
            name="contact_phone",
            field=tangshan_portal.fields.EncryptedCharField(blank=True, max_length=30, verbose_name="contact phone"),
        ),
        # Last: the columns hold the values as they were; encrypted here (and decrypted again in reverse).
        migrations.RunPython(ENCRYPT, DECRYPT),
    ]
