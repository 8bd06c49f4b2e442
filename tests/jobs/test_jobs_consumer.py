"""A real consumer of the embedded (SQLite) queue: jobs run in its threads; its sweep recovers the rest."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, text

from portal.clock import utcnow
from portal.extensions import db
from portal.jobs import recovery
from portal.jobs.models import Job, JobStatus, JobWorker
from portal.jobs.queue import Presence, job_queue
from portal.jobs.services import enqueue, register_handler
from portal.testing.consumers import FAST_JOBS

from .conftest import wait_for_job

RELEASE = threading.Event()
STARTED = threading.Event()


def _echo(ctx, *, text: str):
    ctx.progress(1, 1, _l("Preparing the cards"))
    return {"text": text, "thread": threading.current_thread().name}


def _slow(ctx):
    ctx.progress(0, 1)
    assert RELEASE.wait(30)
    return {"released": True}


def _write_a_row(ctx, *, value: str):
    """Write something in the handler's own transaction, as a real job does (once RELEASE is set)."""
    STARTED.set()
    assert RELEASE.wait(30)
    ctx.session.execute(text("INSERT INTO probe (value) VALUES (:value)"), {"value": value})
    ctx.session.commit()
    return {"written": value}


@pytest.fixture
def app_config(app_config, tmp_path):
    return {**app_config, **FAST_JOBS, "REDIS_URL": None, "JOBS_QUEUE_PATH": str(tmp_path / "queue" / "queue.sqlite3")}


@pytest.fixture(autouse=True)
def _handlers(app):
    RELEASE.clear()
    STARTED.clear()
    register_handler(app, "t.echo", _echo)
    register_handler(app, "t.slow", _slow)
    register_handler(app, "t.write", _write_a_row)


def _enqueue(app, kind: str, **params) -> int:
    with app.app_context():
        job = enqueue(db.session, kind, params)
        db.session.commit()
        return job.id


def test_the_embedded_consumer_runs_jobs_from_the_sqlite_queue(app, embedded_consumer, tmp_path):
    queue = job_queue(app)
    assert queue.backend == "sqlite"
    path = tmp_path / "queue" / "queue.sqlite3"
    assert oct(path.stat().st_mode & 0o777) == "0o600" and oct(path.parent.stat().st_mode & 0o777) == "0o700"
    ids = [_enqueue(app, "t.echo", text=f"job {n}") for n in range(3)]
    assert queue.waiting_ids() == set(ids)  # queued before any consumer runs: jobs survive a restart
    consumer = embedded_consumer(app)
    jobs = [wait_for_job(app, job_id) for job_id in ids]
    assert [job.status for job in jobs] == ["done"] * 3
    assert {job.result["thread"] for job in jobs} <= {"Worker-1", "Worker-2"}
    assert [job.result["text"] for job in jobs] == ["job 0", "job 1", "job 2"]
    assert {job.worker_id for job in jobs} == {consumer.presence.id}
    with app.app_context():
        worker = db.session.get(JobWorker, consumer.presence.id)
        assert (worker.host, worker.pid) == (consumer.presence.host, os.getpid())


def _abandoned_job(app, *, worker_id: str | None, attempts: int = 1, kind: str = "t.echo", **params) -> int:
    with app.app_context():
        job = Job(kind=kind, params=params or {"text": "after the crash"}, status=JobStatus.RUNNING.value,
                  attempts=attempts, lease="dead-consumer", worker_id=worker_id, started_at=utcnow(), done=1, total=3)
        db.session.add(job)
        db.session.commit()
        return job.id


def _dead_consumer(app) -> str:
    """Register a consumer whose process has exited (a real, reaped process of this host)."""
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(finished.stdout)
    with app.app_context():
        worker = JobWorker(id=f"test:{pid}:dead", host=Presence(app).host, pid=pid, started_at=utcnow(),
                           beat_at=utcnow())
        db.session.add(worker)
        db.session.commit()
        return worker.id


def test_a_job_left_running_by_a_dead_consumer_resumes_when_a_consumer_starts(app, embedded_consumer):
    dead = _dead_consumer(app)
    job_id = _abandoned_job(app, worker_id=dead)
    embedded_consumer(app)  # its first sweep, at start, finds the job: no page view, no waiting
    job = wait_for_job(app, job_id)
    assert (job.status, job.attempts, job.result["text"]) == ("done", 2, "after the crash")


