"""``portal keys ...`` to manage signing keys, ``portal verify TOKEN`` to check a token offline."""
from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from portal.clock import HCMC, end_of_local_day, format_date, local, start_of_local_day, utcnow
from portal.tokens.codec import InvalidToken, decode_token
from portal.tokens.keys import (
    KeyConfigError,
    KeyRingError,
    SigningKeyUnavailable,
    current_keyring,
    key_encryption_key,
    public_keys_from_document,
)
from portal.tokens.pass_data import timing


@click.group()
def keys() -> None:
    """Signing keys of the QR tokens (one key ring in the database, shared by every node and worker)."""


def _kek():
    """Return the key-encryption key of this process (development: the instance folder's)."""
    production = current_app.config["PORTAL_ENV"] == "production"
    try:
        return key_encryption_key(current_app.config, current_app.instance_path, create=not production)
    except KeyConfigError as error:
        raise click.ClickException(str(error)) from None


def _changed(change):
    """Run ``change(session)`` in one transaction; a refusal changes nothing and exits 1."""
    from portal.extensions import db

    try:
        result = change(db.session)
        db.session.commit()
    except (KeyRingError, SigningKeyUnavailable) as error:
        db.session.rollback()
        raise click.ClickException(getattr(error, "detail", None) or str(error)) from None
    current_keyring().invalidate()
    return result


@keys.command("create")
@with_appcontext
def keys_create() -> None:
    """Make the first signing key (once, when the portal is set up; refused if the ring has a key)."""
    from portal.tokens.keys import create_first_key

    kek = _kek()
    info, _private = _changed(lambda session: create_first_key(session, kek))
    click.echo(f"Created signing key {info.kid} (active), its private key sealed with key-encryption key "
               f"{kek.id}. Every node and worker signs with it; give them all this same key-encryption key.")


@keys.command("list")
@with_appcontext
def keys_list() -> None:
    """Show every key: id, status, creation (and retirement) time in HCMC time, what seals its private key."""
    from sqlalchemy import select

    from portal.extensions import db
    from portal.tokens.models import SigningKey

    rows = db.session.scalars(select(SigningKey).order_by(SigningKey.created_at, SigningKey.kid)).all()
    if not rows:
        hint = ("run 'portal keys create'" if current_app.config["PORTAL_ENV"] == "production"
                else "the first card signed makes one, or run 'portal keys create'")
        click.echo(f"No key yet: {hint}.")
    for row in rows:
        retired = f"  retired {local(row.retired_at):%d/%m/%Y %H:%M}" if row.retired_at else ""
        sealed = f"  private key sealed with KEK {row.kek_id}" if row.sealed_private_key else ""
        click.echo(f"{row.kid}  {row.status:8}  created {local(row.created_at):%d/%m/%Y %H:%M}{retired}{sealed}")


@keys.command("rotate")
@with_appcontext
def keys_rotate() -> None:
    """Make a new active key; tokens of the previous key keep verifying until it is retired."""
    from portal.tokens.keys import rotate_key

    kek = _kek()
    info, _private = _changed(lambda session: rotate_key(session, kek))
    seconds = current_keyring().refresh_seconds
    click.echo(f"New active key {info.kid}; every process signs with it within {seconds:g} s. Earlier keys still "
               "verify; retire one with 'portal keys retire KID'.")


@keys.command("retire")
@click.argument("kid")
@with_appcontext
def keys_retire(kid: str) -> None:
    """Refuse from now on every token signed by KID (its passes must be reissued)."""
    from portal.tokens.keys import retire_key

    info = _changed(lambda session: retire_key(session, kid))
    seconds = current_keyring().refresh_seconds
    click.echo(f"Key {info.kid} retired: every process refuses its tokens within {seconds:g} s.")


@keys.command("export")
@with_appcontext
def keys_export() -> None:
    """Print the public keys JSON (as published at /.well-known/greencard-keys.json)."""
    click.echo(json.dumps(current_keyring().public_document(), indent=2))


