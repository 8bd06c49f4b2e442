"""The checkpoint's own database connections: one per thread, kept open, each statement its own transaction.

A scan is one read (the pass, its holder, enterprise and unit) and one write (its record), both on
the hot path of every checkpoint. Through the ORM and the pool they cost about ten times what the
database itself spends (a checkout, a pre-ping round trip on PostgreSQL, the reset on return), so
each thread keeps a DBAPI connection of the app's engine in autocommit and sends the two statements,
compiled once, straight to the driver.

The record is committed before the answer leaves (an answered scan is never lost when a process is
killed). On PostgreSQL this connection commits with ``synchronous_commit = off``: the commit is
acknowledged before the WAL reaches the disk, so a crash of the database server itself may lose the
records of its last moments (see bench/verify_records.py), never consistency. Reads always see the
latest committed state: a revocation counts from the scan after its commit.
"""
from __future__ import annotations

import logging
import os
import threading
import time

from sqlalchemy import event
from sqlalchemy.engine import Engine

from portal.verify import services
from portal.verify.services import FIND_PASS, FIND_PRINTED_ROUTE, RECORD, PassState

log = logging.getLogger(__name__)


class ScanStore:
    """Reads pass states and writes scan records for the checkpoint views of one app."""

    def __init__(self, engine: Engine, busy_timeout: float = 10.0) -> None:
        self.engine = engine
        self.busy_timeout = busy_timeout
        dialect = engine.dialect
        self.dialect = dialect.name
        self.errors = dialect.loaded_dbapi.Error
        self._find_sql, self._find_names = _compiled(FIND_PASS, dialect)
        self._route_sql, self._route_names = _compiled(FIND_PRINTED_ROUTE, dialect)
        self._record_sql, self._record_names = _compiled(RECORD.values(at=None, outcome=None, unit_id=None,
                                                                       sector=None), dialect)
        self._row_processors = [_result_processor(column.type, dialect) for column in FIND_PASS.selected_columns]
        table = RECORD.table
        self._record_processors = [_bind_processor(table.c[name].type, dialect) for name in self._record_names]
        self._scan_sql = self._correct_sql = None
        if self.dialect == "postgresql":
            table_name = table.name
            self._scan_sql = (
                f"WITH state AS ({self._find_sql}), "
                f"rec AS (INSERT INTO {table_name} (at, outcome, unit_id, sector) "
                "SELECT %(at)s, %(outcome)s, state.unit_id, state.sector FROM state RETURNING id) "
                "SELECT state.*, rec.id FROM state LEFT JOIN rec ON true")
            self._correct_sql = (f"UPDATE {table_name} SET outcome = %(outcome)s, unit_id = %(unit_id)s, "
                                 "sector = %(sector)s WHERE id = %(id)s")
        self._local = threading.local()
        self._open: set = set()
        self._lock = threading.Lock()
        event.listen(engine, "engine_disposed", self._close_all)

    # -- a scan -----------------------------------------------------------------

    def scan(self, payload, now) -> services.Verification:
        """Judge the genuine token ``payload`` at ``now`` against its pass and commit the scan's record.

        On PostgreSQL the read and the record travel in one statement (a round trip saved on every scan):
        the record is written with the outcome the token's own dates and windows give, and corrected
        by a second statement only when the database says otherwise (revoked, superseded, unknown). The
        read sees the state committed when the statement starts: a revocation counts at once.
        """
        if self._scan_sql is None:
            result = services.judge(self.find_pass(payload.serial), payload, now)
            self.record(result.record_row())
            return services.with_printed_route(result, self)
        guess = services.token_outcome(payload, now).value
        row = self._run(self._scan_sql, {"serial": payload.serial, "at": now, "outcome": guess}, fetch=True)
        state = self._state(row[:-1]) if row is not None else None
        result = services.judge(state, payload, now)
        record = result.record_row()
        if row is None or row[-1] is None:
            self.record(record)
        elif (record["outcome"], record["unit_id"], record["sector"]) != (guess, state.unit_id, state.sector):
            self._run(self._correct_sql, {**record, "id": row[-1]}, fetch=False)
        return services.with_printed_route(result, self)

    # -- the statements ---------------------------------------------------------

    def find_pass(self, serial: str) -> PassState | None:
        """Return the state of pass ``serial`` as committed now, or None."""
        row = self._run(self._find_sql, self._params(self._find_names, {"serial": serial}), fetch=True)
        return self._state(row) if row is not None else None

    def find_printed_route(self, serial: str, version: int) -> tuple[str, str] | None:
        """Return the route printed on version ``version`` of card ``serial`` (a superseded card), or None."""
        row = self._run(self._route_sql, self._params(self._route_names, {"serial": serial, "version": version}),
                        fetch=True)
        return (row[0], row[1]) if row is not None else None

    def _state(self, row) -> PassState:
        return PassState(*(value if process is None else process(value)
                           for value, process in zip(row, self._row_processors, strict=True)))

    def record(self, row: dict) -> None:
        """Commit one scan record (outcome, time, unit, sector)."""
        values = [row[name] if process is None else process(row[name])
                  for name, process in zip(self._record_names, self._record_processors, strict=True)]
        self._run(self._record_sql, values if self._positional else dict(zip(self._record_names, values,
                                                                             strict=True)), fetch=False)

    # -- connections ------------------------------------------------------------

    @property
    def _positional(self) -> bool:
        return self.engine.dialect.positional

    def _params(self, names, values: dict):
        return [values[name] for name in names] if self._positional else values

    def _run(self, sql: str, params, *, fetch: bool):
        for attempt in (1, 2):
            connection = self._connection()
            try:
                return _execute(connection, sql, params, fetch=fetch)
            except self.errors as error:
                if self.dialect == "sqlite":
                    return self._run_sqlite_busy(connection, sql, params, fetch=fetch, error=error)
                # A connection the server dropped (restart, failover) is replaced once, at once.
                if attempt == 2:
                    raise
                log.warning("checkpoint database connection lost (%s); reconnecting", error)
                self._discard()
        raise AssertionError("unreachable")

    def _run_sqlite_busy(self, connection, sql: str, params, *, fetch: bool, error):
        # Two processes writing records collide often; SQLite's own busy handler then sleeps whole
        # milliseconds (1, 2, 5, 10 ...). A write holds the lock for some 50 µs: try again sooner.
        deadline = time.monotonic() + self.busy_timeout
        pause = 50e-6
        while "locked" in str(error) or "busy" in str(error):
            if time.monotonic() > deadline:
                raise error
            time.sleep(pause)
            pause = min(pause * 2, 0.005)
            try:
                return _execute(connection, sql, params, fetch=fetch)
            except self.errors as again:
                error = again
        raise error

    def _connection(self):
        local = self._local
        connection = getattr(local, "connection", None)
        if connection is None or local.pid != os.getpid():
            connection = self._connect()
        return connection

    def _connect(self):
        # Through the engine's pool so that its connect events (SQLite's pragmas) run, then taken out of it:
        # the connection belongs to this thread and never waits in or for the pool.
        fairy = self.engine.raw_connection()
        connection = fairy.driver_connection
        fairy.detach()
        if self.dialect == "postgresql":
            connection.autocommit = True
            connection.execute("SET synchronous_commit TO OFF")
        elif self.dialect == "sqlite":
            connection.isolation_level = None  # each statement commits by itself
            connection.execute("PRAGMA busy_timeout = 0")  # waits are handled by _run_sqlite_busy
        self._local.connection, self._local.fairy, self._local.pid = connection, fairy, os.getpid()
        with self._lock:
            self._open.add(fairy)
        return connection

    def _discard(self) -> None:
        fairy = getattr(self._local, "fairy", None)
        self._local.connection = self._local.fairy = None
        if fairy is not None:
            with self._lock:
                self._open.discard(fairy)
            _close_quietly(fairy)

    def _close_all(self, *_args) -> None:
        """Close every connection this store opened in this process (the engine was disposed)."""
        with self._lock:
            fairies, self._open = list(self._open), set()
        for fairy in fairies:
            _close_quietly(fairy)
        self._local = threading.local()


