"""The pilot's figures for one scope: counts from the eligibility snapshot, the passes, the scan roll-up and the
health registry's confirmed share (:mod:`portal.health.share`).

Every count is a fixed number of SQL queries (range counts on the dashboard's indexes), whatever the
number of workers; nothing here evaluates a worker or writes a row.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache

from sqlalchemy import bindparam, case, func, select
from sqlalchemy.orm import Session

from portal import clock
from portal.dashboard.scans import days_between, scan_counts
from portal.dashboard.scope import Scope, scope_units
from portal.dashboard.tally import EligibilityKey, EnterpriseKey, PassKey, Tally, WorkerKey, total
from portal.eligibility.models import EligibilitySnapshot
from portal.eligibility.summaries import UnitFreshness, stale_rows, unit_freshness
from portal.enterprises.models import Enterprise
from portal.health.share import Share, share_days, share_now, share_recorded
from portal.passes.models import Pass, PassStatus, PassVersion, VersionEnd
from portal.plugins.registry import UnitRegistry
from portal.plugins.types import Basis
from portal.units.models import PilotUnit
from portal.workers.models import Worker

#: The dashboard's window of checkpoint scans, today included.
SCAN_DAYS = 30


@dataclass
class Figures:
    """Everything the dashboard and the report show for one scope."""

    scope: Scope
    units: list[PilotUnit]
    now: datetime
    first_day: date
    last_day: date
    enterprises: Tally = field(default_factory=Tally)
    workers: Tally = field(default_factory=Tally)
    eligibility: Tally = field(default_factory=Tally)
    passes: Tally = field(default_factory=Tally)
    pass_flows: Tally = field(default_factory=Tally)
    scans: Tally = field(default_factory=Tally)
    freshness: list[UnitFreshness] = field(default_factory=list)
    #: Per unit and sector now: workers with a dose, confirmed by the health registry, with a conflicting fact.
    confirmed: list[Share] = field(default_factory=list)
    #: The same counts as recorded on each day of the period, summed over the scope (days never recorded missing).
    confirmed_days: dict[date, Share] = field(default_factory=dict)
    #: Per unit and sector as recorded on the period's last recorded day (the report's figures), and that day.
    confirmed_recorded: list[Share] = field(default_factory=list)
    confirmed_recorded_on: date | None = None

    @property
    def today(self) -> date:
        return clock.local_today(self.now)

    @property
    def as_of(self) -> datetime | None:
        """Return when the oldest eligibility figure shown was evaluated."""
        times = [item.as_of for item in self.freshness if item.as_of is not None]
        return min(times) if times else None

    @property
    def stale_units(self) -> list[UnitFreshness]:
        return [item for item in self.freshness if item.stale]

    @property
    def days(self) -> list[date]:
        return days_between(self.first_day, self.last_day)


def collect_figures(session: Session, registry: UnitRegistry, scope: Scope, *, now: datetime, first_day: date,
                    last_day: date, by_sector: bool = False, flows: bool = False,
                    confirmed_now: bool = True) -> Figures:
    """Count everything in ``scope``; scans and (with ``flows``) pass events between the two local days.

    Eligibility is counted as last evaluated; ``figures.freshness`` says how current that is. The confirmed
    share is counted now only with ``confirmed_now`` (the dashboard); the report shows it as recorded.
    """
    figures = Figures(scope, scope_units(session, registry, scope), now, first_day, last_day)
    enterprises = _enterprise_map(session, scope)
    figures.enterprises = Tally(EnterpriseKey(unit_id, sector, status)
                                  for unit_id, sector, status in enterprises.values())
    sector_of = {eid: (unit_id, sector) for eid, (unit_id, sector, _s) in enterprises.items()}
    figures.workers = _worker_counts(session, figures, sector_of, by_sector)
    figures.eligibility = _eligibility_counts(session, figures, sector_of, by_sector)
    figures.freshness = [unit_freshness(session, unit, figures.today, _figures_counts(session, figures, unit.id))
                         for unit in figures.units]
    figures.passes = _pass_counts(session, figures, sector_of, by_sector, now)
    if flows:
        figures.pass_flows = _pass_flows(session, scope, sector_of, now, first_day, last_day)
    figures.scans = scan_counts(session, scope, first_day, last_day, now, by_sector=by_sector)
    if confirmed_now:
        figures.confirmed = share_now(session, scope.unit_id)
    figures.confirmed_days = share_days(session, first_day, last_day, scope.unit_id)
    figures.confirmed_recorded_on, figures.confirmed_recorded = share_recorded(session, first_day, last_day,
                                                                               scope.unit_id)
    return figures


def _enterprise_map(session: Session, scope: Scope) -> dict[int, tuple[int, str, str]]:
    table = Enterprise.__table__
    rows = session.connection().execute(select(table.c.id, table.c.unit_id, table.c.sector, table.c.status)
                                        .where(scope.where(table.c.unit_id)))
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


@cache
def _unit_worker_count_statement():
    in_unit = select(Enterprise.id).where(Enterprise.unit_id == bindparam("unit_id"))
    # "WHERE active", word for word the predicate of ix_workers_active_enterprise, so that both
    # databases recognise the partial index.
    return select(func.count()).select_from(Worker).where(Worker.active, Worker.enterprise_id.in_(in_unit))


def _worker_counts(session: Session, figures: Figures, sector_of: dict, by_sector: bool) -> Tally:
    counts = Tally()
    if not by_sector:
        # One indexed count per unit: cheaper than grouping 300,000 rows by enterprise.
        for unit in figures.units:
            count = session.execute(_unit_worker_count_statement(), {"unit_id": unit.id}).scalar()
            counts[WorkerKey(unit.id, None)] = count
        return counts
    query = select(Worker.enterprise_id, func.count()).where(Worker.active).group_by(Worker.enterprise_id)
    if figures.scope.unit is not None:
        in_unit = select(Enterprise.id).where(Enterprise.unit_id == figures.scope.unit_id)
        query = query.where(Worker.enterprise_id.in_(in_unit))
    for enterprise_id, count in session.execute(query):
        counts[WorkerKey(*sector_of[enterprise_id])] += count
    return counts


_ELIGIBILITY_CASES = [(eligible, basis.value) for eligible in (True, False) for basis in Basis]


@cache
def _unit_eligibility_statement():
    """One row of range counts on (unit_id, eligible, basis): no grouping of a unit's every row."""
    snapshot = EligibilitySnapshot
    return select(*[
        select(func.count()).select_from(snapshot)
        .where(snapshot.unit_id == bindparam("unit_id"), snapshot.eligible.is_(eligible), snapshot.basis == basis)
        .scalar_subquery()
        for eligible, basis in _ELIGIBILITY_CASES
    ])


