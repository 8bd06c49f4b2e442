"""Helpers for the jobs tests: a real consumer of the queue, waiting for a job, a redis-server of our own."""
from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest

from portal.extensions import db
from portal.jobs.models import Job


def wait_for_job(app, job_id: int, statuses=("done", "failed"), timeout: float = 60) -> Job:
    """Return the job once its status is one of ``statuses`` (read from the database, as a page would)."""
    deadline = time.monotonic() + timeout
    while True:
        with app.app_context():
            job = db.session.get(Job, job_id)
            db.session.expunge_all()
            db.session.remove()
        if job is not None and job.status in statuses:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} is still {job.status if job else 'missing'} after {timeout}s")
        time.sleep(0.05)


@pytest.fixture
def embedded_consumer():
    """Start an embedded consumer of an app's queue (threads in this process); stopped after the test."""
    from portal.jobs.queue import job_queue, start_consumer, stop_consumer

    started = []

    def start(app, **options):
        consumer = start_consumer(app, embedded=True, **options)
        consumer.start()
        started.append((app, consumer))
        return consumer

    yield start
    for app, consumer in started:
        stop_consumer(app, consumer)
        job_queue(app).close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A redis-server of this test's own on a free port, which the test may stop and start again."""

    def __init__(self, directory):
        self.port = free_port()
        self.directory = directory
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture
def redis_server(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()
