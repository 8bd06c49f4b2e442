"""Checkpoint verification: signature first, then the pass's state in the database, then the clock."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Protocol

from sqlalchemy import Connection, bindparam, insert, select
from sqlalchemy.orm import Session

from portal.clock import HCMC, end_of_local_day, local, start_of_local_day, utcnow
from portal.db import utc
from portal.enterprises.models import Enterprise, EnterpriseStatus
from portal.passes.models import Pass, PassStatus, PassVersion
from portal.plugins.types import CommuteWindow
from portal.tokens.codec import InvalidToken, TokenPayload, decode_token
from portal.tokens.pass_data import parse_windows, timing, valid_days
from portal.units.models import PilotUnit
from portal.verify.models import VerificationRecord
from portal.verify.outcomes import Outcome, OutcomeLabel, outcome_label
from portal.workers.models import Worker, mask_citizen_id

#: Revocation reason (a code, not free text) when the enterprise no longer takes part.
ENTERPRISE_SUSPENDED = "enterprise suspended"


@dataclass(frozen=True)
class NextWindow:
    """The next stretch of travel hours a card allows, as local instants."""

    start: datetime
    end: datetime
    direction: str


@dataclass(frozen=True)
class Verification:
    """The answer a checkpoint sees: the outcome and, for a genuine pass, the minimal facts to compare.

    No field is filled for an invalid token: nothing it says can be trusted. A superseded card is
    described only by what its own token proves (``as_printed``): its printed name, dates and windows,
    and the route printed on it (its version's history, ``pass_versions``), never the newer card's details.
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
    next_window: NextWindow | None = None
    as_printed: bool = False
    # Kept for the scan record (statistics per unit and sector), never shown.
    unit_id: int | None = None
    sector: str | None = None

    @property
    def label(self) -> OutcomeLabel:
        return outcome_label(self.outcome)

    def record_row(self) -> dict:
        """Return the scan record: outcome, time, unit, sector; never who."""
        return {"at": self.checked_at, "outcome": self.outcome.value, "unit_id": self.unit_id, "sector": self.sector}

    def as_json(self, texts: dict | None = None) -> dict:
        """Return the JSON answer for checkpoint apps; ``texts`` adds the screen's words in one language."""
        answer = {
            "outcome": self.outcome.value,
            "signal": self.label.signal.value,
            "reason": self.reason or None,
            "checked_at": self.checked_at.isoformat(),
            "checked_at_local": local(self.checked_at).isoformat(),
        }
        if texts is not None:
            answer.update(texts)
        if self.outcome is Outcome.INVALID:
            return answer
        answer["pass"] = {
            "serial": self.serial,
            "version": self.version,
            "holder_name": self.holder_name,
            "birth_year": self.birth_year,
            "masked_id": self.masked_id or None,
            "enterprise": self.enterprise_name or None,
            "unit": {"code": self.unit_code, "name_vi": self.unit_name_vi, "name_en": self.unit_name_en},
            "windows": [_window_json(w) for w in self.windows],
            "route_from": self.route_from or None,
            "route_to": self.route_to or None,
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "as_printed": self.as_printed,
        }
        if self.next_window is not None:
            answer["next_window"] = {"date": self.next_window.start.date().isoformat(),
                                     "start": f"{self.next_window.start:%H:%M}", "end": f"{self.next_window.end:%H:%M}",
                                     "direction": self.next_window.direction}
        return answer


def _window_json(window: CommuteWindow) -> dict:
    return {"start": f"{window.start:%H:%M}", "end": f"{window.end:%H:%M}", "direction": window.direction}


def timing_outcome(valid_from: datetime, valid_until: datetime, windows, now: datetime) -> Outcome:
    """Say whether ``now`` is before, inside or after the validity (``valid_until`` exclusive), and in a window.

    Windows are compared in HCMC local time to the second, both ends included.
    """
    return Outcome(timing(valid_from, valid_until, windows, now))


def next_window(windows, now: datetime, valid_until: datetime) -> NextWindow | None:
    """Return the first window that opens after ``now`` and before the card's validity ends."""
    today = local(now).date()
    best = None
    for offset in (0, 1, 2):
        day = today + timedelta(days=offset)
        for window in windows:
            start = datetime.combine(day, window.start, tzinfo=HCMC)
            if now < start < valid_until and (best is None or start < best[0]):
                end_day = day if window.end > window.start else day + timedelta(days=1)
                best = (start, datetime.combine(end_day, window.end, tzinfo=HCMC), window.direction)
        if best is not None:
            break
    return NextWindow(*best) if best else None


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


class PassReader(Protocol):
    """Anything that finds the state of a pass by its serial (the checkpoint's own connection)."""

    def find_pass(self, serial: str) -> PassState | None: ...


_passes, _workers, _enterprises, _units = (model.__table__ for model in (Pass, Worker, Enterprise, PilotUnit))
# Table columns, not ORM attributes: the statement runs on a connection, skipping the ORM layer.
FIND_PASS = (
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
RECORD = insert(VerificationRecord.__table__)
_versions = PassVersion.__table__
#: The route printed on one version of a card (an older card shows its own, never the newer card's).
FIND_PRINTED_ROUTE = (
    select(_versions.c.route_from, _versions.c.route_to)
    .join(_passes, _passes.c.id == _versions.c.pass_id)
    .where(_passes.c.serial == bindparam("serial"), _versions.c.version == bindparam("version"))
)


def verify(source: Session | Connection | PassReader, token: str, *, now: datetime | None = None,
           keys=None, decode=decode_token) -> Verification:
    """Check ``token`` at ``now``: signature (with ``keys`` or the app's key ring), pass state, time.

    ``source`` is a session, a connection or a :class:`PassReader`; nothing is written (the caller
    records the scan with :meth:`Verification.record_row`). ``decode`` may remember signatures
    already checked (see :mod:`portal.verify.signatures`).
    """
    if keys is None:
        from portal.tokens.keys import current_keyring

        keys = current_keyring().verifying_keys()
    now = utc(local(now)) if now is not None else utcnow()  # local() refuses a naive datetime
    try:
        payload = decode(token, keys)
    except InvalidToken as error:
        return Verification(Outcome.INVALID, now, reason=str(error))
    return with_printed_route(judge(find_pass(source, payload.serial), payload, now), source)


def with_printed_route(result: Verification, source) -> Verification:
    """Add to a superseded card's answer the route printed on it (kept in its version's history)."""
    if result.outcome is not Outcome.SUPERSEDED or not result.as_printed:
        return result
    finder = getattr(source, "find_printed_route", None)
    if finder is not None:
        route = finder(result.serial, result.version)
    else:
        connection = source if isinstance(source, Connection) else source.connection()
        route = connection.execute(FIND_PRINTED_ROUTE, {"serial": result.serial, "version": result.version}).first()
    return replace(result, route_from=route[0], route_to=route[1]) if route else result


def judge(state: PassState | None, payload: TokenPayload, now: datetime) -> Verification:
    """Return the answer for a genuine token ``payload`` given its pass's ``state`` in the database."""
    if state is None or state.unit_short_code != payload.unit:
        return Verification(Outcome.INVALID, now, reason="unknown serial")
    windows = parse_windows(state.windows)
    outcome, reason = _assess(state, payload, windows, now)
    return _describe(state, payload, windows, outcome, reason, now)


def token_outcome(payload: TokenPayload, now: datetime) -> Outcome:
    """Return what the token's own dates and windows say at ``now`` (what an offline verifier sees)."""
    return timing_outcome(start_of_local_day(payload.valid_from), end_of_local_day(payload.valid_until),
                          payload.windows, now)


def find_pass(source: Session | Connection | PassReader, serial: str) -> PassState | None:
    """Return the state of pass ``serial`` (one row of plain columns), or None."""
    finder = getattr(source, "find_pass", None)
    if finder is not None:
        return finder(serial)
    connection = source if isinstance(source, Connection) else source.connection()
    row = connection.execute(FIND_PASS, {"serial": serial}).first()
    return PassState(*row) if row is not None else None


def record_scan(session: Session | Connection, result: Verification) -> None:
    """Add the scan record of ``result`` in ``session``'s transaction (the caller commits)."""
    connection = session if isinstance(session, Connection) else session.connection()
    connection.execute(RECORD, result.record_row())


def _assess(state: PassState, payload: TokenPayload, windows, now: datetime) -> tuple[Outcome, str]:
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
    return timing_outcome(state.valid_from, state.valid_until, windows, now), ""


def _describe(state: PassState, payload: TokenPayload, windows: tuple[CommuteWindow, ...], outcome: Outcome,
              reason: str, now: datetime) -> Verification:
    common = {"outcome": outcome, "checked_at": now, "reason": reason, "unit_id": state.unit_id,
              "sector": state.sector}
    if outcome is Outcome.INVALID:
        return Verification(**common)
    units = {"unit_code": state.unit_code, "unit_name_vi": state.unit_name_vi, "unit_name_en": state.unit_name_en}
    if payload.version != state.version:
        # An older card: only what its own signed token says (the row describes the newer card).
        return Verification(**common, **units, serial=payload.serial, version=payload.version, holder_name=payload.name,
                            windows=payload.windows, valid_from=payload.valid_from, valid_until=payload.valid_until,
                            as_printed=True)
    valid_from, valid_until = valid_days(state)
    return Verification(
        **common, **units, serial=state.serial, version=payload.version, holder_name=state.full_name,
        birth_year=state.date_of_birth.year, masked_id=mask_citizen_id(state.citizen_id),
        enterprise_name=state.enterprise_name, windows=windows, route_from=state.route_from,
        route_to=state.route_to, valid_from=valid_from, valid_until=valid_until,
        next_window=next_window(windows, now, state.valid_until) if outcome is Outcome.OUTSIDE_WINDOW else None,
    )


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
