"""The pilot's figures for officials: scope, counts from the snapshot and the scan roll-up, freshness.

Importing this module connects the receivers that keep the eligibility snapshot in step with the
workers feature, inside its transaction.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache

from sqlalchemy import bindparam, case, func, select, true
from sqlalchemy.orm import Session, selectinload

from portal import clock
from portal.dashboard.eligibility import RefreshScope, forget_inactive, refresh_eligibility, stale_worker_ids
from portal.dashboard.models import EligibilitySnapshot
from portal.dashboard.scans import days_between, scan_counts
from portal.dashboard.tally import EligibilityKey, EnterpriseKey, PassKey, Tally, WorkerKey, total
from portal.enterprises.models import Enterprise
from portal.pagination import Page
from portal.passes.models import Pass, PassStatus
from portal.plugins.registry import UnitRegistry
from portal.plugins.types import Basis
from portal.units.models import PilotUnit
from portal.workers.models import Worker

#: Stale snapshot rows a page view re-evaluates itself; beyond this it says the figures are old.
LAZY_REFRESH_LIMIT = 5000
#: The dashboard's window of checkpoint scans, today included.
SCAN_DAYS = 30



# ---------------------------------------------------------------------------
# Who sees what
# ---------------------------------------------------------------------------

class ScopeError(ValueError):
    """Raised when the unit asked for does not exist."""


@dataclass(frozen=True)
class Scope:
    """The figures a user may see: one unit, or (``unit`` None) the whole city."""

    unit: PilotUnit | None

    @property
    def unit_id(self) -> int | None:
        return self.unit.id if self.unit is not None else None

    def where(self, column):
        """Return a WHERE clause limiting ``column`` (a unit id) to the scope."""
        return column == self.unit_id if self.unit is not None else true()


def resolve_scope(session: Session, user, unit_code: str | None) -> Scope:
    """Return an official's own unit whatever was asked; for the admin, the unit asked for or the city."""
    if user.is_official:
        return Scope(session.get(PilotUnit, user.unit_id))
    if not user.is_admin:
        raise PermissionError("only officials and the city admin see the pilot's figures")
    if not unit_code:
        return Scope(None)
    unit = session.scalar(select(PilotUnit).where(PilotUnit.code == unit_code))
    if unit is None:
        raise ScopeError(unit_code)
    return Scope(unit)


def all_units(session: Session, registry: UnitRegistry) -> list[PilotUnit]:
    """Return every unit with data, in the order the plugins declare them (uninstalled ones last)."""
    order = {code: index for index, code in enumerate(registry.units)}
    units = session.scalars(select(PilotUnit)).all()
    return sorted(units, key=lambda unit: (order.get(unit.code, len(order)), unit.code))


def scope_units(session: Session, registry: UnitRegistry, scope: Scope) -> list[PilotUnit]:
    return [scope.unit] if scope.unit is not None else all_units(session, registry)


def sector_declaration(registry: UnitRegistry, code: str, unit_codes: list[str]):
    """Return how the first of ``unit_codes`` declaring sector ``code`` names it (else any unit), or None.

    Units may give the same code different names; a unit's own name is preferred for its own data.
    """
    for unit_code in [*unit_codes, *registry.sectors]:
        sector = registry.sectors.get(unit_code, {}).get(code)
        if sector is not None:
            return sector
    return None


# ---------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------

@dataclass
class UnitFreshness:
    """How current one unit's eligibility figures are."""

    unit: PilotUnit
    as_of: datetime | None
    stale: int  # active workers evaluated before today, or not at all


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
                    refresh_limit: int = LAZY_REFRESH_LIMIT) -> Figures:
    """Count everything in ``scope``; scans and (with ``flows``) pass events between the two local days.

    Stale eligibility rows are re-evaluated first when there are at most ``refresh_limit`` per unit
    (not committed: the caller commits).
    """
    figures = Figures(scope, scope_units(session, registry, scope), now, first_day, last_day)
    enterprises = _enterprise_map(session, scope)
    figures.enterprises = Tally(EnterpriseKey(unit_id, sector, status)
                                  for unit_id, sector, status in enterprises.values())
    sector_of = {eid: (unit_id, sector) for eid, (unit_id, sector, _s) in enterprises.items()}
    figures.workers = _worker_counts(session, figures, sector_of, by_sector)
    figures.eligibility = _eligibility_counts(session, figures, sector_of, by_sector)
    counts = _refresh_stale_units(session, registry, figures, refresh_limit)
    if None in counts.values():
        figures.eligibility = _eligibility_counts(session, figures, sector_of, by_sector)
    figures.freshness = [unit_freshness(session, unit, figures.today, counts[unit.id] or
                                        _figures_counts(session, figures, unit.id)) for unit in figures.units]
    figures.passes = _pass_counts(session, figures, sector_of, by_sector, now)
    if flows:
        figures.pass_flows = _pass_flows(session, scope, sector_of, now, first_day, last_day)
    figures.scans = scan_counts(session, scope, first_day, last_day, now, by_sector=by_sector)
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
    return counts


