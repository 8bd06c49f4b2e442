from __future__ import annotations

from datetime import datetime
from enum import Enum

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

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


class VersionEnd(str, Enum):
    SUPERSEDED = "superseded"
    REVOKED = "revoked"


class PassVersion(db.Model):
    """One version of a card as it was printed: what its QR and PDF said, and how it ended.

    A row is written when a version is issued and closed (``ended_at``) when a newer version
    supersedes it or the card is revoked; the open row of an active card describes that card. The
    checkpoint reads it to show an older card as printed, and the card history lists them all.
    """

    __tablename__ = "pass_versions"
    __table_args__ = (
        UniqueConstraint("pass_id", "version"),
        # Supersessions and revocations in a period (the report), newest first.
        Index("ix_pass_versions_ended", "ended_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pass_id: Mapped[int] = mapped_column(ForeignKey("passes.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    holder_name: Mapped[str] = mapped_column(String(200))
    route_from: Mapped[str] = mapped_column(String(300))
    route_to: Mapped[str] = mapped_column(String(300))
    windows: Mapped[list] = mapped_column(JSON)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    content_digest: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    end_kind: Mapped[str | None] = mapped_column(String(16))  # a VersionEnd value
    # Why it ended: a revocation code (portal.vocabulary.REVOCATION_REASONS) and its stored note; for a
    # supersession, what changed ("worker data changed") as the audit trail says it.
    end_code: Mapped[str | None] = mapped_column(String(32))
    end_note: Mapped[dict | None] = mapped_column(JSON)
    #: When this version was last laid out on a print sheet (None: a replaced card waits to be reprinted).
    printed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    pass_ = relationship("Pass", backref=backref("versions", order_by="PassVersion.version",
                                                 cascade="all, delete-orphan", passive_deletes=True))
    issued_by = relationship("User", foreign_keys=[issued_by_id])
    ended_by = relationship("User", foreign_keys=[ended_by_id])

    @property
    def revocation(self) -> Message | None:
        """Why this version was revoked, in the reader's language (None when it was not)."""
        if self.end_kind != VersionEnd.REVOKED.value or not self.end_code:
            return None
        return revocation_message(self.end_code, self.end_note)
