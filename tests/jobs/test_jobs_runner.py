"""The jobs framework: inline, the embedded runner thread, restart recovery, RQ on a real Redis."""
from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.clock import utcnow
from portal.db import after_commit
from portal.extensions import db
from portal.jobs import runner
from portal.jobs.models import Job, JobStatus
from portal.jobs.services import enqueue, register_handler

CALLS: list[dict] = []


def _echo(ctx, *, text: str, steps: int = 3):
    """Report progress step by step, write a file, and say which thread ran it."""
    for step in range(steps + 1):
        ctx.progress(step, steps, f"step {step}")
    ctx.output_path("echo.txt").write_text(text, encoding="utf-8")
    CALLS.append({"job": ctx.job_id, "text": text})
    return {"text": text, "thread": threading.current_thread().name}


def _observe_progress(ctx):
    """Report progress, then read the row back from another connection, as the status page would."""
    ctx.progress(1, 4, "first quarter")
    with db.engine.connect() as connection:
        row = connection.execute(select(Job.status, Job.done, Job.total, Job.message).where(Job.id == ctx.job_id)).one()
    return {"seen": list(row)}


def _boom(ctx):
    ctx.progress(2, 5)
    raise RuntimeError("the printer caught fire")


@pytest.fixture(autouse=True)
def _job_handlers(app):
    """Register this module's job handlers on the app under test."""
    register_handler(app, "test_jobs.echo", _echo)
    register_handler(app, "test_jobs.observe_progress", _observe_progress)
    register_handler(app, "test_jobs.boom", _boom)


def _wait_for(app, job_id: int, timeout: float = 30.0) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            job = db.session.get(Job, job_id)
            if job.is_finished:
                db.session.expunge(job)
                return job
            db.session.remove()
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


def _enqueue(app, kind: str, **params) -> int:
    with app.app_context():
        job = enqueue(db.session, kind, params)
        db.session.commit()
        return job.id


@pytest.fixture
def app_config(app_config):
    return {**app_config, "JOB_PROGRESS_INTERVAL": 0}


def test_inline_job_runs_once_the_transaction_commits(app):
    CALLS.clear()
    with app.app_context():
        job = enqueue(db.session, "test_jobs.echo", {"text": "Nguyễn Văn An"})
        job_id = job.id
        db.session.flush()
        assert CALLS == []  # nothing runs before the commit
        db.session.commit()
        assert CALLS == [{"job": job_id, "text": "Nguyễn Văn An"}]
        job = db.session.get(Job, job_id)
        assert (job.status, job.done, job.total, job.percent, job.attempts) == ("done", 3, 3, 100, 1)
        assert job.result["text"] == "Nguyễn Văn An"
        assert job.message == "step 3"
        assert job.lease is None and job.finished_at is not None and job.started_at is not None
        assert runner.output_file(app, job).read_text(encoding="utf-8") == "Nguyễn Văn An"


def test_rolled_back_enqueue_never_runs(app):
    CALLS.clear()
    with app.app_context():
        enqueue(db.session, "test_jobs.echo", {"text": "lost"})
        db.session.rollback()
        assert CALLS == []
        assert db.session.scalar(select(Job)) is None
        # The next commit of the same session must not dispatch the forgotten job either.
        db.session.commit()
        assert CALLS == []


def test_progress_is_visible_to_other_connections_while_the_job_runs(app):
    job_id = _enqueue(app, "test_jobs.observe_progress")
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert job.result == {"seen": ["running", 1, 4, "first quarter"]}
        assert (job.done, job.total, job.message) == (4, 4, "first quarter")


def test_a_failing_handler_fails_its_job_and_keeps_the_progress(app):
    job_id = _enqueue(app, "test_jobs.boom")
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert job.status == "failed"
        assert "the printer caught fire" in job.error
        assert (job.done, job.total) == (2, 5)
        assert job.output_path is None


def test_enqueue_refuses_unknown_kinds_and_params_that_are_not_json(app):
    with app.app_context():
        with pytest.raises(KeyError):
            enqueue(db.session, "test_jobs.nope", {})
        with pytest.raises(TypeError):
            enqueue(db.session, "test_jobs.echo", {"text": object()})
        db.session.rollback()


def test_after_commit_callbacks_wait_for_the_outer_transaction(app):
    ran = []
    with app.app_context():
        db.session.execute(select(1))
        with db.session.begin_nested():
            after_commit(db.session, lambda: ran.append("outer"))
        assert ran == []  # releasing a savepoint is not the commit
        db.session.commit()
        assert ran == ["outer"]
        after_commit(db.session, lambda: ran.append("rolled back"))
        db.session.rollback()
        db.session.commit()
        assert ran == ["outer"]


@pytest.fixture
def thread_app(app):
    app.config["JOBS_MODE"] = "thread"
    yield app
    runner.stop_embedded_runner(app)


