"""Every version of a card as it was printed: written when a version is issued, closed when it ends.

A version ends when a newer one supersedes it (same serial, version + 1) or when the card is
revoked; the row keeps what its QR and PDF said (name, route, windows, validity), who issued it,
when it ended, by whom and why. Nothing here commits.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.clock import utcnow
from portal.passes.models import Pass, PassVersion, VersionEnd

#: Why a version was superseded (the revocations have their own codes).
DATA_CHANGED = "worker_data_changed"
UPDATED = "updated"


def open_version(pass_: Pass, holder_name: str) -> PassVersion:
    """Keep the version ``pass_`` carries now, as printed for ``holder_name`` (added with the pass)."""
    return PassVersion(pass_=pass_, version=pass_.version, holder_name=holder_name, route_from=pass_.route_from,
                       route_to=pass_.route_to, windows=pass_.windows, valid_from=pass_.valid_from,
                       valid_until=pass_.valid_until, content_digest=pass_.content_digest,
                       issued_at=pass_.issued_at, issued_by_id=pass_.issued_by_id)


def close_version(session, pass_: Pass, actor, end: VersionEnd, *, code: str | None = None,
                  note: dict | None = None, at: datetime | None = None) -> PassVersion | None:
    """Mark the version ``pass_`` carries now as ended (superseded or revoked); return its row, if kept."""
    row = session.scalar(select(PassVersion).where(PassVersion.pass_id == pass_.id,
                                                   PassVersion.version == pass_.version))
    if row is None or row.ended_at is not None:
        return row
    row.ended_at = at or utcnow()
    row.ended_by_id = getattr(actor, "id", None)
    row.end_kind, row.end_code, row.end_note = end.value, code, note
    return row


def worker_history(session, worker_id: int) -> list[PassVersion]:
    """Return every version of every card of the worker, newest first."""
    return list(session.scalars(
        select(PassVersion).join(Pass, Pass.id == PassVersion.pass_id).where(Pass.worker_id == worker_id)
        .options(joinedload(PassVersion.pass_), joinedload(PassVersion.issued_by), joinedload(PassVersion.ended_by))
        .order_by(PassVersion.issued_at.desc(), PassVersion.id.desc())))


def printed_version(session, serial: str, version: int) -> PassVersion | None:
    """Return version ``version`` of card ``serial`` as it was printed, or None."""
    return session.scalar(select(PassVersion).join(Pass, Pass.id == PassVersion.pass_id)
                          .where(Pass.serial == serial, PassVersion.version == version))
