"""Run jobs: claim one from the database, keep its lease alive, record how it ended.

The same :func:`run_job` serves the three modes: inline after a commit, the embedded runner
thread, and RQ worker processes. Every write after the claim names the runner's lease, so a runner
whose job was given to another (after its heartbeat went stale) can no longer change the row.

On SQLite every transaction takes the write lock (``BEGIN IMMEDIATE``, see ``portal.db``), so a
handler must not hold a transaction open while it works; progress reported during a transaction is
kept and written at the next call made outside one.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from datetime import timedelta
from pathlib import Path

from flask import current_app, has_app_context
from flask_babel import force_locale
from sqlalchemy import exists, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.utils import secure_filename

from portal.clock import utcnow
from portal.extensions import db
from portal.jobs.models import Job, JobStatus
from portal.jobs.services import LOCALE_PARAM, handler_for, jobs_mode, setting

log = logging.getLogger(__name__)

STATE_KEY = "portal.jobs"
#: What a user sees when a job failed; the exception itself goes to the log and ``job.error``.
MAX_ERROR_LENGTH = 2000


# ---------------------------------------------------------------------------
# The handler's view of its job
# ---------------------------------------------------------------------------

class JobContext:
    """What a handler gets: its job's id and params, progress reporting, and a place for files."""

    def __init__(self, app, job: Job, lease: str):
        self.app = app
        self.job_id = job.id
        self.kind = job.kind
        self.params = dict(job.params or {})
        self.user_id = job.user_id
        self.enterprise_id = job.enterprise_id
        self.lease = lease
        self.output: str | None = None
        self.done = 0
        self.total = 0
        self.message: str | None = None
        self._written_at = 0.0
        self._unwritten = False

    @property
    def session(self):
        """The job's own database session (not shared with any request)."""
        return db.session

    def progress(self, done: int, total: int, message=None) -> None:
        """Record that ``done`` of ``total`` steps are finished (written at most every JOB_PROGRESS_INTERVAL)."""
        self.done, self.total = max(0, int(done)), max(0, int(total))
        if message is not None:
            self.message = str(message)[:300]
        self._unwritten = True
        interval = float(setting(self.app, "JOB_PROGRESS_INTERVAL"))
        first_or_last = self._written_at == 0.0 or self.done >= self.total
        if first_or_last or time.monotonic() - self._written_at >= interval:
            self.flush_progress()

    def flush_progress(self) -> None:
        """Write the last reported progress now, unless the handler holds a SQLite transaction."""
        if not self._unwritten or _would_block(self.app):
            return
        _write(self.app, self.job_id, self.lease, done=self.done, total=self.total, message=self.message,
               heartbeat_at=utcnow())
        self._written_at = time.monotonic()
        self._unwritten = False

    def output_path(self, filename: str) -> Path:
        """Return where to write the job's downloadable file (one per job; the last name asked wins)."""
        name = secure_filename(filename) or "output"
        relative = f"{self.job_id}/{self.lease}/{name}"
        path = output_root(self.app) / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        self.output = relative
        return path


def output_root(app) -> Path:
    return Path(app.config["JOB_OUTPUT_DIR"])


def output_file(app, job: Job) -> Path | None:
    """Return the job's output file when it exists inside JOB_OUTPUT_DIR."""
    if not job.output_path:
        return None
    root = output_root(app).resolve()
    path = (root / job.output_path).resolve()
    if root not in path.parents or not path.is_file():
        return None
    return path


def _would_block(app) -> bool:
    """Say whether writing from another connection would wait for this thread's own SQLite lock."""
    return db.engine.dialect.name == "sqlite" and db.session().in_transaction()


def _write(app, job_id: int, holder: str, **values) -> bool:
    """Update the job row in a short transaction of its own, only while lease ``holder`` holds it."""
    try:
        with db.engine.begin() as connection:
            result = connection.execute(
                update(Job).where(Job.id == job_id, Job.lease == holder).values(**values)
            )
            return result.rowcount == 1
    except SQLAlchemyError:
        log.warning("could not update job %s", job_id, exc_info=True)
        return False


