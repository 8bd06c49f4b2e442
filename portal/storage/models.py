"""The database backend's tables: one row per stored file, its bytes in ordered chunks."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.clock import utcnow
from portal.db import UTCDateTime
from portal.extensions import db


class Blob(db.Model):
    """A stored file: its key, size and type. Replacing a key makes a new row (a new ``id``)."""

    __tablename__ = "blobs"
    # Never reuse an id: a reader holding the old id must not read a replacement's chunks.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    size: Mapped[int] = mapped_column(Integer, default=0)
    content_type: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BlobChunk(db.Model):
    """A piece of a stored file; a reader fetches one at a time, so no file is ever held whole."""

    __tablename__ = "blob_chunks"

    blob_id: Mapped[int] = mapped_column(ForeignKey("blobs.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)
