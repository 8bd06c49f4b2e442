"""The blob store every node reads: files in the database, in chunks, streamed back."""
from __future__ import annotations

import io
import os

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.storage import BlobNotFound, blob_store
from portal.storage.models import BlobChunk


@pytest.fixture
def store(app):
    app.config["STORAGE_CHUNK_BYTES"] = 1000
    return blob_store(app)


def _chunks(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(BlobChunk))


def test_a_file_goes_in_by_stream_and_comes_back_in_chunks(app, store):
    data = os.urandom(4500)
    info = store.put("jobs/1/a/sheet.pdf", io.BytesIO(data), content_type="application/pdf")
    assert (info.size, info.content_type) == (4500, "application/pdf")
    assert _chunks(app) == 5 and store.exists("jobs/1/a/sheet.pdf")
    with store.open("jobs/1/a/sheet.pdf") as stream:
        assert (stream.size, stream.content_type) == (4500, "application/pdf")
        assert stream.read(10) == data[:10]  # a reader can take any amount ...
        rest = b"".join(stream.iter_chunks())  # ... and then stream the rest as stored
    assert rest == data[10:]
    with store.open("jobs/1/a/sheet.pdf") as stream:
        assert [len(piece) for piece in stream.iter_chunks()] == [1000, 1000, 1000, 1000, 500]


def test_putting_again_replaces_the_file_whole(app, store):
    store.put("k/x", b"first version, long enough for three chunks" * 50)
    store.put("k/x", b"second")
    with store.open("k/x") as stream:
        assert stream.read() == b"second"
    assert _chunks(app) == 1


def test_an_empty_file_is_a_file(store):
    store.put("k/empty", b"")
    with store.open("k/empty") as stream:
        assert stream.read() == b"" and stream.size == 0


def test_delete_says_whether_there_was_a_file_and_leaves_no_chunk(app, store):
    store.put("k/y", b"y" * 2500)
    assert store.delete("k/y") is True
    assert store.delete("k/y") is False
    assert not store.exists("k/y") and _chunks(app) == 0
    with pytest.raises(BlobNotFound):
        store.open("k/y")


def test_a_file_replaced_while_it_is_read_is_never_sent_half_and_half(store):
    store.put("k/z", b"a" * 3000)
    stream = store.open("k/z")
    pieces = stream.iter_chunks()
    assert next(pieces) == b"a" * 1000
    store.put("k/z", b"b" * 3000)
    with pytest.raises(BlobNotFound):
        next(pieces)
    stream.close()


@pytest.mark.parametrize("key", ["", "/etc/passwd", "jobs/../keys", "x" * 256])
def test_keys_that_could_escape_are_refused(store, key):
    with pytest.raises(ValueError):
        store.put(key, b"x")


def test_an_unknown_backend_is_refused_by_name(app):
    app.extensions.pop("portal.storage", None)
    app.config["STORAGE_BACKEND"] = "s3"
    with pytest.raises(RuntimeError, match="unknown STORAGE_BACKEND 's3'"):
        blob_store(app)