def _eligibility_counts(session: Session, figures: Figures, sector_of: dict, by_sector: bool) -> Tally:
    snapshot = EligibilitySnapshot
    counts = Tally()
    if not by_sector:
        for unit in figures.units:
            found = session.execute(_unit_eligibility_statement(), {"unit_id": unit.id}).one()
            for (eligible, basis), count in zip(_ELIGIBILITY_CASES, found, strict=True):
                if count:
                    counts[EligibilityKey(unit.id, None, eligible, basis)] = count
        return counts
    # Grouped in the order of (unit_id, eligible, basis, enterprise_id): the index is read in order, unsorted.
    query = (select(snapshot.enterprise_id, snapshot.eligible, snapshot.basis, func.count().label("n"))
             .where(figures.scope.where(snapshot.unit_id))
             .group_by(snapshot.unit_id, snapshot.eligible, snapshot.basis, snapshot.enterprise_id))
    for row in session.execute(query):
        counts[EligibilityKey(*sector_of[row.enterprise_id], bool(row.eligible), row.basis)] += row.n
    return counts


def _pass_counts(session: Session, figures: Figures, sector_of: dict, by_sector: bool, now: datetime) -> Tally:
    counts = Tally()
    if not by_sector:
        for unit in figures.units:
            for state, count in _unit_pass_counts(session, unit.id, now).items():
                counts[PassKey(unit.id, None, state)] = count
        return counts
    state = case(
        (Pass.status == PassStatus.REVOKED.value, "revoked"),
        (Pass.valid_until <= now, "expired"),
        (Pass.valid_from > now, "upcoming"),
        else_="valid",
    ).label("state")
    query = (select(Pass.enterprise_id, state, func.count().label("n"), func.sum(Pass.version - 1).label("older"))
             .where(figures.scope.where(Pass.unit_id)).group_by(Pass.enterprise_id, "state"))
    for row in session.execute(query):
        counts[PassKey(*sector_of[row.enterprise_id], row.state)] += row.n
        counts[PassKey(*sector_of[row.enterprise_id], "superseded")] += int(row.older or 0)
    return counts


