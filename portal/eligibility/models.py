"""The eligibility snapshot: each active worker's last answer from their unit's rules.

A cache of what the rules say, kept so that a page listing thousands of workers, or a city-wide
dashboard of 300,000, filters, counts and pages in SQL instead of asking the rules for every worker.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import UTCDateTime
from portal.extensions import db


class EligibilitySnapshot(db.Model):
    """One active worker's eligibility as last evaluated by their unit's rules.

    ``reason`` is the rule's own sentence as a stored message (``portal.messages.Message.as_json``),
    rendered in the reader's language. ``issues`` lists, space-separated, what in the worker's
    record blocks eligibility and HR can fix (the codes of ``portal.vocabulary.RECORD_ISSUES``);
    empty when nothing does.
    """

    __tablename__ = "eligibility_snapshots"
    __table_args__ = (
        # Counts per unit (and, for the report, per enterprise) read this index alone, never the table.
        Index("ix_eligibility_snapshots_unit_counts", "unit_id", "eligible", "basis", "enterprise_id"),
        # How many rows are older than today, and the oldest evaluation shown ("as of …").
        Index("ix_eligibility_snapshots_unit_evaluated", "unit_id", "evaluated_on", "evaluated_at"),
        # Only the few workers whose records have issues: the data-quality page reads these alone.
        Index("ix_eligibility_snapshots_issues", "unit_id", "enterprise_id", "issues",
              sqlite_where=text("issues != ''"), postgresql_where=text("issues != ''")),
        # One enterprise's figures (its page) and how current they are.
        Index("ix_eligibility_snapshots_enterprise", "enterprise_id", "eligible", "basis", "evaluated_on"),
    )

    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id", ondelete="CASCADE"), primary_key=True,
                                           autoincrement=False)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("pilot_units.id"))
    eligible: Mapped[bool] = mapped_column(Boolean)
    basis: Mapped[str] = mapped_column(String(32))  # a portal.plugins.types.Basis value
    reason: Mapped[dict | None] = mapped_column(JSON)
    since: Mapped[date | None] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date)
    issues: Mapped[str] = mapped_column(String(120), default="")
    evaluated_on: Mapped[date] = mapped_column(Date)  # the local day the rules were asked about
    evaluated_at: Mapped[datetime] = mapped_column(UTCDateTime)
