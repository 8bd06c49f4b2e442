"""Keep the eligibility snapshot current: in bulk and in batches, and when workers or enterprises change.

The snapshot goes stale three ways, and each has its remedy here:

* a worker is created, changed or leaves, or an enterprise changes what the rules see (its unit or
  sector): the receivers below re-evaluate those workers inside the sender's transaction
  (connected by :mod:`portal.wiring`);
* a day passes (a waiting period ends, a test expires): ``portal eligibility refresh`` runs daily;
* a plugin is installed, upgraded or disabled: the same command, or the refresh job a user starts
  from a page that says its figures are old (:func:`refresh_job`).

Workers are read with Core queries and handed to :func:`~portal.eligibility.facts.evaluate` as plain
namespaces carrying the same attributes as the ORM objects: the rules see exactly what the workers
feature gives them, without the cost of building 300,000 ORM objects.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from types import SimpleNamespace

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from portal import clock
from portal.eligibility.facts import evaluate
from portal.eligibility.models import EligibilitySnapshot
from portal.enterprises.models import Enterprise
from portal.jobs.services import Outcome
from portal.messages import Message
from portal.plugins.registry import UnitRegistry
from portal.plugins.types import Basis, Eligibility
from portal.units.models import PilotUnit
from portal.workers.identity import CitizenIdError, validate_citizen_id
from portal.workers.models import VaccineDose, Worker
from portal.workers.vaccines import BY_CODE

BATCH_SIZE = 2000

_UPDATED_COLUMNS = ("enterprise_id", "unit_id", "eligible", "basis", "reason", "since", "until", "issues",
                    "evaluated_on", "evaluated_at")


@dataclass(frozen=True)
class RefreshScope:
    """Which workers to evaluate: the named ones, one enterprise's, one unit's, or (all None) everyone's."""

    worker_ids: tuple[int, ...] | None = None
    unit_id: int | None = None
    enterprise_id: int | None = None


def refresh_eligibility(session: Session, registry: UnitRegistry, scope: RefreshScope, *, on_date: date,
                        now: datetime, batch_size: int = BATCH_SIZE,
                        after_batch: Callable[[int, int], None] | None = None) -> int:
    """Evaluate the workers in ``scope`` on ``on_date`` and upsert their snapshot rows; return how many.

    Rows of workers no longer active in the scope are removed. Nothing is committed here:
    ``after_batch(done, total)`` may commit (the command does; signal receivers never do).
    """
    session.flush()  # the workers just changed are read with Core statements below
    total = _count_active(session, scope)
    done = 0
    for workers in _active_worker_batches(session, scope, batch_size):
        rows = [_snapshot_row(registry, worker, on_date, now) for worker in workers]
        _upsert(session, rows)
        done += len(rows)
        if after_batch:
            after_batch(done, total)
    forget_inactive(session, scope)
    return done


def tidy_after_bulk_refresh(engine) -> None:
    """Vacuum and analyse the snapshot after rewriting it in bulk (PostgreSQL; SQLite only analyses).

    Rewriting every row clears PostgreSQL's visibility map: until a vacuum, the dashboard's
    index-only counts fetch each row from the table and run several times slower.
    """
    statement = "VACUUM (ANALYZE) eligibility_snapshots" if engine.dialect.name == "postgresql" \
        else "ANALYZE eligibility_snapshots"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(statement)


def _count_active(session: Session, scope: RefreshScope) -> int:
    if scope.worker_ids is not None:
        return len(set(scope.worker_ids))
    query = (select(func.count()).select_from(Worker).join(Enterprise, Enterprise.id == Worker.enterprise_id)
             .where(Worker.active.is_(True), Worker.erased_at.is_(None)))
    if scope.unit_id is not None:
        query = query.where(Enterprise.unit_id == scope.unit_id)
    if scope.enterprise_id is not None:
        query = query.where(Worker.enterprise_id == scope.enterprise_id)
    return session.scalar(query)


