"""``portal jobs worker`` as production runs it: a separate process, a real job, and a kill -9 mid-commit."""
from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.clock import local_today
from portal.extensions import db
from portal.imports.models import ImportBatch
from portal.jobs import recovery
from portal.jobs.models import Job
from portal.jobs.queue import Presence, job_queue
from portal.jobs.services import enqueue
from portal.testing.consumers import FAST_JOBS
from portal.workers.identity import make_cccd
from portal.workers.models import Worker

from .conftest import wait_for_job

pytestmark = pytest.mark.slow

#: Run in the worker process before the command: pause every commit that would add workers, and say so.
PAUSE_BEFORE_COMMIT = """
import os, sys, time, pathlib
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session
marker = pathlib.Path(os.environ["PAUSE_MARKER"])
@event.listens_for(Session, "before_commit")
def _pause(session):
    from portal.workers.models import Worker
    if session.execute(select(func.count()).select_from(Worker)).scalar() > int(os.environ["WORKERS_BEFORE"]):
        marker.write_text("paused")
        time.sleep(600)
"""
WORKER_COMMAND = "import sys; from portal.cli import main; sys.argv = ['portal', 'jobs', 'worker']; main()"


@pytest.fixture
def app_config(app_config, tmp_path):
    instance = tmp_path / "worker-instance"
    return {**app_config, **FAST_JOBS, "JOBS_QUEUE_PATH": str(instance / "jobs" / "queue.sqlite3")}


@pytest.fixture
def workers(app, tmp_path):
    """Start ``portal jobs worker`` processes sharing this test's database, queue and keys."""
    queue = job_queue(app)
    queue.huey.flush()  # on the suite's Redis, the default queue name is shared between runs
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_TEST_")}
    environment.update({
        "PORTAL_INSTANCE_PATH": str(tmp_path / "worker-instance"),
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "SIGNING_KEY_DIR": app.config["SIGNING_KEY_DIR"],
    })
    if app.config.get("REDIS_URL"):
        environment["REDIS_URL"] = app.config["REDIS_URL"]
    started = []

    def start(prelude: str = "", **extra_env) -> subprocess.Popen:
        process = subprocess.Popen([sys.executable, "-c", prelude + "\n" + WORKER_COMMAND],
                                   env={**environment, **extra_env}, cwd=str(tmp_path),
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # graceful: finish the running job, sign off
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        process.stdout.close()
    queue.huey.flush()
    queue.close()


def test_a_separate_worker_process_prints_a_sheet(app, world, workers):
    from portal.passes.issuing import issue_pass

    with app.app_context():
        issue_pass(db.session, app.extensions["portal.plugins"].registry, db.session.get(Worker, world.worker_a), None)
        job = enqueue(db.session, "print_sheet", {"enterprise_id": world.enterprise_a, "base_url": "https://x.test"})
        db.session.commit()
        job_id = job.id
    assert job_queue(app).waiting_ids() == {job_id}
    process = workers()
    job = wait_for_job(app, job_id, timeout=120)
    assert process.poll() is None, process.stdout.read()
    assert (job.status, job.result["count"], job.attempts) == ("done", 1, 1), job.error
    assert job.worker_id.split(":")[1] == str(process.pid)
    # The sheet is in the shared storage: any node serves it.
    from portal.storage import blob_store

    with blob_store(app).open(job.output_key) as stream:
        assert stream.read(5) == b"%PDF-" and stream.content_type == "application/pdf"


def _worker_list(count: int) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["Họ và tên", "Ngày sinh", "Giới tính", "Số CCCD/CMND", "Số điện thoại", "Địa chỉ thường trú",
                     "Phường/Xã", "Quận/Huyện", "Chức vụ", "Ca làm việc", "Vắc xin mũi 1", "Ngày tiêm mũi 1",
                     "Vắc xin mũi 2", "Ngày tiêm mũi 2"])
    first = local_today() - timedelta(days=120)
    for index in range(count):
        born = date(1980 + index, 1 + index, 10)
        writer.writerow([f"Nguyễn Văn Thử {chr(65 + index)}", born.strftime("%d/%m/%Y"), "Nam",
                         make_cccd(79, born, "M", 300000 + index), f"0903{index:06d}", f"{index + 1} Lê Văn Lương",
                         "Tân Hưng", "Quận 7", "Công nhân", "Hành chính", "Pfizer", first.strftime("%d/%m/%Y"),
                         "Pfizer", (first + timedelta(days=35)).strftime("%d/%m/%Y")])
    return buffer.getvalue().encode("utf-8-sig")


