"""``portal eligibility refresh``: re-evaluate every active worker (run it daily, shortly after midnight)."""
from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select


def _parse_day(_ctx, _param, value):
    from portal.clock import parse_date

    if value is None:
        return None
    try:
        return parse_date(value)
    except ValueError:
        raise click.BadParameter("give a date as dd/mm/yyyy") from None


def _unit_id(session, code: str | None) -> int | None:
    from portal.units.models import PilotUnit

    if code is None:
        return None
    unit = session.scalar(select(PilotUnit).where(PilotUnit.code == code))
    if unit is None:
        raise click.BadParameter(f"no unit {code!r} in the database (see 'portal units list')", param_hint="--unit")
    return unit.id


@click.group()
def eligibility() -> None:
    """The eligibility snapshot every page reads."""


@eligibility.command("refresh")
@click.option("--unit", "unit_code", help="Only this unit's workers (a unit code, e.g. district7).")
@click.option("--on", "on_date", callback=_parse_day, help="Evaluate as of this local day (dd/mm/yyyy); default today.")
@click.option("--batch-size", default=2000, show_default=True, type=click.IntRange(100, 50_000))
@with_appcontext
def eligibility_refresh(unit_code, on_date, batch_size) -> None:
    """Re-evaluate every active worker (or one unit's) and store the answers; commits after each batch."""
    from portal import clock
    from portal.eligibility.upkeep import RefreshScope, refresh_eligibility, tidy_after_bulk_refresh
    from portal.extensions import db

    session = db.session
    scope = RefreshScope(unit_id=_unit_id(session, unit_code))
    now = clock.utcnow()
    on_date = on_date or clock.local_today(now)
    started = time.perf_counter()

    def after_batch(done: int, total: int) -> None:
        session.commit()
        elapsed = time.perf_counter() - started
        click.echo(f"  {done:>9,} / {total:,} workers  ({done / elapsed if elapsed else 0:,.0f}/s)")

    click.echo(f"Evaluating eligibility on {clock.format_date(on_date)} for "
               f"{unit_code or 'every unit'}, {batch_size} workers per batch.")
    done = refresh_eligibility(session, current_app.extensions["portal.plugins"].registry, scope,
                               on_date=on_date, now=now, batch_size=batch_size, after_batch=after_batch)
    session.commit()
    tidy_after_bulk_refresh(db.engine)
    click.echo(f"Done: {done:,} workers in {time.perf_counter() - started:.1f} s.")


commands = [eligibility]