# ---------------------------------------------------------------------------
# Freshness of the eligibility snapshot
# ---------------------------------------------------------------------------

def unit_counts(session: Session, unit_id: int, today: date) -> tuple[int, int, int]:
    """Return (snapshot rows, rows evaluated before ``today``, active workers) of one unit."""
    snapshot = EligibilitySnapshot
    rows = session.scalar(select(func.count()).select_from(snapshot).where(snapshot.unit_id == unit_id))
    active = session.scalar(select(func.count()).select_from(Worker).join(Enterprise)
                            .where(Worker.active, Enterprise.unit_id == unit_id))
    return rows, _stale_rows(session, unit_id, today), active


def _stale_rows(session: Session, unit_id: int, today: date) -> int:
    snapshot = EligibilitySnapshot
    # An erased worker's row is final (portal.privacy): old, but never stale.
    erased = select(Worker.id).where(Worker.id == snapshot.worker_id, Worker.erased_at.is_not(None)).exists()
    return session.scalar(select(func.count()).select_from(snapshot)
                          .where(snapshot.unit_id == unit_id, snapshot.evaluated_on < today, ~erased))


def _figures_counts(session: Session, figures: Figures, unit_id: int) -> tuple[int, int, int]:
    """Return :func:`unit_counts` from the figures already counted (one cheap query instead of three)."""
    return (total(figures.eligibility, unit_id=unit_id), _stale_rows(session, unit_id, figures.today),
            total(figures.workers, unit_id=unit_id))


def refresh_stale_units(session: Session, registry: UnitRegistry, units: list[PilotUnit], *, now: datetime,
                        limit: int = LAZY_REFRESH_LIMIT, counts=unit_counts) -> dict[int, tuple | None]:
    """Re-evaluate each unit's stale rows when it has at most ``limit``.

    A row is stale when evaluated before today, missing for an active worker, or left by a worker
    no longer active. Returns each unit's :func:`unit_counts`, or None for a unit whose rows changed
    (count again). Nothing is committed.
    """
    today, found = clock.local_today(now), {}
    for unit in units:
        found[unit.id] = rows, stale, active = counts(session, unit.id, today)
        if limit <= 0 or (not stale and rows == active):
            continue
        if rows > active:
            forget_inactive(session, RefreshScope(unit_id=unit.id))
            found[unit.id] = None
        ids = stale_worker_ids(session, today, limit, unit_id=unit.id)
        if ids:
            refresh_eligibility(session, registry, RefreshScope(worker_ids=tuple(ids)), on_date=today, now=now)
            found[unit.id] = None
    return found


def _refresh_stale_units(session: Session, registry: UnitRegistry, figures: Figures,
                         limit: int) -> dict[int, tuple | None]:
    return refresh_stale_units(session, registry, figures.units, now=figures.now, limit=limit,
                               counts=lambda session, unit_id, _today: _figures_counts(session, figures, unit_id))


def unit_freshness(session: Session, unit: PilotUnit, today: date, counts=None) -> UnitFreshness:
    """Return when the unit's stalest row was evaluated and how many active workers lack a current one."""
    snapshot = EligibilitySnapshot
    as_of = session.scalar(select(snapshot.evaluated_at).where(snapshot.unit_id == unit.id)
                           .order_by(snapshot.evaluated_on, snapshot.evaluated_at).limit(1))
    rows, stale, active = counts or unit_counts(session, unit.id, today)
    return UnitFreshness(unit, as_of, stale + max(active - rows, 0))


def refresh_stale_for_enterprise(session: Session, registry: UnitRegistry, enterprise_id: int, *, now: datetime,
                                 limit: int = LAZY_REFRESH_LIMIT) -> bool:
    """Re-evaluate an enterprise's stale rows when there are at most ``limit``; say whether all are current."""
    today = clock.local_today(now)
    forget_inactive(session, RefreshScope(), enterprise_id=enterprise_id)
    ids = stale_worker_ids(session, today, limit, enterprise_id=enterprise_id)
    if ids is None:
        return False
    if ids:
        refresh_eligibility(session, registry, RefreshScope(worker_ids=tuple(ids)), on_date=today, now=now)
    return True


# ---------------------------------------------------------------------------
# Data quality: the records that block eligibility
# ---------------------------------------------------------------------------

