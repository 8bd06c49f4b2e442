"""``portal keys ...`` to manage signing keys, ``portal verify TOKEN`` to check a token offline."""
from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from portal.clock import HCMC, format_date, local, utcnow
from portal.tokens.codec import InvalidToken, decode_token
from portal.tokens.keys import KeyRing, KeyRingError, public_keys_from_document


def _ring() -> KeyRing:
    return KeyRing(current_app.config["SIGNING_KEY_DIR"])


@click.group()
def keys() -> None:
    """Signing keys of the QR tokens (kept in SIGNING_KEY_DIR)."""


@keys.command("list")
@with_appcontext
def keys_list() -> None:
    """Show every key: id, status, creation time."""
    entries = _ring().entries()
    if not entries:
        click.echo("No key yet: the first pass signed creates one (or run 'portal keys rotate').")
    for info in entries:
        retired = f"  retired {info.retired_at:%d/%m/%Y %H:%M}" if info.retired_at else ""
        click.echo(f"{info.kid}  {info.status:8}  created {local(info.created_at):%d/%m/%Y %H:%M}{retired}")


@keys.command("rotate")
@with_appcontext
def keys_rotate() -> None:
    """Make a new active key; tokens of the previous key keep verifying until it is retired."""
    info = _ring().rotate()
    click.echo(f"New active key {info.kid}. Earlier keys still verify; retire one with 'portal keys retire KID'.")


@keys.command("retire")
@click.argument("kid")
@with_appcontext
def keys_retire(kid: str) -> None:
    """Refuse from now on every token signed by KID (its passes must be reissued)."""
    try:
        info = _ring().retire(kid)
    except KeyRingError as error:
        raise click.UsageError(str(error)) from None
    click.echo(f"Key {info.kid} retired: its tokens are no longer accepted.")


@keys.command("export")
@with_appcontext
def keys_export() -> None:
    """Print the public keys JSON (as published at /.well-known/greencard-keys.json)."""
    click.echo(json.dumps(_ring().public_document(), indent=2))


def _token_from(text: str) -> str:
    """Accept a bare token or the whole URL a QR code holds."""
    text = text.strip()
    return text.rsplit("/v/", 1)[1] if "/v/" in text else text


def offline_outcome(payload, revocations: dict | None, now: datetime) -> str:
    """Judge a genuine token from its own dates and windows and an optional revocation list."""
    from portal.verify.services import token_outcome

    for item in (revocations or {}).get("revoked", ()):
        if item.get("serial") == payload.serial:
            return "revoked"
    for item in (revocations or {}).get("superseded", ()):
        if item.get("serial") == payload.serial and payload.version < int(item.get("current_version", 0)):
            return "superseded"
    return token_outcome(payload, now).value


@click.command("verify")
@click.argument("token")
@click.option("--keys", "keys_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Public keys JSON (from /.well-known/greencard-keys.json); default: SIGNING_KEY_DIR.")
@click.option("--revocations", "revocations_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Revocation list JSON (from /api/v1/revocations).")
@click.option("--at", "at", help="Check at this instant (ISO 8601; default now).")
@with_appcontext
def verify_command(token: str, keys_file: Path | None, revocations_file: Path | None, at: str | None) -> None:
    """Check TOKEN (or the QR's URL) offline with public keys only; exit 0 only when it is valid now."""
    public_keys = (public_keys_from_document(json.loads(keys_file.read_text(encoding="utf-8"))) if keys_file
                   else _ring().verifying_keys())
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
