"""Run one job: claim it in the database, call its handler, record how it ended.

The queue delivers job ids; this module is what a delivery does, the same in every mode (the
committing thread under TESTING, consumer threads in ``portal run`` or ``portal jobs worker``).
Every write after the claim names the claim's ``lease``, so a consumer that lost its job to a sweep
can no longer change it.

A job whose database went away while it ran is queued again (up to JOB_MAX_ATTEMPTS runs) or failed
with a message that says so; when even that cannot be written, the consumer keeps the write and
its sweep makes it as soon as the database answers again.

On SQLite every transaction takes the write lock (``BEGIN IMMEDIATE``, see ``portal.db``), so a
handler must not hold a transaction open while it works; progress reported during a transaction is
kept and written at the next call made outside one.
"""
from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError, SQLAlchemyError
from werkzeug.utils import secure_filename

from portal.clock import utcnow
from portal.extensions import db
from portal.jobs.models import Job, JobStatus
from portal.jobs.services import LOCALE_PARAM, Outcome, handler_for, setting
from portal.messages import Message, Refusal, literal

log = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 2000
DATABASE_AWAY = _l("The database was unavailable while this job ran; nothing of it was saved. "
                   "Please start it again.")
RETRYING = _l("Starting again: the database was unavailable for a moment.")


@dataclass(frozen=True)
class Claim:
    job_id: int
    lease: str
    kind: str
    params: dict
    attempts: int
    user_id: int | None
    enterprise_id: int | None


class DatabaseAway(Exception):
    """The outcome of a job could not be written because the database did not answer."""


def is_database_away(error: BaseException) -> bool:
    """Say whether ``error`` (or what caused it) means the database could not be reached."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, (OperationalError, InterfaceError, DisconnectionError)):
            return True
        if isinstance(error, DBAPIError) and error.connection_invalidated:
            return True
        error = error.__cause__ or error.__context__
    return False


# ---------------------------------------------------------------------------
# The handler's view of its job
# ---------------------------------------------------------------------------

class JobContext:
    """What a handler gets: its job's id and params, its session, progress, and a place for its file."""

    def __init__(self, app, claim: Claim):
        self.app = app
        self.job_id = claim.job_id
        self.kind = claim.kind
        self.params = dict(claim.params)
        self.user_id = claim.user_id
        self.enterprise_id = claim.enterprise_id
        self.lease = claim.lease
        self.attempt = claim.attempts
        self.output_key: str | None = None
        self.output_name: str | None = None
        self.done = 0
        self.total = 0
        self.message: Message | None = None
        self._written_at = 0.0
        self._unwritten = False

    @property
    def session(self):
        """The job's own database session (not shared with any request)."""
        return db.session

    def progress(self, done: int, total: int, message=None) -> None:
        """Record that ``done`` of ``total`` steps are finished (written at most every JOB_PROGRESS_INTERVAL).

        ``message`` is a ``lazy_gettext`` string or a Message, shown in the reader's language; a
        plain ``str`` is shown as it is.
        """
        self.done, self.total = max(0, int(done)), max(0, int(total))
        if message is not None:
            self.message = literal(message) if isinstance(message, str) else Message.of(message)
        self._unwritten = True
        interval = float(setting(self.app, "JOB_PROGRESS_INTERVAL"))
        first_or_last = self._written_at == 0.0 or self.done >= self.total
        if first_or_last or time.monotonic() - self._written_at >= interval:
            self.flush_progress()

    def flush_progress(self) -> None:
        """Write the last reported progress now, unless the handler holds a SQLite transaction."""
        if not self._unwritten or _would_block():
            return
        try:
            write(self.job_id, self.lease, done=self.done, total=self.total,
                  progress_message=self.message.as_json() if self.message else None)
        except SQLAlchemyError:
            log.warning("could not record the progress of job %s", self.job_id, exc_info=True)
            return
        self._written_at = time.monotonic()
        self._unwritten = False

    def save_output(self, filename: str, data, *, content_type: str = "application/octet-stream") -> str:
        """Keep ``data`` (bytes or a binary stream) as the job's downloadable file; return its storage key.

        One file per job: a second call replaces the first.
        """
        from portal.storage import blob_store

        name = secure_filename(filename) or "output"
        key = f"jobs/{self.job_id}/{self.lease}/{name}"
        store = blob_store(self.app)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            previous = connection.scalar(select(Job.output_key).where(Job.id == self.job_id))
        # The row names the file before the file exists, so a crash in between leaves no orphan.
        if not write(self.job_id, self.lease, output_key=key, output_name=name):
            raise RuntimeError(f"job {self.job_id} is no longer this consumer's")
        if previous and previous != key:
            store.delete(previous)  # an earlier, interrupted run's file
        store.put(key, data, content_type=content_type)
        self.output_key, self.output_name = key, name
        return key


