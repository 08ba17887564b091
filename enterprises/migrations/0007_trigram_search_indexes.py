"""The contract lists' order, and trigram indexes for the name and code searches on PostgreSQL only
(tangshan_portal/migration_operations.py)."""

from django.db import migrations, models

from tangshan_portal.migration_operations import trigram_indexes

# (index, table, column): the admin's search_fields, whose columns Django ORs, so an index helps only when
# every column of the OR has one.
INDEXES = [
    ("enterprise_name_trgm", "enterprises_pilotenterprise", "name"),
    ("enterprise_uscc_trgm", "enterprises_pilotenterprise", "uscc"),
    ("enterprise_sub_industry_trgm", "enterprises_pilotenterprise", "sub_industry"),
    ("enterprise_contact_trgm", "enterprises_pilotenterprise", "contact_name"),
]


class Migration(migrations.Migration):
    dependencies = [("enterprises", "0006_encrypted_confidential_fields")]

    operations = [
        migrations.AddIndex(
            model_name="servicecontract",
            index=models.Index(fields=["-start_on", "number"], name="contract_list_order_idx"),
        ),
        trigram_indexes(INDEXES),
    ]
