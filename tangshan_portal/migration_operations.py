"""Operations shared by the apps' migrations.

Trigram indexes for the name and code searches, on PostgreSQL only. Django compiles `icontains` on PostgreSQL to
`UPPER("col"::text) LIKE UPPER(%s)`; a GIN index on exactly that expression with pg_trgm's operator class serves
it, so the queries keep their substring meaning. The indexes are not in the models' Meta: SQLite has neither GIN
nor pg_trgm, and the migration state stays as it is. Migrations import this module: change what it creates only
by adding a new operation, never by editing what an applied migration ran."""

from django.db import migrations


def trigram_indexes(indexes):
    """A RunPython that creates (and on reversal drops) `gin (UPPER(col::text) gin_trgm_ops)` indexes, given as
    (index name, table, column), on PostgreSQL; nothing elsewhere."""

    def create(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, table, column in indexes:
            schema_editor.execute(
                f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
            )

    def drop(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for name, _table, _column in indexes:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')

    return migrations.RunPython(create, drop, elidable=False)