# ---------------------------------------------------------------------------
# Claiming, running, recovering
# ---------------------------------------------------------------------------

def claim(app, job_id: int | None = None) -> tuple[int, str] | None:
    """Take a queued job (``job_id``, else the oldest) for this runner; return (id, lease) or None."""
    lease = secrets.token_hex(16)
    with db.engine.begin() as connection:
        if job_id is not None:
            candidates = [job_id]
        else:
            candidates = connection.scalars(
                select(Job.id).where(Job.status == JobStatus.QUEUED.value).order_by(Job.id).limit(10)
            ).all()
    for candidate in candidates:
        now = utcnow()
        with db.engine.begin() as connection:
            # The status test inside the UPDATE is what makes the claim atomic between runners.
            claimed = connection.execute(
                update(Job)
                .where(Job.id == candidate, Job.status == JobStatus.QUEUED.value)
                .values(status=JobStatus.RUNNING.value, lease=lease, started_at=now, heartbeat_at=now,
                        attempts=Job.attempts + 1, error=None)
            ).rowcount
        if claimed == 1:
            return candidate, lease
    return None


def run_job(app, job_id: int) -> bool:
    """Claim job ``job_id`` and run it here; return False when another runner has it or it is finished."""
    with app.app_context():
        claimed = claim(app, job_id)
        db.session.remove()
    if claimed is None:
        return False
    execute(app, *claimed)
    return True


def run_next(app) -> bool:
    """Claim the oldest queued job and run it; return False when none is waiting."""
    with app.app_context():
        claimed = claim(app)
        db.session.remove()
    if claimed is None:
        return False
    execute(app, *claimed)
    return True


def run_pending_jobs(app, limit: int = 1000) -> int:
    """Run queued jobs one after another in this thread until none is left; return how many ran."""
    count = 0
    while count < limit and run_next(app):
        count += 1
    return count


def execute(app, job_id: int, lease: str) -> None:
    """Run a claimed job's handler in a fresh app context and record the outcome under ``lease``."""
    with app.app_context():
        ctx = _context(app, job_id, lease)
        if ctx is None:
            return
        heartbeat = Heartbeat(app, job_id, lease)
        heartbeat.start()
        try:
            result = _call_handler(app, ctx)
        except Exception as error:  # a handler's failure is the job's outcome, never the runner's
            db.session.rollback()
            log.exception("job %s (%s) failed", job_id, ctx.kind)
            _finish_failed(app, ctx, f"{type(error).__name__}: {error}")
        else:
            _finish_done(app, ctx, result)
        finally:
            heartbeat.stop()
            db.session.remove()


def _context(app, job_id: int, lease: str) -> JobContext | None:
    """Load the claimed job; when that fails, give it back to the queue."""
    try:
        ctx = JobContext(app, db.session.get(Job, job_id), lease)
        db.session.rollback()  # hold no transaction (and on SQLite no lock) while the handler works
        return ctx
    except SQLAlchemyError:
        db.session.rollback()
        log.warning("could not start job %s; queued again", job_id, exc_info=True)
        _write(app, job_id, lease, status=JobStatus.QUEUED.value, lease=None)
        db.session.remove()
        return None


def _call_handler(app, ctx: JobContext):
    """Call the handler in the language of who enqueued the job; return its JSON-able result."""
    handler = handler_for(app, ctx.kind)
    params = {key: value for key, value in ctx.params.items() if key != LOCALE_PARAM}
    with force_locale(ctx.params.get(LOCALE_PARAM) or app.config["BABEL_DEFAULT_LOCALE"]):
        result = handler.func(ctx, **params)
    db.session.rollback()  # whatever the handler left uncommitted is not part of the outcome
    json.dumps(result)
    return result


def _finish_done(app, ctx: JobContext, result) -> None:
    total = ctx.total or ctx.done
    _write(app, ctx.job_id, ctx.lease, status=JobStatus.DONE.value, result=result, output_path=ctx.output,
           done=total, total=total, message=ctx.message, finished_at=utcnow(), heartbeat_at=utcnow(), lease=None)


