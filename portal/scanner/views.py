"""The checkpoint scanner page (/quet), its service worker and manifest, the compact list, offline counts.

Every route is public, like the checkpoint page: officers have no account. The page verifies cards
in the phone; the portal only hands it the keys, the list and the wording, and takes back counts.
"""
from __future__ import annotations

import hashlib
import json

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for
from flask_babel import gettext as _

from portal import PROJECT_ROOT
from portal.extensions import csrf, db, limiter
from portal.i18n import current_language
from portal.messages import Refusal
from portal.plugins import current_registry
from portal.scanner import services

bp = Blueprint("scanner", __name__, template_folder="templates")

#: Short and easy to type on a phone: "quét" (scan).
PAGE_PATH = "/quet"
#: Per-IP limit on sending offline counts; ``SCANNER_COUNTS_RATE_LIMIT`` overrides it.
DEFAULT_COUNTS_RATE_LIMIT = "10 per minute;60 per hour"
#: Per-IP limit on the scans counts may add (the requests' claimed scans); ``SCANNER_COUNTS_SCAN_LIMIT``.
DEFAULT_COUNTS_SCAN_LIMIT = "20000 per day"
#: Bytes a counts request may have (200 buckets of about 70 bytes, with room to spare).
MAX_COUNTS_BYTES = 32 * 1024
#: Files the service worker keeps so that the page opens with no network (paths under static/).
OFFLINE_ASSETS = (
    "css/portal.css", "css/verify.css", "scanner/scanner.css", "fonts/NotoSans-Regular.woff2",
    "fonts/NotoSans-Bold.woff2", "img/favicon.svg", "scanner/app.js", "scanner/verifier.js", "scanner/store.js",
    "scanner/camera.js", "scanner/icon-192.png", "scanner/icon-512.png",
    "vendor/jsqr-1.4.0/jsQR.js", "vendor/noble-curves-1.6.0/ed25519.js",
)


def public(view):
    """Mark a view as reachable without signing in (checked by the access tests)."""
    view.public = True
    return view


def _counts_rate_limit() -> str:
    return current_app.config.get("SCANNER_COUNTS_RATE_LIMIT") or DEFAULT_COUNTS_RATE_LIMIT


def _counts_scan_limit() -> str:
    return current_app.config.get("SCANNER_COUNTS_SCAN_LIMIT") or DEFAULT_COUNTS_SCAN_LIMIT


def _claimed_scans() -> int:
    """Return how many scans a counts request claims (bounded as the service bounds it), the cost of it."""
    if request.content_length is None or request.content_length > MAX_COUNTS_BYTES:
        return 0
    payload = request.get_json(silent=True)
    counts = payload.get("counts") if isinstance(payload, dict) else None
    if not isinstance(counts, list):
        return 0
    claimed = sum(min(item["scans"], services.MAX_SCANS_PER_BUCKET) for item in counts[:services.MAX_BUCKETS]
                  if isinstance(item, dict) and type(item.get("scans")) is int and item["scans"] > 0)
    return min(claimed, services.MAX_SCANS_PER_BATCH)


def _list_cache() -> services.ListCache:
    cache = current_app.extensions.get("portal.scanner.list")
    if cache is None:
        ttl = float(current_app.config.get("SCANNER_LIST_TTL", 10))
        cache = current_app.extensions["portal.scanner.list"] = services.ListCache(ttl)
    return cache


@bp.get(PAGE_PATH)
@public
def page():
    """Show the scanner: camera, paste box and photo, verdicts computed in the phone."""
    settings = {
        "labels": outcome_wording(),
        "units": {unit.short_code: unit.name_en if current_language() == "en" else unit.name_vi
                  for unit in current_registry().units.values()},
        "strings": _page_strings(),
        "stale_after_hours": float(current_app.config.get("SCANNER_STALE_HOURS", 12)),
        "clock_skew_seconds": int(current_app.config.get("SCANNER_CLOCK_SKEW_SECONDS", 120)),
        "language": current_language(),
        "urls": {
            "keys": url_for("verify.keys"),
            "revocations": url_for("scanner.revocations"),
            "counts": url_for("scanner.counts"),
            "verify": url_for("verify.json", token=""),
            "service_worker": url_for("scanner.service_worker"),
            "scope": PAGE_PATH,
        },
    }
    response = Response(render_template("scanner/page.html", settings=settings))
    # The page needs the camera (the portal's default policy forbids it) and must be revalidated
    # whenever online, so a new wording or language reaches the phone.
    response.headers["Permissions-Policy"] = "camera=(self), microphone=(), geolocation=()"
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def outcome_wording() -> dict[str, dict[str, str]]:
    """Return, per outcome code, what the checkpoint screen shows, from verify's one definition, in the
    current language: the big word, the icon, the meaning, and the signal and instruction where verify has them.
    """
    try:
        from portal.verify.outcomes import OUTCOMES
    except ImportError:  # verify as it was before its outcomes module: outcome_labels() in its views
        from portal.verify.views import outcome_labels

        return {code: {"word": word, "icon": icon, "text": text}
                for code, (word, icon, text) in outcome_labels().items()}
    return {item.code: {"word": str(item.word), "icon": item.icon, "text": str(item.meaning),
                        "instruction": str(item.instruction), "signal": item.signal.value} for item in OUTCOMES}


