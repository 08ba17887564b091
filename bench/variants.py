"""Variants of the deadline sweep, measured by `bench/sweep.py --variant …` on the same data and machine.

They are not used by the portal. A variant is a set of replacements of private functions of
`evaluations.services`, patched in for the run; each one writes exactly the rows the sweep writes (the result
JSON has checksums of the state-log rows and notifications to compare with the plain run), so that a proposed
change comes with numbers, and an adopted one can be measured against what it replaced.

  orm     the sweep's ORM path, which SQLite runs, on PostgreSQL too: each batch of overdue cases or reminders
          as model instances and `bulk_create` instead of one SQL statement, and the engine's
          evidence through `bulk_create` instead of one `INSERT … SELECT FROM unnest(…)`. What the
          PostgreSQL statements save.

Earlier variants, now adopted in services.py: `keyset` (each claim continues after the previous batch instead of
rescanning the table; `bench/results/sweep-before-keyset.*`) and `sql` (each batch one statement: claim with
SKIP LOCKED, `UPDATE … RETURNING`, state-log and notification `INSERT … SELECT`; `sweep_variant_sql.*`).
"""

from evaluations import services

VARIANTS = {
    "orm": {
        "_mark_overdue_batch_sql": services._mark_overdue_batch_orm,
        "_reminders_batch_sql": services._reminders_batch_orm,
        "_evidence_insert_sql": services._evidence_insert_orm,
    },
}
