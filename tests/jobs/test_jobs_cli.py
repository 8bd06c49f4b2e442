"""``portal jobs worker|sweep|purge`` from the command line."""
from __future__ import annotations

from datetime import timedelta

import pytest

from portal.clock import utcnow
from portal.extensions import db
from portal.jobs.models import Job, JobStatus
from portal.jobs.services import register_handler


def _square(ctx, *, number: int):
    ctx.progress(1, 1)
    return {"square": number * number}


@pytest.fixture(autouse=True)
def _job_handlers(app):
    """Register this module's job handlers on the app under test."""
    register_handler(app, "test_jobs_cli.square", _square)


def _add(app, **values) -> int:
    with app.app_context():
        job = Job(kind="test_jobs_cli.square", params={"number": values.pop("number", 3)}, **values)
        db.session.add(job)
        db.session.commit()
        return job.id


def test_worker_without_redis_runs_the_waiting_jobs_and_stops_in_burst_mode(app, runner):
    app.config["REDIS_URL"] = None
    ids = [_add(app, number=n, status=JobStatus.QUEUED.value) for n in (2, 3)]
    stale = utcnow() - timedelta(hours=1)
    abandoned = _add(app, number=4, status=JobStatus.RUNNING.value, attempts=1, lease="gone", heartbeat_at=stale)
    result = runner.invoke(args=["jobs", "worker", "--burst"])
    assert result.exit_code == 0, result.output
    assert "3 jobs run." in result.output
    with app.app_context():
        assert [db.session.get(Job, job_id).result for job_id in [*ids, abandoned]] == [
            {"square": 4}, {"square": 9}, {"square": 16}]


def test_sweep_queues_abandoned_jobs_again(app, runner):
    app.config["REDIS_URL"] = None
    stale = utcnow() - timedelta(hours=1)
    job_id = _add(app, status=JobStatus.RUNNING.value, attempts=1, lease="gone", heartbeat_at=stale)
    result = runner.invoke(args=["jobs", "sweep"])
    assert result.exit_code == 0 and "1 jobs waiting." in result.output
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert job.status == "queued" and job.lease is None


def test_purge_deletes_old_outputs_only(app, runner, tmp_path):
    from pathlib import Path

    root = Path(app.config["JOB_OUTPUT_DIR"])
    old = _add(app, status=JobStatus.DONE.value, finished_at=utcnow() - timedelta(days=8))
    new = _add(app, status=JobStatus.DONE.value, finished_at=utcnow() - timedelta(days=1))
    for job_id in (old, new):
        path = root / str(job_id) / "lease" / "sheet.pdf"
        path.parent.mkdir(parents=True)
        path.write_bytes(b"%PDF")
        with app.app_context():
            db.session.get(Job, job_id).output_path = f"{job_id}/lease/sheet.pdf"
            db.session.commit()
    result = runner.invoke(args=["jobs", "purge", "--days", "7"])
    assert result.exit_code == 0 and "Deleted the files of 1 jobs." in result.output
    assert not (root / str(old)).exists() and (root / str(new) / "lease" / "sheet.pdf").exists()
    with app.app_context():
        assert db.session.get(Job, old).output_path is None
        assert db.session.get(Job, new).output_path == f"{new}/lease/sheet.pdf"
