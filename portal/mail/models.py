from __future__ import annotations

from datetime import datetime
from enum import Enum

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.clock import utcnow
from portal.db import UTCDateTime
from portal.extensions import db


class MailStatus(str, Enum):
    KEPT = "kept"  # no mail server: the mail waits in the outbox for the admin to read
    QUEUED = "queued"  # a job will send it over SMTP
    SENT = "sent"
    FAILED = "failed"  # the SMTP server refused it, or did not answer after every attempt


class OutboxMail(db.Model):
    """A mail written by the portal, rendered in its recipient's language."""

    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(255))
    # Emptied once sent over SMTP when it carried a one-time link (``secret``): the database
    # keeps no working link longer than it must.
    body: Mapped[str] = mapped_column(Text)
    secret: Mapped[bool] = mapped_column(Boolean, default=False)
    kind: Mapped[str] = mapped_column(String(40))
    locale: Mapped[str] = mapped_column(String(8), default="vi")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
