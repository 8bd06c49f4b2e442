"""Background jobs: register handlers, enqueue work inside a transaction, find a user's jobs.

A handler is a function ``func(ctx, **params)`` registered with :func:`register_handler` (by
:mod:`portal.wiring`, when the app is made); it runs in its
own app context, in the language of the request that enqueued it (``flask_babel.gettext`` works). It reports
progress with ``ctx.progress(done, total, message=None)``, writes files to ``ctx.output_path(name)``
and returns a JSON-able value kept as ``job.result``.

Where the job runs depends on ``jobs_mode(app)``:

* ``"thread"`` (the embedded default, no ``REDIS_URL``): a runner thread inside the web process
  claims jobs from the database; jobs survive a restart.
* ``"rq"`` (``REDIS_URL`` set): the same handlers run in ``portal jobs worker`` processes through RQ;
  the database row stays the source of truth.
* ``"inline"`` (``JOBS_RUN_INLINE=True``, and the default under ``TESTING``): the job runs as soon
  as the enqueuing transaction commits, in the committing thread.
"""
from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import abort, current_app, has_request_context
from sqlalchemy import select

from portal.clock import utcnow
from portal.db import after_commit
from portal.i18n import current_language
from portal.jobs.models import Job, JobStatus

log = logging.getLogger(__name__)


#: Defaults of the settings an operator may override in the app config.
DEFAULTS = {
    "JOBS_QUEUE": "portal-jobs",
    "JOB_HEARTBEAT_SECONDS": 10.0,
    "JOB_STALE_SECONDS": 60.0,
    "JOB_MAX_ATTEMPTS": 3,
    "JOB_TIMEOUT_SECONDS": 3600,
    "JOB_POLL_SECONDS": 5.0,
    "JOB_PROGRESS_INTERVAL": 0.5,
    "JOB_STATUS_POLL_SECONDS": 1.0,
}


@dataclass(frozen=True)
class Handler:
    kind: str
    func: Callable
    label: object  # a lazy string shown on the progress page
    back_endpoint: str | None


#: The params key holding the language the job speaks; the runner takes it out before calling the handler.
LOCALE_PARAM = "_locale"
#: Where an app keeps its handlers (``app.extensions``); :mod:`portal.wiring` fills it.
HANDLERS_KEY = "portal.jobs.handlers"


def register_handler(app, kind: str, func: Callable, *, label=None, back_endpoint: str | None = None) -> None:
    """Make ``func(ctx, **params)`` the handler of ``app``'s jobs of ``kind`` (called from portal.wiring).

    ``label`` names the job on its progress page; ``back_endpoint`` is where that page links back to.
    """
    handlers = app.extensions.setdefault(HANDLERS_KEY, {})
    existing = handlers.get(kind)
    if existing is not None and existing.func is not func:
        raise ValueError(f"job kind {kind!r} already has a handler ({existing.func.__qualname__})")
    handlers[kind] = Handler(kind, func, label or kind, back_endpoint)


def handler_for(app, kind: str) -> Handler:
    """Return ``app``'s handler for ``kind``; KeyError when there is none."""
    return app.extensions.get(HANDLERS_KEY, {})[kind]


def setting(app, key: str):
    """Return a jobs setting from the app config, else its default."""
    return app.config.get(key, DEFAULTS[key])


def jobs_mode(app) -> str:
    """Return where jobs run: "inline", "thread" or "rq" (see the module docstring)."""
    mode = app.config.get("JOBS_MODE")
    if mode:
        if mode not in ("inline", "thread", "rq"):
            raise ValueError(f"JOBS_MODE must be inline, thread or rq, not {mode!r}")
        return mode
    if app.config.get("JOBS_RUN_INLINE") or app.config.get("TESTING"):
        return "inline"
    return "rq" if app.config.get("REDIS_URL") else "thread"


def enqueue(session, kind: str, params: dict, *, user_id: int | None = None,
            enterprise_id: int | None = None) -> Job:
    """Add a queued job to ``session``; it is dispatched once the caller commits (never before)."""
    app = current_app._get_current_object()
    handler_for(app, kind)  # KeyError now beats a job that can never start
    params = dict(params or {})
    json.dumps(params)  # a TypeError now beats a job that can never start
    if has_request_context():
        # The job's messages (and anything it writes in words) follow the language of who started it.
        params.setdefault(LOCALE_PARAM, current_language())
    job = Job(kind=kind, params=params, status=JobStatus.QUEUED.value, done=0, total=0, attempts=0,
              user_id=user_id, enterprise_id=enterprise_id, created_at=utcnow())
    session.add(job)
    session.flush()
    job_id = job.id
    after_commit(session, lambda: dispatch(app, [job_id]))
    return job


def dispatch(app, job_ids: list[int]) -> None:
    """Hand committed queued jobs to whatever runs them in this app's mode."""
    from portal.jobs import runner

    mode = jobs_mode(app)
    if mode == "inline":
        for job_id in job_ids:
            runner.run_job(app, job_id)
    elif mode == "rq":
        runner.send_to_rq(app, job_ids)
    else:
        runner.wake_embedded_runner(app)


def get_job_for(user, job_id: int) -> Job:
    """Return the job when ``user`` started it (or is the admin); 404 otherwise."""
    from portal.extensions import db

    job = db.session.get(Job, job_id)
    if job is None or not user.is_authenticated:
        abort(404)
    if job.user_id != user.id and not user.is_admin:
        abort(404)
    return job


def purge_outputs(session, app, *, older_than: timedelta) -> int:
    """Delete the files of jobs finished before ``older_than`` ago and forget their paths (not committed)."""
    root = Path(app.config["JOB_OUTPUT_DIR"]).resolve()
    cutoff = utcnow() - older_than
    jobs = session.scalars(select(Job).where(Job.output_path.is_not(None), Job.finished_at < cutoff)).all()
    for job in jobs:
        folder = (root / str(job.id)).resolve()
        if root in folder.parents and folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
        job.output_path = None
    return len(jobs)