def _would_block() -> bool:
    """Say whether writing from another connection would wait for this thread's own SQLite lock."""
    return db.engine.dialect.name == "sqlite" and db.session().in_transaction()


def write(job_id: int, holder: str | None, **values) -> bool:
    """Update the job row in a short transaction of its own, only while lease ``holder`` holds it."""
    with db.engine.begin() as connection:
        result = connection.execute(update(Job).where(Job.id == job_id, Job.lease == holder).values(**values))
        return result.rowcount == 1


# ---------------------------------------------------------------------------
# Claiming and running
# ---------------------------------------------------------------------------

def claim(app, job_id: int, worker_id: str | None) -> Claim | None:
    """Take queued job ``job_id`` for this consumer; None when another has it or it is finished."""
    lease = secrets.token_hex(16)
    with app.app_context(), db.engine.begin() as connection:
        # The status test inside the UPDATE is what makes the claim atomic between consumers.
        claimed = connection.execute(
            update(Job).where(Job.id == job_id, Job.status == JobStatus.QUEUED.value)
            .values(status=JobStatus.RUNNING.value, lease=lease, worker_id=worker_id, started_at=utcnow(),
                    attempts=Job.attempts + 1, error=None, summary=None)
        ).rowcount
        if claimed != 1:
            return None
        row = connection.execute(
            select(Job.kind, Job.params, Job.attempts, Job.user_id, Job.enterprise_id).where(Job.id == job_id)
        ).one()
    return Claim(job_id, lease, row.kind, dict(row.params or {}), row.attempts, row.user_id, row.enterprise_id)


def run(app, job_id: int) -> bool:
    """Claim job ``job_id`` and run it here; False when it was not this consumer's to run."""
    from portal.jobs.queue import presence_of

    presence = presence_of(app)
    try:
        if presence is not None:
            presence.ensure_registered()
        claimed = claim(app, job_id, presence.id if presence else None)
    except SQLAlchemyError:
        # The job stays queued in the database; a sweep sends it again once the database answers.
        log.warning("could not claim job %s; it stays queued", job_id, exc_info=True)
        return False
    if claimed is None:
        return False
    if presence is not None:
        presence.started(job_id)
    try:
        finish = _execute(app, claimed)
        _record(app, claimed.job_id, finish)
    finally:
        if presence is not None:
            presence.stopped(job_id)
    return True


def _execute(app, claimed: Claim) -> Callable[[], None]:
    """Run the handler; return what writes its outcome (called at once, or later by a sweep)."""
    with app.app_context():
        ctx = JobContext(app, claimed)
        try:
            outcome = _call_handler(app, ctx)
        except Exception as error:  # a handler's failure is the job's outcome, never the consumer's
            db.session.rollback()
            technical = f"{type(error).__name__}: {error}"[:MAX_ERROR_LENGTH]
            if is_database_away(error):
                log.warning("job %s (%s): the database went away", claimed.job_id, claimed.kind, exc_info=True)
                if claimed.attempts < int(setting(app, "JOB_MAX_ATTEMPTS")):
                    return lambda: requeue(app, claimed.job_id, claimed.lease, RETRYING, technical)
                return lambda: give_up(app, claimed.job_id, claimed.lease, DATABASE_AWAY, technical)
            log.exception("job %s (%s) failed", claimed.job_id, claimed.kind)
            reason = error.message if isinstance(error, Refusal) else None
            return lambda: give_up(app, claimed.job_id, claimed.lease, reason, technical, progress=ctx)
        finally:
            db.session.remove()
    return lambda: _finish_done(app, ctx, outcome)


