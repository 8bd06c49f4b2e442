"""Register, change and deactivate workers, one at a time or thousands at once.

Nothing here commits: the caller commits, so a change, its audit events and what the listeners of
:mod:`portal.events` do in response land together or not at all.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, false, insert, inspect, select, true, update
from sqlalchemy.exc import IntegrityError

from portal.audit.services import record
from portal.clock import utcnow
from portal.events import send_workers_changed, workers_deactivated
from portal.messages import Refusal
from portal.text import fold
from portal.units.services import require_active
from portal.workers.models import VaccineDose, Worker, mask_citizen_id
from portal.workers.validation import CleanWorker, duplicate_rows

#: Columns of ``workers`` a CleanWorker sets (doses live in their own table).
WORKER_COLUMNS = (
    "full_name", "name_key", "date_of_birth", "sex", "citizen_id", "phone", "home_address", "home_ward",
    "home_district", "job_title", "shift", "recovered_on", "test_kind", "tested_on",
)
#: Rows per statement when a list of IDs goes into an IN (...) clause.
CHUNK = 1000

#: Refusals (portal.messages.Refusal) of a change to workers.
TAKEN_MESSAGE = _l("This citizen ID (CCCD/CMND) is already registered by another enterprise.")
REGISTERED_MESSAGE = _l("One of your workers is already registered with this citizen ID (CCCD/CMND).")
INACTIVE_MESSAGE = _l("This worker has left the enterprise. Register them again to change their data.")
CONCURRENT_MESSAGE = _l("Someone else changed these workers at the same time. Please try again.")


def _taken() -> Refusal:
    """The citizen ID is active in another enterprise (the message says nothing about which)."""
    return Refusal(TAKEN_MESSAGE, field="citizen_id")


def _registered() -> Refusal:
    """The enterprise itself already has an active worker with this citizen ID."""
    return Refusal(REGISTERED_MESSAGE, field="citizen_id")


@dataclass
class UpsertResult:
    """What a bulk upsert did, as lists of citizen IDs; ``worker_ids`` maps every citizen ID to its worker."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    worker_ids: dict[str, int] = field(default_factory=dict)


# -- one worker ------------------------------------------------------------------


def create_worker(session, registry, enterprise, clean: CleanWorker, actor, *, reason: str | None = None) -> Worker:
    """Register a new worker of ``enterprise``; raise Refusal when the ID is in use or the unit is not active.

    ``reason`` goes to the audit trail (e.g. which API token made the change).
    """
    require_active(registry, enterprise.unit)
    _check_citizen_id_free(session, enterprise, clean.citizen_id)
    worker = Worker(enterprise=enterprise, active=True)
    with _guarded(session, enterprise, [clean.citizen_id]):
        session.add(worker)
        _apply(worker, clean)
        session.flush()
    record(session, actor, "worker.created", worker, reason=reason, after=snapshot(worker), **_scope(enterprise))
    send_workers_changed(enterprise, session=session, registry=registry, actor=actor, worker_ids=[worker.id])
    return worker


def update_worker(session, registry, worker: Worker, clean: CleanWorker, actor, *,
                  reason: str | None = None) -> Worker:
    """Replace an active worker's data with ``clean``; do nothing (no event) when nothing changed."""
    if not worker.active:
        raise Refusal(INACTIVE_MESSAGE)
    enterprise = worker.enterprise
    require_active(registry, enterprise.unit)
    if clean.citizen_id != worker.citizen_id:
        _check_citizen_id_free(session, enterprise, clean.citizen_id, exclude_worker_id=worker.id)
    if _worker_state(worker) == _state(clean):
        return worker
    before, old_citizen_id = snapshot(worker), worker.citizen_id
    with _guarded(session, enterprise, [clean.citizen_id]):
        _apply(worker, clean)
        worker.updated_at = utcnow()
        session.flush()
    after = snapshot(worker)
    changed = sorted(key for key in after
                     if before.get(key) != after[key] or (key == "citizen_id" and old_citizen_id != clean.citizen_id))
    record(session, actor, "worker.updated", worker, reason=reason, before={k: before.get(k) for k in changed},
           after={k: after[k] for k in changed}, **_scope(enterprise))
    send_workers_changed(enterprise, session=session, registry=registry, actor=actor, worker_ids=[worker.id])
    return worker


