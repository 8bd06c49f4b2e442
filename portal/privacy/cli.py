"""``portal privacy erase --before dd/mm/yyyy [--yes]``: the end of the pilot (see portal.privacy.services)."""
from __future__ import annotations

import time
from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale


@click.group()
def privacy() -> None:
    """Workers' personal data."""


def _parse_day(_ctx, _param, value):
    from portal import clock

    try:
        day = clock.parse_date(value)
    except ValueError:
        raise click.BadParameter("give the day as dd/mm/yyyy") from None
    tomorrow = clock.local_today() + timedelta(days=1)
    if day > tomorrow:
        raise click.BadParameter(f"{value} is after tomorrow: nobody is registered after that yet")
    return day


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def _describe(found, *, done: bool) -> None:
    verb = "Removed" if done else "Will remove"
    click.echo(f"  workers:          {found.workers:>9,}  (names, ID numbers, dates of birth, phones, addresses, "
               f"job titles, vaccinations, tests)")
    click.echo(f"  their cards:      {found.passes:>9,}  (home addresses, free-text revocation notes)")
    click.echo(f"  vaccine doses:    {found.doses:>9,}")
    click.echo(f"  audit entries:    {found.audit_events:>9,}  (the copies of those fields)")
    click.echo(f"  import batches:   {found.import_batches:>9,}  ({found.import_files:,} still holding a file and "
               f"its rows)")
    click.echo(f"  jobs:             {found.jobs_removed:>9,}  started before the day; "
               f"{found.jobs_cleared:,} later ones lose their files and results")
    if not done:
        click.echo(f"  files:            {found.files:>9,}  ({len(found.job_files):,} job outputs, "
                   f"{len(found.cached_files):,} cached card PDFs; {_megabytes(found.file_bytes)}) from the "
                   f"{current_app.config.get('STORAGE_BACKEND') or 'database'} blob store")
    click.echo(f"{verb} all of this. Kept: enterprises, user accounts, scans, and every count of the dashboard "
               f"and the evaluation report.")


@privacy.command("erase")
@click.option("--before", "before", required=True, callback=_parse_day,
              help="Erase the workers registered before this local day (dd/mm/yyyy), and every file and row "
                   "that copies their data.")
@click.option("--yes", is_flag=True, help="Erase. Without it, only say what would be erased.")
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(10, 20_000))
@with_appcontext
def erase(before, yes: bool, batch_size: int) -> None:
    """Remove workers' personal data everywhere (database and blob store), keeping the report's figures."""
    from portal import clock
    from portal.extensions import db
    from portal.privacy import services

    app = current_app._get_current_object()
    session = db.session
    found = services.survey(session, app, before)
    session.rollback()
    heading = f"Personal data of workers registered before {clock.format_date(before)}"
    if not yes:
        click.echo(f"{heading} (dry run: nothing is changed; add --yes to erase):")
        _describe(found, done=False)
        return
    click.echo(f"{heading}: erasing, {batch_size} workers per batch.")
    started, last = time.perf_counter(), [0.0]

    def after_batch(what: str, done: int, total: int) -> None:
        session.commit()
        now = time.perf_counter()
        if what != "workers" or done == total or now - last[0] >= 1:  # progress at most once a second
            last[0] = now
            click.echo(f"  {what}: {done:,} / {total:,}  ({now - started:.1f} s)")

    try:
        done = services.erase(session, app.extensions["portal.plugins"].registry, before, batch_size=batch_size,
                              after_batch=after_batch)
    except services.ErasureRefused as refused:
        session.rollback()
        with force_locale("en"):  # the command line speaks English
            raise click.ClickException(f"Nothing was erased: {refused}.") from None
    session.commit()
    files, size = services.erase_files(app)
    click.echo(f"  files: {files:,} deleted ({_megabytes(size)}) from the "
               f"{app.config.get('STORAGE_BACKEND') or 'database'} blob store")
    _describe(done, done=True)
    click.echo("The database may still hold the old values in free space and in backups: run VACUUM FULL "
               "(PostgreSQL) or VACUUM (SQLite), and rotate the backups (README, 'End of the pilot').")


commands = [privacy]
