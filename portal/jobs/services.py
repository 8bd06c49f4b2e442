"""Background jobs: register handlers, enqueue work inside a transaction, read a job's outcome.

A handler is a function ``func(ctx, **params)`` registered with :func:`register_handler` (by
:mod:`portal.wiring`, when the app is made). It runs in an app context of its own, in the language
of the request that enqueued it, and commits its own work. It has:

* ``ctx.session`` – its database session; ``ctx.job_id``, ``ctx.params``, ``ctx.user_id``;
* ``ctx.progress(done, total, message=None)`` – ``message`` a ``lazy_gettext`` string or a
  :class:`portal.messages.Message` (stored as an id and parameters, shown in the reader's language);
* ``ctx.save_output(filename, data_or_stream, content_type=...)`` – the job's downloadable file,
  kept in the blob store (:mod:`portal.storage`) that every node reads.

It returns a JSON-able value (kept as ``job.result``) or an :class:`Outcome`, which adds what the
job did (a summary message) and the next step (a link) shown on the progress page.

Jobs run through Huey (:mod:`portal.jobs.queue`): on Redis when ``REDIS_URL`` is set, else on a
SQLite queue in the instance folder; under ``TESTING`` (or ``JOBS_IMMEDIATE``) a job runs right
after the enqueuing transaction commits, in the committing thread.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import current_app, has_request_context, url_for
from sqlalchemy import select, update

from portal.clock import utcnow
from portal.db import after_commit
from portal.i18n import current_language
from portal.jobs.models import Job, JobStatus
from portal.messages import Message

log = logging.getLogger(__name__)

#: Defaults of the settings an operator may override in the app config.
DEFAULTS = {
    "JOBS_QUEUE": "portal-jobs",  # the Huey queue's name (Redis keys, SQLite rows)
    "JOBS_IMMEDIATE": None,  # run each job right after its commit, in the same thread (None: under TESTING)
    "JOBS_QUEUE_PATH": None,  # the SQLite queue without Redis (None: <instance>/jobs/queue.sqlite3)
    "JOBS_WORKERS": 2,  # job threads of a consumer
    "JOBS_POLL_MAX_SECONDS": 1.0,  # longest pause between two looks at an empty SQLite queue
    "JOBS_SWEEP_SECONDS": 30,  # how often each consumer sweeps (abandoned, unsent and unrecorded jobs)
    "JOB_HEARTBEAT_SECONDS": 10.0,  # how often a consumer says it is alive
    "JOB_STALE_SECONDS": 60.0,  # silence after which a consumer on another host counts as stopped
    "JOB_RESEND_AFTER_SECONDS": 30.0,  # a queued job older than this and not in the queue is sent again
    "JOB_MAX_ATTEMPTS": 3,  # runs of one job (after crashes or database outages) before it fails
    "JOB_PROGRESS_INTERVAL": 0.5,  # seconds between two progress writes
    "JOB_STATUS_POLL_SECONDS": 1.0,  # how often the progress page asks
}


@dataclass(frozen=True)
class Handler:
    kind: str
    func: Callable
    label: object  # a lazy string shown on the progress page
    back_endpoint: str | None
    on_failure: Callable | None = None
    warm_up: Callable[[], None] | None = None
    admin_sees: bool = True


@dataclass
class Outcome:
    """What a handler may return: its data, what it did and where to go next.

    ``summary`` and ``next_label`` are ``lazy_gettext`` strings (with their parameters) or
    Messages; ``next_endpoint`` and ``next_params`` make the link (``url_for``) shown when done.
    """

    data: Any = None
    summary: Any = None
    next_endpoint: str | None = None
    next_params: dict = field(default_factory=dict)
    next_label: Any = None

    @classmethod
    def of(cls, value) -> Outcome:
        return value if isinstance(value, Outcome) else cls(data=value)

    def next_step(self) -> dict | None:
        if not self.next_endpoint:
            return None
        label = Message.of(self.next_label).as_json() if self.next_label is not None else None
        return {"endpoint": self.next_endpoint, "params": dict(self.next_params), "label": label}


#: The params key holding the language the job speaks; taken out before the handler is called.
LOCALE_PARAM = "_locale"
#: Where an app keeps its handlers (``app.extensions``); :mod:`portal.wiring` fills it.
HANDLERS_KEY = "portal.jobs.handlers"


def register_handler(app, kind: str, func: Callable, *, label=None, back_endpoint: str | None = None,
                     on_failure: Callable | None = None, warm_up: Callable[[], None] | None = None,
                     admin_sees: bool = True) -> None:
    """Make ``func(ctx, **params)`` the handler of ``app``'s jobs of ``kind`` (called from portal.wiring).

    ``label`` names the job on its progress page; ``back_endpoint`` is where that page links back to.
    ``on_failure(session, params, reason)`` runs once when a job of this kind ends failed (its
    handler raised, or it was given up after crashes or database outages), so the feature can put
    its own state right; it must not commit (the jobs framework does) and may run more than once.
    ``warm_up()`` is called once when a consumer starts (in an app context), so that the first job of
    the process does not spend its first seconds loading what every job of the kind needs, silent.
    ``admin_sees=False`` keeps the jobs of this kind from the admin's view of every job (their feature
    shows them to its own role, as the health registry's extracts do).
    """
    handlers = app.extensions.setdefault(HANDLERS_KEY, {})
    existing = handlers.get(kind)
    if existing is not None and existing.func is not func:
        raise ValueError(f"job kind {kind!r} already has a handler ({existing.func.__qualname__})")
    handlers[kind] = Handler(kind, func, label or kind, back_endpoint, on_failure, warm_up, admin_sees)


def warm_up_handlers(app) -> list[str]:
    """Call every handler's ``warm_up`` in an app context; return the kinds warmed (a failure is only logged)."""
    warmed = []
    for handler in app.extensions.get(HANDLERS_KEY, {}).values():
        if handler.warm_up is None:
            continue
        try:
            with app.app_context():
                handler.warm_up()
        except Exception:  # a job that starts cold is slower, not broken
            log.warning("could not warm up the %s jobs", handler.kind, exc_info=True)
            continue
        warmed.append(handler.kind)
    return warmed


