"""A pass as a PDF: rendered once per content, language, QR address and signing key, then served from a cache.

The cache is files under ``PASS_CACHE_DIR``, one folder per serial (dropped when the pass changes,
see :mod:`portal.passes.follow_up`).
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l

from portal.messages import Refusal
from portal.passes.models import Pass
from portal.printing.card import build_card
from portal.printing.render import card_fingerprint, render_pass_pdf
from portal.units.services import UNIT_NOT_ACTIVE, is_active

REVOKED_DOWNLOAD = _l("This green card was revoked and can no longer be downloaded.")


def check_downloadable(registry, pass_: Pass) -> None:
    """Raise Refusal when ``pass_`` cannot be downloaded: revoked, or its unit's rules are not active."""
    if pass_.is_revoked:
        raise Refusal(REVOKED_DOWNLOAD)
    if not is_active(registry, pass_.unit.code):
        # The card prints what the unit's plugin adds; without the plugin it would print less than it says.
        raise Refusal(UNIT_NOT_ACTIVE)


def cache_root(app) -> Path:
    return Path(app.config["PASS_CACHE_DIR"])


def cache_path(app, pass_: Pass, *, fingerprint: str) -> Path:
    """Return where the PDF of the card with ``fingerprint`` (``portal.printing.render.card_fingerprint``) is kept.

    Each serial has a folder of its own, so dropping a card's PDFs costs the same however many
    cards are cached.
    """
    return cache_root(app) / pass_.serial / f"v{pass_.version}-{fingerprint}.pdf"


def pass_pdf(pass_: Pass, registry, *, base_url: str, locale: str = "vi") -> bytes:
    """Return the PDF of an active pass, rendering it only when this exact card has no cached copy."""
    if pass_.is_revoked:
        raise Refusal(REVOKED_DOWNLOAD)
    app = current_app._get_current_object()
    card = build_card(pass_, registry, base_url=base_url, locale=locale)
    path = cache_path(app, pass_, fingerprint=card_fingerprint(card))
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    data = render_pass_pdf(card)
    _write_atomically(path, data)
    return data


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pdf")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def invalidate_cached_pdfs(cache_dir: Path, serial: str) -> None:
    """Delete every cached PDF of ``serial`` (all versions and languages)."""
    shutil.rmtree(cache_dir / serial, ignore_errors=True)


def pdf_filename(pass_: Pass) -> str:
    return f"the-xanh-{pass_.serial}.pdf"
