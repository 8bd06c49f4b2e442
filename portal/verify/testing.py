"""Pass rows for tests and benches of tokens, printing and verification (the real issuance is in passes/)."""
from __future__ import annotations

import hashlib
from datetime import date, timedelta

from portal.clock import end_of_local_day, local_today, start_of_local_day
from portal.passes.models import Pass

DEFAULT_WINDOWS = (
    {"start": "06:30", "end": "08:00", "direction": "to_work"},
    {"start": "16:30", "end": "18:00", "direction": "to_home"},
)


def make_pass(session, worker, *, serial: str | None = None, version: int = 1, first_day: date | None = None,
              last_day: date | None = None, windows=DEFAULT_WINDOWS, status: str = "active") -> Pass:
    """Add a pass of ``worker`` valid from ``first_day`` to ``last_day`` (local days, both inclusive)."""
    enterprise = worker.enterprise
    first_day = first_day or local_today() - timedelta(days=1)
    last_day = last_day or first_day + timedelta(days=180)
    serial = serial or f"{enterprise.unit.short_code}-{worker.id:010d}"
    pass_ = Pass(
        serial=serial, version=version, worker=worker, enterprise=enterprise, unit=enterprise.unit,
        valid_from=start_of_local_day(first_day), valid_until=end_of_local_day(last_day), windows=list(windows),
        route_from=f"{worker.home_ward}, {worker.home_district}",
        route_to=", ".join((enterprise.address, enterprise.ward, enterprise.district)),
        content_digest=hashlib.sha256(f"{serial}|{version}".encode()).hexdigest(), status=status,
    )
    session.add(pass_)
    session.flush()
    return pass_


#: Windows covering every second of the day (the second crosses midnight, so 23:59:59 is inside).
ALL_DAY = (
    {"start": "00:00", "end": "23:59", "direction": "to_work"},
    {"start": "23:59", "end": "00:00", "direction": "to_home"},
)
