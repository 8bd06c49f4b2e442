"""Column types and engine settings shared by every model."""
from __future__ import annotations

import logging
from collections.abc import Callable
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
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # A connection asked for AUTOCOMMIT (single reads on hot paths) takes no lock at all.
        if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            connection.exec_driver_sql("BEGIN IMMEDIATE")


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
