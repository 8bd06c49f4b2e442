"""``portal mail``: read the outbox, queue failed mails again."""
from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group()
def mail() -> None:
    """Mails the portal wrote (the outbox)."""


@mail.command("outbox")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000), help="Latest mails shown.")
@click.option("--to", "to", default=None, help="Only mails to this address.")
@with_appcontext
def outbox(limit: int, to: str | None) -> None:
    """Print the latest mails, newest first, with their text."""
    from portal.clock import format_datetime
    from portal.extensions import db
    from portal.mail.services import latest_mails

    mails = latest_mails(db.session, limit=limit, to=to)
    if not mails:
        click.echo("The outbox is empty.")
        return
    for mail in mails:
        click.echo("=" * 72)
        click.echo(f"#{mail.id}  {format_datetime(mail.created_at)}  [{mail.status}]  {mail.kind}")
        click.echo(f"To: {mail.to_address}")
        click.echo(f"Subject: {mail.subject}")
        if mail.last_error:
            click.echo(f"Last error: {mail.last_error}")
        click.echo("")
        click.echo(mail.body.rstrip() if mail.body else "(sent; its one-time link is no longer kept)")
    click.echo("=" * 72)


@mail.command("retry")
@with_appcontext
def retry() -> None:
    """Queue every failed mail again (needs MAIL_SERVER)."""
    from portal.extensions import db
    from portal.mail.services import retry_failed, sends_over_smtp

    if not sends_over_smtp():
        raise click.UsageError("MAIL_SERVER is not set: mails stay in the outbox")
    count = retry_failed(db.session)
    db.session.commit()
    click.echo(f"{count} mails queued again.")


commands = [mail]
