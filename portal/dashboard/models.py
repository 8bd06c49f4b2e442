"""The dashboard's own tables: a daily roll-up of checkpoint scans, and the indexes its counts read.

A cache of what the verify feature records, kept so that a city-wide page does not count a million
scans on every view. (The eligibility snapshot it also reads belongs to :mod:`portal.eligibility`.)
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import UTCDateTime
from portal.extensions import db
from portal.passes.models import Pass
from portal.verify.models import VerificationRecord
from portal.workers.models import Worker


class ScanDay(db.Model):
    """A closed local day whose checkpoint scans are counted in ``scan_daily_counts``."""

    __tablename__ = "scan_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ScanDailyCount(db.Model):
    """How many scans of one outcome a unit and sector had on one local day (HCMC time)."""

    __tablename__ = "scan_daily_counts"
    __table_args__ = (Index("ix_scan_daily_counts_day_unit", "day", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    unit_id: Mapped[int | None] = mapped_column(Integer)  # None: a token that named no genuine pass
    sector: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    scans: Mapped[int] = mapped_column(Integer)


# The dashboard counts each unit's passes by state with range counts on these indexes, reading no
# pass row (declared here because only the dashboard needs them).
Index("ix_passes_unit_status_valid_until", Pass.unit_id, Pass.status, Pass.valid_until)
Index("ix_passes_unit_status_valid_from", Pass.unit_id, Pass.status, Pass.valid_from)
Index("ix_passes_unit_version", Pass.unit_id, Pass.version)

# Active workers per unit are counted on every dashboard view: a narrow index of active workers only
# (the workers' own index also carries their names, three times the pages to read).
Index("ix_workers_active_enterprise", Worker.enterprise_id, sqlite_where=text("active"),
      postgresql_where=text("active"))

# Counting a day of scans by unit, sector and outcome reads this index alone (today's live counts
# and the nightly roll-up of a closed day), never the table.
Index("ix_verification_records_dashboard", VerificationRecord.at, VerificationRecord.unit_id,
      VerificationRecord.outcome, VerificationRecord.sector)