@cache
def _unit_pass_statement():
    """Range counts on the dashboard's pass indexes: no pass row is read, only index entries counted."""
    unit, now = bindparam("unit_id"), bindparam("now", type_=Pass.valid_until.type)
    active = (Pass.unit_id == unit, Pass.status == PassStatus.ACTIVE.value)

    def count(*where):
        return select(func.count()).select_from(Pass).where(*where).scalar_subquery()

    return select(
        count(*active, Pass.valid_until > now),
        # valid_from < valid_until, so a pass not valid yet has not expired either.
        count(*active, Pass.valid_from > now),
        count(*active, Pass.valid_until <= now),
        count(Pass.unit_id == unit, Pass.status == PassStatus.REVOKED.value),
        select(func.coalesce(func.sum(Pass.version - 1), 0))
        .where(Pass.unit_id == unit, Pass.version > 1).scalar_subquery(),
    )


def _unit_pass_counts(session: Session, unit_id: int, now: datetime) -> dict[str, int]:
    """Count one unit's passes by state now, and the versions they replaced."""
    current, upcoming, expired, revoked, superseded = session.execute(
        _unit_pass_statement(), {"unit_id": unit_id, "now": now}).one()
    return {"valid": current - upcoming, "upcoming": upcoming, "expired": expired, "revoked": revoked,
            "superseded": superseded}


def _pass_flows(session: Session, scope: Scope, sector_of: dict, now: datetime, first_day: date,
                last_day: date) -> Tally:
    """Count passes issued, revoked and expired between the two local days (both included)."""
    start, end = clock.start_of_local_day(first_day), min(clock.end_of_local_day(last_day), now)
    events_in_period = {
        "issued": Pass.issued_at.between(start, end),
        "revoked": (Pass.status == PassStatus.REVOKED.value) & Pass.revoked_at.between(start, end),
        # A pass expires at its exclusive end; one revoked before then never expired.
        "expired": Pass.valid_until.between(start, end)
        & ((Pass.status == PassStatus.ACTIVE.value) | (Pass.revoked_at >= Pass.valid_until)),
    }
    counts = Tally()
    for name, condition in events_in_period.items():
        query = (select(Pass.enterprise_id, func.count().label("n")).where(scope.where(Pass.unit_id), condition)
                 .group_by(Pass.enterprise_id))
        for row in session.execute(query):
            counts[PassKey(*sector_of[row.enterprise_id], name)] += row.n
    # Every supersession has its time: the version it ended was closed then (portal.passes.history).
    superseded = (select(Pass.enterprise_id, func.count().label("n"))
                  .join(PassVersion, PassVersion.pass_id == Pass.id)
                  .where(scope.where(Pass.unit_id), PassVersion.end_kind == VersionEnd.SUPERSEDED.value,
                         PassVersion.ended_at.between(start, end))
                  .group_by(Pass.enterprise_id))
    for row in session.execute(superseded):
        counts[PassKey(*sector_of[row.enterprise_id], "superseded")] += row.n
    return counts


def _figures_counts(session: Session, figures: Figures, unit_id: int) -> tuple[int, int, int]:
    """Return a unit's (snapshot rows, stale rows, active workers) from the figures already counted."""
    return (total(figures.eligibility, unit_id=unit_id), stale_rows(session, unit_id, figures.today),
            total(figures.workers, unit_id=unit_id))
