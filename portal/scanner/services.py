"""The offline scanner's server side: the compact revocation list and the offline scan counts.

The list is the one :func:`portal.verify.services.revocation_list` defines (what is revoked or
superseded is decided there, once), packed for phones: sorted serials, a list version and deltas.
See docs/token-format.md for the format a phone reads.
"""
from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.clock import local_today, utcnow
from portal.messages import Refusal
from portal.scanner.models import OfflineScanUpload

LIST_FORMAT = 1
#: A delta repeats the changes made this long before the version it starts from, so a change whose
#: transaction committed after a later one (its time is earlier) is never missed; entries are
#: idempotent, so the phone applies the repeats harmlessly.
DELTA_OVERLAP = timedelta(minutes=10)
#: A phone whose list is older than this gets the whole list again (which also drops expired cards).
DELTA_HORIZON = timedelta(hours=36)

# -- offline counts: what one request may add ------------------------------------------------------
MAX_BUCKETS = 200
MAX_SCANS_PER_BUCKET = 2_000
MAX_SCANS_PER_BATCH = 5_000
#: A phone may send counts this long after the scans (a week without network at a remote checkpoint).
MAX_COUNT_AGE = timedelta(days=7)
#: Phones' clocks run ahead; an hour bucket may start this far after the portal's now.
MAX_CLOCK_AHEAD = timedelta(minutes=60)
HOUR = 3600
_BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


# ---------------------------------------------------------------------------
# The compact revocation list
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ListEntry:
    """One listed card: its serial, the current version (superseded) or revoked, and when that changed."""

    serial: str
    revoked: bool
    version: int
    changed_ms: int


@dataclass(frozen=True)
class CompactList:
    """Every listed card, sorted by serial, with the list's version (its newest change, ms since 1970)."""

    entries: tuple[ListEntry, ...]
    version: int

    def document(self, since: int | None = None) -> dict:
        """Return the JSON a phone loads: the whole list, or the changes since its version ``since``."""
        full = since is None or since > self.version or since < self.version - _ms(DELTA_HORIZON)
        floor = -1 if full else since - _ms(DELTA_OVERLAP)
        chosen = [entry for entry in self.entries if entry.changed_ms > floor]
        return {
            "format": LIST_FORMAT,
            "version": self.version,
            "full": full,
            "since": None if full else since,
            "revoked": [entry.serial for entry in chosen if entry.revoked],
            "superseded": [[entry.serial, entry.version] for entry in chosen if not entry.revoked],
        }


def _ms(value: datetime | timedelta) -> int:
    if isinstance(value, timedelta):
        return int(value.total_seconds() * 1000)
    return int(value.timestamp() * 1000)


def compact_list(document: Mapping) -> CompactList:
    """Pack verify's revocation list (``revocation_list()``'s document) for phones."""
    entries = [ListEntry(item["serial"], True, int(item["version"]), _changed_ms(item.get("revoked_at")))
               for item in document.get("revoked", ())]
    entries += [ListEntry(item["serial"], False, int(item["current_version"]), _changed_ms(item.get("changed_at")))
                for item in document.get("superseded", ())]
    entries.sort(key=lambda entry: entry.serial)
    return CompactList(tuple(entries), max((entry.changed_ms for entry in entries), default=0))


def _changed_ms(text: str | None) -> int:
    # A row without a time (never expected) is treated as changed just now: every delta carries it.
    return _ms(datetime.fromisoformat(text)) if text else _ms(utcnow())


class ListCache:
    """The packed list of one process, rebuilt when older than ``ttl`` seconds.

    Every phone asks for the list whenever it is online; building it reads every listed card, so one
    process builds it at most once per ``ttl`` and answers everyone from that. Nothing else depends on
    it: another process builds its own.
    """

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._built_at = float("-inf")
        self._list: CompactList | None = None

    def get(self, session: Session) -> CompactList:
        from portal.verify.services import revocation_list

        now = time.monotonic()
        if self._list is None or now - self._built_at >= self.ttl:
            self._list = compact_list(revocation_list(session))
            self._built_at = now
        return self._list


def parse_since(text: str | None) -> int | None:
    """Return the list version a phone has (``?since=``), None for the whole list; refuse anything else."""
    if text is None or text == "":
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 15:
        raise Refusal(_l("The list version must be a whole number."), field="since")
    return int(text)


# ---------------------------------------------------------------------------
# Offline scan counts
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class CountsReceived:
    scans: int
    buckets: int
    duplicate: bool = False

    def as_json(self) -> dict:
        return {"accepted": self.scans, "buckets": self.buckets, "duplicate": self.duplicate}


def known_outcomes() -> frozenset[str]:
    """Return the outcome codes a checkpoint can record (verify's, whatever it defines)."""
    from portal.verify.services import Outcome

    return frozenset(outcome.value for outcome in Outcome)


