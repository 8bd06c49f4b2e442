"""The key ring every process signs and verifies with: one row per Ed25519 key."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.clock import utcnow
from portal.db import UTCDateTime
from portal.extensions import db


class SigningKey(db.Model):
    """An Ed25519 key of the QR tokens; its private half sealed with the key-encryption key (KEK).

    ``sealed_private_key`` is AES-256-GCM ciphertext bound to ``kid`` (see ``portal.tokens.keys``):
    it is kept while the key is active and destroyed when the key stops signing (rotation,
    retirement, or an import of a key that no longer signs).
    """

    __tablename__ = "signing_keys"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'verify', 'retired')", name="status"),
        # One key signs at a time, whichever node or worker asks.
        Index("uq_signing_keys_active", "status", unique=True,
              sqlite_where=text("status = 'active'"), postgresql_where=text("status = 'active'")),
    )

    #: Two bytes, four hex digits: carried in every QR code.
    kid: Mapped[str] = mapped_column(String(4), primary_key=True)
    status: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The raw 32-byte Ed25519 public key.
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    sealed_private_key: Mapped[bytes | None] = mapped_column(LargeBinary(128))
    #: Which key-encryption key sealed it (a fingerprint, not the key), for a clear "wrong KEK" error.
    kek_id: Mapped[str | None] = mapped_column(String(16))

    def __repr__(self) -> str:
        return f"<SigningKey {self.kid} {self.status}>"
