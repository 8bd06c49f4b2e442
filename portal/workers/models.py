from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.db import UTCDateTime
from portal.extensions import db


class Worker(db.Model):
    """A worker an enterprise registers for a green card."""

    __tablename__ = "workers"
    __table_args__ = (
        # One active registration per citizen ID in the whole portal.
        Index("uq_workers_active_citizen_id", "citizen_id", unique=True,
              sqlite_where=text("active"), postgresql_where=text("active")),
        Index("ix_workers_enterprise_active_name", "enterprise_id", "active", "name_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    full_name: Mapped[str] = mapped_column(String(200))
    # Lowercase, no diacritics: what search matches against.
    name_key: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(1))  # "M" or "F"
    citizen_id: Mapped[str] = mapped_column(String(12), index=True)  # CCCD (12) or CMND (9)
    phone: Mapped[str] = mapped_column(String(16))  # national form, 0xxxxxxxxx
    home_address: Mapped[str] = mapped_column(String(300))
    home_ward: Mapped[str] = mapped_column(String(100))
    home_district: Mapped[str] = mapped_column(String(100))
    job_title: Mapped[str] = mapped_column(String(200), default="")
    shift: Mapped[str | None] = mapped_column(String(32))
    recovered_on: Mapped[date | None] = mapped_column(Date)
    test_kind: Mapped[str | None] = mapped_column(String(16))  # "pcr" or "rapid"
    tested_on: Mapped[date | None] = mapped_column(Date)
    # Where the recovery and the test stand against the health registry (portal.vocabulary.PROVENANCE_LABELS),
    # and, when conflicting, what the registry holds (written by portal.health; the rules read them).
    recovery_provenance: Mapped[str] = mapped_column(String(16), default="declared", server_default="declared")
    recovery_registry: Mapped[dict | None] = mapped_column(JSON)
    test_provenance: Mapped[str] = mapped_column(String(16), default="declared", server_default="declared")
    test_registry: Mapped[dict | None] = mapped_column(JSON)
    #: The local day a card of this worker was revoked as "tested positive": the worker is on hold (no
    #: card) until a recovery or a negative test dated after it (portal.eligibility.facts.positive_hold).
    tested_positive_on: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    left_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    #: When ``portal privacy erase`` removed the worker's personal data (the row stays, for the figures);
    #: an erased worker's eligibility is final and never evaluated again.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    enterprise = relationship("Enterprise")
    doses: Mapped[list[VaccineDose]] = relationship(
        back_populates="worker", order_by="VaccineDose.number", cascade="all, delete-orphan"
    )

    @property
    def masked_citizen_id(self) -> str:
        """Return the ID with all but its last four digits hidden."""
        return mask_citizen_id(self.citizen_id)

    def __repr__(self) -> str:
        return f"<Worker {self.id} {self.masked_citizen_id}>"


class VaccineDose(db.Model):
    __tablename__ = "vaccine_doses"
    __table_args__ = (UniqueConstraint("worker_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    product: Mapped[str | None] = mapped_column(String(32))  # a code from portal.workers.vaccines
    given_on: Mapped[date | None] = mapped_column(Date)
    #: Where this dose stands against the health registry (declared, confirmed, conflicting, not_found).
    provenance: Mapped[str] = mapped_column(String(16), default="declared", server_default="declared")
    #: When conflicting, what the registry holds: {"differences": [...], "given_on": ..., "product": ...}.
    registry_data: Mapped[dict | None] = mapped_column(JSON)

    worker: Mapped[Worker] = relationship(back_populates="doses")


def mask_citizen_id(citizen_id: str | None) -> str:
    """Hide all but the last four digits: 079180611544 → ••••••••1544."""
    if not citizen_id:
        return ""
    return "•" * (len(citizen_id) - 4) + citizen_id[-4:]
