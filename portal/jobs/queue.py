"""The queue under the jobs: Huey, on Redis when ``REDIS_URL`` is set, else on SQLite in the instance folder.

Huey carries job ids and runs consumers; the ``jobs`` table stays the source of truth for status,
progress and outcome (:mod:`portal.jobs.execution`). Three ways a job gets run:

* **immediate** (``JOBS_IMMEDIATE``, by default under ``TESTING``): Huey's immediate mode runs the
  job in the thread that committed it, right after the commit;
* **embedded** (``portal run`` without ``REDIS_URL``): a consumer of the SQLite queue runs as
  threads inside the development server's process, so ``make run`` needs nothing else;
* **worker** (``portal jobs worker``): a consumer process, on Redis or on the SQLite queue; what
  production runs beside gunicorn, which never runs jobs itself.

Every consumer registers itself in ``job_workers`` and beats from Huey's scheduler thread, sweeps
once when it starts and then as a periodic task (:mod:`portal.jobs.recovery`): jobs abandoned by a
stopped consumer are resumed or failed clearly, jobs that never reached the queue (Redis away) are
sent, outcomes the database could not take are written.
"""
from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

from huey import MemoryHuey, RedisHuey, SqliteHuey
from huey.consumer import Consumer, Scheduler
from sqlalchemy import delete, insert, update
from sqlalchemy.exc import SQLAlchemyError

from portal.clock import utcnow
from portal.extensions import db
from portal.jobs.models import JobWorker
from portal.jobs.services import runs_immediately, setting, warm_up_handlers

log = logging.getLogger(__name__)

QUEUE_KEY = "portal.jobs.queue"
PRESENCE_KEY = "portal.jobs.presence"
RUN_TASK = "run_job"


class JobQueue:
    """An app's Huey instance with the portal's two tasks: run a job, sweep."""

    def __init__(self, app, huey):
        from portal.jobs import execution, recovery

        self.app = app
        self.huey = huey

        @huey.task(name=RUN_TASK)
        def run_job(job_id: int) -> None:
            execution.run(app, job_id)

        @huey.periodic_task(lambda _timestamp: True, name="sweep")
        def sweep() -> None:
            # Due at every check of the consumer's scheduler, i.e. every JOBS_SWEEP_SECONDS.
            recovery.sweep(app, presence_of(app))

        self.run_job = run_job
        self.sweep_task = sweep

    @property
    def backend(self) -> str:
        if self.huey.immediate:
            return "immediate"
        return "redis" if isinstance(self.huey, RedisHuey) else "sqlite"

    def send(self, job_ids: list[int]) -> list[int]:
        """Put jobs on the queue (or, in immediate mode, run them now); return those sent."""
        sent = []
        for job_id in job_ids:
            try:
                self.run_job(job_id)
            except Exception:  # Redis away: the job stays queued in the database for the sweep
                log.warning("could not send job %s to the queue; the next sweep will", job_id, exc_info=True)
                if self.huey.immediate:
                    raise
                continue
            sent.append(job_id)
        return sent

    def waiting_ids(self) -> set[int]:
        """Return the ids of the jobs waiting in the queue (or scheduled for a retry)."""
        ids = set()
        for task in [*self.huey.pending(), *self.huey.scheduled()]:
            if task.name == RUN_TASK and task.args:
                ids.add(int(task.args[0]))
        return ids

    def close(self) -> None:
        storage = self.huey.storage
        if hasattr(storage, "close"):
            storage.close()
        pool = getattr(storage, "pool", None)
        if pool is not None:
            pool.disconnect()


def job_queue(app) -> JobQueue:
    """Return ``app``'s queue, made on first use from its configuration."""
    queue = app.extensions.get(QUEUE_KEY)
    if queue is None:
        queue = app.extensions[QUEUE_KEY] = JobQueue(app, _make_huey(app))
    return queue


def _make_huey(app):
    name = setting(app, "JOBS_QUEUE")
    if runs_immediately(app):
        return MemoryHuey(name, immediate=True, results=False)
    if app.config.get("REDIS_URL"):
        from redis import ConnectionPool

        # Short timeouts: with Redis away, a request that enqueues waits a moment, never hangs.
        pool = ConnectionPool.from_url(app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=5,
                                       health_check_interval=30)
        return RedisHuey(name, connection_pool=pool, results=False)
    return SqliteHuey(name, filename=str(queue_path(app)), results=False)


def queue_path(app) -> Path:
    """Return the SQLite queue's file, created readable by the portal's user only."""
    path = Path(setting(app, "JOBS_QUEUE_PATH") or Path(app.instance_path) / "jobs" / "queue.sqlite3")
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    return path


# ---------------------------------------------------------------------------
# A consumer's presence: who runs what, and whether it is alive
# ---------------------------------------------------------------------------