def _active_worker_batches(session: Session, scope: RefreshScope, batch_size: int) -> Iterator[list]:
    """Yield active workers as namespaces, ``batch_size`` at a time, in id order."""
    # Core statements on the session's connection: no ORM row processing for 300,000 rows.
    workers, enterprises, units = Worker.__table__, Enterprise.__table__, PilotUnit.__table__
    base = (
        select(workers, enterprises.c.unit_id.label("_unit_id"), enterprises.c.sector.label("_sector"),
               enterprises.c.business_type.label("_business_type"), units.c.code.label("_unit_code"))
        .join(enterprises, enterprises.c.id == workers.c.enterprise_id)
        .join(units, units.c.id == enterprises.c.unit_id)
        # An erased worker's row is final: the data the rules would need is gone (portal.privacy).
        .where(workers.c.active.is_(True), workers.c.erased_at.is_(None))
        .order_by(workers.c.id)
    )
    if scope.unit_id is not None:
        base = base.where(enterprises.c.unit_id == scope.unit_id)
    if scope.enterprise_id is not None:
        base = base.where(workers.c.enterprise_id == scope.enterprise_id)
    if scope.worker_ids is not None:
        ids = sorted(set(scope.worker_ids))
        for start in range(0, len(ids), batch_size):
            # The connection is asked for each batch: the caller may commit between batches.
            connection = session.connection()
            result = connection.execute(base.where(workers.c.id.in_(ids[start:start + batch_size])))
            rows = result.all()
            if rows:
                yield _as_workers(connection, list(result.keys()), rows)
        return
    last_id = 0
    while True:
        connection = session.connection()
        result = connection.execute(base.where(workers.c.id > last_id).limit(batch_size))
        rows = result.all()
        if not rows:
            return
        last_id = rows[-1].id
        yield _as_workers(connection, list(result.keys()), rows)


def _as_workers(connection, keys: list[str], rows) -> list[SimpleNamespace]:
    """Turn worker rows into namespaces shaped like ``Worker`` (doses, enterprise, enterprise.unit)."""
    doses = defaultdict(list)
    table = VaccineDose.__table__
    dose_rows = connection.execute(
        select(table.c.worker_id, table.c.number, table.c.product, table.c.given_on, table.c.provenance,
               table.c.registry_data)
        .where(table.c.worker_id.in_([row.id for row in rows]))
        .order_by(table.c.worker_id, table.c.number)
    )
    for worker_id, number, product, given_on, provenance, registry_data in dose_rows:
        doses[worker_id].append(SimpleNamespace(number=number, product=product, given_on=given_on,
                                                provenance=provenance, registry_data=registry_data))
    own = [(index, key) for index, key in enumerate(keys) if not key.startswith("_")]
    extra = {key: index for index, key in enumerate(keys) if key.startswith("_")}
    workers = []
    for row in rows:
        unit = SimpleNamespace(id=row[extra["_unit_id"]], code=row[extra["_unit_code"]])
        enterprise = SimpleNamespace(id=row.enterprise_id, unit_id=unit.id, unit=unit, sector=row[extra["_sector"]],
                                     business_type=row[extra["_business_type"]])
        worker = SimpleNamespace(**{key: row[index] for index, key in own})
        worker.doses, worker.enterprise = doses[worker.id], enterprise
        workers.append(worker)
    return workers


def _snapshot_row(registry: UnitRegistry, worker: SimpleNamespace, on_date: date, now: datetime) -> dict:
    decision = evaluate(registry, worker, on_date)
    return {
        "worker_id": worker.id, "enterprise_id": worker.enterprise.id, "unit_id": worker.enterprise.unit_id,
        "eligible": bool(decision.eligible), "basis": Basis(decision.basis).value,
        "reason": Message.of(decision.reason or "").as_json(), "since": decision.since,
        "until": decision.until, "issues": " ".join(record_issues(worker, decision)),
        "evaluated_on": on_date, "evaluated_at": now,
    }


def record_issues(worker, decision: Eligibility) -> list[str]:
    """Return what in ``worker``'s record blocks (or will block) eligibility and HR can fix."""
    found = []
    try:
        validate_citizen_id(worker.citizen_id or "", worker.date_of_birth, worker.sex)
    except CitizenIdError:
        found.append("invalid_id")
    if any(dose.given_on is None or dose.product not in BY_CODE for dose in worker.doses):
        found.append("dose_data")
    if decision.basis == Basis.TEST_REQUIRED:
        found.append("test_outdated" if worker.tested_on else "test_missing")
    if decision.basis == Basis.MISSING_DATA and "dose_data" not in found:
        found.append("missing_data")
    return found


