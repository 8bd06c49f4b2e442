"""The sweep every consumer runs when it starts and then periodically: nothing waits for a page view.

* outcomes this consumer could not write while the database was away are written;
* a running job whose consumer stopped (its process is gone from this host, it left, or it has
  been silent for JOB_STALE_SECONDS) is queued again, or failed clearly after JOB_MAX_ATTEMPTS runs,
  its feature's ``on_failure`` run;
* a queued job that is not in the queue (sent while Redis was away, or lost with a consumer) is
  sent again.

Every change is conditional on the job's lease, so two consumers sweeping at once agree.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from portal.clock import utcnow
from portal.extensions import db
from portal.jobs.models import Job, JobStatus, JobWorker
from portal.jobs.services import send, setting
from portal.messages import Message

log = logging.getLogger(__name__)

RESUMING = _l("Starting again: the work was interrupted (its worker stopped).")
ABANDONED = _l("This job was interrupted %(count)s times (its worker stopped); nothing of the unfinished work "
               "was saved. Please start it again.")


@dataclass
class SweepReport:
    recorded: int = 0
    resumed: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)


def sweep(app, presence=None) -> SweepReport:
    """Put every job that nobody will finish back on its way (see the module docstring)."""
    from portal.jobs.execution import give_up, requeue

    report = SweepReport()
    if presence is not None:
        report.recorded = presence.record_unrecorded()
        presence.beat()
    max_attempts = int(setting(app, "JOB_MAX_ATTEMPTS"))
    with app.app_context():
        for job_id, lease, attempts in _abandoned(app, presence):
            if attempts < max_attempts:
                if requeue(app, job_id, lease, RESUMING):
                    report.resumed.append(job_id)
            elif give_up(app, job_id, lease, Message.of(ABANDONED, count=attempts), f"abandoned after {attempts} runs"):
                report.failed.append(job_id)
        report.sent = _send_waiting(app, exclude=set(report.resumed))
        _forget_stopped_consumers(app)
        db.session.remove()
    if report.resumed or report.failed or report.sent or report.recorded:
        log.warning("jobs sweep: resumed %s, failed %s, sent %s, recorded %s",
                    report.resumed, report.failed, report.sent, report.recorded)
    return report


def _abandoned(app, presence) -> list[tuple[int, str | None, int]]:
    """Return (id, lease, attempts) of the running jobs whose consumer will never finish them."""
    stale = float(setting(app, "JOB_STALE_SECONDS"))
    now = utcnow()
    rows = db.session.execute(
        select(Job.id, Job.lease, Job.attempts, Job.worker_id, Job.started_at,
               JobWorker.host, JobWorker.pid, JobWorker.beat_at)
        .outerjoin(JobWorker, JobWorker.id == Job.worker_id)
        .where(Job.status == JobStatus.RUNNING.value)
    ).all()
    db.session.rollback()
    # Silence means death only once this sweeper itself has reached the database for that long:
    # after an outage everyone's beat is old.
    may_judge_silence = presence is None or presence.reachable_for() >= stale
    host = presence.host if presence is not None else None
    abandoned = []
    for row in rows:
        if presence is not None and row.worker_id == presence.id:
            gone = not presence.holds(row.id)
        elif row.worker_id is None:  # run in a committing thread (immediate mode) that did not finish
            gone = row.started_at is None or row.started_at < now - timedelta(seconds=stale)
        elif row.host is None:  # its consumer signed off (stopped) without finishing it
            gone = True
        elif row.host == host:
            gone = row.pid == os.getpid() or not process_alive(row.pid)
            gone = gone or (may_judge_silence and row.beat_at < now - timedelta(seconds=stale))
        else:
            gone = may_judge_silence and row.beat_at < now - timedelta(seconds=stale)
        if gone:
            abandoned.append((row.id, row.lease, row.attempts))
    return abandoned


def _send_waiting(app, *, exclude: set[int]) -> list[int]:
    """Send again the queued jobs that have waited long enough and are not in the queue."""
    from portal.jobs.queue import job_queue

    cutoff = utcnow() - timedelta(seconds=float(setting(app, "JOB_RESEND_AFTER_SECONDS")))
    ids = db.session.scalars(
        select(Job.id).where(Job.status == JobStatus.QUEUED.value, Job.created_at <= cutoff).order_by(Job.id)
    ).all()
    db.session.rollback()
    ids = [job_id for job_id in ids if job_id not in exclude]
    if not ids:
        return []
    try:
        waiting = job_queue(app).waiting_ids()
    except Exception:  # Redis still away: nothing can be sent now anyway
        log.warning("cannot read the queue; queued jobs will be sent at a later sweep")
        return []
    return send(app, [job_id for job_id in ids if job_id not in waiting])


def _forget_stopped_consumers(app) -> None:
    """Delete the rows of consumers silent for ten times JOB_STALE_SECONDS (no job names them any more)."""
    cutoff = utcnow() - timedelta(seconds=10 * float(setting(app, "JOB_STALE_SECONDS")))
    busy = select(Job.worker_id).where(Job.status == JobStatus.RUNNING.value, Job.worker_id.is_not(None))
    db.session.execute(delete(JobWorker).where(JobWorker.beat_at < cutoff, JobWorker.id.not_in(busy)))
    db.session.commit()


def process_alive(pid: int) -> bool:
    """Say whether process ``pid`` of this host is alive (a zombie is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:
        state = stat.read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")
