"""Files made on demand and kept in the blob store, so that what one node made every node serves.

A cache has a name and keeps its files in groups (a card's serial, say) under
``cache/<name>/<group>/<file>``; dropping a group deletes its files on every node at once, since
every node reads the same store. Everything under ``cache/`` can be made again, so
``portal storage purge-cache`` may delete all of it at any time::

    PASS_PDFS.get_or_make(app, serial, "v2-<fingerprint>.pdf", render, still_current=check)
    PASS_PDFS.drop(app, serial)          # after the commit that revoked or changed the card
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from portal.storage import BlobNotFound, blob_store

log = logging.getLogger(__name__)

#: Where every cache keeps its files in the blob store.
ROOT = "cache/"


class FileCache:
    """One named cache in the blob store."""

    def __init__(self, name: str, content_type: str):
        self.name, self.content_type = name, content_type
        self.prefix = f"{ROOT}{name}/"

    def key(self, group: str, filename: str) -> str:
        if not filename or "/" in filename:
            raise ValueError(f"not a valid cache file name: {filename!r}")
        return self.group_prefix(group) + filename

    def group_prefix(self, group: str) -> str:
        if not group or "/" in group or group in (".", ".."):
            raise ValueError(f"not a valid cache group: {group!r}")
        return f"{self.prefix}{group}/"

    def get_or_make(self, app, group: str, filename: str, make: Callable[[], bytes], *,
                    still_current: Callable[[], bool] | None = None) -> bytes:
        """Return the cached file, or make it with ``make()`` and keep it.

        ``still_current()`` is asked after the file is stored: when what it was made from changed
        meanwhile (a card revoked while it rendered), the file is deleted again, so that a drop
        which ran before the store never leaves a stale copy behind.
        """
        store, key = blob_store(app), self.key(group, filename)
        try:
            with store.open(key) as stream:
                return stream.read()
        except BlobNotFound:
            pass
        data = make()

        def keep() -> None:
            store.put(key, data, content_type=self.content_type)
            if still_current is not None and not still_current():
                store.delete(key)

        if not _later_on_sqlite(keep):
            keep()
        return data

    def cached(self, app, group: str) -> list[str]:
        """Return the keys of a group's cached files."""
        return [info.key for info in blob_store(app).list(self.group_prefix(group))]

    def drop(self, app, group: str) -> int:
        """Delete a group's cached files from the store every node reads; return how many."""
        return blob_store(app).delete_prefix(self.group_prefix(group))

    def drop_all(self, app) -> int:
        """Delete every file of this cache; return how many."""
        return blob_store(app).delete_prefix(self.prefix)


def _later_on_sqlite(keep: Callable[[], None]) -> bool:
    """On SQLite, while this thread's session holds the one write lock, keep the file once it lets go.

    Every SQLite transaction of the portal takes the write lock (``BEGIN IMMEDIATE``), so a store
    writing on a connection of its own would wait for this thread's own request forever. A cached
    file can wait: it is stored when the request's transaction ends. Return whether it was deferred.
    """
    from flask import has_app_context
    from sqlalchemy import event

    from portal.extensions import db

    if not has_app_context() or db.engine.dialect.name != "sqlite" or not db.session.registry.has():
        return False
    session = db.session()
    if not session.in_transaction():
        return False
    session.info.setdefault(_PENDING, []).append(keep)
    if not session.info.get(_LISTENING):
        event.listen(session, "after_transaction_end", _keep_pending)
        session.info[_LISTENING] = True
    return True


_PENDING, _LISTENING = "portal.storage.cache.pending", "portal.storage.cache.listening"


def _keep_pending(session, transaction) -> None:
    if transaction.parent is not None:
        return
    for keep in session.info.pop(_PENDING, []):
        try:
            keep()
        except Exception:  # a cache: the next download makes the file again
            log.exception("could not keep a cached file")


#: The PDFs of single cards (downloads by HR, officials and workers), one group per serial.
PASS_PDFS = FileCache("pass-pdf", "application/pdf")


def purge(app) -> tuple[int, int]:
    """Delete every cached file of every cache; return (files, bytes) deleted."""
    store = blob_store(app)
    found = list(store.list(ROOT))
    deleted = store.delete_prefix(ROOT) if found else 0
    return deleted, sum(info.size for info in found)
