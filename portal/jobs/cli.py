"""``portal jobs ...``: run background jobs outside the web process, recover and clean up."""
from __future__ import annotations

from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext


@click.group()
def jobs() -> None:
    """Background jobs (print sheets, imports)."""


@jobs.command("worker")
@click.option("--burst", is_flag=True, help="Stop once no job is waiting.")
@with_appcontext
def worker(burst: bool) -> None:
    """Run jobs: an RQ worker when REDIS_URL is set, else a database-polling runner in the foreground."""
    from portal.jobs import runner

    app = current_app._get_current_object()
    if not app.config.get("REDIS_URL"):
        ran = runner.serve_forever(app, burst=burst)
        click.echo(f"{ran} jobs run.")
        return
    from rq import Worker

    connection = runner.redis_connection(app)
    resent = runner.sweep_to_rq(app)
    if resent:
        click.echo(f"Sent {len(resent)} waiting jobs to the queue.")
    Worker([runner.rq_queue(app, connection)], connection=connection).work(burst=burst)


@jobs.command("sweep")
@with_appcontext
def sweep() -> None:
    """Queue again the jobs whose runner stopped, and resend waiting jobs to Redis."""
    from portal.jobs import runner

    app = current_app._get_current_object()
    if app.config.get("REDIS_URL"):
        ids = runner.sweep_to_rq(app)
    else:
        ids = runner.recover_stale(app) + runner.queued_ids(app)
    click.echo(f"{len(set(ids))} jobs waiting.")


@jobs.command("purge")
@click.option("--days", default=7, show_default=True, help="Delete files of jobs finished this many days ago.")
@with_appcontext
def purge(days: int) -> None:
    """Delete old jobs' output files (print sheets carry personal data)."""
    from portal.extensions import db
    from portal.jobs.services import purge_outputs

    count = purge_outputs(db.session, current_app, older_than=timedelta(days=days))
    db.session.commit()
    click.echo(f"Deleted the files of {count} jobs.")


commands = [jobs]
