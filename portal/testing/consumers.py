"""Job consumers for tests: settings that make them react at once, and a real ``portal jobs worker`` process
whose commits can be held, so that a test kills it mid-commit as an operator's kill -9 would."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

#: Settings that make a consumer react within a fraction of a second (production waits longer).
FAST_JOBS = {
    "JOBS_IMMEDIATE": False,
    "JOBS_SWEEP_SECONDS": 1,
    "JOB_HEARTBEAT_SECONDS": 0.2,
    "JOB_STALE_SECONDS": 2,
    "JOB_RESEND_AFTER_SECONDS": 0,
    "JOBS_POLL_MAX_SECONDS": 0.1,
    "JOB_PROGRESS_INTERVAL": 0,
}

_WORKER_COMMAND = "import sys; from portal.cli import main; sys.argv = ['portal', 'jobs', 'worker']; main()"


def wait_until(condition, timeout: float, what: str) -> None:
    """Return once ``condition()`` is true; fail saying ``what`` was awaited after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what} after {timeout}s")
        time.sleep(0.05)


def start_worker(app, directory, prelude: str = "", **env) -> subprocess.Popen:
    """Start ``portal jobs worker`` on ``app``'s database and queue (instance folder ``directory/worker-instance``).

    ``prelude`` is Python run in the worker before the command (e.g. a listener that holds a commit);
    ``env`` adds environment variables for it. Its output is piped (read it when it fails).
    """
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_TEST_")}
    environment.update(PORTAL_INSTANCE_PATH=str(directory / "worker-instance"),
                       DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], SECRET_KEY=app.config["SECRET_KEY"],
                       SIGNING_KEY_DIR=app.config["SIGNING_KEY_DIR"], **env)
    if app.config.get("REDIS_URL"):
        environment["REDIS_URL"] = app.config["REDIS_URL"]
    return subprocess.Popen([sys.executable, "-c", prelude + "\n" + _WORKER_COMMAND], env=environment,
                            cwd=str(directory), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@contextmanager
def held_worker(app, directory, prelude: str, **env) -> Iterator[subprocess.Popen]:
    """Run :func:`start_worker` for the block; whatever happens in it, the process is killed and reaped after."""
    process = start_worker(app, directory, prelude, **env)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()


def kill_when_held(process: subprocess.Popen, marker, timeout: float = 120) -> None:
    """Wait until the worker's prelude wrote ``marker`` (it holds a commit), then kill it with SIGKILL."""
    wait_until(lambda: marker.exists() or process.poll() is not None, timeout, "the worker to reach its commit")
    assert process.poll() is None, process.stdout.read()
    process.send_signal(signal.SIGKILL)  # everything is in its open transaction: killed before COMMIT
    process.wait()
