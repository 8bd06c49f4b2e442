from __future__ import annotations

from datetime import datetime
from enum import Enum

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.db import UTCDateTime
from portal.extensions import db
from portal.messages import Message
from portal.vocabulary import REASON_WITH_NOTE, REVOCATION_REASONS


class PassStatus(str, Enum):
    ACTIVE = "active"
    REVOKED = "revoked"


class Pass(db.Model):
    """A green card: one serial per worker and issue; a change to what it carries bumps ``version``.

    ``valid_from`` and ``valid_until`` are UTC instants; ``valid_until`` is exclusive (the local
    midnight after the last valid day).
    """

    __tablename__ = "passes"
    __table_args__ = (
        # A worker holds at most one active pass.
        Index("uq_passes_active_worker", "worker_id", unique=True,
              sqlite_where=text("status = 'active'"), postgresql_where=text("status = 'active'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(24), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("pilot_units.id"), index=True)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # [{"start": "06:30", "end": "08:00", "direction": "to_work"}, ...] in HCMC local time
    windows: Mapped[list] = mapped_column(JSON)
    route_from: Mapped[str] = mapped_column(String(300))
    route_to: Mapped[str] = mapped_column(String(300))
    # A digest of everything the pass carries: when it changes, a new version is issued.
    content_digest: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=PassStatus.ACTIVE.value, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Why: a code of portal.vocabulary.REVOCATION_REASONS, and what the person added (a stored
    # portal.messages.Message: their note as a literal, or the rule's own reason).
    revocation_code: Mapped[str | None] = mapped_column(String(32))
    revocation_note: Mapped[dict | None] = mapped_column(JSON)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    worker = relationship("Worker")
    enterprise = relationship("Enterprise")
    unit = relationship("PilotUnit")
    revoked_by = relationship("User", foreign_keys=[revoked_by_id])
    issued_by = relationship("User", foreign_keys=[issued_by_id])

    @property
    def is_revoked(self) -> bool:
        return self.status == PassStatus.REVOKED.value

    @property
    def revocation(self) -> Message | None:
        """Why the card was revoked, rendered in the reader's language (None when it was not)."""
        if not self.revocation_code:
            return None
        return revocation_message(self.revocation_code, self.revocation_note)


def revocation_message(code: str, note=None) -> Message:
    """Return the reason ``code``'s label followed by ``note`` (a stored message), or the note alone for "other"."""
    note = Message.from_json(note) if note else None
    if note is not None and (code == "other" or code not in REVOCATION_REASONS):
        return note
    label = Message.of(REVOCATION_REASONS.get(code, code))
    return Message.of(REASON_WITH_NOTE, reason=label, note=note) if note is not None else label
