"""Registry extracts, the registry rows that matched a worker, and the health-data officers' API tokens.

Rows of an extract that match no worker are never stored: only their count, on the extract.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.db import UTCDateTime
from portal.extensions import db


class HealthExtract(db.Model):
    """One extract of the health registry (a file, an API push or a connector's pull) and what matching it did."""

    __tablename__ = "health_extracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # vaccination, recovery, test
    source: Mapped[str] = mapped_column(String(40))  # "file", "api" or a connector's code
    filename: Mapped[str] = mapped_column(String(255), default="")
    #: checking (a job reads the file), ready, matching (a job matches it), committed, failed, expired.
    status: Mapped[str] = mapped_column(String(16))
    #: Where the uploaded file waits between preview and commit (the blob store); None once deleted.
    blob_key: Mapped[str | None] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    committed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Counts: rows, valid, errors, matched, unmatched, birth_date_differs, name_differs, workers.
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    #: The first problems found (stored messages with their row numbers), for the preview.
    problems: Mapped[list] = mapped_column(JSON, default=list)

    #: The job checking or matching the file (the last one started).
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    #: Why a check or a match failed (a stored portal.messages.Message), shown in the reader's language.
    message: Mapped[dict | None] = mapped_column(JSON)

    created_by = relationship("User")


class HealthRecord(db.Model):
    """A registry row that matched an active worker by citizen ID and date of birth.

    ``key`` tells a worker's records of one kind apart: the dose number, the positive test's date,
    or the test's date and kind. A later extract with the same key replaces the row.
    """

    __tablename__ = "health_records"
    __table_args__ = (
        UniqueConstraint("worker_id", "kind", "key", name="uq_health_records_worker_kind_key"),
        Index("ix_health_records_extract", "extract_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id", ondelete="CASCADE"))
    extract_id: Mapped[int | None] = mapped_column(ForeignKey("health_extracts.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16))  # dose, recovery, test
    key: Mapped[str] = mapped_column(String(32))
    number: Mapped[int | None] = mapped_column(Integer)  # a dose's number
    product: Mapped[str | None] = mapped_column(String(32))  # a vaccine code, or the registry's words
    on_date: Mapped[date | None] = mapped_column(Date)  # dose given, positive test, test taken
    recovered_on: Mapped[date | None] = mapped_column(Date)
    test_kind: Mapped[str | None] = mapped_column(String(16))
    result: Mapped[str | None] = mapped_column(String(16))  # negative, positive
    place: Mapped[str] = mapped_column(String(200), default="")  # where given, or the issuing facility
    #: The registry's spelling of the name when, folded, it differs from the worker's (shown, not a conflict).
    registry_name: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HealthToken(db.Model):
    """A bearer token with which the health sector pushes records to /api/v1/health-records (hash only)."""

    __tablename__ = "health_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by = relationship("User")


class HealthShareDay(db.Model):
    """How many active workers of a unit's sector had a dose, every dose confirmed, a conflicting fact, on a day.

    The past cannot be worked out again from the provenance columns (they hold only what stands now),
    so the day's figures are written when an extract is matched, when a conflict is accepted and by
    ``portal health record-share``: a later write of the same local day (HCMC) replaces the earlier.
    """

    __tablename__ = "health_share_days"
    __table_args__ = (UniqueConstraint("day", "unit_id", "sector", name="uq_health_share_days_day_unit_sector"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    unit_id: Mapped[int] = mapped_column(ForeignKey("pilot_units.id"))
    sector: Mapped[str] = mapped_column(String(64))
    workers_with_dose: Mapped[int] = mapped_column(Integer)
    confirmed: Mapped[int] = mapped_column(Integer)
    conflicting: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
