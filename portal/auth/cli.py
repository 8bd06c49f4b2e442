"""``portal users``: create accounts, reset a lost second factor."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale

from portal.messages import Refusal


@click.group()
def users() -> None:
    """User accounts."""


@users.command("create")
@click.option("--role", type=click.Choice(["hr", "official", "admin"]), required=True)
@click.option("--email", required=True)
@click.option("--name", "full_name", required=True, help="Full name, with diacritics.")
@click.option("--unit", "unit_code", help="Unit code (officials), e.g. district7.")
@click.option("--tax-code", help="Enterprise tax code (HR staff).")
@click.password_option(help="At least 10 characters; asked for when not given.")
@with_appcontext
def users_create(role, email, full_name, unit_code, tax_code, password) -> None:
    """Create a user of any role."""
    from sqlalchemy import select

    from portal.auth.services import create_user
    from portal.enterprises.models import Enterprise
    from portal.extensions import db
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


@users.command("reset-2fa")
@click.argument("email")
@with_appcontext
def users_reset_2fa(email: str) -> None:
    """Turn off EMAIL's two-factor sign-in (a lost phone): their sessions end, they enrol again."""
    from portal.auth import twofactor
    from portal.auth.services import user_by_email
    from portal.extensions import db

    user = user_by_email(db.session, email)
    if user is None:
        raise click.UsageError(f"no account uses {email!r}")
    had = user.has_two_factor
    twofactor.reset(db.session, user)
    db.session.commit()
    if had:
        click.echo(f"Two-factor sign-in of {user.email} reset: every session ended, recovery codes deleted.")
    else:
        click.echo(f"{user.email} had no two-factor sign-in; every session ended anyway.")
    if user.two_factor_role and twofactor.enforced():
        click.echo("They must set it up again at their next sign-in.")


commands = [users]
