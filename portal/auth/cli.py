"""``portal users``: reset a lost second factor (``portal users create`` is portal.cli's: it names units and
enterprises, which the accounts feature does not know)."""
from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group()
def users() -> None:
    """User accounts."""


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