def deactivate_worker(session, registry, worker: Worker, actor, *, left_on: date, reason: str) -> None:
    """Mark ``worker`` as having left the enterprise on ``left_on``; the ID may then be registered again.

    Allowed even when the unit is not active: a worker who left must lose their card.
    """
    if not worker.active:
        raise Refusal(INACTIVE_MESSAGE)
    enterprise = worker.enterprise
    worker.active = False
    worker.left_on = left_on
    worker.updated_at = utcnow()
    session.flush()
    record(session, actor, "worker.deactivated", worker, reason=reason,
           before={"active": True}, after={"active": False, "left_on": left_on.isoformat()}, **_scope(enterprise))
    workers_deactivated.send(enterprise, session=session, registry=registry, actor=actor, worker_ids=[worker.id],
                             reason=reason)


def worker_conditions(enterprise_id: int, *, q: str = "", active: bool = True) -> list:
    """Return the WHERE terms selecting an enterprise's workers (active or left) that match ``q``.

    ``q`` is a name typed with or without diacritics, or digits of a citizen ID.
    """
    conditions = [Worker.enterprise_id == enterprise_id, Worker.active == (true() if active else false())]
    q = (q or "").strip()
    digits = "".join(ch for ch in q if ch not in " .-")
    if digits.isdigit():
        conditions.append(Worker.citizen_id.contains(digits, autoescape=True))
    elif q:
        conditions.append(Worker.name_key.contains(fold(q), autoescape=True))
    return conditions


def worker_query(enterprise_id: int, *, q: str = "", active: bool = True):
    """Return the SELECT of an enterprise's workers matching ``q``, in name order (see worker_conditions)."""
    return (select(Worker).where(*worker_conditions(enterprise_id, q=q, active=active))
            .order_by(Worker.name_key, Worker.id))


def active_elsewhere(session, citizen_ids: Iterable[str], enterprise_id: int) -> set[str]:
    """Return those of ``citizen_ids`` that are active in an enterprise other than ``enterprise_id``."""
    wanted = sorted(set(citizen_ids))
    found: set[str] = set()
    for start in range(0, len(wanted), CHUNK):
        found.update(session.scalars(
            select(Worker.citizen_id).where(Worker.citizen_id.in_(wanted[start:start + CHUNK]),
                                            Worker.active == true(), Worker.enterprise_id != enterprise_id)
        ))
    return found


def snapshot(worker: Worker) -> dict:
    """Return the worker's data as the audit trail keeps it (the citizen ID masked)."""
    values = {key: _plain(getattr(worker, key)) for key in WORKER_COLUMNS if key != "name_key"}
    values["citizen_id"] = mask_citizen_id(worker.citizen_id)
    values["doses"] = [[dose.product, _plain(dose.given_on)] for dose in worker.doses]
    return values


def _worker_state(worker: Worker) -> tuple:
    return (tuple(getattr(worker, key) for key in WORKER_COLUMNS),
            tuple((dose.product, dose.given_on) for dose in worker.doses))


# -- many workers -----------------------------------------------------------------


