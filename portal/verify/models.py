from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.clock import utcnow
from portal.db import UTCDateTime
from portal.extensions import db


class VerificationRecord(db.Model):
    """One checkpoint verification: its outcome and time, never who was scanned.

    ``unit_id`` and ``sector`` are kept (from the pass, when the token was genuine) so the pilot can
    be evaluated per unit and per sector.
    """

    __tablename__ = "verification_records"
    __table_args__ = (Index("ix_verification_records_unit_at", "unit_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # valid, outside_window, expired, revoked, superseded, invalid
    outcome: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("pilot_units.id"))
    sector: Mapped[str | None] = mapped_column(String(64))
