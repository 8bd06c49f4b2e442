"""Public checkpoint pages: the page a QR code opens, its JSON twin, the keys and the revocation list.

Every route here is public on purpose (police and checkpoint apps have no account); what a token
reveals is the minimum a checkpoint needs, and verification is rate limited per client address.

The JSON answer is the hot path of the whole portal: it opens no session, asks Babel nothing (its
words are looked up once per language and process), reads and records through the checkpoint's own
connection and checks a signature only once per token and key.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request
from flask_babel import force_locale

from portal.clock import local, utcnow
from portal.extensions import db, limiter
from portal.i18n import select_locale
from portal.tokens.codec import InvalidToken
from portal.tokens.keys import current_keyring
from portal.verify import services
from portal.verify.outcomes import OUTCOMES, Outcome
from portal.verify.ratelimit import ScanLimiter, parse_limit
from portal.verify.signatures import SignatureCache
from portal.verify.store import scan_store

bp = Blueprint("verify", __name__, template_folder="templates")

#: Default per-client limit on verification; ``VERIFY_RATE_LIMIT`` in the config overrides it.
DEFAULT_RATE_LIMIT = "120 per minute"
#: How long offline verifiers and proxies may keep the keys and the revocation list.
KEYS_MAX_AGE = 3600
REVOCATIONS_MAX_AGE = 60


def public(view):
    """Mark a view as reachable without signing in (checked by the access tests)."""
    view.public = True
    return view


class Checkpoint:
    """What the checkpoint keeps per app and process: its limiter, connections, checked signatures, words."""

    def __init__(self, app) -> None:
        self.app = app
        self.limiter = ScanLimiter(app.config.get("REDIS_URL"), app.config.get("RATELIMIT_KEY_PREFIX") or "portal")
        self.signatures = SignatureCache()
        self.store = scan_store(app)
        self._texts: dict[str, dict[str, dict]] = {}

    def check(self, client: str, token: str) -> tuple[services.Verification | None, int]:
        """Count a scan of ``client``; verify ``token`` and commit its record; None when over the limit.

        Runs in an app context. The second value is the number of seconds until the limit's window ends.
        """
        limit = parse_limit(self.app.config.get("VERIFY_RATE_LIMIT") or DEFAULT_RATE_LIMIT)
        allowed, reset_in = self.limiter.hit(client, limit)
        if not allowed:
            return None, reset_in
        now = utcnow()
        try:
            payload = self.signatures.decode(token, current_keyring().verifying_keys())
        except InvalidToken as error:
            result = services.Verification(Outcome.INVALID, now, reason=str(error))
            self.store.record(result.record_row())
            return result, reset_in
        # The record is committed before the answer leaves: a process killed later loses nothing.
        return self.store.scan(payload, now), reset_in

    def json_body(self, result: services.Verification, language: str) -> bytes:
        """Return the JSON answer for ``result`` with the screen's words in ``language``."""
        texts = self._texts.get(language)
        if texts is None:
            with force_locale(language):
                texts = {item.code: {"language": language, "word": str(item.word), "meaning": str(item.meaning),
                                     "instruction": str(item.instruction)} for item in OUTCOMES}
            self._texts[language] = texts
        answer = result.as_json(texts[result.outcome.value])
        return json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def checkpoint(app=None) -> Checkpoint:
    """Return the checkpoint of ``app`` (default: the current app), made on first use."""
    app = app or current_app._get_current_object()
    found = app.extensions.get("portal.checkpoint")
    if found is None:
        found = app.extensions["portal.checkpoint"] = Checkpoint(app)
    return found


def _check(token: str) -> services.Verification:
    result, reset_in = checkpoint().check(request.remote_addr or "-", token)
    if result is None:
        from portal.errors import render_error

        response = current_app.make_response(render_error(429))
        response.headers["Retry-After"] = str(reset_in)
        abort(response)
    return result


@bp.record_once
def _install_lane(state) -> None:
    # The JSON answer is served in front of Flask (see portal.verify.lane); the view below stays the
    # reference and answers whatever the lane hands back (a refusal over the limit, an error).
    from portal.verify.lane import CheckpointLane

    state.app.wsgi_app = CheckpointLane(state.app, state.app.wsgi_app)


@bp.get("/v/", defaults={"token": ""})
@bp.get("/v/<path:token>")
@limiter.exempt
@public
def page(token: str):
    """Show a checkpoint officer, in big words, an icon and colours, whether this pass lets its holder travel now."""
    result = _check(token)
    response = Response(render_template("verify/page.html", result=result, label=result.label,
                                        now=local(result.checked_at), Outcome=Outcome))
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.get("/api/v1/verify/", defaults={"token": ""}, endpoint="json")
@bp.get("/api/v1/verify/<path:token>", endpoint="json")
@limiter.exempt
@public
def json_answer(token: str):
    """Answer a checkpoint app: the outcome code, its signal, the screen's words, and the minimal facts."""
    body = checkpoint().json_body(_check(token), select_locale())
    return Response(body, content_type="application/json; charset=utf-8", headers={"Cache-Control": "no-store"})


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
