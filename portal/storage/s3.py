"""The blob store in an S3-compatible object store (AWS S3, MinIO, Ceph, …), for large deployments.

Chosen with ``STORAGE_BACKEND=s3``; the bucket exists beforehand (the portal never creates one) and
``portal storage check`` proves that a node can write, read, list and delete in it::

    STORAGE_BACKEND=s3  S3_BUCKET=greencard-files  S3_ENDPOINT_URL=https://s3.example.gov.vn
    S3_ACCESS_KEY_ID=…  S3_SECRET_ACCESS_KEY=…  [S3_REGION=…]  [S3_PREFIX=portal/]

Without ``S3_ACCESS_KEY_ID`` boto3 finds credentials its usual way (``AWS_*`` variables, an
instance role). Reads stream: a download holds one piece of the file at a time, never the whole.
An object store puts a file whole or not at all, as the database backend does.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from portal.storage import BlobInfo, BlobNotFound, BlobReader, BlobStore, check_key

#: Settings of this backend (environment variables of the same names).
SETTINGS = ("S3_BUCKET", "S3_ENDPOINT_URL", "S3_REGION", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "S3_PREFIX")
#: Bytes per piece of a streamed read, and per part of an upload from a stream.
PIECE_BYTES = 512 * 1024
#: S3 deletes at most this many keys per request.
DELETE_BATCH = 1000


def missing_settings(config) -> list[str]:
    """Return the settings the backend cannot work without (only the bucket: credentials may come from boto3)."""
    return [] if config.get("S3_BUCKET") else ["S3_BUCKET"]


class S3BlobStore(BlobStore):
    """Keep each file as one object ``<S3_PREFIX><key>`` in one bucket."""

    def __init__(self, client, bucket: str, *, prefix: str = ""):
        self.client, self.bucket, self.prefix = client, bucket, prefix

    @classmethod
    def from_config(cls, config) -> S3BlobStore:
        try:
            import boto3
            from botocore.config import Config
        except ImportError:
            raise RuntimeError("STORAGE_BACKEND=s3 needs boto3: pip install -e '.[s3]'") from None

        missing = missing_settings(config)
        if missing:
            raise RuntimeError(f"STORAGE_BACKEND=s3 needs {', '.join(missing)}")
        endpoint = config.get("S3_ENDPOINT_URL") or None
        client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint,
            region_name=config.get("S3_REGION") or None,
            aws_access_key_id=config.get("S3_ACCESS_KEY_ID") or None,
            aws_secret_access_key=config.get("S3_SECRET_ACCESS_KEY") or None,
            config=Config(
                # Most S3-compatible servers (MinIO, Ceph) answer path-style requests only.
                s3={"addressing_style": "path" if endpoint else "auto"},
                connect_timeout=5, read_timeout=60, retries={"max_attempts": 3, "mode": "standard"},
            ),
        )
        prefix = config.get("S3_PREFIX") or ""
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return cls(client, config["S3_BUCKET"], prefix=prefix)

    def close(self) -> None:
        self.client.close()

    def _name(self, key: str) -> str:
        return self.prefix + key

    def put(self, key: str, data: bytes | BinaryIO, *, content_type: str = "application/octet-stream") -> BlobInfo:
        check_key(key)
        if isinstance(data, (bytes, bytearray, memoryview)):
            body = bytes(data)
            self.client.put_object(Bucket=self.bucket, Key=self._name(key), Body=body, ContentType=content_type)
            return BlobInfo(key, len(body), content_type)
        if not hasattr(data, "read"):
            raise TypeError(f"cannot store {type(data).__name__}: give bytes or a binary stream")
        from boto3.s3.transfer import TransferConfig

        counted = _Counting(data)
        # A multipart upload from the stream, one part at a time: the file appears only when complete.
        self.client.upload_fileobj(counted, self.bucket, self._name(key), ExtraArgs={"ContentType": content_type},
                                   Config=TransferConfig(multipart_chunksize=8 * 1024 * 1024, max_concurrency=1,
                                                         use_threads=False))
        return BlobInfo(key, counted.size, content_type)

    def open(self, key: str) -> BlobReader:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._name(key))
        except self.client.exceptions.NoSuchKey:
            raise BlobNotFound(key) from None
        info = BlobInfo(key, int(answer["ContentLength"]), answer.get("ContentType") or "application/octet-stream")
        return _S3Reader(answer["Body"], info)

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def delete(self, key: str) -> bool:
        # S3 deletes silently whatever the key: ask first, so the answer says whether a file went.
        if not self.exists(key):
            return False
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))
        return True

    def list(self, prefix: str = "") -> Iterator[BlobInfo]:
        """Yield the files under ``prefix`` with their sizes (a listing gives no content type: "")."""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self._name(prefix))
        for page in pages:
            for item in page.get("Contents", ()):
                yield BlobInfo(item["Key"][len(self.prefix):], int(item["Size"]), "")

    def delete_prefix(self, prefix: str) -> int:
        if not prefix:
            raise ValueError("delete_prefix needs a prefix: it never deletes the whole store")
        deleted, batch = 0, []
        for info in self.list(prefix):
            batch.append({"Key": self._name(info.key)})
            if len(batch) == DELETE_BATCH:
                deleted += self._delete_batch(batch)
                batch = []
        if batch:
            deleted += self._delete_batch(batch)
        return deleted

    def _delete_batch(self, batch: list[dict]) -> int:
        answer = self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
        errors = answer.get("Errors") or []
        if errors:
            raise RuntimeError(f"the object store refused to delete {len(errors)} files: {errors[0]}")
        return len(batch)


class _Counting:
    """A read-only stream that counts what was read from it (the size of an upload from a stream)."""

    def __init__(self, stream):
        self._stream, self.size = stream, 0

    def read(self, amount: int = -1) -> bytes:
        piece = self._stream.read(amount)
        self.size += len(piece)
        return piece


class _S3Reader(BlobReader):
    def __init__(self, body, info: BlobInfo):
        super().__init__(info)
        self._body = body

    def _chunks(self) -> Iterator[bytes]:
        yield from self._body.iter_chunks(PIECE_BYTES)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()
