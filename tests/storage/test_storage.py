"""The blob store every node reads: files in the database in chunks, or in an S3-compatible store; streamed back.

Every behaviour runs on both backends (``any_store``); the S3 one against a real S3-compatible
server (moto's ``moto_server``) started on loopback for the session.
"""
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


@pytest.fixture(params=["database", "s3"])
def any_store(request, app):
    """The app's blob store on each backend in turn (a new, empty bucket for S3)."""
    if request.param == "database":
        app.config["STORAGE_CHUNK_BYTES"] = 1000
        yield blob_store(app)
        return
    server = request.getfixturevalue("s3_server")
    app.extensions.pop("portal.storage", None)
    app.config.update(server.config(server.new_bucket()))
    store = blob_store(app)
    assert type(store).__name__ == "S3BlobStore"
    yield store
    store.close()


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


def test_an_empty_file_is_a_file(any_store):
    store = any_store
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
def test_keys_that_could_escape_are_refused(any_store, key):
    with pytest.raises(ValueError):
        any_store.put(key, b"x")


def test_an_unknown_backend_is_refused_by_name(app):
    app.extensions.pop("portal.storage", None)
    app.config["STORAGE_BACKEND"] = "ftp"
    with pytest.raises(RuntimeError, match="unknown STORAGE_BACKEND 'ftp'"):
        blob_store(app)


# ---------------------------------------------------------------------------
# Both backends
# ---------------------------------------------------------------------------

class _Pieces(io.RawIOBase):
    """A stream that hands out a large file a piece at a time and says how much was ever asked of it."""

    def __init__(self, data: bytes):
        self.data, self.position, self.largest_read = data, 0, 0

    def readable(self):
        return True

    def read(self, amount=-1):
        amount = len(self.data) if amount is None or amount < 0 else amount
        self.largest_read = max(self.largest_read, amount)
        piece = self.data[self.position:self.position + amount]
        self.position += len(piece)
        return piece


def test_a_large_file_goes_in_from_a_stream_and_comes_back_in_pieces(any_store):
    data = os.urandom(9 * 1024 * 1024 + 17)  # more than one part of a multipart upload
    source = _Pieces(data)
    info = any_store.put("jobs/7/lease/sheet.pdf", source, content_type="application/pdf")
    assert (info.key, info.size, info.content_type) == ("jobs/7/lease/sheet.pdf", len(data), "application/pdf")
    assert source.largest_read <= 8 * 1024 * 1024  # never asked for the whole file at once
    assert any_store.exists("jobs/7/lease/sheet.pdf") and not any_store.exists("jobs/7/lease/other.pdf")
    with any_store.open("jobs/7/lease/sheet.pdf") as stream:
        assert (stream.size, stream.content_type) == (len(data), "application/pdf")
        assert stream.read(5) == data[:5]
        pieces = list(stream.iter_chunks())
    assert b"".join(pieces) == data[5:]
    assert len(pieces) > 1 and max(len(piece) for piece in pieces) <= 1024 * 1024


def test_put_replaces_and_delete_says_whether_there_was_a_file(any_store):
    any_store.put("k/x", b"first")
    any_store.put("k/x", b"second", content_type="text/plain")
    with any_store.open("k/x") as stream:
        assert stream.read() == b"second" and stream.content_type == "text/plain"
    assert any_store.delete("k/x") is True and any_store.delete("k/x") is False
    with pytest.raises(BlobNotFound):
        any_store.open("k/x")


def test_list_and_delete_prefix_touch_only_that_folder(any_store):
    for key in ("cache/pass-pdf/A1/v1.pdf", "cache/pass-pdf/A1/v2.pdf", "cache/pass-pdf/A10/v1.pdf",
                "cache/pass-pdf/B2/v1.pdf", "jobs/1/x/sheet.pdf", "cache_not/a"):
        any_store.put(key, key.encode())
    assert [(info.key, info.size) for info in any_store.list("cache/pass-pdf/A1/")] == [
        ("cache/pass-pdf/A1/v1.pdf", 24), ("cache/pass-pdf/A1/v2.pdf", 24)]
    assert len(list(any_store.list())) == 6
    assert any_store.delete_prefix("cache/pass-pdf/A1/") == 2
    assert [info.key for info in any_store.list("cache/")] == ["cache/pass-pdf/A10/v1.pdf", "cache/pass-pdf/B2/v1.pdf"]
    assert any_store.delete_prefix("cache/") == 2 and any_store.delete_prefix("cache/") == 0
    assert sorted(info.key for info in any_store.list()) == ["cache_not/a", "jobs/1/x/sheet.pdf"]
    with pytest.raises(ValueError):
        any_store.delete_prefix("")


def test_a_prefix_with_like_wildcards_matches_only_itself(any_store):
    any_store.put("a_b/1", b"x")
    any_store.put("axb/1", b"x")
    any_store.put("a%c/1", b"x")
    assert [info.key for info in any_store.list("a_b/")] == ["a_b/1"]
    assert any_store.delete_prefix("a%") == 1 and any_store.exists("axb/1")


