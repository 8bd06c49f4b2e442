"""Checkpoint scans counted per Ho Chi Minh City day: live for today, from a roll-up once a day is closed."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Date, cast, delete, func, insert, literal, literal_column, select, type_coerce
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import clock
from portal.dashboard.models import ScanDailyCount, ScanDay
from portal.dashboard.tally import ScanKey, Tally
from portal.verify.models import VerificationRecord

if TYPE_CHECKING:
    from portal.dashboard.scope import Scope

#: A day's scans are rolled up once it has been over this long (late writes of its last second land first).
SCAN_GRACE = timedelta(minutes=15)

# Ho Chi Minh City has kept UTC+7, without daylight saving, since 1975: one offset fits every
# instant the pilot stores, so SQLite (which knows no time zones) can shift by it.
_SQLITE_OFFSET = f"'+{clock.HCMC.utcoffset(datetime(2021, 9, 15)).total_seconds() // 60:.0f} minutes'"


def local_day_of(column, dialect: str):
    """Return a SQL expression for the HCMC calendar day of the UTC instant in ``column``."""
    if dialect == "postgresql":
        expression = cast(func.timezone(literal_column(f"'{clock.HCMC.key}'"), column), Date)
    else:
        expression = func.date(column, literal_column(_SQLITE_OFFSET))
    return type_coerce(expression, Date)


def days_between(first: date, last: date) -> list[date]:
    """Return the local days from ``first`` to ``last``, both included."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def last_closed_day(now: datetime) -> date:
    """Return the last local day whose scans are final (it ended more than SCAN_GRACE ago)."""
    return clock.local_today(now - SCAN_GRACE) - timedelta(days=1)


def scan_counts(session: Session, scope: Scope, first_day: date, last_day: date, now: datetime, *,
                by_sector: bool = False) -> Tally:
    """Count scans per local day, unit, outcome (and sector): closed days from the roll-up, the rest live."""
    closed = last_closed_day(now)
    counts = Tally()
    if first_day <= min(last_day, closed):
        ensure_scan_rollup(session, first_day, min(last_day, closed), now)
        daily = ScanDailyCount
        sector = daily.sector if by_sector else literal_column("NULL").label("sector")
        query = (select(daily.day, daily.unit_id, sector, daily.outcome, func.sum(daily.scans).label("scans"))
                 .where(daily.day.between(first_day, min(last_day, closed)), scope.where(daily.unit_id))
                 .group_by(daily.day, daily.unit_id, *([daily.sector] if by_sector else []), daily.outcome))
        _add_scans(counts, session.connection().execute(query))
    # Today (and, just after midnight, yesterday) is counted live, one day at a time: a day's range
    # of the (at, unit_id, outcome, sector) index, without computing a local date per scan.
    for day in days_between(max(first_day, closed + timedelta(days=1)), last_day):
        query = _day_scans(clock.start_of_local_day(day), clock.end_of_local_day(day), day, by_sector=by_sector)
        _add_scans(counts, session.connection().execute(query.where(scope.where(VerificationRecord.unit_id))))
    return counts


def _day_scans(start: datetime, end: datetime, day: date, *, by_sector: bool):
    record = VerificationRecord
    sector = [record.sector] if by_sector else []
    return (select(literal(day, Date).label("day"), record.unit_id,
                   *(sector or [literal_column("NULL").label("sector")]), record.outcome, func.count())
            .where(record.at >= start, record.at < end)
            .group_by(record.unit_id, *sector, record.outcome))


def _add_scans(counts: Tally, rows) -> None:
    # Core rows on the session's connection: a month of counts needs no ORM row processing.
    for day, unit_id, sector, outcome, scans in rows:
        counts[ScanKey(day, unit_id, sector, outcome)] += int(scans)


def _grouped_scans(session: Session, start: datetime, end: datetime):
    record = VerificationRecord
    day = local_day_of(record.at, session.get_bind().dialect.name).label("day")
    return (select(day, record.unit_id, record.sector, record.outcome, func.count().label("scans"))
            .where(record.at >= start, record.at < end)
            .group_by("day", record.unit_id, record.sector, record.outcome))


def ensure_scan_rollup(session: Session, first_day: date, last_day: date, now: datetime) -> int:
    """Count the closed days in the range not counted yet (one INSERT … SELECT); return how many days."""
    counted = set(session.scalars(select(ScanDay.day).where(ScanDay.day.between(first_day, last_day))))
    missing = [day for day in days_between(first_day, last_day) if day not in counted]
    if not missing:
        return 0
    low, high = missing[0], missing[-1]
    try:
        with session.begin_nested():
            session.execute(delete(ScanDailyCount).where(ScanDailyCount.day.between(low, high)))
            session.execute(delete(ScanDay).where(ScanDay.day.between(low, high)))
            query = _grouped_scans(session, clock.start_of_local_day(low), clock.end_of_local_day(high))
            session.execute(insert(ScanDailyCount).from_select(
                ["day", "unit_id", "sector", "outcome", "scans"], query))
            session.execute(insert(ScanDay), [{"day": day, "counted_at": now} for day in days_between(low, high)])
    except IntegrityError:
        # Another request counted the same days at the same moment; its counts are as good.
        pass
    return len(days_between(low, high))


def recount_scans(session: Session, first_day: date, last_day: date, now: datetime) -> int:
    """Forget and recount the roll-up of closed days in the range; return how many days were counted."""
    last_day = min(last_day, last_closed_day(now))
    if first_day > last_day:
        return 0
    session.execute(delete(ScanDay).where(ScanDay.day.between(first_day, last_day)))
    return ensure_scan_rollup(session, first_day, last_day, now)


