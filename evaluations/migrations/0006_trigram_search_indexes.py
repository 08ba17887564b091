"""The order of the public blacklist and of the case lists; trigram indexes for the name and code searches,
on PostgreSQL only (tangshan_portal/migration_operations.py)."""

from django.db import migrations, models

from tangshan_portal.migration_operations import trigram_indexes

# (index, table, column): the public blacklist search (name or code) and the admin's search_fields (also the
# decision number), whose columns Django ORs, so an index helps only when every column of the OR has one.
INDEXES = [
    ("blacklist_name_trgm", "evaluations_blacklistentry", "provider_name"),
    ("blacklist_uscc_trgm", "evaluations_blacklistentry", "uscc"),
    ("blacklist_decision_trgm", "evaluations_blacklistentry", "decision_number"),
]


class Migration(migrations.Migration):
    dependencies = [("evaluations", "0005_blacklistentry_updated_at_excellentbatch_and_more")]

    operations = [
        migrations.AddIndex(
            model_name="blacklistentry",
            index=models.Index(fields=["decided_on", "id"], name="blacklist_decided_idx"),
        ),
        migrations.AddIndex(
            model_name="rectificationcase",
            index=models.Index(fields=["opened_at", "id"], name="rectification_opened_idx"),
        ),
        trigram_indexes(INDEXES),
    ]
