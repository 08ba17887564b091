"""Trigram indexes for the name and code searches, on PostgreSQL only (tangshan_portal/migration_operations.py)."""

from django.db import migrations

from tangshan_portal.migration_operations import trigram_indexes

# (index, table, column): the public pool search (name, code, product name) and the admin's search_fields,
# whose columns Django ORs, so an index helps only when every column of the OR has one.
INDEXES = [
    ("provider_name_trgm", "providers_provider", "name"),
    ("provider_uscc_trgm", "providers_provider", "uscc"),
    ("provider_legal_rep_trgm", "providers_provider", "legal_representative"),
    ("provider_contact_trgm", "providers_provider", "contact_name"),
    ("product_name_trgm", "providers_product", "name"),
]


class Migration(migrations.Migration):
    dependencies = [("providers", "0003_encrypted_contact_phones")]

    operations = [trigram_indexes(INDEXES)]
