from __future__ import annotations

import json
import zlib
from datetime import datetime
from enum import Enum

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.db import UTCDateTime
from portal.extensions import db


class ImportStatus(str, Enum):
    CHECKING = "checking"  # a background job is validating the rows
    READY = "ready"  # previewed; waiting for the user to commit
    COMMITTING = "committing"  # a background job is writing the rows
    COMMITTED = "committed"
    FAILED = "failed"  # a background job failed; ``message`` says why
    EXPIRED = "expired"  # older than a day: the rows were deleted


class ImportBatch(db.Model):
    """An uploaded worker list, parsed and checked, kept server-side between preview and commit.

    The rows are stored compressed (``report_data``: what would happen to each row, as the preview shows it,
    its problems as stored messages; ``rows_data``: beside each, the worker's validated data, or None for a
    row with errors) and deleted after a day; the counts stay as a record of the import.
    """

    __tablename__ = "import_batches"
    __table_args__ = (
        CheckConstraint(
            "status IN ('checking', 'ready', 'committing', 'committed', 'failed', 'expired')",
            name="status",
        ),
        Index("ix_import_batches_enterprise_created", "enterprise_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # "csv" or "xlsx"
    status: Mapped[str] = mapped_column(String(16), default=ImportStatus.READY.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    committed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    header_row: Mapped[int] = mapped_column(Integer, default=1)
    #: field → the header as written in the user's file
    headers: Mapped[dict] = mapped_column(JSON, default=dict)
    #: file-level remarks, each {"message": a stored portal.messages.Message, "level": "info" or "warning"}
    notices: Mapped[list] = mapped_column(JSON, default=list)
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    create_count: Mapped[int] = mapped_column(Integer, default=0)
    update_count: Mapped[int] = mapped_column(Integer, default=0)
    unchanged_count: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    conflict_count: Mapped[int] = mapped_column(Integer, default=0)
    valid_only: Mapped[bool] = mapped_column(Boolean, default=False)
    written_created: Mapped[int] = mapped_column(Integer, default=0)
    written_updated: Mapped[int] = mapped_column(Integer, default=0)
    #: why the last commit was refused or a job failed (a stored portal.messages.Message)
    message: Mapped[dict | None] = mapped_column(JSON)
    #: the uploaded file, kept only until a background job has read it
    file_data: Mapped[bytes | None] = mapped_column(LargeBinary)
    rows_data: Mapped[bytes | None] = mapped_column(LargeBinary)
    report_data: Mapped[bytes | None] = mapped_column(LargeBinary)

    enterprise = relationship("Enterprise")
    user = relationship("User")

    @property
    def problem_count(self) -> int:
        return self.error_count + self.conflict_count

    @property
    def valid_count(self) -> int:
        return self.create_count + self.update_count + self.unchanged_count

    def rows(self) -> list[dict]:
        return unpack(self.rows_data)

    def report(self) -> list[dict]:
        return unpack(self.report_data)

    def __repr__(self) -> str:
        return f"<ImportBatch {self.id} {self.status}>"


def pack(value) -> bytes:
    """Serialise ``value`` as compressed JSON (10,000 rows shrink to a few hundred kilobytes)."""
    return zlib.compress(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode(), 1)


def unpack(data: bytes | None):
    return json.loads(zlib.decompress(data)) if data else []