@dataclass
class EnterpriseIssues:
    """How many of an enterprise's workers have each issue (a worker may have several)."""

    enterprise_id: int
    name: str = ""
    workers: int = 0
    by_issue: Counter = field(default_factory=Counter)
    enterprise: Enterprise | None = None


@dataclass
class IssueSummary:
    """The enterprises with issues, a page at a time, and the totals over all of them."""

    page: Page
    workers: int
    by_issue: Counter


def issues_by_enterprise(session: Session, scope: Scope, *, page: int = 1, per_page: int = 50) -> IssueSummary:
    """Return the enterprises in ``scope`` whose workers have issues, most affected first, a page at a time."""
    snapshot = EligibilitySnapshot
    rows = session.execute(
        select(snapshot.enterprise_id, snapshot.issues, func.count().label("n"))
        .where(snapshot.issues != "", scope.where(snapshot.unit_id))
        .group_by(snapshot.enterprise_id, snapshot.issues)
    ).all()
    found: dict[int, EnterpriseIssues] = {}
    for row in rows:
        item = found.setdefault(row.enterprise_id, EnterpriseIssues(row.enterprise_id))
        item.workers += row.n
        for issue in row.issues.split():
            item.by_issue[issue] += row.n
    names = dict(session.execute(select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(found))).all())
    for item in found.values():
        item.name = names[item.enterprise_id]
    listed = Page.of(sorted(found.values(), key=lambda item: (-item.workers, item.name)), page, per_page)
    # Only the enterprises shown are loaded, with their units, in two queries.
    shown = {e.id: e for e in session.scalars(select(Enterprise).options(selectinload(Enterprise.unit))
                                              .where(Enterprise.id.in_([i.enterprise_id for i in listed.items])))}
    for item in listed.items:
        item.enterprise = shown[item.enterprise_id]
    return IssueSummary(listed, sum(item.workers for item in found.values()),
                        sum((item.by_issue for item in found.values()), Counter()))


def data_quality_overview(session: Session, registry: UnitRegistry, scope: Scope, *, now: datetime, page: int = 1,
                          limit: int = LAZY_REFRESH_LIMIT) -> tuple[IssueSummary, list[UnitFreshness]]:
    """Bring the scope's stale rows up to date (within ``limit``), then count the issues per enterprise."""
    units, today = scope_units(session, registry, scope), clock.local_today(now)
    counts = refresh_stale_units(session, registry, units, now=now, limit=limit)
    freshness = [unit_freshness(session, unit, today, counts[unit.id]) for unit in units]
    return issues_by_enterprise(session, scope, page=page), freshness


@dataclass(frozen=True)
class WorkerIssue:
    """A worker whose record blocks eligibility, with the issues found and the rule's own words."""

    worker: Worker
    issues: tuple[str, ...]
    reason: str


def workers_with_issues(session: Session, registry: UnitRegistry, enterprise_id: int, *, page: int,
                        today: date, per_page: int = 50) -> Page:
    """Return a page of the enterprise's workers with issues, by name, each with the rule's reason today."""
    from portal.workers.facts import evaluate

    snapshot = EligibilitySnapshot
    where = (snapshot.enterprise_id == enterprise_id, snapshot.issues != "")
    count = session.scalar(select(func.count()).select_from(snapshot).where(*where))
    page = min(max(page, 1), max(1, -(-count // per_page)))  # as Page.of does, without loading every row
    rows = session.execute(
        select(Worker, snapshot.issues).join(snapshot, snapshot.worker_id == Worker.id).where(*where)
        .order_by(Worker.name_key, Worker.id).offset((page - 1) * per_page).limit(per_page)
    ).all()
    items = []
    for worker, issues in rows:
        known = worker.enterprise.unit.code in registry.units
        reason = str(evaluate(registry, worker, today).reason) if known else ""
        items.append(WorkerIssue(worker, tuple(issues.split()), reason))
    return Page(items, page, per_page, count)


# ---------------------------------------------------------------------------
# Keeping the snapshot in step with the workers feature
# ---------------------------------------------------------------------------

def _current_registry() -> UnitRegistry:
    from portal.plugins import current_registry

    return current_registry()


def on_workers_changed(enterprise, session: Session, worker_ids, **_kwargs) -> None:
    """Re-evaluate the workers just created or changed, in the sender's transaction (never committed here)."""
    now = clock.utcnow()
    refresh_eligibility(session, _current_registry(), RefreshScope(worker_ids=tuple(worker_ids)),
                        on_date=clock.local_today(now), now=now)


def on_workers_deactivated(enterprise, session: Session, worker_ids, **_kwargs) -> None:
    """Drop the deactivated workers from the snapshot, in the sender's transaction."""
    forget_inactive(session, RefreshScope(worker_ids=tuple(worker_ids)))

