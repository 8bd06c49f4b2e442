"""``portal jobs ...`` and ``portal run``: consume the job queue, clean up old files."""
from __future__ import annotations

import logging
from datetime import timedelta

import click
from flask import current_app
from flask.cli import ScriptInfo, pass_script_info, run_command, with_appcontext


@click.group()
def jobs() -> None:
    """Background jobs (print sheets, imports)."""


@jobs.command("worker")
@click.option("--workers", type=int, default=None, help="Job threads (default: JOBS_WORKERS, 2).")
@with_appcontext
def worker(workers: int | None) -> None:
    """Run jobs until stopped (Ctrl-C waits for running jobs; SIGTERM stops at once, they resume later)."""
    from portal.jobs.queue import job_queue, start_consumer

    app = current_app._get_current_object()
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    queue = job_queue(app)
    consumer = start_consumer(app, workers=workers)
    click.echo(f"Consuming the {queue.backend} job queue as {consumer.presence.id} "
               f"with {consumer.workers} job threads.")
    try:
        consumer.run()
    finally:
        consumer.presence.leave()
        queue.close()


@jobs.command("purge")
@click.option("--days", default=7, show_default=True, help="Delete files of jobs finished this many days ago.")
@with_appcontext
def purge(days: int) -> None:
    """Delete old jobs' output files from storage (print sheets carry personal data)."""
    from portal.extensions import db
    from portal.jobs.services import forget_outputs, old_outputs
    from portal.storage import blob_store

    outputs = old_outputs(db.session, older_than=timedelta(days=days))
    db.session.rollback()  # hold no transaction (on SQLite: no write lock) while the store deletes
    store = blob_store(current_app)
    deleted = 0
    for _job_id, key in outputs:
        deleted += store.delete(key)
    forget_outputs(db.session, [job_id for job_id, _key in outputs])
    db.session.commit()
    click.echo(f"Deleted {deleted} files of jobs finished more than {days} days ago.")


@click.command("run", params=run_command.params, help=run_command.help, short_help=run_command.short_help)
@click.pass_context
@pass_script_info
def run(info: ScriptInfo, ctx: click.Context, **options) -> None:
    """Flask's ``run``, plus a consumer of the job queue in the serving process when there is no broker.

    Without ``REDIS_URL`` the jobs' SQLite queue is consumed by threads of the development server's
    process (the one that serves, not the reloader's watcher), so ``make run`` completes a print
    sheet with nothing else started. With Redis, ``portal jobs worker`` runs jobs.
    """
    from flask.helpers import get_debug_flag
    from werkzeug.serving import is_running_from_reloader

    from portal.jobs.queue import start_consumer
    from portal.jobs.services import runs_immediately

    app = info.load_app()
    reload = options.get("reload")
    if reload is None:
        reload = get_debug_flag()
    serving_process = not reload or is_running_from_reloader()
    if serving_process and not app.config.get("REDIS_URL") and not runs_immediately(app):
        consumer = start_consumer(app, embedded=True)
        consumer.start()
        click.echo(f" * Jobs: run here by {consumer.workers} threads (no REDIS_URL)")
    ctx.invoke(run_command, **options)


commands = [jobs]
