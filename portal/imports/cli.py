"""``portal imports …``: housekeeping of uploaded worker lists."""
from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group()
def imports() -> None:
    """Uploaded worker lists waiting between preview and commit."""


@imports.command("purge")
@with_appcontext
def imports_purge() -> None:
    """Delete the rows of uploads older than a day (their counts stay as the import's record)."""
    from portal.extensions import db
    from portal.imports.batches import purge_expired

    count = purge_expired(db.session)
    db.session.commit()
    click.echo(f"Deleted the rows of {count} expired uploads.")


commands = [imports]