def _finish_failed(app, ctx: JobContext, error: str) -> None:
    _write(app, ctx.job_id, ctx.lease, status=JobStatus.FAILED.value, error=error[:MAX_ERROR_LENGTH],
           done=ctx.done, total=ctx.total, finished_at=utcnow(), heartbeat_at=utcnow(), lease=None)


class Heartbeat:
    """Keep a running job's ``heartbeat_at`` fresh from a thread of its own while the handler works."""

    def __init__(self, app, job_id: int, lease: str):
        self.app, self.job_id, self.lease = app, job_id, lease
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"portal-job-{job_id}-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _beat(self) -> None:
        interval = float(setting(self.app, "JOB_HEARTBEAT_SECONDS"))
        with self.app.app_context():
            while not self._stopped.wait(interval):
                _write(self.app, self.job_id, self.lease, heartbeat_at=utcnow())
            db.session.remove()


def _stale_clause(app):
    cutoff = utcnow() - timedelta(seconds=float(setting(app, "JOB_STALE_SECONDS")))
    return (Job.status == JobStatus.RUNNING.value) & or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < cutoff)


def is_stale(app, job: Job) -> bool:
    """Say whether ``job`` waits longer than a heartbeat allows (queued and never taken, or abandoned)."""
    cutoff = utcnow() - timedelta(seconds=float(setting(app, "JOB_STALE_SECONDS")))
    if job.status == JobStatus.QUEUED.value:
        return job.created_at < cutoff
    if job.status == JobStatus.RUNNING.value:
        return job.heartbeat_at is None or job.heartbeat_at < cutoff
    return False


def recover_stale(app) -> list[int]:
    """Queue again the running jobs whose runner stopped beating; fail those out of attempts."""
    max_attempts = int(setting(app, "JOB_MAX_ATTEMPTS"))
    now = utcnow()
    with db.engine.begin() as connection:
        connection.execute(
            update(Job).where(_stale_clause(app), Job.attempts >= max_attempts).values(
                status=JobStatus.FAILED.value, finished_at=now, lease=None,
                error=f"abandoned: its runner stopped {max_attempts} times",
            )
        )
        stale = connection.scalars(select(Job.id).where(_stale_clause(app))).all()
        requeued = []
        for job_id in stale:
            # Conditional again: a runner whose heartbeat just came back keeps its job.
            if connection.execute(
                update(Job).where(Job.id == job_id, _stale_clause(app)).values(status=JobStatus.QUEUED.value,
                                                                                lease=None)
            ).rowcount:
                requeued.append(job_id)
    if requeued:
        log.warning("re-queued abandoned jobs %s", requeued)
    return requeued


def queued_ids(app) -> list[int]:
    with db.engine.begin() as connection:
        return connection.scalars(
            select(Job.id).where(Job.status == JobStatus.QUEUED.value).order_by(Job.id)
        ).all()


def work_is_waiting(app) -> bool:
    """Say whether a job is queued, or running somewhere (perhaps abandoned by a stopped process)."""
    with db.engine.connect() as connection:
        return bool(connection.scalar(select(exists().where(
            Job.status.in_((JobStatus.QUEUED.value, JobStatus.RUNNING.value))
        ))))


# ---------------------------------------------------------------------------
# The embedded runner thread (no Redis)
# ---------------------------------------------------------------------------

class EmbeddedRunner(threading.Thread):
    """A daemon thread in the web process that runs queued jobs one at a time."""

    def __init__(self, app):
        super().__init__(name="portal-jobs-runner", daemon=True)
        self.app = app
        self.pid = os.getpid()
        self._wake = threading.Event()
        self._stopping = threading.Event()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 30) -> None:
        self._stopping.set()
        self._wake.set()
        if self.is_alive() and self is not threading.current_thread():
            self.join(timeout)

    def run(self) -> None:
        poll = float(setting(self.app, "JOB_POLL_SECONDS"))
        sweep_every = float(setting(self.app, "JOB_STALE_SECONDS")) / 2
        next_sweep = 0.0
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                if time.monotonic() >= next_sweep:
                    with self.app.app_context():
                        recover_stale(self.app)
                    next_sweep = time.monotonic() + sweep_every
                if run_next(self.app):
                    continue
            except Exception:  # the database may be briefly unreachable: keep the thread alive
                log.exception("job runner loop failed; retrying")
            self._wake.wait(poll)


