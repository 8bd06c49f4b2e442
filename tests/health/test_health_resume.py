"""A match whose worker process is killed (kill -9) before it commits leaves nothing written and is run again.

The match job writes every record in one transaction, committed at its end: the killed process had them all in
it, uncommitted. The jobs table, the source of truth, still says "running" for a process that is gone; the next
consumer's sweep queues it again (tests/imports/test_imports_resume.py shows the same for an import), and the
extract, still "matching" with its file, is matched once, completely.
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.health.models import HealthExtract, HealthRecord
from portal.jobs.models import Job
from portal.jobs.queue import job_queue, start_consumer, stop_consumer
from portal.storage import blob_store
from portal.testing.consumers import FAST_JOBS, held_worker, kill_when_held, wait_until
from tests.health.conftest import upload, vaccination_extract

pytestmark = pytest.mark.slow

#: Run in the worker process before the command: hold every commit that would keep a health record, and say so.
HOLD_THE_COMMIT = """
import os, pathlib, time
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session
marker = pathlib.Path(os.environ["HOLD_MARKER"])
@event.listens_for(Session, "before_commit")
def _hold(session):
    from portal.health.models import HealthRecord
    if session.execute(select(func.count()).select_from(HealthRecord)).scalar() > 0:
        marker.write_text("holding")
        time.sleep(600)
"""


@pytest.fixture
def app_config(app_config, tmp_path):
    return {**app_config, **FAST_JOBS, "JOBS_QUEUE_PATH": str(tmp_path / "worker-instance" / "jobs" / "queue.sqlite3")}


def _read(app, model, ident):
    with app.app_context():
        row = db.session.get(model, ident)
        db.session.expunge(row)
        return row


def _count(app, model, *conditions) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def test_a_match_killed_before_its_commit_is_run_again_and_written_once(app, world, days, officer, tmp_path):
    queue = job_queue(app)
    queue.huey.flush()  # on the suite's Redis, the default queue name is shared between runs
    upload(officer, vaccination_extract(days), "x.csv")
    with app.app_context():
        extract_id = db.session.scalar(select(func.max(HealthExtract.id)))
    marker = tmp_path / "holding"
    with held_worker(app, tmp_path, HOLD_THE_COMMIT, HOLD_MARKER=str(marker)) as process:
        # The worker checks the file (no record kept: its commits pass), then the officer asks for the match.
        wait_until(lambda: _read(app, HealthExtract, extract_id).status != "checking" or process.poll() is not None,
                   120, "the check")
        assert _read(app, HealthExtract, extract_id).status == "ready", process.poll()
        response = officer.post(f"/health/extracts/{extract_id}/commit", data={"csrf_token": officer.csrf_token()})
        assert response.status_code == 302
        kill_when_held(process, marker)  # every record is in its open transaction

    extract = _read(app, HealthExtract, extract_id)
    killed = _read(app, Job, extract.job_id)
    assert (killed.kind, killed.status, killed.attempts) == ("health.match", "running", 1)
    assert extract.status == "matching" and extract.blob_key  # nothing half-written, the file still there
    assert _count(app, HealthRecord) == 0
    assert _count(app, AuditEvent, AuditEvent.action == "health.extract_matched") == 0

    consumer = start_consumer(app, embedded=True)  # the portal starts again; no page is opened
    consumer.start()
    try:
        wait_until(lambda: _read(app, Job, extract.job_id).status in ("done", "failed"), 120, "the job to finish")
    finally:
        stop_consumer(app, consumer)
        queue.huey.flush()
        queue.close()
    job = _read(app, Job, extract.job_id)
    assert (job.status, job.attempts) == ("done", 2), job.error
    extract = _read(app, HealthExtract, extract_id)
    assert (extract.status, extract.blob_key, extract.counts["matched"]) == ("committed", None, 4)
    assert _count(app, HealthRecord) == 4  # written once, completely
    assert _count(app, AuditEvent, AuditEvent.action == "health.extract_matched") == 1
    with app.app_context():
        assert not list(blob_store(app).list("health/"))
