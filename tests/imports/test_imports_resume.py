"""An import whose worker process is killed (kill -9) in the middle of its commit resumes when the portal starts.

``portal run`` (no Redis) starts a consumer inside the serving process; the first thing a consumer does is sweep
the jobs table, the source of truth: a running job whose process is gone is queued again and run. Nobody opens
a page. The killed process had every row in its open transaction, so nothing was half-written; the resumed run
writes the list once. (tests/jobs/test_jobs_worker_process.py shows the same with a new ``portal jobs worker``.)
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.imports.models import ImportBatch
from portal.jobs.models import Job
from portal.jobs.queue import job_queue, start_consumer, stop_consumer
from portal.testing.consumers import FAST_JOBS, held_worker, kill_when_held, wait_until
from portal.workers.models import Worker

pytestmark = pytest.mark.slow

#: Run in the worker process before the command: hold every commit that would add workers, and say so.
HOLD_THE_COMMIT = """
import os, pathlib, time
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session
marker = pathlib.Path(os.environ["HOLD_MARKER"])
@event.listens_for(Session, "before_commit")
def _hold(session):
    from portal.workers.models import Worker
    if session.execute(select(func.count()).select_from(Worker)).scalar() > int(os.environ["WORKERS_BEFORE"]):
        marker.write_text("holding")
        time.sleep(600)
"""


@pytest.fixture
def app_config(app_config, tmp_path):
    # The worker process finds the same SQLite queue in its instance folder (without Redis).
    return {**app_config, **FAST_JOBS, "JOBS_QUEUE_PATH": str(tmp_path / "worker-instance" / "jobs" / "queue.sqlite3")}


def _count(app, model, *conditions) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def _job(app, job_id: int) -> Job:
    with app.app_context():
        job = db.session.get(Job, job_id)
        db.session.expunge(job)
        return job


def test_an_import_killed_mid_commit_resumes_when_the_portal_starts(app, hr_a, importer, files, tmp_path):
    queue = job_queue(app)
    queue.huey.flush()  # on the suite's Redis, the default queue name is shared between runs
    rows = files.rows(6)
    batch_id = importer.batch_id(importer.upload(files.csv(rows)))
    app.config["IMPORT_JOB_THRESHOLD"] = 1  # from here on, this list is committed by a background job
    assert importer.commit(batch_id).status_code == 302
    with app.app_context():
        job_id = db.session.get(ImportBatch, batch_id).job_id
    before = _count(app, Worker)
    marker = tmp_path / "holding"
    with held_worker(app, tmp_path, HOLD_THE_COMMIT, HOLD_MARKER=str(marker), WORKERS_BEFORE=str(before)) as process:
        kill_when_held(process, marker)  # every row is in its open transaction

    killed = _job(app, job_id)
    assert (killed.status, killed.attempts) == ("running", 1)
    assert _count(app, Worker) == before  # nothing half-written
    assert _count(app, AuditEvent, AuditEvent.action == "workers.imported") == 0
    with app.app_context():
        assert db.session.get(ImportBatch, batch_id).status == "committing"

    # The portal starts (``portal run`` without Redis starts its consumer like this); no page is opened.
    consumer = start_consumer(app, embedded=True)
    consumer.start()
    try:
        wait_until(lambda: _job(app, job_id).status in ("done", "failed"), 120, "the job to finish")
    finally:
        stop_consumer(app, consumer)
        queue.huey.flush()
        queue.close()
    job = _job(app, job_id)
    assert (job.status, job.attempts) == ("done", 2), job.error
    assert job.result == {"batch_id": batch_id, "created": 6, "updated": 0}
    assert _count(app, Worker) == before + 6  # written once, completely
    assert _count(app, AuditEvent, AuditEvent.action == "workers.imported") == 1
    with app.app_context():
        batch = db.session.get(ImportBatch, batch_id)
        assert (batch.status, batch.written_created) == ("committed", 6)
        stored = set(db.session.scalars(select(Worker.citizen_id).where(Worker.enterprise_id == hr_a.enterprise_a)))
    assert {row["Số CCCD/CMND"] for row in rows} <= stored
