from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.clock import utcnow
from portal.db import UTCDateTime
from portal.extensions import db


class OfflineScanUpload(db.Model):
    """One batch of offline scan counts a scanner phone sent: received once, never twice.

    The phone names each batch with a random id and repeats it until the portal says it has the
    batch, so a lost answer never counts the same scans twice. Nothing here says who sent it.
    """

    __tablename__ = "scanner_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[str] = mapped_column(String(64), unique=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # How many verification records the batch added, over how many (hour, unit, outcome) buckets.
    scans: Mapped[int] = mapped_column(Integer)
    buckets: Mapped[int] = mapped_column(Integer)
    first_hour: Mapped[datetime] = mapped_column(UTCDateTime)
    last_hour: Mapped[datetime] = mapped_column(UTCDateTime)
