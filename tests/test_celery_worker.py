"""A real Celery worker process (not eager mode) consumes a task through Redis and writes to the database."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django_celery_results.models import TaskResult

from tangshan_portal.models import WorkerHeartbeat
from tangshan_portal.tasks import record_worker_heartbeat

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _test_database_url():
    db = connection.settings_dict
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    credentials = f"{user}{password}@" if user else ""
    return f"postgres://{credentials}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def test_worker_process_consumes_a_task_from_redis_and_writes_the_database(tmp_path):
    queue = f"test-{uuid.uuid4().hex}"
    hostname = f"ci-worker-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        # The worker must use the test database that this test's transactional fixture will flush.
        "DATABASE_URL": _test_database_url(),
        "REDIS_URL": settings.REDIS_URL,
    }
    log = tmp_path / "worker.log"
    celery = Path(sys.executable).with_name("celery")
    with open(log, "w") as log_file:
        worker = subprocess.Popen(
            [
                str(celery),
                "-A",
                "tangshan_portal",
                "worker",
                "--pool=solo",
                "--without-mingle",
                "--without-gossip",
                "-Q",
                queue,
                "-n",
                f"{hostname}@%h",
                "--loglevel=INFO",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        assert not WorkerHeartbeat.objects.exists()
        result = record_worker_heartbeat.apply_async(queue=queue)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and worker.poll() is None:
            if TaskResult.objects.filter(task_id=result.id, status="SUCCESS").exists():
                break
            time.sleep(0.5)
        output = log.read_text()
        assert worker.poll() is None, f"worker exited early:\n{output}"
        task = TaskResult.objects.get(task_id=result.id)
        assert task.status == "SUCCESS", output
        heartbeat = WorkerHeartbeat.objects.get()
        # The task's return value is the time it wrote: the row was written by that worker run, not by us.
        assert heartbeat.seen_at.isoformat() in task.result
        assert "portal.record_worker_heartbeat" in output
    finally:
        worker.terminate()
        worker.wait(timeout=30)
