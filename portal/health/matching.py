"""Match registry records to active workers by citizen ID and date of birth, in batches.

Only records that match a worker are written (``health_records``); the others are counted and
dropped. Memory stays flat: a batch of records and the workers they name, never the whole extract.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import any_, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from portal.clock import utcnow
from portal.health.models import HealthRecord
from portal.plugins.types import RegistryRecord
from portal.text import fold
from portal.workers.models import Worker

BATCH = 2000
_RECORD_KINDS = {"vaccination": "dose", "recovery": "recovery", "test": "test"}


@dataclass
class MatchOutcome:
    """What matching did: counts (matched, unmatched, birth_date_differs, name_differs) and the workers touched."""

    counts: Counter = field(default_factory=Counter)
    worker_ids: set[int] = field(default_factory=set)


def batched(items: Iterable, size: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def record_key(record: RegistryRecord) -> str:
    """Tell a worker's records of one kind apart: the dose number, the positive date, the test's date and kind."""
    if record.kind == "vaccination":
        return str(record.dose_number)
    if record.kind == "recovery":
        return record.on_date.isoformat()
    return f"{record.on_date.isoformat()}:{record.test_kind}"


def among(dialect: str, column, values: list):
    """``column IN values`` for a batch; on PostgreSQL ``column = ANY(:array)``: one array parameter, so the
    statement is the same for every batch (an IN list of another length is a new one for the driver to parse)."""
    if dialect == "postgresql":
        return column == any_(bindparam(f"{column.name}_batch", values, type_=postgresql.ARRAY(column.type)))
    return column.in_(values)


def _workers_by_citizen_id(session, citizen_ids: set[str]) -> dict[str, tuple]:
    table = Worker.__table__
    rows = session.execute(
        select(table.c.citizen_id, table.c.id, table.c.date_of_birth, table.c.name_key)
        .where(among(session.get_bind().dialect.name, table.c.citizen_id, sorted(citizen_ids)),
               table.c.active.is_(True), table.c.erased_at.is_(None))
    )
    return {row.citizen_id: (row.id, row.date_of_birth, row.name_key) for row in rows}


def match(session, records: Iterable[RegistryRecord], *, extract_id: int | None, write: bool,
          outcome: MatchOutcome | None = None) -> MatchOutcome:
    """Match ``records`` to active workers; when ``write``, keep the matched ones (a later key replaces an earlier)."""
    outcome = outcome or MatchOutcome()
    counts = outcome.counts
    now = utcnow()
    for batch in batched(records, BATCH):
        workers = _workers_by_citizen_id(session, {record.citizen_id for record in batch})
        rows = {}
        for record in batch:
            found = workers.get(record.citizen_id)
            if found is None:
                counts["unmatched"] += 1
                continue
            worker_id, born, name_key = found
            if record.date_of_birth is not None and record.date_of_birth != born:
                counts["unmatched"] += 1
                counts["birth_date_differs"] += 1
                continue
            counts["matched"] += 1
            registry_name = None
            if record.full_name and fold(record.full_name) != name_key:
                counts["name_differs"] += 1
                registry_name = record.full_name[:200]
            outcome.worker_ids.add(worker_id)
            if write:
                kind = _RECORD_KINDS[record.kind]
                key = record_key(record)
                # The last row of an extract with the same key wins, as a later extract's does.
                rows[(worker_id, kind, key)] = {
                    "worker_id": worker_id, "extract_id": extract_id, "kind": kind, "key": key,
                    "number": record.dose_number, "product": record.product or None, "on_date": record.on_date,
                    "recovered_on": record.recovered_on, "test_kind": record.test_kind or None,
                    "result": record.result or None, "place": record.place, "registry_name": registry_name,
                    "received_at": now,
                }
        if rows:
            _upsert(session, list(rows.values()))
    return outcome


_UPDATED = ("extract_id", "number", "product", "on_date", "recovered_on", "test_kind", "result", "place",
            "registry_name", "received_at")


def _upsert(session, rows: list[dict]) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(HealthRecord.__table__)
    statement = statement.on_conflict_do_update(
        index_elements=["worker_id", "kind", "key"], set_={name: statement.excluded[name] for name in _UPDATED})
    session.execute(statement, rows)