def test_embedded_runner_thread_runs_jobs_in_the_background(thread_app):
    job_ids = [_enqueue(thread_app, "test_jobs.echo", text=f"job {n}") for n in range(3)]
    jobs = [_wait_for(thread_app, job_id) for job_id in job_ids]
    assert [job.status for job in jobs] == ["done"] * 3
    assert {job.result["thread"] for job in jobs} == {"portal-jobs-runner"}
    assert [job.result["text"] for job in jobs] == ["job 0", "job 1", "job 2"]


def test_a_restart_reruns_a_job_whose_runner_died(thread_app, client):
    with thread_app.app_context():
        stale = utcnow() - timedelta(minutes=10)
        abandoned = Job(kind="test_jobs.echo", params={"text": "after the crash"}, status=JobStatus.RUNNING.value,
                        attempts=1, lease="dead-runner", started_at=stale, heartbeat_at=stale, done=1, total=3)
        exhausted = Job(kind="test_jobs.echo", params={"text": "never again"}, status=JobStatus.RUNNING.value,
                        attempts=3, lease="dead-runner", started_at=stale, heartbeat_at=stale)
        alive = Job(kind="test_jobs.echo", params={"text": "still running elsewhere"},
                    status=JobStatus.RUNNING.value, attempts=1, lease="live-runner", started_at=utcnow(),
                    heartbeat_at=utcnow())
        db.session.add_all([abandoned, exhausted, alive])
        db.session.commit()
        ids = abandoned.id, exhausted.id, alive.id
    # The freshly started process resumes waiting work with its first request.
    client.get("/")
    rerun = _wait_for(thread_app, ids[0])
    assert rerun.status == "done" and rerun.attempts == 2 and rerun.result["text"] == "after the crash"
    gave_up = _wait_for(thread_app, ids[1])
    assert gave_up.status == "failed" and "stopped 3 times" in gave_up.error
    with thread_app.app_context():
        assert db.session.get(Job, ids[2]).status == "running"
        # The dead runner comes back to life: its lease no longer holds, so it cannot touch the row.
        assert runner._write(thread_app, ids[0], "dead-runner", status="failed") is False
        assert db.session.get(Job, ids[0]).status == "done"


def test_two_runners_never_claim_the_same_job(app):
    app.config["JOBS_MODE"] = "rq"  # dispatch nowhere: the jobs stay queued for the claims below
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    ids = [_enqueue(app, "test_jobs.echo", text=str(n)) for n in range(4)]
    with app.app_context():
        claims = [runner.claim(app) for _ in range(5)]
    claimed = [claim[0] for claim in claims if claim]
    assert sorted(claimed) == ids and claims[-1] is None
    with app.app_context():
        assert runner.claim(app, ids[0]) is None


# ---------------------------------------------------------------------------
# RQ on a real Redis
# ---------------------------------------------------------------------------

REDIS_URL = "redis://127.0.0.1:6379/11"


@pytest.fixture
def redis_app(app):
    redis = pytest.importorskip("redis")
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.exceptions.RedisError:
        pytest.skip("Redis is not reachable at 127.0.0.1:6379")
    app.config.update(JOBS_MODE="rq", REDIS_URL=REDIS_URL, JOBS_QUEUE=f"test-portal-{uuid.uuid4().hex}")
    yield app, connection
    runner.rq_queue(app, connection).delete(delete_jobs=True)
    connection.close()


def test_rq_worker_runs_the_job_and_the_row_stays_the_source_of_truth(redis_app):
    from rq import SimpleWorker

    app, connection = redis_app
    job_id = _enqueue(app, "test_jobs.echo", text="qua Redis")
    queue = runner.rq_queue(app, connection)
    assert queue.count == 1
    with app.app_context():
        assert db.session.get(Job, job_id).status == "queued"
        db.session.remove()
        SimpleWorker([queue], connection=connection).work(burst=True)
        job = db.session.get(Job, job_id)
        assert (job.status, job.done, job.total) == ("done", 3, 3)
        assert job.result["text"] == "qua Redis"
        assert runner.output_file(app, job).read_text(encoding="utf-8") == "qua Redis"
    assert queue.count == 0


def test_rq_sweep_resends_jobs_that_never_reached_redis(redis_app):
    from rq import SimpleWorker

    app, connection = redis_app
    queue = runner.rq_queue(app, connection)
    job_id = _enqueue(app, "test_jobs.echo", text="gửi lại")
    queue.empty()  # as if Redis had lost the message
    assert runner.sweep_to_rq(app) == [job_id]
    runner.sweep_to_rq(app)  # a duplicate message is harmless: the claim lets one runner have it
    assert queue.count == 2
    with app.app_context():
        SimpleWorker([queue], connection=connection).work(burst=True)
        job = db.session.get(Job, job_id)
        assert job.status == "done" and job.attempts == 1