def handler_for(app, kind: str) -> Handler:
    """Return ``app``'s handler for ``kind``; KeyError when there is none."""
    return app.extensions.get(HANDLERS_KEY, {})[kind]


def setting(app, key: str):
    """Return a jobs setting from the app config, else its default."""
    value = app.config.get(key)
    return DEFAULTS[key] if value is None else value


def runs_immediately(app) -> bool:
    """Say whether jobs run in the committing thread (JOBS_IMMEDIATE, by default under TESTING)."""
    immediate = app.config.get("JOBS_IMMEDIATE")
    return bool(app.config.get("TESTING")) if immediate is None else bool(immediate)


def enqueue(session, kind: str, params: dict, *, user_id: int | None = None,
            enterprise_id: int | None = None) -> Job:
    """Add a queued job to ``session``; it is sent to the queue once the caller commits (never before)."""
    app = current_app._get_current_object()
    handler_for(app, kind)  # KeyError now beats a job that can never start
    params = dict(params or {})
    json.dumps(params)  # a TypeError now beats a job that can never start
    if has_request_context():
        # Anything the job writes in words (a card's text) follows the language of who started it.
        params.setdefault(LOCALE_PARAM, current_language())
    job = Job(kind=kind, params=params, status=JobStatus.QUEUED.value, done=0, total=0, attempts=0,
              user_id=user_id, enterprise_id=enterprise_id, created_at=utcnow())
    session.add(job)
    session.flush()
    job_id = job.id
    after_commit(session, lambda: send(app, [job_id]))
    return job


def send(app, job_ids: list[int]) -> list[int]:
    """Put committed queued jobs on the queue; return those sent (the rest wait for the next sweep)."""
    from portal.jobs.queue import job_queue

    return job_queue(app).send(job_ids)


def get_job_for(session, user, job_id: int) -> Job | None:
    """Return the job when ``user`` started it (or is the admin, unless its kind is kept from the admin)."""
    job = session.get(Job, job_id)
    if job is None or not user.is_authenticated:
        return None
    if job.user_id == user.id:
        return job
    if not user.is_admin:
        return None
    try:
        admin_sees = handler_for(current_app, job.kind).admin_sees
    except KeyError:
        admin_sees = True
    return job if admin_sees else None


def old_outputs(session, *, older_than: timedelta) -> list[tuple[int, str]]:
    """Return (job id, storage key) of the files of jobs finished more than ``older_than`` ago."""
    cutoff = utcnow() - older_than
    rows = session.execute(
        select(Job.id, Job.output_key).where(Job.output_key.is_not(None), Job.finished_at < cutoff).order_by(Job.id)
    )
    return [(job_id, key) for job_id, key in rows]


def forget_outputs(session, job_ids: list[int]) -> None:
    """Forget the files of these jobs (after they were deleted from storage)."""
    if job_ids:
        session.execute(update(Job).where(Job.id.in_(job_ids)).values(output_key=None, output_name=None))


# ---------------------------------------------------------------------------
# Reading a job's words
# ---------------------------------------------------------------------------

def message_of(stored) -> Message | None:
    """Return a stored message (JSON) as a Message, or None."""
    return None if stored is None else Message.from_json(stored)


def next_link(job: Job) -> tuple[str, Message | None] | None:
    """Return the (url, label) of a finished job's next step, when its handler gave one."""
    step = job.next_step if job.status == JobStatus.DONE.value else None
    if not step:
        return None
    try:
        url = url_for(step["endpoint"], **(step.get("params") or {}))
    except Exception:  # an endpoint renamed since the job ran: no link rather than a broken page
        log.warning("job %s: cannot link to %r", job.id, step.get("endpoint"))
        return None
    return url, message_of(step.get("label"))