def record_offline_counts(session: Session, payload, *, units: Mapping[str, int], now: datetime | None = None,
                          outcomes: frozenset[str] | None = None) -> CountsReceived:
    """Add a phone's offline counts as verification records (outcome, hour, unit; never who).

    ``payload`` is the request's JSON: ``{"batch": id, "counts": [{"hour": epoch seconds, "unit": short
    code or null, "outcome": code, "scans": n}, ...]}``. ``units`` maps unit short codes to unit ids.
    All or nothing: one bad bucket refuses the batch. A batch already received adds nothing.
    The caller commits.
    """
    from portal.verify.models import VerificationRecord

    now = now or utcnow()
    batch_id, buckets = _read_counts(payload, units, now, outcomes or known_outcomes())
    if session.scalar(select(OfflineScanUpload.id).where(OfflineScanUpload.batch_id == batch_id)) is not None:
        return CountsReceived(0, 0, duplicate=True)
    hours = sorted(hour for hour, _unit, _outcome in buckets)
    total = sum(buckets.values())
    try:
        with session.begin_nested():
            session.add(OfflineScanUpload(batch_id=batch_id, received_at=now, scans=total, buckets=len(buckets),
                                          first_hour=hours[0], last_hour=hours[-1]))
            session.flush()
    except IntegrityError:  # the same batch, sent twice at the same moment: the other request has it
        return CountsReceived(0, 0, duplicate=True)
    rows = [{"at": hour, "outcome": outcome, "unit_id": units.get(unit) if unit else None, "sector": None}
            for (hour, unit, outcome), scans in buckets.items() for _ in range(scans)]
    session.execute(insert(VerificationRecord.__table__), rows)
    _recount_closed_days(session, set(hours), now)
    return CountsReceived(total, len(buckets))


def _read_counts(payload, units: Mapping[str, int], now: datetime,
                 outcomes: frozenset[str]) -> tuple[str, dict[tuple[datetime, str | None, str], int]]:
    if not isinstance(payload, dict) or set(payload) != {"batch", "counts"}:
        raise Refusal(_l("Send a JSON object with a batch id and its counts."))
    batch_id, counts = payload["batch"], payload["counts"]
    if not isinstance(batch_id, str) or not _BATCH_ID.match(batch_id):
        raise Refusal(_l("The batch id must be 16 to 64 letters, digits, '-' or '_'."), field="batch")
    if not isinstance(counts, list) or not 1 <= len(counts) <= MAX_BUCKETS:
        raise Refusal(_l("Send between 1 and %(max)s counts at a time.", max=MAX_BUCKETS), field="counts")
    oldest = now - MAX_COUNT_AGE
    newest = now + MAX_CLOCK_AHEAD
    buckets: dict[tuple[datetime, str | None, str], int] = {}
    for number, item in enumerate(counts, start=1):
        if not isinstance(item, dict) or set(item) != {"hour", "unit", "outcome", "scans"}:
            raise Refusal(_l("Count %(n)s: give exactly hour, unit, outcome and scans.", n=number), field="counts")
        hour, unit, outcome, scans = item["hour"], item["unit"], item["outcome"], item["scans"]
        if not _is_int(hour) or hour % HOUR:
            raise Refusal(_l("Count %(n)s: the hour must be the start of an hour, in seconds since 1970.",
                             n=number), field="counts")
        at = datetime.fromtimestamp(hour, UTC)
        if not oldest - timedelta(hours=1) < at <= newest:
            raise Refusal(_l("Count %(n)s: only scans of the last %(days)s days can be sent.", n=number,
                             days=MAX_COUNT_AGE.days), field="counts")
        if outcome not in outcomes:
            raise Refusal(_l("Count %(n)s: unknown outcome.", n=number), field="counts")
        # An invalid code tells nothing trustworthy, so it has no unit (as at the online checkpoint).
        if (outcome == "invalid" and unit is not None) or (outcome != "invalid" and unit not in units):
            raise Refusal(_l("Count %(n)s: unknown pilot unit.", n=number), field="counts")
        if not _is_int(scans) or not 1 <= scans <= MAX_SCANS_PER_BUCKET:
            raise Refusal(_l("Count %(n)s: scans must be between 1 and %(max)s.", n=number,
                             max=MAX_SCANS_PER_BUCKET), field="counts")
        key = (at, unit, outcome)
        buckets[key] = buckets.get(key, 0) + scans
    if sum(buckets.values()) > MAX_SCANS_PER_BATCH:
        raise Refusal(_l("At most %(max)s scans can be sent at a time.", max=MAX_SCANS_PER_BATCH), field="counts")
    return batch_id, buckets


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _recount_closed_days(session: Session, hours: set[datetime], now: datetime) -> None:
    """Make the dashboard count again the closed days these scans fall on (it rolls up each day once)."""
    from portal.clock import local
    from portal.dashboard.models import ScanDay

    days = {local(hour).date() for hour in hours}
    closed = [day for day in days if day < local_today(now)]
    if closed:
        session.execute(delete(ScanDay).where(ScanDay.day.in_(closed)))


def unit_ids(session: Session) -> dict[str, int]:
    """Return the id of every pilot unit by its short code (the code tokens carry)."""
    from portal.units.models import PilotUnit

    return {short_code: unit_id for unit_id, short_code in session.execute(select(PilotUnit.id, PilotUnit.short_code))}
