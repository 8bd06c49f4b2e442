"""What the pages show: a worker's facts beside the registry's, and the conflicts per enterprise."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, or_, select, true
from sqlalchemy.orm import selectinload

from portal.auth.access import enterprise_filter
from portal.enterprises.models import Enterprise
from portal.health.models import HealthExtract, HealthRecord
from portal.health.provenance import CONFIRMED, CONFLICTING
from portal.workers.models import VaccineDose, Worker


@dataclass
class FactRow:
    """One fact of a worker as HR declared it, where it stands, and what the registry holds."""

    fact: str  # "dose:1", "recovery", "test"
    declared: dict
    provenance: str
    registry: dict | None
    extra: dict = field(default_factory=dict)


def worker_facts(worker: Worker, records: list[HealthRecord]) -> list[FactRow]:
    """Return ``worker``'s facts with their provenance, and the registry's doses HR did not declare."""
    rows = [FactRow(f"dose:{dose.number}", {"number": dose.number, "product": dose.product,
                                             "given_on": dose.given_on}, dose.provenance, dose.registry_data)
            for dose in worker.doses]
    if worker.recovered_on or worker.recovery_registry:
        rows.append(FactRow("recovery", {"recovered_on": worker.recovered_on}, worker.recovery_provenance,
                            worker.recovery_registry))
    if worker.tested_on:
        rows.append(FactRow("test", {"test_kind": worker.test_kind, "tested_on": worker.tested_on},
                            worker.test_provenance, worker.test_registry))
    declared = {dose.number for dose in worker.doses}
    for record in records:
        if record.kind == "dose" and record.number not in declared:
            rows.append(FactRow(f"registry-dose:{record.number}", {}, "registry_only",
                                {"given_on": record.on_date.isoformat() if record.on_date else None,
                                 "product": record.product, "place": record.place}))
    return rows


def _has_registry_only_dose():
    """The workers of whom the registry holds a dose HR did not declare."""
    declared = select(VaccineDose.id).where(VaccineDose.worker_id == HealthRecord.worker_id,
                                            VaccineDose.number == HealthRecord.number)
    return Worker.id.in_(select(HealthRecord.worker_id).where(HealthRecord.kind == "dose", ~declared.exists()))


def _has_conflict():
    doses = select(VaccineDose.worker_id).where(VaccineDose.provenance == CONFLICTING)
    return or_(Worker.id.in_(doses), Worker.recovery_provenance == CONFLICTING,
               Worker.test_provenance == CONFLICTING)


def hr_workers(session, enterprise_id: int, *, only_conflicts: bool, limit: int = 200) -> list[tuple]:
    """Return (worker, records, facts) of an enterprise's active workers, by name; with ``only_conflicts``, those
    HR has something to act on (a conflict, or a dose the registry holds and HR did not declare)."""
    query = (select(Worker).where(Worker.enterprise_id == enterprise_id, Worker.active.is_(True))
             .options(selectinload(Worker.doses)).order_by(Worker.name_key, Worker.id).limit(limit))
    if only_conflicts:
        query = query.where(or_(_has_conflict(), _has_registry_only_dose()))
    workers = list(session.scalars(query))
    records = {}
    for record in session.scalars(select(HealthRecord).where(HealthRecord.worker_id.in_([w.id for w in workers]))):
        records.setdefault(record.worker_id, []).append(record)
    return [(worker, records.get(worker.id, []), worker_facts(worker, records.get(worker.id, [])))
            for worker in workers]


def conflicts_by_enterprise(session, user) -> list[tuple]:
    """Return (enterprise, workers with a conflict, active workers) for the enterprises ``user`` oversees."""
    conflicted = (select(Worker.enterprise_id, func.count().label("count"))
                  .where(Worker.active.is_(True), _has_conflict()).group_by(Worker.enterprise_id).subquery())
    active = (select(Worker.enterprise_id, func.count().label("count"))
              .where(Worker.active.is_(True)).group_by(Worker.enterprise_id).subquery())
    scope = true() if user.is_health else enterprise_filter(user, Enterprise)
    rows = session.execute(
        select(Enterprise, conflicted.c.count, active.c.count)
        .join(conflicted, conflicted.c.enterprise_id == Enterprise.id)
        .join(active, active.c.enterprise_id == Enterprise.id)
        .where(scope).order_by(conflicted.c.count.desc(), Enterprise.name))
    return list(rows)


def confirmed_share_by_unit(session) -> dict[int, tuple[int, int]]:
    """Return {unit id: (workers whose every dose is confirmed, active workers with a dose)}."""
    unconfirmed = select(VaccineDose.worker_id).where(VaccineDose.provenance != CONFIRMED)
    with_dose = select(VaccineDose.worker_id)
    rows = session.execute(
        select(Enterprise.unit_id, func.count(Worker.id),
               func.count(Worker.id).filter(Worker.id.not_in(unconfirmed)))
        .join(Enterprise, Enterprise.id == Worker.enterprise_id)
        .where(Worker.active.is_(True), Worker.erased_at.is_(None), Worker.id.in_(with_dose))
        .group_by(Enterprise.unit_id))
    return {unit_id: (confirmed, total) for unit_id, total, confirmed in rows}


def recent_extracts(session, limit: int = 30) -> list[HealthExtract]:
    return list(session.scalars(select(HealthExtract).order_by(HealthExtract.created_at.desc(),
                                                               HealthExtract.id.desc()).limit(limit)))