class Presence:
    """This consumer's row in ``job_workers``, the jobs it runs, and outcomes it still has to write."""

    def __init__(self, app):
        self.app = app
        self.host = socket.gethostname()[:255]
        self.pid = os.getpid()
        self.id = f"{self.host[:60]}:{self.pid}:{secrets.token_hex(4)}"
        self._lock = threading.Lock()
        self._running: set[int] = set()
        self._unrecorded: dict[int, Callable[[], None]] = {}
        self._registered = False
        self._reachable_since: float | None = None
        self._next_beat = 0.0

    # -- the jobs it runs --------------------------------------------------------------------
    def started(self, job_id: int) -> None:
        with self._lock:
            self._running.add(job_id)

    def stopped(self, job_id: int) -> None:
        with self._lock:
            self._running.discard(job_id)

    def keep_unrecorded(self, job_id: int, finish: Callable[[], None]) -> None:
        with self._lock:
            self._unrecorded[job_id] = finish

    def holds(self, job_id: int) -> bool:
        """Say whether this consumer is running ``job_id`` or still has its outcome to write."""
        with self._lock:
            return job_id in self._running or job_id in self._unrecorded

    def record_unrecorded(self) -> int:
        """Write the outcomes kept while the database was away; return how many were written."""
        with self._lock:
            waiting = list(self._unrecorded.items())
        written = 0
        for job_id, finish in waiting:
            try:
                with self.app.app_context():
                    finish()
            except SQLAlchemyError:
                log.warning("still cannot record the outcome of job %s", job_id)
                break
            with self._lock:
                self._unrecorded.pop(job_id, None)
            written += 1
        return written

    # -- being alive -------------------------------------------------------------------------
    def ensure_registered(self) -> None:
        if not self._registered:
            self.beat()

    def beat(self) -> bool:
        """Say in the database that this consumer is alive; False when the database is away."""
        now = utcnow()
        try:
            with self.app.app_context(), db.engine.begin() as connection:
                if not connection.execute(update(JobWorker).where(JobWorker.id == self.id)
                                          .values(beat_at=now)).rowcount:
                    connection.execute(insert(JobWorker).values(id=self.id, host=self.host, pid=self.pid,
                                                                started_at=now, beat_at=now))
        except SQLAlchemyError:
            log.warning("consumer %s cannot reach the database", self.id)
            self._reachable_since = None
            return False
        self._registered = True
        if self._reachable_since is None:
            self._reachable_since = time.monotonic()
        return True

    def beat_if_due(self) -> None:
        if time.monotonic() >= self._next_beat:
            self.beat()
            self._next_beat = time.monotonic() + float(setting(self.app, "JOB_HEARTBEAT_SECONDS"))

    def reachable_for(self) -> float:
        """Return for how long this consumer has reached the database without a break (seconds)."""
        return 0.0 if self._reachable_since is None else time.monotonic() - self._reachable_since

    def leave(self) -> None:
        try:
            with self.app.app_context(), db.engine.begin() as connection:
                connection.execute(delete(JobWorker).where(JobWorker.id == self.id))
        except SQLAlchemyError:
            log.warning("consumer %s could not sign off", self.id)


def presence_of(app) -> Presence | None:
    """Return this process's consumer presence, None where no consumer runs (web, immediate mode)."""
    return app.extensions.get(PRESENCE_KEY)


# ---------------------------------------------------------------------------
# Consumers
# ---------------------------------------------------------------------------

class _BeatingScheduler(Scheduler):
    """Huey's scheduler thread, which also keeps this consumer's presence fresh."""

    def __init__(self, *args, presence: Presence, sweep_seconds: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.presence = presence
        self.periodic_task_seconds = sweep_seconds

    def loop(self, now=None):
        self.presence.beat_if_due()
        super().loop(now)


class PortalConsumer(Consumer):
    """Huey's consumer with the portal's scheduler; ``embedded`` leaves the host process's signals alone."""

    def __init__(self, huey, *, presence: Presence, sweep_seconds: float, embedded: bool = False, **options):
        self.presence, self.sweep_seconds, self.embedded = presence, sweep_seconds, embedded
        super().__init__(huey, **options)

    def _create_scheduler(self):
        return _BeatingScheduler(huey=self.huey, stop_flag=self.stop_flag, interval=self.scheduler_interval,
                                 periodic=self.periodic, presence=self.presence, sweep_seconds=self.sweep_seconds)

    def _set_signal_handlers(self):
        if not self.embedded:
            super()._set_signal_handlers()

    def stop_and_wait(self, timeout: float = 30) -> None:
        """Stop the threads of an embedded consumer, waiting for the jobs they run."""
        self.stop_flag.set()
        for thread in [self.scheduler, *(thread for _worker, thread in self.worker_threads)]:
            if thread.is_alive():
                thread.join(timeout)


def start_consumer(app, *, workers: int | None = None, embedded: bool = False) -> PortalConsumer:
    """Make this process a consumer of ``app``'s queue: register, sweep once, build Huey's consumer.

    The caller runs it: ``consumer.run()`` in the foreground (``portal jobs worker``), or
    ``consumer.start()`` beside a server (``embedded``; stop it with ``stop_and_wait``).
    """
    from portal.jobs import recovery

    queue = job_queue(app)
    if queue.huey.immediate:
        raise RuntimeError("jobs run immediately in this configuration (JOBS_IMMEDIATE or TESTING): "
                           "there is nothing to consume")
    presence = app.extensions[PRESENCE_KEY] = Presence(app)
    presence.beat()
    try:
        recovery.sweep(app, presence)
    except SQLAlchemyError:
        log.warning("could not sweep at start; the periodic sweep will", exc_info=True)
    warm_up_handlers(app)
    return PortalConsumer(
        queue.huey, presence=presence, sweep_seconds=float(setting(app, "JOBS_SWEEP_SECONDS")), embedded=embedded,
        workers=int(workers or setting(app, "JOBS_WORKERS")), worker_type="thread", periodic=True,
        initial_delay=0.05, backoff=1.5, max_delay=float(setting(app, "JOBS_POLL_MAX_SECONDS")),
        scheduler_interval=1, check_worker_health=True,
    )


def stop_consumer(app, consumer: PortalConsumer, timeout: float = 30) -> None:
    """Stop an embedded consumer and sign it off (its unfinished jobs are swept by the next start)."""
    consumer.stop_and_wait(timeout)
    presence = app.extensions.pop(PRESENCE_KEY, None)
    if presence is not None:
        presence.leave()
