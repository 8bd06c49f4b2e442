"""Write checkpoint verification records in batches, off the scan's hot path.

Each scan must be counted (the pilot is evaluated on them) but nobody reads a record back during
the scan, so a process keeps them in memory for at most ``VERIFY_RECORD_DELAY`` seconds (or
``VERIFY_RECORD_BATCH`` rows) and inserts them together in one short transaction. A crash loses at
most that last second of statistics, never a verification answer. With a delay of 0 (the test
suite's setting) every record is written during its request.
"""
from __future__ import annotations

import atexit
import logging
import threading
import time

from sqlalchemy import insert

from portal.verify.models import VerificationRecord

log = logging.getLogger(__name__)


class ScanRecorder:
    """A per-process buffer of verification rows, flushed by size, by age and at exit."""

    def __init__(self, app, *, delay: float, batch: int) -> None:
        self.app = app
        self.delay = delay
        self.batch = batch
        self._rows: list[dict] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        atexit.register(self.flush)

    def add(self, row: dict) -> None:
        """Queue one verification row; write the batch at once when it is full."""
        with self._lock:
            self._rows.append(row)
            full = len(self._rows) >= self.batch
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="scan-recorder", daemon=True)
                self._thread.start()
        if full:
            self.flush()

    def flush(self) -> int:
        """Insert every queued row in one transaction; return how many were written."""
        with self._lock:
            rows, self._rows = self._rows, []
        if not rows:
            return 0
        from portal.extensions import db

        try:
            with self.app.app_context(), db.engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
                connection.execute(insert(VerificationRecord.__table__), rows)
        except Exception:  # noqa: BLE001  (statistics must never break scanning; keep them for next time)
            log.exception("could not write %d verification records; keeping them", len(rows))
            with self._lock:
                self._rows[:0] = rows
            return 0
        return len(rows)

    def _run(self) -> None:
        while True:
            time.sleep(self.delay)
            self.flush()


def recorder_for(app) -> ScanRecorder | None:
    """Return the app's batching recorder, or None when records are written in the request."""
    delay = app.config["VERIFY_RECORD_DELAY"]
    if not delay:
        return None
    recorder = app.extensions.get("portal.scan_recorder")
    if recorder is None:
        recorder = app.extensions["portal.scan_recorder"] = ScanRecorder(
            app, delay=float(delay), batch=int(app.config["VERIFY_RECORD_BATCH"]))
    return recorder
