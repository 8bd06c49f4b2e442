"""``portal health``: match a registry extract file from the command line, pull from a connector, make a token,
record the day's confirmed share."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext


@click.group()
def health() -> None:
    """Health data from the registry."""


def _officer(email: str):
    from portal.auth.services import user_by_email
    from portal.extensions import db

    user = user_by_email(db.session, email)
    if user is None or not user.is_health:
        raise click.UsageError(f"{email!r} is not a health-data officer's account")
    return user


@health.command("match")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(["vaccination", "recovery", "test"]), required=True)
@click.option("--as", "email", required=True, help="The health-data officer's email (for the audit trail).")
@with_appcontext
def health_match(path: Path, kind: str, email: str) -> None:
    """Match the extract at PATH (CSV or XLSX) in one transaction; the file itself is left where it is."""
    from collections import Counter

    from flask_babel import force_locale

    from portal.clock import local_today
    from portal.extensions import db
    from portal.health.extracts import finish, read_records
    from portal.health.matching import match
    from portal.health.models import HealthExtract
    from portal.messages import Message, Refusal

    actor = _officer(email)
    counts, problems = Counter(), []
    extract = HealthExtract(kind=kind, source="file", filename=path.name, status="ready", created_by=actor,
                            counts={}, problems=[])
    db.session.add(extract)
    db.session.flush()
    try:
        with path.open("rb") as stream:
            outcome = match(db.session, read_records(stream, kind, local_today(), counts, problems),
                            extract_id=extract.id, write=True)
        if counts["errors"]:
            db.session.rollback()
            with force_locale("en"):
                for item in problems[:20]:
                    click.echo(f"row {item['row']}: {Message.from_json(item['message'])}", err=True)
            raise click.ClickException(f"{counts['errors']} rows have problems; nothing was matched.")
        finish(db.session, current_app.extensions["portal.plugins"].registry, extract, outcome, counts, actor)
    except Refusal as refusal:
        db.session.rollback()
        with force_locale("en"):
            raise click.ClickException(str(refusal)) from None
    db.session.commit()
    click.echo(" ".join(f"{key}={value}" for key, value in sorted(extract.counts.items())))


@health.command("pull")
@click.argument("connector")
@click.option("--as", "email", required=True, help="The health-data officer's email (for the audit trail).")
@with_appcontext
def health_pull(connector: str, email: str) -> None:
    """Ask the live registry CONNECTOR (portal_health_registry_connector) about every active worker."""
    from portal.extensions import db
    from portal.health.connectors import pull

    actor = _officer(email)
    pm = current_app.extensions["portal.plugins"]
    try:
        extracts = pull(db.session, pm, connector, actor)
    except KeyError:
        raise click.UsageError(f"no plugin declares the registry connector {connector!r}") from None
    db.session.commit()
    for extract in extracts:
        click.echo(f"{extract.kind}: " + " ".join(f"{k}={v}" for k, v in sorted(extract.counts.items())))


@health.command("expire")
@with_appcontext
def health_expire() -> None:
    """Delete the files of extracts checked more than a day ago and never matched (run daily)."""
    from portal.clock import utcnow
    from portal.extensions import db
    from portal.health.extracts import expire_uploads
    from portal.storage import blob_store

    keys = expire_uploads(db.session, utcnow())
    db.session.commit()
    store = blob_store(current_app)
    for key in keys:
        store.delete(key)
    click.echo(f"{len(keys)} unmatched extract files deleted.")


@health.command("record-share")
@with_appcontext
def health_record_share() -> None:
    """Record today's share of workers whose doses the registry confirmed, per unit and sector (run daily)."""
    from portal.extensions import db
    from portal.health.share import Share, record_share, share_days

    day = record_share(db.session)
    db.session.commit()
    city = share_days(db.session, day, day).get(day, Share(None, None, 0, 0, 0))
    click.echo(f"Recorded {day:%d/%m/%Y}: {city.confirmed} of {city.workers_with_dose} workers with a dose "
               f"confirmed, {city.conflicting} with a conflicting fact.")


@health.command("token")
@click.argument("name")
@click.option("--as", "email", required=True, help="The health-data officer who owns the token.")
@with_appcontext
def health_token(name: str, email: str) -> None:
    """Make an API token for the registry's system to push records; its secret is printed once."""
    from portal.extensions import db
    from portal.health.tokens import create_token

    _token, secret = create_token(db.session, name, _officer(email))
    db.session.commit()
    click.echo(secret)


commands = [health]