def _state(app) -> dict:
    return app.extensions.setdefault(STATE_KEY, {"runner": None, "lock": threading.Lock(), "checked": False,
                                                 "pid": os.getpid()})


def wake_embedded_runner(app) -> EmbeddedRunner:
    """Start this process's runner thread if it is not running, else wake it up."""
    state = _state(app)
    with state["lock"]:
        runner = state["runner"]
        if runner is None or not runner.is_alive() or runner.pid != os.getpid():
            runner = state["runner"] = EmbeddedRunner(app)
            runner.start()
        else:
            runner.wake()
    return runner


def stop_embedded_runner(app, timeout: float = 30) -> None:
    """Stop this process's runner thread (after the job it is running, if any)."""
    state = _state(app)
    with state["lock"]:
        runner, state["runner"] = state["runner"], None
    if runner is not None:
        runner.stop(timeout)


def start_if_work_waits(app) -> None:
    """Once per process, start the runner thread when jobs are queued or were left running."""
    state = _state(app)
    if state["checked"] or jobs_mode(app) != "thread":
        return
    state["checked"] = True
    try:
        waiting = work_is_waiting(app)
    except SQLAlchemyError:
        log.warning("could not look for waiting jobs (is the database migrated?)", exc_info=True)
        return
    if waiting:
        wake_embedded_runner(app)


def serve_forever(app, *, burst: bool = False) -> int:
    """Run jobs in this thread like the embedded runner does (``portal jobs worker`` without Redis)."""
    ran = 0
    poll = float(setting(app, "JOB_POLL_SECONDS"))
    while True:
        with app.app_context():
            recover_stale(app)
        if run_next(app):
            ran += 1
            continue
        if burst:
            return ran
        time.sleep(poll)


# ---------------------------------------------------------------------------
# RQ (REDIS_URL set)
# ---------------------------------------------------------------------------

def redis_connection(app):
    from redis import Redis

    return Redis.from_url(app.config["REDIS_URL"])


def rq_queue(app, connection=None):
    from rq import Queue

    return Queue(setting(app, "JOBS_QUEUE"), connection=connection or redis_connection(app))


def send_to_rq(app, job_ids: list[int]) -> None:
    """Put committed jobs on the RQ queue; when Redis is down they stay queued for the next sweep."""
    from redis.exceptions import RedisError

    try:
        queue = rq_queue(app)
        for job_id in job_ids:
            queue.enqueue(run_queued_job, job_id, job_timeout=int(setting(app, "JOB_TIMEOUT_SECONDS")),
                          result_ttl=0, failure_ttl=7 * 24 * 3600, description=f"portal job {job_id}")
    except RedisError:
        log.exception("could not send jobs %s to Redis; they stay queued until 'portal jobs sweep'", job_ids)


def sweep_to_rq(app) -> list[int]:
    """Re-queue abandoned jobs and (re)send every queued job to RQ; the claim drops duplicates."""
    with app.app_context():
        recover_stale(app)
        ids = queued_ids(app)
    if ids:
        send_to_rq(app, ids)
    return ids


_worker_app = None


def run_queued_job(job_id: int) -> bool:
    """RQ's entry point: run portal job ``job_id`` in this worker process."""
    global _worker_app
    if has_app_context():
        app = current_app._get_current_object()
    else:
        if _worker_app is None:
            from portal import create_app

            _worker_app = create_app()
        app = _worker_app
    _forget_parent_connections(app)
    return run_job(app, job_id)


def _forget_parent_connections(app) -> None:
    """In a forked RQ work horse, drop (without closing) the pooled connections of the parent."""
    state = _state(app)
    if state["pid"] != os.getpid():
        with app.app_context():
            db.engine.dispose(close=False)
        state["pid"] = os.getpid()