@keys.command("import-dir")
@click.argument("path", required=False, type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def keys_import_dir(path: Path | None) -> None:
    """Copy the keys of an earlier version's key folder (default SIGNING_KEY_DIR) into the database.

    Cards those keys signed keep verifying; the folder's active key keeps signing unless the
    database already has an active key. Run it once, on one node; then back the folder up and
    remove it from every node.
    """
    from portal.tokens.keys import import_key_folder

    path = path or Path(current_app.config["SIGNING_KEY_DIR"])
    kek = _kek()
    imported = _changed(lambda session: import_key_folder(session, kek, path))
    for item in imported:
        sealed = f", private key sealed with KEK {kek.id}" if item.sealed else ""
        click.echo(f"{item.info.kid}  {item.info.status:8}  {item.outcome}{sealed}")
    click.echo(f"{sum(item.outcome != 'already in the database' for item in imported)} key(s) imported from {path}. "
               "Keep a backup of the folder offline, then delete it from every node.")


def _token_from(text: str) -> str:
    """Accept a bare token or the whole URL a QR code holds."""
    text = text.strip()
    return text.rsplit("/v/", 1)[1] if "/v/" in text else text


def offline_outcome(payload, revocations: dict | None, now: datetime) -> str:
    """Judge a genuine token from its own dates and windows and an optional revocation list."""
    for item in (revocations or {}).get("revoked", ()):
        if item.get("serial") == payload.serial:
            return "revoked"
    for item in (revocations or {}).get("superseded", ()):
        if item.get("serial") == payload.serial and payload.version < int(item.get("current_version", 0)):
            return "superseded"
    return timing(start_of_local_day(payload.valid_from), end_of_local_day(payload.valid_until),
                  payload.windows, now)


@click.command("verify")
@click.argument("token")
@click.option("--keys", "keys_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Public keys JSON (from /.well-known/greencard-keys.json); default: the database's key ring.")
@click.option("--revocations", "revocations_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Revocation list JSON (from /api/v1/revocations).")
@click.option("--at", "at", help="Check at this instant (ISO 8601; default now).")
@with_appcontext
def verify_command(token: str, keys_file: Path | None, revocations_file: Path | None, at: str | None) -> None:
    """Check TOKEN (or the QR's URL) offline with public keys only; exit 0 only when it is valid now."""
    public_keys = (public_keys_from_document(json.loads(keys_file.read_text(encoding="utf-8"))) if keys_file
                   else current_keyring().verifying_keys())
    now = _instant(at)
    try:
        payload = decode_token(_token_from(token), public_keys)
    except InvalidToken as error:
        click.echo(f"signature: INVALID ({error})")
        click.echo("outcome: invalid")
        sys.exit(1)
    revocations = json.loads(revocations_file.read_text(encoding="utf-8")) if revocations_file else None
    outcome = offline_outcome(payload, revocations, now)
    windows = ", ".join(f"{w.label()} ({w.direction})" for w in payload.windows) or "-"
    click.echo(f"signature: valid (key {payload.kid})")
    click.echo(f"serial: {payload.serial}  version: {payload.version}  unit: {payload.unit}")
    click.echo(f"name: {payload.name}")
    click.echo(f"valid: {format_date(payload.valid_from)} – {format_date(payload.valid_until)}")
    click.echo(f"windows: {windows}")
    click.echo(f"checked at: {local(now):%d/%m/%Y %H:%M:%S} (HCMC)"
               + ("" if revocations is not None else "  [no revocation list given]"))
    click.echo(f"outcome: {outcome}")
    sys.exit(0 if outcome == "valid" else 1)


def _instant(text: str | None) -> datetime:
    if not text:
        return utcnow()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"not an ISO 8601 instant: {text!r}", param_hint="--at") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=HCMC)  # a time without a zone is HCMC time
    return moment.astimezone(UTC)


#: Registered through ``portal/verify/cli.py`` (the CLI loads the commands of the features in FEATURES).
commands = [keys, verify_command]