def _execute(connection, sql: str, params, *, fetch: bool):
    """Send one statement on ``connection``; return its first row when ``fetch``."""
    cursor = connection.cursor()
    try:
        cursor.execute(sql, params)
        return cursor.fetchone() if fetch else None
    finally:
        cursor.close()


def _close_quietly(fairy) -> None:
    try:
        fairy.close()  # detached: this closes the DBAPI connection itself
    except Exception:  # noqa: BLE001  (closing a connection that is already gone)
        pass


def _compiled(statement, dialect) -> tuple[str, list[str]]:
    compiled = statement.compile(dialect=dialect)
    names = list(compiled.positiontup) if dialect.positional else list(compiled.params)
    return str(compiled), names


def _result_processor(type_, dialect):
    return type_.dialect_impl(dialect).result_processor(dialect, None)


def _bind_processor(type_, dialect):
    return type_.dialect_impl(dialect).bind_processor(dialect)


def scan_store(app) -> ScanStore:
    """Return the app's scan store (made on first use)."""
    from portal.extensions import db

    store = app.extensions.get("portal.scan_store")
    if store is None:
        with app.app_context():
            store = app.extensions["portal.scan_store"] = ScanStore(
                db.engine, busy_timeout=app.config.get("SQLITE_BUSY_TIMEOUT_MS", 10_000) / 1000)
    return store
