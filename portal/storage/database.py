"""The default blob store: files in the portal's own database, in chunks (SQLite and PostgreSQL)."""
from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from sqlalchemy import delete, exists, insert, select
from sqlalchemy.engine import Engine

from portal.clock import utcnow
from portal.storage import BlobInfo, BlobNotFound, BlobReader, BlobStore, check_key
from portal.storage.models import Blob, BlobChunk


class DatabaseBlobStore(BlobStore):
    """Keep each file as a ``blobs`` row and its bytes as ``blob_chunks`` rows of ``chunk_size`` bytes.

    Every call uses a short connection of its own, never the caller's session: a file written by
    a job is there whether or not the job's own transaction commits, and a download reads one
    chunk per statement without holding a transaction (on SQLite: without taking the write lock).
    """

    def __init__(self, engine: Engine, *, chunk_size: int = 512 * 1024):
        self.engine = engine
        self.chunk_size = chunk_size

    def _reading(self):
        return self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def put(self, key: str, data: bytes | BinaryIO, *, content_type: str = "application/octet-stream") -> BlobInfo:
        check_key(key)
        stream = _as_stream(data)
        with self.engine.begin() as connection:
            self._delete(connection, key)
            blob_id = connection.execute(
                insert(Blob).values(key=key, size=0, content_type=content_type, created_at=utcnow())
                .returning(Blob.id)
            ).scalar_one()
            size = seq = 0
            while piece := stream.read(self.chunk_size):
                connection.execute(insert(BlobChunk).values(blob_id=blob_id, seq=seq, data=bytes(piece)))
                size += len(piece)
                seq += 1
            connection.execute(Blob.__table__.update().where(Blob.id == blob_id).values(size=size))
        return BlobInfo(key, size, content_type)

    def open(self, key: str) -> BlobReader:
        with self._reading() as connection:
            row = connection.execute(
                select(Blob.id, Blob.size, Blob.content_type).where(Blob.key == key)
            ).one_or_none()
        if row is None:
            raise BlobNotFound(key)
        return _DatabaseReader(self, row.id, BlobInfo(key, row.size, row.content_type))

    def exists(self, key: str) -> bool:
        with self._reading() as connection:
            return bool(connection.scalar(select(exists().where(Blob.key == key))))

    def delete(self, key: str) -> bool:
        with self.engine.begin() as connection:
            return self._delete(connection, key)

    def list(self, prefix: str = "", *, page: int = 500) -> Iterator[BlobInfo]:
        after = None
        while True:
            statement = select(Blob.key, Blob.size, Blob.content_type).order_by(Blob.key).limit(page)
            if prefix:
                statement = statement.where(Blob.key.startswith(prefix, autoescape=True))
            if after is not None:
                statement = statement.where(Blob.key > after)
            with self._reading() as connection:
                rows = connection.execute(statement).all()
            for row in rows:
                yield BlobInfo(row.key, row.size, row.content_type)
            if len(rows) < page:
                return
            after = rows[-1].key

    def delete_prefix(self, prefix: str) -> int:
        if not prefix:
            raise ValueError("delete_prefix needs a prefix: it never deletes the whole store")
        matching = select(Blob.id).where(Blob.key.startswith(prefix, autoescape=True))
        with self.engine.begin() as connection:
            connection.execute(delete(BlobChunk).where(BlobChunk.blob_id.in_(matching)))
            return connection.execute(delete(Blob).where(Blob.key.startswith(prefix, autoescape=True))).rowcount

    @staticmethod
    def _delete(connection, key: str) -> bool:
        blob_id = connection.scalar(select(Blob.id).where(Blob.key == key))
        if blob_id is None:
            return False
        # Chunks first: SQLite enforces the cascade only where foreign keys are switched on.
        connection.execute(delete(BlobChunk).where(BlobChunk.blob_id == blob_id))
        connection.execute(delete(Blob).where(Blob.id == blob_id))
        return True


class _DatabaseReader(BlobReader):
    def __init__(self, store: DatabaseBlobStore, blob_id: int, info: BlobInfo):
        super().__init__(info)
        self._store, self._blob_id = store, blob_id

    def _chunks(self) -> Iterator[bytes]:
        seq = sent = 0
        while sent < self.size:
            with self._store._reading() as connection:
                piece = connection.scalar(
                    select(BlobChunk.data).where(BlobChunk.blob_id == self._blob_id, BlobChunk.seq == seq)
                )
            if piece is None:  # replaced or deleted while being read: never send half of one file
                raise BlobNotFound(self.key)
            sent += len(piece)
            seq += 1
            yield bytes(piece)


def _as_stream(data):
    if isinstance(data, (bytes, bytearray, memoryview)):
        import io

        return io.BytesIO(bytes(data))
    if not hasattr(data, "read"):
        raise TypeError(f"cannot store {type(data).__name__}: give bytes or a binary stream")
    return data
