"""Files that every node reads: a small blob store addressed by key.

Job outputs (print sheets) and any other file one process writes and another serves go here,
never to one node's disk::

    store = blob_store(app)
    store.put("jobs/12/the-xanh.pdf", data_or_stream, content_type="application/pdf")
    with store.open("jobs/12/the-xanh.pdf") as stream:      # a readable, file-like stream
        for piece in stream.iter_chunks(): ...
    store.exists(key); store.delete(key)

The default backend keeps the bytes in the portal's database (``blobs`` and ``blob_chunks``,
chunked so that neither writing nor reading holds a whole file in memory); it works the same on
SQLite and PostgreSQL. ``STORAGE_BACKEND`` names the backend: another one (an S3-compatible
object store for large deployments) implements :class:`BlobStore` and is added to ``BACKENDS``.
"""
from __future__ import annotations

import io
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

__all__ = ["BlobNotFound", "BlobReader", "BlobStore", "blob_store"]


class BlobNotFound(KeyError):
    """No file is stored under this key (or it was replaced or deleted while being read)."""


@dataclass(frozen=True)
class BlobInfo:
    key: str
    size: int
    content_type: str


class BlobReader(io.RawIOBase):
    """A stored file opened for reading: ``read()``, ``iter_chunks()``, ``size`` and ``content_type``."""

    def __init__(self, info: BlobInfo):
        super().__init__()
        self.key, self.size, self.content_type = info.key, info.size, info.content_type
        self._pieces: Iterator[bytes] | None = None
        self._buffer = b""

    @abstractmethod
    def _chunks(self) -> Iterator[bytes]:
        """Yield the file's bytes in order, a piece at a time."""

    def iter_chunks(self) -> Iterator[bytes]:
        """Yield the rest of the file in the backend's own pieces (what a download streams)."""
        if self._buffer:
            piece, self._buffer = self._buffer, b""
            yield piece
        if self._pieces is None:
            self._pieces = self._chunks()
        yield from self._pieces

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._pieces is None:
            self._pieces = self._chunks()
        while not self._buffer:
            piece = next(self._pieces, None)
            if piece is None:
                return 0
            self._buffer = piece
        count = min(len(buffer), len(self._buffer))
        buffer[:count] = self._buffer[:count]
        self._buffer = self._buffer[count:]
        return count


class BlobStore(ABC):
    """Where files live: put, open, test and delete them by key (``folder/…/name``)."""

    @abstractmethod
    def put(self, key: str, data: bytes | BinaryIO, *, content_type: str = "application/octet-stream") -> BlobInfo:
        """Store ``data`` (bytes or a readable binary stream) under ``key``, replacing what was there.

        The file appears whole or not at all.
        """

    @abstractmethod
    def open(self, key: str) -> BlobReader:
        """Return a stream of the file under ``key``; BlobNotFound when there is none."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Say whether a file is stored under ``key``."""

    @abstractmethod
    def delete(self, key: str) -> bool:
        """Delete the file under ``key``; return whether there was one."""


def _database_backend(app) -> BlobStore:
    from portal.extensions import db
    from portal.storage.database import DatabaseBlobStore

    with app.app_context():
        engine = db.engine
    return DatabaseBlobStore(engine, chunk_size=int(app.config.get("STORAGE_CHUNK_BYTES", 512 * 1024)))


#: Backend name (``STORAGE_BACKEND``) → factory taking the app.
BACKENDS = {"database": _database_backend}
_KEY = "portal.storage"


def blob_store(app) -> BlobStore:
    """Return ``app``'s blob store (made on first use from ``STORAGE_BACKEND``, default "database")."""
    store = app.extensions.get(_KEY)
    if store is None:
        name = app.config.get("STORAGE_BACKEND") or "database"
        try:
            factory = BACKENDS[name]
        except KeyError:
            raise RuntimeError(f"unknown STORAGE_BACKEND {name!r} (known: {', '.join(BACKENDS)})") from None
        store = app.extensions[_KEY] = factory(app)
    return store
