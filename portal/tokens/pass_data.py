"""Read what a Pass row carries in the forms the token, the card and the checkpoint use."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from portal.clock import local
from portal.plugins.types import CommuteWindow


def parse_windows(items) -> tuple[CommuteWindow, ...]:
    """Return the windows stored as ``[{"start": "06:30", "end": "08:00", "direction": "to_work"}, ...]``."""
    return tuple(
        CommuteWindow(time.fromisoformat(item["start"]), time.fromisoformat(item["end"]),
                      item.get("direction") or "to_work")
        for item in items or ()
    )


def pass_windows(pass_) -> tuple[CommuteWindow, ...]:
    """Return the daily windows of ``pass_``."""
    return parse_windows(pass_.windows)


def valid_days(pass_) -> tuple[date, date]:
    """Return the first and the last local day ``pass_`` is valid (both inclusive).

    ``valid_until`` is exclusive (the local midnight after the last day), so the last day is the
    local day of the instant just before it.
    """
    return local(pass_.valid_from).date(), local(pass_.valid_until - timedelta(microseconds=1)).date()


def timing(valid_from: datetime, valid_until: datetime, windows, now: datetime) -> str:
    """Say whether ``now`` is inside the validity (``valid_until`` exclusive) and one of the daily windows.

    Return "valid", "outside_window", "not_yet_valid" or "expired". Windows are compared in HCMC
    local time to the second, both ends included. The checkpoint and the offline ``portal verify``
    both judge by this.
    """
    if now < valid_from:
        return "not_yet_valid"
    if now >= valid_until:
        return "expired"
    moment = local(now).time()
    if any(window.contains(moment) for window in windows):
        return "valid"
    return "outside_window"