def _upsert(session: Session, rows: list[dict]) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(EligibilitySnapshot.__table__)
    statement = statement.on_conflict_do_update(
        index_elements=["worker_id"], set_={column: statement.excluded[column] for column in _UPDATED_COLUMNS}
    )
    session.execute(statement, rows)


def forget_inactive(session: Session, scope: RefreshScope, enterprise_id: int | None = None) -> None:
    """Delete the rows of workers in ``scope`` (and of ``enterprise_id``, when given) who are no longer active."""
    snapshot = EligibilitySnapshot
    inactive = select(Worker.id).where(Worker.active.is_(False))
    statement = delete(snapshot).where(snapshot.worker_id.in_(inactive))
    if scope.unit_id is not None:
        statement = statement.where(snapshot.unit_id == scope.unit_id)
    enterprise_id = enterprise_id if enterprise_id is not None else scope.enterprise_id
    if enterprise_id is not None:
        statement = statement.where(snapshot.enterprise_id == enterprise_id)
    if scope.worker_ids is None:
        session.execute(statement, execution_options={"synchronize_session": False})
        return
    ids = sorted(set(scope.worker_ids))
    for start in range(0, len(ids), BATCH_SIZE):  # SQLite takes at most 32,766 parameters a statement
        chunk = statement.where(snapshot.worker_id.in_(ids[start:start + BATCH_SIZE]))
        session.execute(chunk, execution_options={"synchronize_session": False})


# ---------------------------------------------------------------------------
# Re-evaluating a unit or an enterprise when someone asks (a page said its figures are old)
# ---------------------------------------------------------------------------

def refresh_now(session: Session, registry: UnitRegistry, *, now: datetime, unit_id: int | None = None,
                enterprise_id: int | None = None, limit: int) -> int | None:
    """Re-evaluate every active worker of a unit or an enterprise (or everyone) now; return how many.

    Return None, changing nothing, when there are more than ``limit``: that is a job's work
    (:func:`refresh_job`). Rows of workers no longer active are dropped; erased workers' rows are
    final and left alone (``portal.privacy``). Nothing is committed.
    """
    scope = RefreshScope(unit_id=unit_id, enterprise_id=enterprise_id)
    if _count_active(session, scope) > limit:
        return None
    return refresh_eligibility(session, registry, scope, on_date=clock.local_today(now), now=now)


def refresh_job(ctx, *, unit_id: int | None = None, enterprise_id: int | None = None) -> dict:
    """Re-evaluate a unit's (or an enterprise's, or everyone's) workers, committing after each batch."""
    from flask import current_app

    session = ctx.session
    now = clock.utcnow()
    today = clock.local_today(now)
    scope = RefreshScope(unit_id=unit_id, enterprise_id=enterprise_id)

    def after_batch(done: int, total: int) -> None:
        session.commit()
        ctx.progress(done, total, _l("Workers re-evaluated"))

    done = refresh_eligibility(session, current_app.extensions["portal.plugins"].registry, scope,
                               on_date=today, now=now, after_batch=after_batch)
    session.commit()
    return Outcome({"workers": done}, summary=_l("%(count)s workers re-evaluated.", count=done))


# ---------------------------------------------------------------------------
# What other features' changes do to the snapshot (inside their transaction; connected in portal.wiring)
# ---------------------------------------------------------------------------

def on_workers_changed(enterprise, *, session: Session, registry: UnitRegistry, worker_ids, **_ignored) -> None:
    """Re-evaluate the workers just created or changed."""
    now = clock.utcnow()
    refresh_eligibility(session, registry, RefreshScope(worker_ids=tuple(worker_ids)),
                        on_date=clock.local_today(now), now=now)


def on_workers_deactivated(enterprise, *, session: Session, worker_ids, **_ignored) -> None:
    """Drop the workers who left from the snapshot."""
    forget_inactive(session, RefreshScope(worker_ids=tuple(worker_ids)))


def on_enterprise_reclassified(enterprise, *, session: Session, registry: UnitRegistry, **_ignored) -> None:
    """Re-evaluate every worker of an enterprise whose unit, business type or sector changed."""
    now = clock.utcnow()
    refresh_eligibility(session, registry, RefreshScope(enterprise_id=enterprise.id),
                        on_date=clock.local_today(now), now=now)
