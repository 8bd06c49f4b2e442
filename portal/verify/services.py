"""Checkpoint verification: signature first, then the pass's state in the database, then the clock."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum

from sqlalchemy import Connection, bindparam, insert, select
from sqlalchemy.orm import Session

from portal.clock import local, utcnow
from portal.db import utc
from portal.enterprises.models import Enterprise, EnterpriseStatus
from portal.passes.models import Pass, PassStatus
from portal.plugins.types import CommuteWindow
from portal.tokens.codec import InvalidToken, TokenPayload, decode_token
from portal.tokens.pass_data import parse_windows, timing, valid_days
from portal.units.models import PilotUnit
from portal.verify.models import VerificationRecord
from portal.workers.models import Worker, mask_citizen_id

#: Revocation reason (a code, not free text) when the enterprise no longer takes part.
ENTERPRISE_SUSPENDED = "enterprise suspended"
#: Reason given with EXPIRED when the first valid day has not come yet.
NOT_YET_VALID = "not yet valid"


class Outcome(str, Enum):
    VALID = "valid"
    OUTSIDE_WINDOW = "outside_window"
    EXPIRED = "expired"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"
    INVALID = "invalid"


@dataclass(frozen=True)
class Verification:
    """The answer a checkpoint sees: the outcome and, for a genuine pass, the minimal facts to compare.

    No field is filled for an invalid token: nothing it says can be trusted.
    """

    outcome: Outcome
    checked_at: datetime
    reason: str = ""
    serial: str = ""
    version: int | None = None
    holder_name: str = ""
    birth_year: int | None = None
    masked_id: str = ""
    enterprise_name: str = ""
    unit_code: str = ""
    unit_name_vi: str = ""
    unit_name_en: str = ""
    windows: tuple[CommuteWindow, ...] = field(default_factory=tuple)
    route_from: str = ""
    route_to: str = ""
    valid_from: date | None = None
    valid_until: date | None = None

    @property
    def is_valid(self) -> bool:
        return self.outcome is Outcome.VALID

    def as_json(self) -> dict:
        """Return the JSON answer for checkpoint apps."""
        answer = {
            "outcome": self.outcome.value,
            "reason": self.reason or None,
            "checked_at": self.checked_at.isoformat(),
            "checked_at_local": local(self.checked_at).isoformat(),
        }
        if self.outcome is Outcome.INVALID:
            return answer
        answer["pass"] = {
            "serial": self.serial,
            "version": self.version,
            "holder_name": self.holder_name,
            "birth_year": self.birth_year,
            "masked_id": self.masked_id,
            "enterprise": self.enterprise_name,
            "unit": {"code": self.unit_code, "name_vi": self.unit_name_vi, "name_en": self.unit_name_en},
            "windows": [{"start": f"{w.start:%H:%M}", "end": f"{w.end:%H:%M}", "direction": w.direction}
                        for w in self.windows],
            "route_from": self.route_from,
            "route_to": self.route_to,
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
        }
        return answer


def timing_outcome(valid_from: datetime, valid_until: datetime, windows, now: datetime) -> Outcome:
    """Say whether ``now`` is inside the validity (``valid_until`` exclusive) and one of the daily windows.

    Windows are compared in HCMC local time to the second, both ends included.
    """
    return Outcome(timing(valid_from, valid_until, windows, now))


@dataclass(frozen=True)
class PassState:
    """The columns of a pass, its holder, enterprise and unit that a checkpoint needs (one row)."""

    serial: str
    version: int
    status: str
    valid_from: datetime
    valid_until: datetime
    windows: list
    route_from: str
    route_to: str
    unit_id: int
    full_name: str
    date_of_birth: date
    citizen_id: str
    enterprise_name: str
    enterprise_status: str
    sector: str
    unit_code: str
    unit_short_code: str
    unit_name_vi: str
    unit_name_en: str


_passes, _workers, _enterprises, _units = (model.__table__ for model in (Pass, Worker, Enterprise, PilotUnit))
# Table columns, not ORM attributes: the statement runs on the connection, skipping the ORM layer.
_FIND_PASS = (
    select(_passes.c.serial, _passes.c.version, _passes.c.status, _passes.c.valid_from, _passes.c.valid_until,
           _passes.c.windows, _passes.c.route_from, _passes.c.route_to, _passes.c.unit_id,
           _workers.c.full_name, _workers.c.date_of_birth, _workers.c.citizen_id,
           _enterprises.c.name, _enterprises.c.status, _enterprises.c.sector,
           _units.c.code, _units.c.short_code, _units.c.name_vi, _units.c.name_en)
    .join(_workers, _passes.c.worker_id == _workers.c.id)
    .join(_enterprises, _passes.c.enterprise_id == _enterprises.c.id)
    .join(_units, _passes.c.unit_id == _units.c.id)
    .where(_passes.c.serial == bindparam("serial"))
)
_RECORD = insert(VerificationRecord.__table__)


def verify(session: Session | Connection, registry, token: str, *, now: datetime | None = None,
           record: bool | Callable[[dict], None] = True, keys=None) -> Verification:
    """Check ``token`` at ``now``: signature (with ``keys`` or the app's key ring), pass state, time.

    ``record=True`` writes a VerificationRecord (outcome, time, unit, sector; never who) in
    ``session``'s transaction (the caller commits); a callable receives that row instead (the
    checkpoint views hand it to the batching recorder). ``session`` may also be a Core connection
    (the views use one in autocommit mode: a scan is a single read).
    """
    from portal.tokens.keys import current_keyring

    now = utc(local(now)) if now is not None else utcnow()  # local() refuses a naive datetime
    try:
        payload = decode_token(token, keys if keys is not None else current_keyring())
    except InvalidToken as error:
        return _finish(session, Verification(Outcome.INVALID, now, reason=str(error)), None, record)
    state = _find_pass(session, payload)
    if state is None:
        return _finish(session, Verification(Outcome.INVALID, now, reason="unknown serial"), None, record)
    outcome, reason = _assess(state, payload, now)
    return _finish(session, _describe(state, payload, outcome, reason, now), state, record)


def _connection(session: Session | Connection) -> Connection:
    return session if isinstance(session, Connection) else session.connection()


def _find_pass(session: Session | Connection, payload: TokenPayload) -> PassState | None:
    # One row of plain columns, no ORM objects: this runs for every scan at every checkpoint.
    row = _connection(session).execute(_FIND_PASS, {"serial": payload.serial}).first()
    if row is None:
        return None
    state = PassState(*row)
    return state if state.unit_short_code == payload.unit else None


def _assess(state: PassState, payload: TokenPayload, now: datetime) -> tuple[Outcome, str]:
    if state.status == PassStatus.REVOKED.value:
        # Never the typed reason: it is free text (it could even name an illness) and this answer is public.
        return Outcome.REVOKED, ""
    if state.enterprise_status != EnterpriseStatus.APPROVED.value:
        return Outcome.REVOKED, ENTERPRISE_SUSPENDED
    if payload.version < state.version:
        return Outcome.SUPERSEDED, ""
    if payload.version > state.version:
        return Outcome.INVALID, "unknown version"  # signed by us, yet never issued: refuse it
    # The token and the row agree on this version; the row is the authority on dates and windows.
    outcome = timing_outcome(state.valid_from, state.valid_until, parse_windows(state.windows), now)
    return outcome, NOT_YET_VALID if outcome is Outcome.EXPIRED and now < state.valid_from else ""


def _describe(state: PassState, payload: TokenPayload, outcome: Outcome, reason: str,
              now: datetime) -> Verification:
    current = payload.version == state.version
    # An older card is described as printed (its windows and dates), so the officer can compare it.
    valid_from, valid_until = valid_days(state) if current else (payload.valid_from, payload.valid_until)
    return Verification(
        outcome=outcome, checked_at=now, reason=reason, serial=state.serial, version=payload.version,
        holder_name=state.full_name, birth_year=state.date_of_birth.year,
        masked_id=mask_citizen_id(state.citizen_id), enterprise_name=state.enterprise_name,
        unit_code=state.unit_code, unit_name_vi=state.unit_name_vi, unit_name_en=state.unit_name_en,
        windows=parse_windows(state.windows) if current else payload.windows, route_from=state.route_from,
        route_to=state.route_to, valid_from=valid_from, valid_until=valid_until,
    )


def _finish(session: Session | Connection, result: Verification, state: PassState | None,
            record: bool | Callable[[dict], None]) -> Verification:
    if not record:
        return result
    row = {"at": result.checked_at, "outcome": result.outcome.value,
           "unit_id": state.unit_id if state is not None else None,
           "sector": state.sector if state is not None else None}
    if callable(record):
        record(row)
        return result
    connection = _connection(session)
    autocommit = connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
    if connection.dialect.name == "postgresql" and not autocommit:
        # A statistics row need not wait for the disk: a crash may lose the last instant of
        # records, never consistency. Only this transaction is affected (SET LOCAL).
        connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
    # A plain INSERT: no ORM object to track for a row nobody reads back in this request.
    connection.execute(_RECORD, row)
    return result


def revocation_list(session: Session, now: datetime | None = None) -> dict:
    """Return the public list offline verifiers load: revoked and superseded serials still within validity.

    Holds serials, versions and times only (no names, no free-text reasons).
    """
    now = now or utcnow()
    rows = session.execute(
        select(Pass.serial, Pass.version, Pass.status, Pass.revoked_at, Pass.updated_at, Enterprise.status,
               Enterprise.status_changed_at)
        .join(Enterprise, Pass.enterprise_id == Enterprise.id)
        .where(Pass.valid_until > now)
        .where((Pass.status == PassStatus.REVOKED.value) | (Pass.version > 1)
               | (Enterprise.status != EnterpriseStatus.APPROVED.value))
        .order_by(Pass.serial)
    ).all()
    revoked, superseded, changed = [], [], []
    for serial, version, status, revoked_at, updated_at, enterprise_status, enterprise_changed in rows:
        if status == PassStatus.REVOKED.value or enterprise_status != EnterpriseStatus.APPROVED.value:
            at = revoked_at if status == PassStatus.REVOKED.value else (enterprise_changed or updated_at)
            reason = None if status == PassStatus.REVOKED.value else ENTERPRISE_SUSPENDED
            revoked.append({"serial": serial, "version": version, "revoked_at": _iso(at), "reason": reason})
            changed.append(at)
        else:
            superseded.append({"serial": serial, "current_version": version, "changed_at": _iso(updated_at)})
            changed.append(updated_at)
    return {
        "revoked": revoked,
        "superseded": superseded,
        "last_modified": _iso(max((at for at in changed if at), default=None)),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