def _page_strings() -> dict[str, str]:
    """Return what the page's script says, in the page's language (%(name)s placeholders kept)."""
    return {
        "never_synced": _("Keys and revocation list not loaded yet: connect to the network once."),
        "keys_age": _("Keys checked %(age)s ago"),
        "list_age": _("Revocation list checked %(age)s ago (%(count)s cards)"),
        "stale": _("Older than %(hours)s hours: connect to the network to update them before relying on them."),
        "clock_skew": _("This phone's clock differed from the portal's by %(minutes)s minutes at the last update: "
                        "set the phone's date and time."),
        "minutes": _("%(n)s min"),
        "hours": _("%(n)s h"),
        "days": _("%(n)s days"),
        "online": _("Online"),
        "offline": _("Offline: cards are checked in this phone"),
        "syncing": _("Updating…"),
        "sync_failed": _("Could not update: the saved keys and list are used."),
        "camera_starting": _("Starting the camera…"),
        "camera_ready": _("Point the rear camera at the QR code of the card."),
        "camera_denied": _("The camera is not available. Paste the link or take a photo of the card."),
        "photo_none": _("No QR code found in the photo. Take it again, closer and sharper."),
        "checked_offline": _("Checked in this phone (offline)"),
        "checked_online": _("Confirmed by the portal"),
        "checked_at": _("Checked at"),
        "hcmc_time": _("(HCMC time)"),
        "offline_holder": _("As printed on the card (the full name and ID number are shown only online)"),
        "serial": _("Card no."),
        "version": _("version %(version)s"),
        "unit": _("Pilot unit"),
        "valid": _("Validity"),
        "windows": _("Travel hours"),
        "to_work": _("to work"),
        "to_home": _("home"),
        "not_before": _("Not valid before %(date)s."),
        "pending": _("Scans waiting to be sent: %(n)s"),
        "compare_id": _("Compare the name with the holder's ID card."),
        "what_to_do": _("What to do:"),
        "no_keys": _("Cannot check: the keys have not been loaded. Connect to the network once."),
    }


@bp.get(f"{PAGE_PATH}/sw.js")
@public
def service_worker():
    """Serve the service worker; its text changes whenever a file it keeps changes, so phones update."""
    assets = [url_for("static", filename=name) for name in OFFLINE_ASSETS]
    body = render_template("scanner/sw.js", version=_assets_version(), page=PAGE_PATH, assets=assets,
                           manifest=url_for("scanner.manifest"))
    response = Response(body, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = PAGE_PATH
    response.headers["Cache-Control"] = "no-cache"
    return response


def _assets_version() -> str:
    version = current_app.extensions.get("portal.scanner.assets_version")
    if version is None or current_app.debug:
        digest = hashlib.sha256()
        for name in OFFLINE_ASSETS:
            digest.update((PROJECT_ROOT / "static" / name).read_bytes())
        version = current_app.extensions["portal.scanner.assets_version"] = digest.hexdigest()[:16]
    return version


@bp.get(f"{PAGE_PATH}/manifest.webmanifest")
@public
def manifest():
    """Describe the scanner as an installable app (name in the page's language)."""
    document = {
        "name": _("Green card checkpoint scanner"),
        "short_name": _("Scan green card"),
        "start_url": PAGE_PATH,
        "scope": PAGE_PATH,
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": "#0a6b35",
        "lang": current_language(),
        "icons": [
            {"src": url_for("static", filename="scanner/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": url_for("static", filename="scanner/icon-512.png"), "sizes": "512x512", "type": "image/png",
             "purpose": "any maskable"},
        ],
    }
    response = Response(json.dumps(document, ensure_ascii=False), mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/api/v1/scanner/revocations")
@public
def revocations():
    """Publish the revocation list compactly for phones: whole, or the changes since ``?since=<version>``."""
    try:
        since = services.parse_since(request.args.get("since"))
    except Refusal as refusal:
        return jsonify(error={"code": 400, "message": str(refusal), "field": refusal.field}), 400
    document = _list_cache().get(db.session).document(since)
    body = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    response = Response(body, mimetype="application/json")
    response.set_etag(hashlib.sha256(body.encode("utf-8")).hexdigest()[:32])
    # Phones always revalidate (If-None-Match): a revocation must reach them at their next sync.
    response.cache_control.public = True
    response.cache_control.no_cache = True
    return response.make_conditional(request)


@bp.post("/api/v1/scanner/counts")
@csrf.exempt
@limiter.limit(_counts_rate_limit)
@limiter.limit(_counts_scan_limit, cost=_claimed_scans)
@public
def counts():
    """Take the outcome counts a phone kept while offline; they become verification records."""
    if request.content_length is None or request.content_length > MAX_COUNTS_BYTES:
        return _refused(_("Send at most %(kb)s KB of counts at a time.", kb=MAX_COUNTS_BYTES // 1024), 413)
    payload = request.get_json(silent=True)
    if payload is None:
        return _refused(_("Send the counts as JSON."), 400)
    try:
        received = services.record_offline_counts(db.session, payload, units=services.unit_ids(db.session))
    except Refusal as refusal:
        db.session.rollback()
        return _refused(str(refusal), 400, refusal.field)
    db.session.commit()
    response = jsonify(received.as_json())
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused(message: str, code: int, field: str | None = None):
    return jsonify(error={"code": code, "message": message, "field": field}), code