def _call_handler(app, ctx: JobContext) -> Outcome:
    """Call the handler in the language of who enqueued the job; return its outcome."""
    handler = handler_for(app, ctx.kind)
    params = {key: value for key, value in ctx.params.items() if key != LOCALE_PARAM}
    with force_locale(ctx.params.get(LOCALE_PARAM) or app.config["BABEL_DEFAULT_LOCALE"]):
        value = handler.func(ctx, **params)
    db.session.rollback()  # whatever the handler left uncommitted is not part of the outcome
    outcome = Outcome.of(value)
    json.dumps(outcome.data)
    return outcome


def _record(app, job_id: int, finish: Callable[[], None]) -> None:
    """Write a job's outcome; when the database is away, leave it to this consumer's sweep."""
    from portal.jobs.queue import presence_of

    try:
        with app.app_context():
            finish()
    except Exception as error:
        presence = presence_of(app)
        if presence is None or not is_database_away(error):
            log.exception("could not record the outcome of job %s", job_id)
            return
        log.warning("could not record the outcome of job %s; will retry when the database answers", job_id)
        presence.keep_unrecorded(job_id, finish)


def _finish_done(app, ctx: JobContext, outcome: Outcome) -> None:
    from portal.storage import blob_store

    total = ctx.total or ctx.done
    summary = Message.of(outcome.summary).as_json() if outcome.summary is not None else None
    recorded = write(ctx.job_id, ctx.lease, status=JobStatus.DONE.value, result=outcome.data, summary=summary,
                     next_step=outcome.next_step(), done=total, total=total,
                     progress_message=ctx.message.as_json() if ctx.message else None,
                     finished_at=utcnow(), lease=None)
    if not recorded and ctx.output_key:
        blob_store(app).delete(ctx.output_key)  # the job went to another consumer: its file is not ours


def requeue(app, job_id: int, lease: str | None, message, error: str | None = None) -> bool:
    """Put a job this consumer held back in the queue (database and Huey); False when it was not held."""
    from portal.jobs.services import send

    queued = write(job_id, lease, status=JobStatus.QUEUED.value, lease=None, worker_id=None,
                   progress_message=Message.of(message).as_json(), error=error)
    if queued:
        send(app, [job_id])
    return queued


def give_up(app, job_id: int, lease: str | None, reason, error: str | None, *, progress=None) -> bool:
    """Fail a job held under ``lease``: its feature's on_failure first, then the row, then its file.

    ``reason`` (a lazy string or Message, or None for the generic words) is what the person who
    started the job reads. Returns False when the job was no longer held under ``lease``.
    """
    from portal.storage import blob_store

    row = db.session.execute(select(Job.kind, Job.params, Job.output_key, Job.lease).where(Job.id == job_id)).one()
    db.session.rollback()
    if row.lease != lease:
        return False
    message = Message.of(reason) if reason is not None else None
    try:
        on_failure = handler_for(app, row.kind).on_failure
    except KeyError:
        on_failure = None
    if on_failure is not None:
        params = {key: value for key, value in (row.params or {}).items() if key != LOCALE_PARAM}
        try:
            on_failure(db.session, params, message)
            db.session.commit()
        except Exception as failure:
            db.session.rollback()
            if is_database_away(failure):
                raise
            log.exception("on_failure of job %s (%s) failed", job_id, row.kind)
    values = {"status": JobStatus.FAILED.value, "summary": message.as_json() if message else None,
              "error": error, "finished_at": utcnow(), "lease": None, "output_key": None, "output_name": None}
    if progress is not None:
        values.update(done=progress.done, total=progress.total)
    if not write(job_id, lease, **values):
        return False
    if row.output_key:
        blob_store(app).delete(row.output_key)
    return True