def _queue_an_import_commit(app, client, auth, world, rows: int) -> tuple[int, int]:
    """Upload a checked list (in the request), then commit it as a job; return (batch id, job id)."""
    auth.login(world.hr_a)
    response = client.submit("/workers/import", {"file": (io.BytesIO(_worker_list(rows)), "danh_sach.csv")},
                             content_type="multipart/form-data")
    batch_id = int(response.headers["Location"].rsplit("/", 1)[1])
    app.config["IMPORT_JOB_THRESHOLD"] = 1  # from now on a list this long is committed by a job
    assert client.submit(f"/workers/import/{batch_id}/commit").status_code == 302
    with app.app_context():
        batch = db.session.get(ImportBatch, batch_id)
        assert batch.status == "committing"
        return batch_id, batch.job_id


def _count_workers(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Worker))


def _kill_during_the_commit(app, client, auth, world, workers, tmp_path):
    batch_id, job_id = _queue_an_import_commit(app, client, auth, world, rows=6)
    marker = tmp_path / "paused"
    before = _count_workers(app)
    process = workers(PAUSE_BEFORE_COMMIT, PAUSE_MARKER=str(marker), WORKERS_BEFORE=str(before))
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert process.poll() is None and time.monotonic() < deadline, process.stdout.read()
        time.sleep(0.05)
    # Every row is written in the worker's open transaction: kill it before COMMIT.
    process.kill()
    process.wait()
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert (job.status, job.attempts) == ("running", 1)
    assert _count_workers(app) == before  # nothing half-written
    return batch_id, job_id, before


def test_an_import_killed_during_its_commit_resumes_when_a_worker_starts(app, client, auth, world, workers,
                                                                         tmp_path):
    batch_id, job_id, before = _kill_during_the_commit(app, client, auth, world, workers, tmp_path)
    workers()  # the next start: its first sweep finds the job of the dead process, nobody opens a page
    job = wait_for_job(app, job_id, timeout=120)
    assert (job.status, job.attempts) == ("done", 2), job.error
    assert job.result == {"batch_id": batch_id, "created": 6, "updated": 0}
    assert _count_workers(app) == before + 6
    with app.app_context():
        batch = db.session.get(ImportBatch, batch_id)
        assert (batch.status, batch.written_created) == ("committed", 6)


def test_an_import_killed_too_often_fails_clearly_and_frees_its_batch(app, client, auth, world, workers, tmp_path):
    batch_id, job_id, before = _kill_during_the_commit(app, client, auth, world, workers, tmp_path)
    app.config["JOB_MAX_ATTEMPTS"] = 1
    assert recovery.sweep(app, Presence(app)).failed == [job_id]  # what any consumer's loop does
    job = wait_for_job(app, job_id)
    assert job.status == "failed" and job.summary["params"] == {"count": 1}
    assert job.summary["id"].startswith("This job was interrupted %(count)s times")
    assert _count_workers(app) == before
    with app.app_context():
        batch = db.session.get(ImportBatch, batch_id)
        assert batch.status == "failed"  # never left "committing": HR may upload the list again
    client.set_cookie("lang", "en")
    text = client.get(f"/jobs/{job_id}", headers={"Accept": "application/json"}).get_json()["text"]
    assert text == ("This job was interrupted 1 times (its worker stopped); nothing of the unfinished work was "
                    "saved. Please start it again.")

