from __future__ import annotations

from datetime import datetime
from enum import Enum

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from portal.clock import utcnow
from portal.db import UTCDateTime
from portal.extensions import db
from portal.text import fold


class EnterpriseStatus(str, Enum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


def _name_key_default(context) -> str:
    """Fold the inserted name when a row is written without the ORM (bulk inserts)."""
    return fold(context.get_current_parameters().get("name") or "")


class Enterprise(db.Model):
    """A business registered in a pilot unit by its HR staff."""

    __tablename__ = "enterprises"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'rejected', 'suspended')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    # Lowercase, no diacritics: what officials' search matches against (kept in step by ``_fold_name``).
    name_key: Mapped[str] = mapped_column(String(300), default=_name_key_default)
    tax_code: Mapped[str] = mapped_column(String(14), unique=True)
    address: Mapped[str] = mapped_column(String(300))
    ward: Mapped[str] = mapped_column(String(100))
    district: Mapped[str] = mapped_column(String(100))
    unit_id: Mapped[int] = mapped_column(ForeignKey("pilot_units.id"), index=True)
    business_type: Mapped[str] = mapped_column(String(64))
    sector: Mapped[str] = mapped_column(String(64), index=True)
    location: Mapped[str | None] = mapped_column(String(64))
    headcount: Mapped[int] = mapped_column(Integer, default=0)
    contact_name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(16), default=EnterpriseStatus.PENDING.value, index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Optimistic lock: two officials deciding at once end in one consistent state.
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    unit = relationship("PilotUnit")

    __mapper_args__ = {"version_id_col": version}

    @validates("name")
    def _fold_name(self, _key: str, name: str) -> str:
        self.name_key = fold(name or "")
        return name

    def __repr__(self) -> str:
        return f"<Enterprise {self.tax_code} {self.status}>"