def test_two_nodes_see_one_store(app, any_store, tmp_path, monkeypatch):
    """A node with its own instance folder (another machine) reads, lists and deletes what this one wrote."""
    from portal import create_app

    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path / "node-b"))
    settings = {key: value for key, value in app.config.items() if key.startswith(("S3_", "STORAGE_"))}
    node_b = create_app({**{key: app.config[key] for key in (
        "TESTING", "SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "PORTAL_KEY_ENCRYPTION_KEY")}, **settings})
    other = blob_store(node_b)
    try:
        any_store.put("jobs/3/l/sheet.pdf", b"%PDF-1.7 sheet")
        with other.open("jobs/3/l/sheet.pdf") as stream:
            assert stream.read() == b"%PDF-1.7 sheet"
        assert other.delete_prefix("jobs/3/") == 1
        assert not any_store.exists("jobs/3/l/sheet.pdf")
    finally:
        other.close()


def test_the_s3_backend_needs_a_bucket(app):
    app.extensions.pop("portal.storage", None)
    app.config.update(STORAGE_BACKEND="s3", S3_BUCKET=None)
    with pytest.raises(RuntimeError, match="STORAGE_BACKEND=s3 needs S3_BUCKET"):
        blob_store(app)


def test_the_s3_settings_come_from_the_environment():
    from portal.config import config_from_environment

    config = config_from_environment({"STORAGE_BACKEND": "s3", "S3_BUCKET": "files", "S3_ENDPOINT_URL": "http://s3:9000",
                                      "S3_ACCESS_KEY_ID": "id", "S3_SECRET_ACCESS_KEY": "secret", "S3_PREFIX": "gc/"})
    assert (config["STORAGE_BACKEND"], config["S3_BUCKET"], config["S3_ENDPOINT_URL"], config["S3_PREFIX"]) == (
        "s3", "files", "http://s3:9000", "gc/")


def test_an_s3_prefix_keeps_the_portals_files_in_their_own_folder(app, s3_server):
    bucket = s3_server.new_bucket()
    app.extensions.pop("portal.storage", None)
    app.config.update(s3_server.config(bucket, S3_PREFIX="greencard"))
    store = blob_store(app)
    client = s3_server.client()
    try:
        store.put("jobs/1/l/a.pdf", b"a")
        objects = client.list_objects_v2(Bucket=bucket)["Contents"]
        assert [item["Key"] for item in objects] == ["greencard/jobs/1/l/a.pdf"]
        assert [info.key for info in store.list("jobs/")] == ["jobs/1/l/a.pdf"]
    finally:
        client.close()
        store.close()


# ---------------------------------------------------------------------------
# Files made on demand (portal.storage.cache)
# ---------------------------------------------------------------------------

def test_a_cached_file_is_made_once_and_served_to_every_app_on_the_store(app, any_store):
    from portal.storage.cache import FileCache

    cache, made = FileCache("test", "text/plain"), []

    def make():
        made.append(1)
        return b"made"

    assert cache.get_or_make(app, "S1", "a.txt", make) == b"made"
    assert cache.get_or_make(app, "S1", "a.txt", make) == b"made" and made == [1]
    assert cache.cached(app, "S1") == ["cache/test/S1/a.txt"]
    cache.get_or_make(app, "S2", "b.txt", make)
    assert cache.drop(app, "S1") == 1 and cache.cached(app, "S1") == [] and cache.cached(app, "S2")


def test_a_file_whose_source_changed_while_it_was_made_is_not_kept(app, any_store):
    from portal.storage.cache import FileCache

    cache, changed = FileCache("test", "text/plain"), []

    def make():  # meanwhile another node changes the source and drops the group (nothing there yet)
        changed.append(True)
        assert cache.drop(app, "S1") == 0
        return b"stale"

    assert cache.get_or_make(app, "S1", "a.txt", make, still_current=lambda: not changed) == b"stale"
    assert cache.cached(app, "S1") == []


@pytest.mark.parametrize("group, name", [("", "a"), ("a/b", "c"), ("..", "c"), ("a", ""), ("a", "b/c")])
def test_cache_names_cannot_reach_another_group(group, name):
    from portal.storage.cache import FileCache

    with pytest.raises(ValueError):
        FileCache("test", "text/plain").key(group, name)


# ---------------------------------------------------------------------------
# portal storage ...
# ---------------------------------------------------------------------------

def test_storage_check_writes_reads_and_deletes_a_file(app, any_store):
    result = app.test_cli_runner().invoke(args=["storage", "check"])
    assert result.exit_code == 0, result.output
    assert "blob store works" in result.output
    assert list(any_store.list()) == []  # it left nothing behind


def test_purge_cache_deletes_every_cached_file_and_nothing_else(app, any_store):
    from portal.storage.cache import PASS_PDFS

    for serial in ("S1", "S2", "S3"):
        PASS_PDFS.get_or_make(app, serial, "v1-x.pdf", lambda: b"%PDF" * 100)
    any_store.put("jobs/1/l/sheet.pdf", b"%PDF sheet")
    usage = app.test_cli_runner().invoke(args=["storage", "usage"])
    assert "cache/pass-pdf/" in usage.output and "jobs/" in usage.output
    result = app.test_cli_runner().invoke(args=["storage", "purge-cache"])
    assert result.exit_code == 0, result.output
    assert "Deleted 3 cached files" in result.output
    assert [info.key for info in any_store.list()] == ["jobs/1/l/sheet.pdf"]


def test_jobs_purge_deletes_old_print_sheets_from_either_backend(app, any_store):
    from datetime import timedelta

    from portal.clock import utcnow
    from portal.jobs.models import Job, JobStatus

    keys = {}
    with app.app_context():
        for days in (9, 1):
            job = Job(kind="print_sheet", params={}, status=JobStatus.DONE.value,
                      finished_at=utcnow() - timedelta(days=days), output_key=f"jobs/d{days}/l/the-xanh.pdf")
            db.session.add(job)
            keys[days] = job.output_key
        db.session.commit()
    for key in keys.values():
        any_store.put(key, b"%PDF sheet", content_type="application/pdf")
    result = app.test_cli_runner().invoke(args=["jobs", "purge", "--days", "7"])
    assert result.output.strip() == "Deleted 1 files of jobs finished more than 7 days ago."
    assert [info.key for info in any_store.list("jobs/")] == [keys[1]]
