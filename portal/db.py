"""Column types and engine settings shared by every model."""
from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import DateTime, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Store an aware datetime as UTC; always hand back an aware UTC datetime.

    SQLite keeps no zone, PostgreSQL keeps ``timestamptz``; both come back the same way.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use portal.clock.utcnow()")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """Turn on WAL, foreign keys and a busy timeout for every SQLite connection."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # pysqlite's own transaction handling defers BEGIN; take control so that
        # writers start with BEGIN IMMEDIATE and never deadlock on lock upgrade.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        if engine.url.database not in (None, "", ":memory:"):
            from portal.security import restrict

            for suffix in ("", "-wal", "-shm"):  # a file made before the portal's umask: owner-only now
                restrict(engine.url.database + suffix, 0o600)
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # A connection asked for AUTOCOMMIT (single reads on hot paths) takes no lock at all. A read-only
        # request (GET, HEAD, OPTIONS: a GET never writes) begins DEFERRED, so that a long page never holds
        # the write lock a sign-in waits for; everything else takes the write lock at BEGIN (IMMEDIATE),
        # so that writers queue at BEGIN instead of failing to upgrade a read snapshot.
        if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            connection.exec_driver_sql("BEGIN" if reads_only() else "BEGIN IMMEDIATE")


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_READS, _WRITES = "portal_reads_only", "portal_writes"


def mark_read_only_requests(app) -> None:
    """Note, before anything else a request does, that a GET, HEAD or OPTIONS request only reads.

    A hook rather than a look at ``request.method`` wherever a transaction begins: code run in a
    request context that is not a served request (a test's ``test_request_context``, a job) writes.
    """
    from flask import g, request

    def _note():
        if request.method in READ_METHODS:
            g.setdefault(_READS, True)

    app.before_request_funcs.setdefault(None, []).insert(0, _note)


def reads_only() -> bool:
    """Say whether the current transaction belongs to a served request that only reads (:func:`write_transaction`)."""
    from flask import g, has_request_context

    return has_request_context() and bool(g.get(_READS)) and not g.get(_WRITES)


@contextmanager
def write_transaction():
    """Make transactions begun inside the block take SQLite's write lock at BEGIN, even in a GET.

    For the few records a GET keeps (an API token's last use): roll back the reading transaction
    first, then read again and write inside the block, so that the write never upgrades a read
    snapshot (which SQLite refuses with "database is locked" when another writer came between).
    """
    from flask import g, has_request_context

    if not has_request_context():
        yield
        return
    before = g.get(_WRITES)
    g.setdefault(_WRITES, True)
    try:
        yield
    finally:
        if not before:
            g.pop(_WRITES, None)


def utc(dt: datetime) -> datetime:
    """Return ``dt`` as an aware UTC datetime."""
    return dt.astimezone(UTC)


log = logging.getLogger(__name__)
_AFTER_COMMIT = "portal.after_commit"
_LISTENING = "portal.after_commit.listening"


def after_commit(session, callback: Callable[[], None]) -> None:
    """Run ``callback`` once ``session``'s current transaction commits; drop it on rollback.

    Callbacks run outside the transaction (they must not use ``session``); an exception in one is
    logged and does not stop the others, since the data is already committed.
    """
    real: Session = session() if isinstance(session, scoped_session) else session
    if not real.in_transaction():
        real.begin()  # tie the callback to a transaction, so that a rollback drops it
    real.info.setdefault(_AFTER_COMMIT, []).append(callback)
    if not real.info.get(_LISTENING):
        event.listen(real, "after_commit", _run_after_commit)
        event.listen(real, "after_transaction_end", _drop_after_rollback)
        real.info[_LISTENING] = True


def _run_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released: the outer transaction may still roll back
    callbacks = session.info.pop(_AFTER_COMMIT, [])
    for callback in callbacks:
        try:
            callback()
        except Exception:  # the commit stands; a failed follow-up must not turn it into an error
            log.exception("after-commit callback %r failed", callback)


def _drop_after_rollback(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_AFTER_COMMIT, None)