def upsert_workers(session, registry, enterprise, cleans: Sequence[CleanWorker], actor, *,
                   reason: str | None = None) -> UpsertResult:
    """Create the enterprise's new workers and update the changed ones, matching on citizen ID, in bulk."""
    require_active(registry, enterprise.unit)
    repeats = duplicate_rows(cleans)
    if repeats:
        raise ValueError(f"citizen IDs repeat within the batch (rows {sorted(repeats)}); check duplicate_rows first")
    if active_elsewhere(session, (clean.citizen_id for clean in cleans), enterprise.id):
        raise _taken()
    existing = active_workers_by_citizen_id(session, enterprise.id)
    result = UpsertResult()
    to_create, to_update = [], []
    for clean in cleans:
        current = existing.get(clean.citizen_id)
        if current is None:
            to_create.append(clean)
        elif current.state == _state(clean):
            result.unchanged.append(clean.citizen_id)
            result.worker_ids[clean.citizen_id] = current.id
        else:
            to_update.append((current.id, clean))
    now = utcnow()
    with _guarded(session, enterprise, [clean.citizen_id for clean in to_create], bulk=True):
        created_ids = _insert_workers(session, enterprise.id, to_create, now)
        _update_workers(session, to_update, now)
    result.created = [clean.citizen_id for clean in to_create]
    result.updated = [clean.citizen_id for _id, clean in to_update]
    result.worker_ids.update(created_ids)
    result.worker_ids.update({clean.citizen_id: worker_id for worker_id, clean in to_update})
    _expire_workers(session, {worker_id for worker_id, _clean in to_update})
    record(session, actor, "workers.bulk_upsert", enterprise, reason=reason,
           after={"created": len(result.created), "updated": len(result.updated),
                  "unchanged": len(result.unchanged)}, **_scope(enterprise))
    changed_ids = sorted(created_ids.values()) + sorted(worker_id for worker_id, _clean in to_update)
    if changed_ids:
        send_workers_changed(enterprise, session=session, registry=registry, actor=actor, worker_ids=changed_ids)
    return result


@dataclass(frozen=True)
class StoredWorker:
    """An active worker as stored: id, the columns a CleanWorker sets, and the doses as (vaccine, date)."""

    id: int
    values: dict
    doses: tuple

    @property
    def state(self) -> tuple:
        """Return what :func:`_state` returns for a CleanWorker, to tell whether anything changed."""
        return tuple(self.values[key] for key in WORKER_COLUMNS), self.doses


def active_workers_by_citizen_id(session, enterprise_id: int) -> dict[str, StoredWorker]:
    """Return the enterprise's active workers by citizen ID, with their stored values and doses, in one query."""
    width = len(WORKER_COLUMNS)
    rows = session.execute(
        select(Worker.id, *(getattr(Worker, key) for key in WORKER_COLUMNS), VaccineDose.product,
               VaccineDose.given_on)
        .outerjoin(VaccineDose, VaccineDose.worker_id == Worker.id)
        .where(Worker.enterprise_id == enterprise_id, Worker.active == true())
        .order_by(Worker.id, VaccineDose.number)
    )
    found: dict[str, tuple[int, dict, list]] = {}
    for row in rows:
        values = dict(zip(WORKER_COLUMNS, row[1:width + 1], strict=True))
        entry = found.get(values["citizen_id"])
        if entry is None:
            entry = found[values["citizen_id"]] = (row[0], values, [])
        if row[width + 1] is not None or row[width + 2] is not None:
            entry[2].append((row[width + 1], row[width + 2]))
    return {key: StoredWorker(worker_id, values, tuple(doses)) for key, (worker_id, values, doses) in found.items()}


def _state(clean: CleanWorker) -> tuple:
    return tuple(getattr(clean, key) for key in WORKER_COLUMNS), tuple(clean.doses)


def _insert_workers(session, enterprise_id: int, cleans: list[CleanWorker], now) -> dict[str, int]:
    if not cleans:
        return {}
    rows = [{**_row(clean), "enterprise_id": enterprise_id, "active": True, "created_at": now, "updated_at": now}
            for clean in cleans]
    ids = {citizen_id: worker_id for worker_id, citizen_id in
           session.execute(insert(Worker).returning(Worker.id, Worker.citizen_id)
                           # One statement shape for every row: rows with different empty fields
                           # would otherwise be split into many small batches (22.6 s vs 1.9 s for 10k).
                           .execution_options(render_nulls=True), rows)}
    _insert_doses(session, [(ids[clean.citizen_id], clean) for clean in cleans])
    return ids


