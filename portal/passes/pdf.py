"""A pass as a PDF: rendered once per content, language, QR address and signing key, then served from a cache.

The cache is kept in the blob store every node reads (``portal.storage.cache.PASS_PDFS``, one group
per serial), so a revocation or a new version drops it on every node at once (after the commit, see
:mod:`portal.passes.follow_up`).
"""
from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.messages import Refusal
from portal.passes.models import Pass, PassStatus
from portal.printing.card import build_card
from portal.printing.render import card_fingerprint, render_pass_pdf
from portal.storage.cache import PASS_PDFS
from portal.units.services import UNIT_NOT_ACTIVE, is_active

REVOKED_DOWNLOAD = _l("This green card was revoked and can no longer be downloaded.")


def check_downloadable(registry, pass_: Pass) -> None:
    """Raise Refusal when ``pass_`` cannot be downloaded: revoked, or its unit's rules are not active."""
    if pass_.is_revoked:
        raise Refusal(REVOKED_DOWNLOAD)
    if not is_active(registry, pass_.unit.code):
        # The card prints what the unit's plugin adds; without the plugin it would print less than it says.
        raise Refusal(UNIT_NOT_ACTIVE)


def pass_pdf(pass_: Pass, registry, *, base_url: str, locale: str = "vi") -> bytes:
    """Return the PDF of an active pass, rendering it only when this exact card has no cached copy."""
    if pass_.is_revoked:
        raise Refusal(REVOKED_DOWNLOAD)
    card = build_card(pass_, registry, base_url=base_url, locale=locale)
    return PASS_PDFS.get_or_make(
        current_app._get_current_object(), pass_.serial, f"v{pass_.version}-{card_fingerprint(card)}.pdf",
        lambda: render_pass_pdf(card), still_current=_unchanged_check(pass_))


def _unchanged_check(pass_: Pass):
    """Return a check, on a connection of its own, that the pass is still active and as it was read."""
    from portal.extensions import db

    pass_id, version, digest = pass_.id, pass_.version, pass_.content_digest

    def unchanged() -> bool:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            row = connection.execute(select(Pass.status, Pass.version, Pass.content_digest)
                                     .where(Pass.id == pass_id)).one_or_none()
        return row is not None and tuple(row) == (PassStatus.ACTIVE.value, version, digest)

    return unchanged


def invalidate_cached_pdfs(app, serial: str) -> int:
    """Delete every cached PDF of ``serial`` (all versions and languages) on every node; return how many."""
    return PASS_PDFS.drop(app, serial)


def pdf_filename(pass_: Pass) -> str:
    return f"the-xanh-{pass_.serial}.pdf"