def test_a_job_abandoned_too_often_fails_clearly(app):
    job_id = _abandoned_job(app, worker_id=_dead_consumer(app), attempts=3)
    report = recovery.sweep(app, Presence(app))
    assert report.failed == [job_id]
    job = wait_for_job(app, job_id)
    assert job.status == "failed" and job.lease is None
    assert job.summary == {"id": recovery.ABANDONED._args[0], "params": {"count": 3}}


def test_a_consumer_on_another_host_counts_as_stopped_only_after_its_silence(app):
    from datetime import timedelta

    with app.app_context():
        db.session.add_all([
            JobWorker(id="far:1:quiet", host="far-away", pid=1, started_at=utcnow(),
                      beat_at=utcnow() - timedelta(seconds=10)),
            JobWorker(id="far:2:alive", host="far-away", pid=2, started_at=utcnow(), beat_at=utcnow()),
        ])
        db.session.commit()
    silent = _abandoned_job(app, worker_id="far:1:quiet")
    alive = _abandoned_job(app, worker_id="far:2:alive")
    sweeper = Presence(app)
    sweeper.beat()
    # A sweeper that has just reached the database does not judge silence (everyone's beat is old after an outage).
    assert recovery.sweep(app, sweeper).resumed == []
    sweeper._reachable_since -= 5
    assert recovery.sweep(app, sweeper).resumed == [silent]
    with app.app_context():
        assert db.session.get(Job, alive).status == "running"
        assert db.session.get(Job, silent).status == "queued"


def test_the_sweep_sends_jobs_that_never_reached_the_queue(app, embedded_consumer):
    job_id = _enqueue(app, "t.echo", text="lost")
    job_queue(app).huey.flush()  # as if the message had been lost with the queue
    assert job_queue(app).waiting_ids() == set()
    embedded_consumer(app)
    assert wait_for_job(app, job_id).result["text"] == "lost"


def test_a_consumer_keeps_its_running_jobs_from_its_own_sweep(app, embedded_consumer):
    consumer = embedded_consumer(app)
    job_id = _enqueue(app, "t.slow")
    wait_for_job(app, job_id, statuses=("running",))
    assert recovery.sweep(app, consumer.presence).resumed == []
    RELEASE.set()
    assert wait_for_job(app, job_id).result == {"released": True}


@pytest.fixture
def sqlite_app(tmp_path):
    """A portal on a SQLite database of its own, which a test can lock as if it were away."""
    from portal import create_app
    from portal.testing.fixtures import _test_config

    config = _test_config(f"sqlite:///{tmp_path / 'own.sqlite3'}", tmp_path, **FAST_JOBS, REDIS_URL=None,
                          RATELIMIT_STORAGE_URI="memory://", SQLITE_BUSY_TIMEOUT_MS=100,
                          JOBS_QUEUE_PATH=str(tmp_path / "queue.sqlite3"))
    app = create_app(config)
    with app.app_context():
        db.create_all()
        with db.engine.begin() as connection:
            connection.execute(text("CREATE TABLE probe (value TEXT)"))
    register_handler(app, "t.write", _write_a_row)
    RELEASE.clear()
    STARTED.clear()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_job_that_met_a_database_outage_is_retried_when_the_database_returns(sqlite_app, embedded_consumer,
                                                                              tmp_path):
    app = sqlite_app
    consumer = embedded_consumer(app)
    outage = sqlite3.connect(tmp_path / "own.sqlite3", isolation_level=None)
    try:
        job_id = _enqueue(app, "t.write", value="written once")
        assert STARTED.wait(30)
        outage.execute("BEGIN EXCLUSIVE")  # the database refuses everyone else from now on
        RELEASE.set()
        # The handler cannot write, nor can the consumer record that: it keeps the outcome for later.
        deadline = time.monotonic() + 30
        while not consumer.presence._unrecorded and time.monotonic() < deadline:
            time.sleep(0.02)
        assert list(consumer.presence._unrecorded) == [job_id]
    finally:
        outage.execute("ROLLBACK")
        outage.close()
    # The database is back: the consumer's own periodic sweep records the retry, and the job runs again.
    job = wait_for_job(app, job_id)
    assert (job.status, job.attempts, job.result) == ("done", 2, {"written": "written once"})
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(text("probe"))) == 1
