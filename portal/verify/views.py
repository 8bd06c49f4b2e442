"""Public checkpoint pages: the page a QR code opens, its JSON twin, the keys and the revocation list.

Every route here is public on purpose (police and checkpoint apps have no account); what a token
reveals is the minimum a checkpoint needs, and verification is rate limited per IP address.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from flask_babel import gettext as _

from portal.clock import local
from portal.extensions import db, limiter
from portal.plugins import current_registry
from portal.tokens.keys import current_keyring
from portal.verify import services
from portal.verify.recorder import recorder_for

bp = Blueprint("verify", __name__, template_folder="templates")

#: Default per-IP limit on verification; ``VERIFY_RATE_LIMIT`` in the config overrides it.
DEFAULT_RATE_LIMIT = "120 per minute"
#: How long offline verifiers and proxies may keep the keys and the revocation list.
KEYS_MAX_AGE = 3600
REVOCATIONS_MAX_AGE = 60


def _rate_limit() -> str:
    return current_app.config.get("VERIFY_RATE_LIMIT") or DEFAULT_RATE_LIMIT


def public(view):
    """Mark a view as reachable without signing in (checked by the access tests)."""
    view.public = True
    return view


def _check(token: str) -> services.Verification:
    recorder = recorder_for(current_app._get_current_object())
    # One read on a plain connection, no transaction: a scan never waits behind a writer for a lock
    # (and pays for no ORM session).
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        return services.verify(connection, current_registry(), token, record=recorder.add if recorder else True)


@bp.get("/v/", defaults={"token": ""})
@bp.get("/v/<path:token>")
@limiter.limit(_rate_limit)
@public
def page(token: str):
    """Show a checkpoint officer, in big words and colours, whether this pass lets its holder travel now."""
    result = _check(token)
    response = Response(render_template("verify/page.html", result=result, now=local(result.checked_at),
                                        outcome_labels=outcome_labels))
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.get("/api/v1/verify/", defaults={"token": ""}, endpoint="json")
@bp.get("/api/v1/verify/<path:token>", endpoint="json")
@limiter.limit(_rate_limit)
@public
def json_answer(token: str):
    """Answer a checkpoint app: the same outcome codes and minimal fields as the page."""
    response = jsonify(_check(token).as_json())
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/.well-known/greencard-keys.json")
@public
def keys():
    """Publish the public keys (active, verify-only and retired) for offline verifiers."""
    return _cacheable_json(current_keyring().public_document(), KEYS_MAX_AGE, None)


@bp.get("/api/v1/revocations")
@public
def revocations():
    """Publish the revoked and superseded serials still within their validity, for offline verifiers."""
    document = services.revocation_list(db.session)
    modified = document["last_modified"]
    return _cacheable_json(document, REVOCATIONS_MAX_AGE, datetime.fromisoformat(modified) if modified else None)


@bp.get("/api/v1/ping")
@public
def ping():
    """Answer that the portal is up (the baseline of bench/verify_throughput.py)."""
    return jsonify(ok=True)


def _cacheable_json(document: dict, max_age: int, modified: datetime | None):
    body = json.dumps(document, ensure_ascii=False, sort_keys=True)
    response = Response(body, mimetype="application/json")
    response.set_etag(hashlib.sha256(body.encode("utf-8")).hexdigest()[:32])
    if modified:
        response.last_modified = modified
    response.cache_control.public = True
    response.cache_control.max_age = max_age
    return response.make_conditional(request)


def outcome_labels() -> dict[str, tuple[str, str, str]]:
    """Return, per outcome: the big word, the icon and the explanation, in the current language."""
    return {
        "valid": (_("VALID"), "✓", _("This green card is valid now.")),
        "outside_window": (_("OUTSIDE TRAVEL HOURS"), "!",
                           _("The card is genuine, but its holder may not travel at this hour.")),
        "expired": (_("EXPIRED"), "!", _("The card is not valid today: it has expired or is not yet valid.")),
        "revoked": (_("REVOKED"), "✕", _("This card was revoked and must not be accepted.")),
        "superseded": (_("SUPERSEDED"), "!",
                       _("A newer version of this card was issued; this one is no longer valid.")),
        "invalid": (_("NOT VALID"), "✕",
                    _("This code is not a genuine green card of the portal (forged, damaged or unknown).")),
    }
