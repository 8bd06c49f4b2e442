"""How much of the workers' vaccination the health registry confirmed, per unit and sector: now, and day by day.

A worker counts as *confirmed* when every dose HR declared is the registry's (``provenance ==
"confirmed"``), among the active workers with a declared dose; *conflicting* counts the active
workers with any fact (a dose, the recovery, the test) the registry holds differently. Everything is
counted in SQL: one grouped statement, whatever the number of workers.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, func, or_, select, true, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from portal import clock
from portal.enterprises.models import Enterprise
from portal.health.models import HealthShareDay
from portal.health.provenance import CONFIRMED, CONFLICTING
from portal.workers.models import VaccineDose, Worker


@dataclass(frozen=True)
class Share:
    """The counts of one unit's sector (or, summed, of any group): workers with a dose, confirmed, conflicting."""

    unit_id: int | None
    sector: str | None
    workers_with_dose: int
    confirmed: int
    conflicting: int

    @property
    def share(self) -> float | None:
        """Return the confirmed share (0 to 1), or None when no worker has a dose."""
        return self.confirmed / self.workers_with_dose if self.workers_with_dose else None


def summed(shares, *, unit_id=None, sector=None) -> Share:
    """Add ``shares`` up into one."""
    shares = list(shares)
    return Share(unit_id, sector, sum(s.workers_with_dose for s in shares), sum(s.confirmed for s in shares),
                 sum(s.conflicting for s in shares))


def _unit_filter(column, unit_id: int | None):
    return column == unit_id if unit_id is not None else true()


def share_now(session, unit_id: int | None = None) -> list[Share]:
    """Count, per unit and sector, the active workers with a dose, those confirmed and those conflicting now.

    ``unit_id`` limits the count to one unit (None: the whole city). Erased workers are not counted.
    """
    doses = (select(VaccineDose.worker_id,
                    func.count().filter(VaccineDose.provenance != CONFIRMED).label("unconfirmed"),
                    func.count().filter(VaccineDose.provenance == CONFLICTING).label("conflicting"))
             .group_by(VaccineDose.worker_id).subquery())
    conflicting = or_(doses.c.conflicting > 0, Worker.recovery_provenance == CONFLICTING,
                      Worker.test_provenance == CONFLICTING)
    query = (select(Enterprise.unit_id, Enterprise.sector,
                    func.count(doses.c.worker_id),
                    func.count(doses.c.worker_id).filter(doses.c.unconfirmed == 0),
                    func.count().filter(conflicting))
             .select_from(Worker)
             .join(Enterprise, Enterprise.id == Worker.enterprise_id)
             .outerjoin(doses, doses.c.worker_id == Worker.id)
             .where(Worker.active.is_(True), Worker.erased_at.is_(None), _unit_filter(Enterprise.unit_id, unit_id))
             .group_by(Enterprise.unit_id, Enterprise.sector)
             .order_by(Enterprise.unit_id, Enterprise.sector))
    return [Share(*row) for row in session.execute(query)]


def record_share(session, now: datetime | None = None, *, unit_id: int | None = None) -> date:
    """Write today's (HCMC) counts per unit and sector, replacing those written earlier today; return the day.

    ``unit_id`` rewrites only that unit's rows (a conflict accepted changes one worker). The caller commits.
    On a day workers were erased (``portal privacy erase``) nothing is written: the erased workers' doses are
    gone, and the day's record must stay as it was before the erase, as every figure of the report does.
    """
    day = clock.local_today(now)
    erased_today = select(Worker.id).where(Worker.erased_at >= clock.start_of_local_day(day)).limit(1)
    if session.scalar(erased_today) is not None:
        return day
    table = HealthShareDay.__table__
    shares = share_now(session, unit_id)
    kept = [(share.unit_id, share.sector) for share in shares]
    stale = delete(table).where(table.c.day == day, _unit_filter(table.c.unit_id, unit_id))
    if kept:
        stale = stale.where(tuple_(table.c.unit_id, table.c.sector).not_in(kept))
    session.execute(stale)
    if not shares:
        return day
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).values([
        {"day": day, "unit_id": share.unit_id, "sector": share.sector, "workers_with_dose": share.workers_with_dose,
         "confirmed": share.confirmed, "conflicting": share.conflicting, "recorded_at": clock.utcnow()}
        for share in shares])
    # Two matches writing the same day at once: the later one's counts stand, no unique violation.
    session.execute(statement.on_conflict_do_update(
        index_elements=["day", "unit_id", "sector"],
        set_={name: statement.excluded[name]
              for name in ("workers_with_dose", "confirmed", "conflicting", "recorded_at")}))
    return day


def share_recorded(session, first: date, last: date, unit_id: int | None = None) -> tuple[date | None, list[Share]]:
    """Return the last day from ``first`` to ``last`` with a record (of ``unit_id``, or of any unit) and that
    day's counts per unit and sector; (None, []) when nothing was recorded in the period.

    The evaluation report shows these, not a count made now: what was recorded stays as it was (an erase
    at the end of the pilot removes the doses a count made now would need).
    """
    table = HealthShareDay
    day = session.scalar(select(func.max(table.day)).where(table.day.between(first, last),
                                                           _unit_filter(table.unit_id, unit_id)))
    if day is None:
        return None, []
    rows = session.execute(select(table.unit_id, table.sector, table.workers_with_dose, table.confirmed,
                                  table.conflicting)
                           .where(table.day == day, _unit_filter(table.unit_id, unit_id))
                           .order_by(table.unit_id, table.sector))
    return day, [Share(*row) for row in rows]


def share_days(session, first: date, last: date, unit_id: int | None = None) -> dict[date, Share]:
    """Return the recorded counts of each day from ``first`` to ``last`` (days never recorded are missing),
    summed over the units (or of ``unit_id``) and their sectors."""
    table = HealthShareDay
    query = (select(table.day, func.sum(table.workers_with_dose), func.sum(table.confirmed),
                    func.sum(table.conflicting))
             .where(table.day.between(first, last), _unit_filter(table.unit_id, unit_id))
             .group_by(table.day).order_by(table.day))
    return {day: Share(unit_id, None, int(with_dose), int(confirmed), int(conflicting))
            for day, with_dose, confirmed, conflicting in session.execute(query)}