def _update_workers(session, pairs: list[tuple[int, CleanWorker]], now) -> None:
    if not pairs:
        return
    session.execute(update(Worker), [{**_row(clean), "id": worker_id, "updated_at": now}
                                     for worker_id, clean in pairs])
    worker_ids = [worker_id for worker_id, _clean in pairs]
    for start in range(0, len(worker_ids), CHUNK):
        session.execute(delete(VaccineDose).where(VaccineDose.worker_id.in_(worker_ids[start:start + CHUNK]))
                        .execution_options(synchronize_session=False))
    _insert_doses(session, pairs)


def _insert_doses(session, pairs: list[tuple[int, CleanWorker]]) -> None:
    rows = [{"worker_id": worker_id, "number": number, "product": product, "given_on": day}
            for worker_id, clean in pairs for number, (product, day) in enumerate(clean.doses, start=1)]
    if rows:
        session.execute(insert(VaccineDose).execution_options(render_nulls=True), rows)


def _expire_workers(session, worker_ids: set[int]) -> None:
    """Make workers already loaded in ``session`` reread what the bulk statements wrote."""
    owners = worker_ids | {0}
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Worker) and obj.id in worker_ids:
            session.expire(obj)
        elif isinstance(obj, VaccineDose) and inspect(obj).dict.get("worker_id", 0) in owners:
            session.expunge(obj)  # its row may be gone; reading it would fail (0: expired, owner unknown)


# -- shared ------------------------------------------------------------------------


def _row(clean: CleanWorker) -> dict:
    return {key: getattr(clean, key) for key in WORKER_COLUMNS}


def _apply(worker: Worker, clean: CleanWorker) -> None:
    """Copy ``clean`` onto ``worker``, changing dose rows in place (a delete-then-insert would hit their key)."""
    for key, value in _row(clean).items():
        setattr(worker, key, value)
    doses = list(worker.doses)
    for number, (product, day) in enumerate(clean.doses, start=1):
        if number <= len(doses):
            doses[number - 1].product, doses[number - 1].given_on = product, day
        else:
            worker.doses.append(VaccineDose(number=number, product=product, given_on=day))
    for dose in doses[len(clean.doses):]:
        worker.doses.remove(dose)


def _check_citizen_id_free(session, enterprise, citizen_id: str, exclude_worker_id: int | None = None) -> None:
    query = select(Worker.id, Worker.enterprise_id).where(Worker.citizen_id == citizen_id, Worker.active == true())
    if exclude_worker_id is not None:
        query = query.where(Worker.id != exclude_worker_id)
    holder = session.execute(query).first()
    if holder is None:
        return
    if holder.enterprise_id == enterprise.id:
        raise _registered()
    raise _taken()


class _guarded:
    """Run writes in a savepoint; turn a clash on the one-active-citizen-ID index into the user's message.

    The checks before the write cannot see a registration another request has not committed yet;
    the unique index can, and this is where that race ends.
    """

    def __init__(self, session, enterprise, citizen_ids: list[str], bulk: bool = False):
        self.session, self.enterprise, self.citizen_ids, self.bulk = session, enterprise, citizen_ids, bulk

    def __enter__(self):
        self.savepoint = self.session.begin_nested()
        return self

    def __exit__(self, kind, error, _traceback):
        if error is None:
            self.savepoint.commit()
            return False
        self.savepoint.rollback()
        if not isinstance(error, IntegrityError) or "citizen_id" not in str(error.orig):
            return False
        if active_elsewhere(self.session, self.citizen_ids, self.enterprise.id):
            raise _taken() from error
        if not self.bulk and len(self.citizen_ids) == 1:
            holder = self.session.scalar(select(Worker.id).where(Worker.citizen_id == self.citizen_ids[0],
                                                                 Worker.active == true()))
            if holder is not None:
                raise _registered() from error
        raise Refusal(CONCURRENT_MESSAGE) from error


def _scope(enterprise) -> dict:
    return {"enterprise_id": enterprise.id, "unit_id": enterprise.unit_id}


def _plain(value):
    return value.isoformat() if isinstance(value, date) else value
