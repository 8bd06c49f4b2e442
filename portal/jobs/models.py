from __future__ import annotations

from datetime import datetime
from enum import Enum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.clock import utcnow
from portal.db import UTCDateTime
from portal.extensions import db


class JobStatus(str, Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Job(db.Model):
    """A background task; the row is the source of truth for its status, progress and outcome.

    The queue (Huey) only carries the job's id. A consumer claims a queued job by setting
    ``status='running'``, its ``worker_id`` and a fresh ``lease`` in one conditional UPDATE; every
    later write names the lease, so a consumer whose job was given to another can no longer change
    it. Messages (``message``, ``summary``, the next step's label) are stored as
    :class:`portal.messages.Message` JSON and rendered in the reader's language.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status"),
        Index("ix_jobs_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED.value)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    #: The last progress message (a Message as JSON).
    progress_message: Mapped[dict | None] = mapped_column(JSON)
    #: When done: what the job did; when failed: why, in words for the person who started it.
    summary: Mapped[dict | None] = mapped_column(JSON)
    #: When done: where to go next, ``{"endpoint": ..., "params": {...}, "label": Message JSON}``.
    next_step: Mapped[dict | None] = mapped_column(JSON)
    result: Mapped[dict | list | None] = mapped_column(JSON)
    #: The job's file in the blob store (portal.storage) and the name it downloads as.
    output_key: Mapped[str | None] = mapped_column(String(255))
    output_name: Mapped[str | None] = mapped_column(String(255))
    #: What went wrong, for the administrator (never shown to HR).
    error: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id", ondelete="SET NULL"),
                                                      index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: The consumer running the job (a :class:`JobWorker`), and the claim that consumer holds.
    worker_id: Mapped[str | None] = mapped_column(String(100))
    lease: Mapped[str | None] = mapped_column(String(32))

    @property
    def percent(self) -> int:
        """Return progress as a whole percentage (100 once done)."""
        if self.status == JobStatus.DONE.value:
            return 100
        if not self.total:
            return 0
        return max(0, min(100, int(self.done * 100 / self.total)))

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.DONE.value, JobStatus.FAILED.value)

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.kind} {self.status}>"


class JobWorker(db.Model):
    """A consumer process that runs jobs: where it runs and when it last said it was alive.

    A running job whose consumer stopped beating (or whose process is gone from this host) was
    abandoned; the sweep in every consumer's loop queues it again or fails it clearly.
    """

    __tablename__ = "job_workers"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
