"""Files that every node reads: a small blob store addressed by key.

Job outputs (print sheets) and any other file one process writes and another serves go here,
never to one node's disk::

    store = blob_store(app)
    store.put("jobs/12/the-xanh.pdf", data_or_stream, content_type="application/pdf")
    with store.open("jobs/12/the-xanh.pdf") as stream:      # a readable, file-like stream
        for piece in stream.iter_chunks(): ...
    store.exists(key); store.delete(key)
    for info in store.list("cache/pass-pdf/"): ...             # BlobInfo(key, size, content_type)
    store.delete_prefix("cache/pass-pdf/0123456789/")       # how many files it deleted

The default backend keeps the bytes in the portal's database (``blobs`` and ``blob_chunks``,
chunked so that neither writing nor reading holds a whole file in memory); it works the same on
SQLite and PostgreSQL. ``STORAGE_BACKEND=s3`` keeps them in an S3-compatible object store instead
(:mod:`portal.storage.s3`, for large deployments). Another backend implements :class:`BlobStore`
and is added to ``BACKENDS``.
"""
from __future__ import annotations

import io
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

__all__ = ["BlobInfo", "BlobNotFound", "BlobReader", "BlobStore", "blob_store", "check_key"]


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

    @abstractmethod
    def list(self, prefix: str = "") -> Iterator[BlobInfo]:
        """Yield the files whose key starts with ``prefix``, in key order (never all of them in memory)."""

    def close(self) -> None:  # noqa: B027  (most backends hold nothing between calls)
        """Let go of connections the backend holds (the database backend holds none between calls)."""

    def delete_prefix(self, prefix: str) -> int:
        """Delete every file whose key starts with ``prefix`` (not empty); return how many there were."""
        if not prefix:
            raise ValueError("delete_prefix needs a prefix: it never deletes the whole store")
        keys = [info.key for info in self.list(prefix)]
        return sum(self.delete(key) for key in keys)


def check_key(key: str) -> None:
    """Refuse a key that is empty, too long, absolute or climbs out of its folder."""
    if not key or len(key) > 255 or key.startswith("/") or ".." in key.split("/"):
        raise ValueError(f"not a valid blob key: {key!r}")


def _database_backend(app) -> BlobStore:
    from portal.extensions import db
    from portal.storage.database import DatabaseBlobStore

    with app.app_context():
        engine = db.engine
    return DatabaseBlobStore(engine, chunk_size=int(app.config.get("STORAGE_CHUNK_BYTES", 512 * 1024)))


def _s3_backend(app) -> BlobStore:
    from portal.storage.s3 import S3BlobStore

    return S3BlobStore.from_config(app.config)


#: Backend name (``STORAGE_BACKEND``) → factory taking the app.
BACKENDS = {"database": _database_backend, "s3": _s3_backend}
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
