"""Compare what HR declared with the registry's records and store each fact's provenance on the worker.

A dose is matched to the registry's dose with the same number; a recovery to the registry's recovery
with the same recovery date; a negative test to the registry's test of the same day. What the
registry holds differently is kept beside the fact (``registry``), so HR and the officials see it and
a health-data officer (or HR) can accept it.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from sqlalchemy import JSON, Integer, String, bindparam, select, text, update
from sqlalchemy.dialects import postgresql

from portal.health.matching import among, batched
from portal.health.models import HealthRecord
from portal.plugins.types import Provenance
from portal.workers.models import VaccineDose, Worker

BATCH = 2000
DECLARED, CONFIRMED = Provenance.DECLARED.value, Provenance.CONFIRMED.value
CONFLICTING, NOT_FOUND = Provenance.CONFLICTING.value, Provenance.NOT_FOUND.value


def _iso(day) -> str | None:
    return day.isoformat() if day else None


def assess_dose(dose, registry_doses: dict[int, object]) -> tuple[str, dict | None]:
    """Return the provenance of a declared ``dose`` and, when it conflicts, what the registry holds."""
    found = registry_doses.get(dose.number)
    if found is None:
        return (NOT_FOUND if registry_doses else DECLARED), None
    differences = []
    if found.on_date != dose.given_on:
        differences.append("given_on")
    if (found.product or "") != (dose.product or ""):
        differences.append("product")
    if not differences:
        return CONFIRMED, None
    return CONFLICTING, {"differences": differences, "given_on": _iso(found.on_date), "product": found.product,
                         "place": found.place, "record_id": found.id}


#: How far apart a declared recovery date and the registry's may be and still be the same illness (a conflict
#: about its date); a registry recovery further away is another illness, and the declared one is not found.
SAME_ILLNESS = timedelta(days=30)


def assess_recovery(recovered_on, recoveries: list) -> tuple[str, dict | None]:
    """Return the provenance of a declared recovery against the registry's recoveries of that worker.

    The registry's recovery with the same date confirms it; one within ``SAME_ILLNESS`` of it conflicts (the
    dates differ); recoveries only of other illnesses leave the declared one not found. A recovery the
    registry holds and HR did not declare is a conflict ("not declared") that can be accepted.
    """
    if not recoveries:
        return DECLARED, None
    latest = max(recoveries, key=lambda record: record.recovered_on or record.on_date)
    if recovered_on is None:
        return CONFLICTING, {"differences": ["missing"], "recovered_on": _iso(latest.recovered_on),
                             "place": latest.place, "record_id": latest.id}
    if any(record.recovered_on == recovered_on for record in recoveries):
        return CONFIRMED, None
    near = [record for record in recoveries
            if abs((record.recovered_on or record.on_date) - recovered_on) <= SAME_ILLNESS]
    if not near:
        return NOT_FOUND, None
    nearest = min(near, key=lambda record: abs((record.recovered_on or record.on_date) - recovered_on))
    return CONFLICTING, {"differences": ["recovered_on"], "recovered_on": _iso(nearest.recovered_on),
                         "place": nearest.place, "record_id": nearest.id}


def assess_test(test_kind, tested_on, tests: list) -> tuple[str, dict | None]:
    if tested_on is None or not tests:
        return DECLARED, None
    same_day = [record for record in tests if record.on_date == tested_on]
    if not same_day:
        return NOT_FOUND, None
    differences = []
    if any(record.result == "positive" for record in same_day):
        differences.append("result")
    if test_kind and not any(record.test_kind == test_kind for record in same_day):
        differences.append("kind")
    if not differences:
        return CONFIRMED, None
    record = same_day[0]
    return CONFLICTING, {"differences": differences, "taken_on": _iso(record.on_date), "kind": record.test_kind,
                         "result": record.result, "record_id": record.id}


def assess_workers(session, worker_ids) -> dict[int, int]:
    """Store the provenance of every dose, recovery and test of ``worker_ids``; return {worker id: enterprise id}
    of the workers whose provenance changed."""
    session.flush()
    changed: dict[int, int] = {}
    workers_t, doses_t, records_t = Worker.__table__, VaccineDose.__table__, HealthRecord.__table__
    connection = session.connection()
    dialect = connection.dialect.name
    for batch in batched(sorted(set(worker_ids)), BATCH):
        records = defaultdict(list)
        for record in connection.execute(select(records_t).where(among(dialect, records_t.c.worker_id, batch))):
            records[(record.worker_id, record.kind)].append(record)
        dose_updates, worker_updates = [], []
        for dose in connection.execute(
                select(doses_t.c.id, doses_t.c.worker_id, doses_t.c.number, doses_t.c.product, doses_t.c.given_on,
                       doses_t.c.provenance, doses_t.c.registry_data)
                .where(among(dialect, doses_t.c.worker_id, batch))):
            registry_doses = {record.number: record for record in records[(dose.worker_id, "dose")]}
            provenance, held = assess_dose(dose, registry_doses)
            if (provenance, held) != (dose.provenance, dose.registry_data):
                dose_updates.append({"_id": dose.id, "provenance": provenance, "registry_data": held})
                changed[dose.worker_id] = None
        for worker in connection.execute(
                select(workers_t.c.id, workers_t.c.enterprise_id, workers_t.c.recovered_on, workers_t.c.test_kind,
                       workers_t.c.tested_on, workers_t.c.recovery_provenance, workers_t.c.recovery_registry,
                       workers_t.c.test_provenance, workers_t.c.test_registry, workers_t.c.updated_at)
                .where(among(dialect, workers_t.c.id, batch))):
            recovery = assess_recovery(worker.recovered_on, records[(worker.id, "recovery")])
            test = assess_test(worker.test_kind, worker.tested_on, records[(worker.id, "test")])
            if worker.id in changed:
                changed[worker.id] = worker.enterprise_id
            if (recovery, test) != ((worker.recovery_provenance, worker.recovery_registry),
                                    (worker.test_provenance, worker.test_registry)):
                changed[worker.id] = worker.enterprise_id
                # Not a change HR made: the worker's updated_at (what API clients sync on) stays.
                worker_updates.append({"_id": worker.id, "recovery_provenance": recovery[0],
                                       "recovery_registry": recovery[1], "test_provenance": test[0],
                                       "test_registry": test[1]})
        if dose_updates:
            _bulk_update(session, doses_t, dose_updates, {"provenance": String(16), "registry_data": JSON()})
        if worker_updates:
            _bulk_update(session, workers_t, worker_updates,
                         {"recovery_provenance": String(16), "recovery_registry": JSON(),
                          "test_provenance": String(16), "test_registry": JSON()}, keep_updated_at=True)
    _expire_loaded(session, changed)
    return {worker_id: enterprise_id for worker_id, enterprise_id in changed.items() if enterprise_id is not None}


def _bulk_update(session, table, rows: list[dict], columns: dict, *, keep_updated_at: bool = False) -> None:
    """Write ``rows`` ({"_id", column: value}) into ``table``: on PostgreSQL one UPDATE … FROM unnest(arrays) per
    batch (a statement per row costs a round trip each, and a VALUES list is compiled anew for every batch), an
    executemany on SQLite (in-process)."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        # Not a change HR made: the row's updated_at (what API clients sync on) stays as it was.
        kept = {"updated_at": table.c.updated_at} if keep_updated_at else {}
        connection.execute(update(table).where(table.c.id == bindparam("_id"))
                           .values(**{name: bindparam(f"_{name}") for name in columns}, **kept),
                           [{"_id": row["_id"], **{f"_{name}": row[name] for name in columns}} for row in rows])
        return
    # A statement written out sets only the columns named: no onupdate, so updated_at stays as it was.
    names = list(columns)
    statement = text(
        f"UPDATE {table.name} SET "
        + ", ".join(f"{name} = incoming.{name}" + ("::json" if isinstance(columns[name], JSON) else "")
                    for name in names)
        + " FROM unnest(:ids, " + ", ".join(f":{name}" for name in names) + ") AS incoming(id, "
        + ", ".join(names) + f") WHERE {table.name}.id = incoming.id"
    ).bindparams(bindparam("ids", type_=postgresql.ARRAY(Integer)),
                 *(bindparam(name, type_=postgresql.ARRAY(String)) for name in names))
    connection.execute(statement, {"ids": [row["_id"] for row in rows],
                                   **{name: [_json_text(row[name]) if isinstance(kind, JSON) else row[name]
                                             for row in rows] for name, kind in columns.items()}})


def _json_text(value) -> str | None:
    import json

    return None if value is None else json.dumps(value)


def _expire_loaded(session, worker_ids) -> None:
    """Make the session read again the workers and doses whose provenance was just written past the ORM."""
    if not worker_ids:
        return
    for instance in list(session.identity_map.values()):
        if isinstance(instance, Worker) and instance.id in worker_ids:
            session.expire(instance, ["recovery_provenance", "recovery_registry", "test_provenance",
                                      "test_registry"])
        elif isinstance(instance, VaccineDose) and instance.worker_id in worker_ids:
            session.expire(instance, ["provenance", "registry_data"])
