"""Command: ``portal dashboard recount-scans``."""
from __future__ import annotations

import click
from flask.cli import with_appcontext


def _parse_day(_ctx, _param, value):
    from portal.clock import parse_date

    if value is None:
        return None
    try:
        return parse_date(value)
    except ValueError:
        raise click.BadParameter("give a date as dd/mm/yyyy") from None


@click.group()
def dashboard() -> None:
    """The dashboard's counts of checkpoint scans."""


@dashboard.command("recount-scans")
@click.option("--from", "first_day", callback=_parse_day, required=True, help="First local day (dd/mm/yyyy).")
@click.option("--to", "last_day", callback=_parse_day, help="Last local day (dd/mm/yyyy); default yesterday.")
@with_appcontext
def recount_scans(first_day, last_day) -> None:
    """Recount the checkpoint scans of closed days (after scans were recorded late or corrected)."""
    from datetime import timedelta

    from portal import clock
    from portal.dashboard.scans import recount_scans as recount
    from portal.extensions import db

    now = clock.utcnow()
    last_day = last_day or clock.local_today(now) - timedelta(days=1)
    if first_day > last_day:
        raise click.BadParameter("--from is after --to")
    days = recount(db.session, first_day, last_day, now)
    db.session.commit()
    click.echo(f"Recounted {days} day(s) of checkpoint scans.")


commands = [dashboard]
