"""``portal jobs worker`` as production runs it: a separate process, RQ's forking worker, a real job."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.jobs.models import Job
from portal.jobs.services import enqueue

REDIS_URL = "redis://127.0.0.1:6379/12"


@pytest.fixture
def redis_connection():
    redis = pytest.importorskip("redis")
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.exceptions.RedisError:
        pytest.skip("Redis is not reachable at 127.0.0.1:6379")
    yield connection
    connection.close()


@pytest.mark.slow
def test_a_separate_rq_worker_process_prints_a_sheet(app, world, helpers_for_jobs, redis_connection, tmp_path):
    from portal.jobs import runner

    queue_name = f"test-portal-{uuid.uuid4().hex}"
    app.config.update(JOBS_MODE="rq", REDIS_URL=REDIS_URL, JOBS_QUEUE=queue_name)
    helpers_for_jobs(world)
    with app.app_context():
        job = enqueue(db.session, "print_sheet", {"enterprise_id": world.enterprise_a, "base_url": "https://x.test"})
        db.session.commit()
        job_id = job.id
    queue = runner.rq_queue(app, redis_connection)
    assert queue.count == 1
    environment = {
        **os.environ,
        "PORTAL_INSTANCE_PATH": str(tmp_path / "worker-instance"),
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": REDIS_URL,
        "SECRET_KEY": app.config["SECRET_KEY"],
        "JOB_OUTPUT_DIR": app.config["JOB_OUTPUT_DIR"],
        "SIGNING_KEY_DIR": app.config["SIGNING_KEY_DIR"],
        "PASS_CACHE_DIR": app.config["PASS_CACHE_DIR"],
    }
    # The worker reads its queue name from the config; the test's own name keeps runs apart.
    code = ("import sys; from portal.cli import main; "
            "sys.argv = ['portal', 'jobs', 'worker', '--burst']; "
            f"import portal.jobs.services as s; s.DEFAULTS['JOBS_QUEUE'] = {queue_name!r}; main()")
    finished = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True,
                              timeout=300, cwd=str(tmp_path))
    try:
        with app.app_context():
            job = db.session.scalar(select(Job).where(Job.id == job_id))
            assert job.status == "done", (job.error, finished.stdout[-2000:], finished.stderr[-4000:])
            assert job.result["count"] == 1 and job.attempts == 1
            assert runner.output_file(app, job).read_bytes().startswith(b"%PDF")
    finally:
        queue.delete(delete_jobs=True)


@pytest.fixture
def helpers_for_jobs(app):
    def issue_one(world):
        from portal.passes.services import issue_pass
        from portal.workers.models import Worker

        with app.app_context():
            issue_pass(db.session, app.extensions["portal.plugins"].registry, db.session.get(Worker, world.worker_a),
                       None)
            db.session.commit()

    return issue_one
