"""Candidate replacements for `evaluations.services._mark_overdue`, measured by `bench/sweep.py --variant …`.

They are not used by the portal: they exist so that a proposed change to services.py comes with numbers from
the same data and machine. Each one writes exactly what the current function writes (the case rows, one
state-log row per case, one notification per case whose provider has an organisation) and keeps its
properties: batches of SWEEP_BATCH rows, each its own transaction, rows claimed with SKIP LOCKED, keyset
batches (`id > last id`, now also in services.py).

  sql     each batch is one SQL statement: claim, UPDATE … RETURNING, state-log INSERT … SELECT and
          notification INSERT … SELECT … ON CONFLICT DO NOTHING; no model instance per case
"""

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils.translation import gettext as _

from evaluations import services
from evaluations.models import RUNNING_DEADLINE_STATUSES, RectificationCase, RectificationStatus

# The function as services.py has it, taken before --variant patches it (the fallback on SQLite).
ORM_MARK_OVERDUE = services._mark_overdue

MARK_OVERDUE_BATCH_SQL = """
WITH claimed AS (
    SELECT id, status FROM evaluations_rectificationcase
     WHERE status = ANY(%(running)s) AND deadline < %(today)s AND id > %(last_id)s
     ORDER BY id LIMIT %(batch)s
       FOR UPDATE SKIP LOCKED
), marked AS (
    UPDATE evaluations_rectificationcase c SET status = %(overdue)s, overdue_at = %(now)s
      FROM claimed WHERE c.id = claimed.id
    RETURNING c.id, claimed.status AS source_state, c.provider_id, c.document_number, c.deadline
), logs AS (
    INSERT INTO django_fsm_log_statelog
        (timestamp, by_id, content_type_id, object_id, source_state, state, transition, description)
    SELECT %(now)s, NULL, %(content_type)s, id, source_state, %(overdue)s, 'mark_overdue', %(description)s
      FROM marked
), notes AS (
    INSERT INTO portal_notification (kind, recipient_organisation_id, recipient_role, subject, body, link, dedup_key,
        created_at, attempts, last_error)
    SELECT 'rectification_overdue', p.organisation_id, '',
           left(replace(%(subject)s, '%%(number)s', coalesce(m.document_number, '')), 200),
           replace(%(body)s, '%%(deadline)s', m.deadline::text),
           '/provider/cases/' || m.id || '/', 'rectification:' || m.id || ':overdue', %(now)s, 0, ''
      FROM marked m JOIN providers_provider p ON p.id = m.provider_id
     WHERE p.organisation_id IS NOT NULL
    ON CONFLICT (dedup_key) DO NOTHING
)
SELECT count(*), max(id) FROM marked
"""


def mark_overdue_sql(now):
    if connection.vendor != "postgresql":
        return ORM_MARK_OVERDUE(now)
    params = {
        "running": list(RUNNING_DEADLINE_STATUSES),
        "today": services._local_today(now),
        "batch": services.SWEEP_BATCH,
        "overdue": RectificationStatus.OVERDUE,
        "now": now,
        "content_type": ContentType.objects.get_for_model(RectificationCase).pk,
        "description": _("Deadline passed without an accepted rectification report"),
        "subject": _("Rectification overdue: %(number)s"),
        "body": _("The deadline %(deadline)s passed without an accepted rectification report."),
        "last_id": 0,
    }
    marked = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(MARK_OVERDUE_BATCH_SQL, params)
            count, last_id = cursor.fetchone()
        if not count:
            return marked
        marked += count
        params["last_id"] = last_id


VARIANTS = {"sql": mark_overdue_sql}
