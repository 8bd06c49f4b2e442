"""The ``portal`` command: Flask's CLI with the portal's own commands."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from flask_babel import force_locale

from portal import create_app
from portal.jobs import cli as jobs_cli


@click.group(cls=FlaskGroup, create_app=create_app)
def main() -> None:
    """Manage the green-card portal (database, users, demo data, server)."""


# ``portal run`` also consumes the job queue in the serving process when there is no broker.
main.add_command(jobs_cli.run)


def register(app) -> None:
    """Attach the portal's commands to ``app.cli`` (so ``flask`` and ``portal`` both see them).

    A feature adds its own commands with a ``cli.py`` holding a ``commands`` list.
    """
    from portal import feature_modules
    from portal.auth.cli import users

    users.add_command(users_create, "create")
    for command in (units, demo):
        app.cli.add_command(command)
    for cli in feature_modules("cli"):
        for command in cli.commands:
            app.cli.add_command(command)


@click.command("create")
@click.option("--role", type=click.Choice(["hr", "official", "admin", "health"]), required=True)
@click.option("--email", required=True)
@click.option("--name", "full_name", required=True, help="Full name, with diacritics.")
@click.option("--unit", "unit_code", help="Unit code (officials), e.g. district7.")
@click.option("--tax-code", help="Enterprise tax code (HR staff).")
@click.password_option(help="At least 10 characters; asked for when not given.")
@with_appcontext
def users_create(role, email, full_name, unit_code, tax_code, password) -> None:
    """Create a user of any role (``portal users create``)."""
    from sqlalchemy import select

    from portal.auth.services import create_user
    from portal.enterprises.models import Enterprise
    from portal.extensions import db
    from portal.messages import Refusal
    from portal.units.services import unit_row

    unit = enterprise = None
    if role == "official":
        if not unit_code:
            raise click.UsageError("--unit is required for an official")
        try:
            unit = unit_row(db.session, current_app.extensions["portal.plugins"].registry, unit_code)
        except KeyError:
            raise click.UsageError(f"no installed plugin brings unit {unit_code!r} (see 'portal units list')") from None
    if role == "hr":
        if not tax_code:
            raise click.UsageError("--tax-code is required for HR staff")
        enterprise = db.session.scalar(select(Enterprise).where(Enterprise.tax_code == tax_code))
        if enterprise is None:
            raise click.UsageError(f"no enterprise with tax code {tax_code!r}")
    try:
        user = create_user(db.session, email=email, password=password, full_name=full_name, role=role,
                           unit=unit, enterprise=enterprise)
    except Refusal as error:
        with force_locale("en"):  # the command line speaks English
            raise click.UsageError(str(error)) from None
    db.session.commit()
    click.echo(f"Created {user.role} {user.email}.")



@click.group()
def units() -> None:
    """Pilot units brought by the installed plugins."""


@units.command("list")
@with_appcontext
def units_list() -> None:
    """Show every installed unit and what it declares."""
    registry = current_app.extensions["portal.plugins"].registry
    for code, unit in registry.units.items():
        click.echo(f"{code:18} {unit.short_code:5} {unit.name_vi} / {unit.name_en} — {unit.authority_vi}")
        click.echo(f"{'':18} business types: {', '.join(registry.business_types[code]) or '-'}")
        click.echo(f"{'':18} sectors: {', '.join(registry.sectors[code]) or '-'}")
        if registry.locations[code]:
            click.echo(f"{'':18} locations: {', '.join(registry.locations[code])}")


@units.command("sync")
@with_appcontext
def units_sync() -> None:
    """Write the installed units into the database."""
    from portal.extensions import db
    from portal.plugins.printed_codes import PrintedCodeChanged, check_printed_codes
    from portal.units.services import sync_units

    registry = current_app.extensions["portal.plugins"].registry
    try:
        check_printed_codes(db.session.connection(), registry, current_app.config["PORTAL_DISABLED_PLUGINS"])
    except PrintedCodeChanged as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    rows = sync_units(db.session, registry)
    db.session.commit()
    click.echo(f"{len(rows)} units in the database.")


@click.command()
@click.option("--password", default=None, help="Password for every demo account (random when not given).")
@click.option("--workers", default=40, show_default=True, help="Workers per approved enterprise.")
@with_appcontext
def demo(password: str | None, workers: int) -> None:
    """Upgrade the database and seed demo data: units, enterprises in every state, workers, logins."""
    from flask_migrate import upgrade

    from portal import demo as demo_data
    from portal.extensions import db

    if current_app.config["PORTAL_ENV"] == "production":
        raise click.UsageError("refusing to seed demo data in production")
    upgrade()
    logins = demo_data.seed(db.session, current_app.extensions["portal.plugins"].registry,
                            password=password, workers_per_enterprise=workers)
    db.session.commit()
    click.echo(demo_data.format_logins(logins))
