"""Green cards: who may hold one today, issuing and new versions, revocation, the cached PDF.

Nothing here commits. What must happen only once the change is committed (telling the unit's
plugin, dropping the cached PDF) is registered with :func:`portal.db.after_commit`.

This module also answers :mod:`portal.events` (its ``on_*`` receivers are connected by
:mod:`portal.wiring`): inside the sender's transaction, a worker whose printed data changed gets a new
version of their pass, a worker who left or is no longer eligible loses it, and an enterprise
suspended or rejected loses all of its passes.
"""
from __future__ import annotations

import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import date

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from portal.audit.services import record
from portal.clock import local, local_today, start_of_local_day, utcnow
from portal.db import after_commit
from portal.enterprises.models import EnterpriseStatus
from portal.passes.models import Pass, PassStatus
from portal.plugins import current_registry
from portal.plugins.api import validity_instants
from portal.plugins.registry import fold
from portal.plugins.types import Eligibility
from portal.printing.card import build_card, pass_facts, workplace_address
from portal.printing.render import card_fingerprint, render_pass_pdf
from portal.storage.cache import PASS_PDFS
from portal.tokens.pass_data import valid_days
from portal.workers.facts import evaluate, worker_facts
from portal.workers.models import Worker

log = logging.getLogger(__name__)

#: Crockford's base32: no I, L, O or U, so a serial read aloud or typed is not misread.
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SERIAL_CHARS = 10  # 50 random bits: not guessable, not sequential
#: Rows per IN (...) clause when a bulk change names thousands of workers.
CHUNK = 1000
#: Above this many active workers, "issue for all eligible" runs as a background job.
ISSUE_ALL_INLINE_MAX = 200

#: Reasons HR or an official may give when revoking (code → label); "other" needs a note.
REVOKE_REASONS = (
    ("left", _l("The worker left the enterprise")),
    ("f0", _l("The worker tested positive for COVID-19 (F0)")),
    ("f1", _l("The worker is quarantined as a close contact (F1)")),
    ("mistake", _l("The card was issued by mistake")),
    ("other", _l("Other reason")),
)
LEFT_REASON = REVOKE_REASONS[0][1]
# Another request issued the same worker's pass at the same moment (one active pass per worker).
CONCURRENT_ISSUE = _l("Someone else issued this green card at the same time. Reload the page.")


class PassError(Exception):
    """A green-card action the portal refuses; ``message`` is shown to the user."""

    def __init__(self, message):
        self.message = message
        super().__init__(str(message))

    def __str__(self) -> str:
        return str(self.message)


# ---------------------------------------------------------------------------
# Who may hold a card today
# ---------------------------------------------------------------------------

@dataclass
class WorkerRow:
    """One active worker of the enterprise, their eligibility today and their current pass."""

    worker: Worker
    eligibility: Eligibility
    pass_: Pass | None

    @property
    def has_pass(self) -> bool:
        return self.pass_ is not None


FILTERS = ("all", "eligible", "ineligible", "with_pass", "without_pass")


def eligibility_rows(session, registry, enterprise, today: date) -> list[WorkerRow]:
    """Return every active worker of ``enterprise`` with their eligibility on ``today`` and active pass."""
    workers = session.scalars(
        select(Worker).where(Worker.enterprise_id == enterprise.id, Worker.active.is_(True))
        .options(selectinload(Worker.doses)).order_by(Worker.name_key, Worker.id)
    ).all()
    passes = {pass_.worker_id: pass_ for pass_ in session.scalars(
        select(Pass).where(Pass.enterprise_id == enterprise.id, Pass.status == PassStatus.ACTIVE.value)
    )}
    return [WorkerRow(worker, evaluate(registry, worker, today), passes.get(worker.id)) for worker in workers]


def filter_rows(rows: list[WorkerRow], which: str) -> list[WorkerRow]:
    """Return the rows ``which`` (one of :data:`FILTERS`) selects."""
    tests = {
        "eligible": lambda row: row.eligibility.eligible,
        "ineligible": lambda row: not row.eligibility.eligible,
        "with_pass": lambda row: row.has_pass,
        "without_pass": lambda row: not row.has_pass,
    }
    test = tests.get(which)
    return [row for row in rows if test(row)] if test else list(rows)


def search_rows(rows: list[WorkerRow], text: str) -> list[WorkerRow]:
    """Return the rows whose worker's name contains ``text`` (diacritics ignored) or whose ID ends with it."""
    wanted = fold(text or "")
    if not wanted:
        return list(rows)
    return [row for row in rows if wanted in row.worker.name_key or
            (wanted.isdigit() and row.worker.citizen_id.endswith(wanted))]


def count_rows(rows: list[WorkerRow]) -> dict[str, int]:
    """Count the rows each filter selects."""
    return {which: len(filter_rows(rows, which)) for which in FILTERS}


def is_expired(pass_: Pass, today: date | None = None) -> bool:
    """Say whether ``pass_``'s last valid day is before ``today`` (HCMC)."""
    return pass_.valid_until <= start_of_local_day(today or local_today())


def last_valid_day(pass_: Pass) -> date:
    """Return the last local day ``pass_`` is valid (``valid_until`` is the exclusive midnight after it)."""
    return valid_days(pass_)[1]


def display_status(pass_: Pass, today: date | None = None) -> str:
    """Return "active", "expired" or "revoked" as a pass's badge says."""
    if pass_.is_revoked:
        return PassStatus.REVOKED.value
    return "expired" if is_expired(pass_, today) else PassStatus.ACTIVE.value


# ---------------------------------------------------------------------------
# Issuing
# ---------------------------------------------------------------------------

def refusal(enterprise) -> str | None:
    """Return why ``enterprise`` may not issue cards now, or None when it is approved."""
    messages = {
        EnterpriseStatus.PENDING.value: _l("Your enterprise is waiting for its unit's approval. Green cards "
                                           "can be issued once it is approved."),
        EnterpriseStatus.REJECTED.value: _l("Your enterprise's application was rejected, so it cannot issue "
                                            "green cards. Correct the application and submit it again."),
        EnterpriseStatus.SUSPENDED.value: _l("Your enterprise is suspended from the pilot: it cannot issue "
                                             "green cards until its unit reinstates it."),
    }
    if enterprise.status == EnterpriseStatus.APPROVED.value:
        return None
    return messages.get(enterprise.status, messages[EnterpriseStatus.PENDING.value])


def new_serials(session, short_code: str, count: int = 1) -> list[str]:
    """Return ``count`` serials nobody holds: the unit's short code, a dash, 10 random Crockford characters."""
    found: set[str] = set()
    while len(found) < count:
        candidates = {_random_serial(short_code) for _ in range(count - len(found))} - found
        taken = set()
        ordered = sorted(candidates)
        for start in range(0, len(ordered), CHUNK):
            taken |= set(session.scalars(select(Pass.serial).where(Pass.serial.in_(ordered[start:start + CHUNK]))))
        found |= candidates - taken
    return sorted(found, key=lambda _serial: secrets.randbits(32))


def _random_serial(short_code: str) -> str:
    number = secrets.randbits(5 * SERIAL_CHARS)
    return short_code + "-" + "".join(CROCKFORD[(number >> (5 * i)) & 31] for i in range(SERIAL_CHARS))


def pass_content(registry, worker: Worker, eligibility: Eligibility, issued_on: date) -> dict:
    """Return the columns a pass for ``worker`` issued on ``issued_on`` carries, with their digest."""
    enterprise = worker.enterprise
    unit_code = enterprise.unit.code
    validity = registry.validity(unit_code, worker_facts(worker), eligibility, issued_on)
    valid_from, valid_until = validity_instants(validity)
    windows = [{"start": window.start.strftime("%H:%M"), "end": window.end.strftime("%H:%M"),
                "direction": window.direction}
               for window in registry.commute_windows(unit_code, worker.shift)]
    content = {
        "valid_from": valid_from,
        "valid_until": valid_until,
        "windows": windows,
        "route_from": ", ".join(part for part in (worker.home_ward, worker.home_district) if part),
        "route_to": workplace_address(enterprise),
    }
    printed = {
        "name": worker.full_name,
        "birth_year": worker.date_of_birth.year,
        "masked_id": worker.masked_citizen_id,
        "enterprise": enterprise.name,
        "address": content["route_to"],
        "unit": unit_code,
        "route": [content["route_from"], content["route_to"]],
        "windows": windows,
        "validity": [validity.valid_from.isoformat(), validity.valid_until.isoformat()],
    }
    canonical = json.dumps(printed, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    content["content_digest"] = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return content


def active_pass_for(session, worker_id: int) -> Pass | None:
    """Return the worker's active pass, locked for this transaction (on PostgreSQL)."""
    return session.scalar(select(Pass).where(Pass.worker_id == worker_id, Pass.status == PassStatus.ACTIVE.value)
                          .with_for_update())


def check_can_issue(worker: Worker) -> None:
    """Raise PassError unless ``worker`` is active in an approved enterprise."""
    reason = refusal(worker.enterprise)
    if reason:
        raise PassError(reason)
    if not worker.active:
        raise PassError(_l("This worker has left the enterprise."))


def issue_pass(session, registry, worker: Worker, actor, *, today: date | None = None) -> Pass:
    """Issue ``worker``'s pass, or a new version when what it carries changed; return the active pass.

    A worker whose active pass is unchanged gets it back as it is; an expired pass is renewed from
    ``today``. Raise PassError when the enterprise is not approved or the worker is not eligible.
    """
    today = today or local_today()
    check_can_issue(worker)
    eligibility = evaluate(registry, worker, today)
    if not eligibility.eligible:
        raise PassError(_l("Not eligible: %(reason)s", reason=eligibility.reason))
    current = active_pass_for(session, worker.id)
    if current is not None:
        return refresh_pass(session, registry, current, eligibility, actor, today=today)
    return _create(session, registry, worker, eligibility, actor, today)


def _create(session, registry, worker: Worker, eligibility: Eligibility, actor, today: date) -> Pass:
    [serial] = new_serials(session, worker.enterprise.unit.short_code)
    pass_ = _new_pass(registry, worker, eligibility, actor, today, serial)
    try:
        with session.begin_nested():
            session.add(pass_)
    except IntegrityError:
        raise PassError(CONCURRENT_ISSUE) from None
    _issued(session, registry, pass_, actor)
    return pass_


def _new_pass(registry, worker: Worker, eligibility: Eligibility, actor, today: date, serial: str) -> Pass:
    enterprise = worker.enterprise
    return Pass(serial=serial, version=1, worker=worker, enterprise=enterprise, unit=enterprise.unit,
                status=PassStatus.ACTIVE.value, issued_at=utcnow(), issued_by_id=getattr(actor, "id", None),
                **pass_content(registry, worker, eligibility, today))


def _issued(session, registry, pass_: Pass, actor) -> None:
    """Audit a flushed new pass and tell its unit once committed."""
    record(session, actor, "pass.issued", pass_, after=_snapshot(pass_), enterprise_id=pass_.enterprise_id,
           unit_id=pass_.unit_id)
    _when_committed(session, registry, pass_, "portal_pass_issued")


def refresh_pass(session, registry, pass_: Pass, eligibility: Eligibility, actor, *, today: date | None = None,
                 reason: str | None = None) -> Pass:
    """Give ``pass_`` a new version when what it would carry now differs (same serial, version + 1).

    The validity keeps its first day (an edit does not extend a card) unless the card has expired,
    in which case it is renewed from ``today``.
    """
    today = today or local_today()
    issued_on = today if is_expired(pass_, today) else local(pass_.valid_from).date()
    content = pass_content(registry, pass_.worker, eligibility, issued_on)
    if content["content_digest"] == pass_.content_digest:
        return pass_
    before = _snapshot(pass_)
    for key, value in content.items():
        setattr(pass_, key, value)
    pass_.version += 1
    pass_.issued_at = utcnow()
    pass_.issued_by_id = getattr(actor, "id", None)
    record(session, actor, "pass.new_version", pass_, reason=reason, before=before, after=_snapshot(pass_),
           enterprise_id=pass_.enterprise_id, unit_id=pass_.unit_id)
    _when_committed(session, registry, pass_, "portal_pass_issued")
    return pass_


@dataclass
class IssueSummary:
    """What "issue for all eligible" did, as counts."""

    issued: int = 0
    renewed: int = 0
    unchanged: int = 0
    ineligible: int = 0

    def as_dict(self) -> dict:
        return {"issued": self.issued, "renewed": self.renewed, "unchanged": self.unchanged,
                "ineligible": self.ineligible}


def issue_all_eligible(session, registry, enterprise, actor, *, today: date | None = None) -> IssueSummary:
    """Issue (or bring up to date) the pass of every eligible active worker of ``enterprise``.

    The new passes are inserted together, in one flush, so a thousand workers take one statement.
    """
    today = today or local_today()
    reason = refusal(enterprise)
    if reason:
        raise PassError(reason)
    summary = IssueSummary()
    rows = eligibility_rows(session, registry, enterprise, today)
    summary.ineligible = sum(not row.eligibility.eligible for row in rows)
    eligible = [row for row in rows if row.eligibility.eligible]
    fresh = [row for row in eligible if row.pass_ is None]
    serials = new_serials(session, enterprise.unit.short_code, len(fresh))
    with session.no_autoflush:
        created = [_new_pass(registry, row.worker, row.eligibility, actor, today, serial)
                   for row, serial in zip(fresh, serials, strict=True)]
        for row in eligible:
            if row.pass_ is not None:
                version = row.pass_.version
                refresh_pass(session, registry, row.pass_, row.eligibility, actor, today=today)
                summary.renewed += row.pass_.version != version
    summary.unchanged = len(eligible) - len(fresh) - summary.renewed
    session.add_all(created)
    try:
        session.flush()
    except IntegrityError:
        raise PassError(CONCURRENT_ISSUE) from None
    for pass_ in created:
        _issued(session, registry, pass_, actor)
    summary.issued = len(created)
    return summary


# ---------------------------------------------------------------------------
# Revoking
# ---------------------------------------------------------------------------

def reason_text(code: str, note: str = "") -> str:
    """Return the reason stored for a revocation: the chosen reason in Vietnamese, then the note."""
    labels = dict(REVOKE_REASONS)
    note = " ".join((note or "").split())
    label = _in_default_locale(labels[code]) if code in labels and code != "other" else ""
    return " — ".join(part for part in (label, note) if part)


def _in_default_locale(message) -> str:
    """Return ``message`` in the portal's first language, whoever asks (stored reasons read the same)."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return str(message)


def revoke_pass(session, pass_: Pass, actor, reason: str) -> bool:
    """Revoke ``pass_`` for ``reason``; return False when it was already revoked."""
    if pass_.is_revoked:
        return False
    registry = current_registry()
    pass_.status = PassStatus.REVOKED.value
    pass_.revoked_at = utcnow()
    pass_.revoked_by_id = getattr(actor, "id", None)
    pass_.revocation_reason = reason
    session.flush()
    record(session, actor, "pass.revoked", pass_, reason=reason, before={"status": PassStatus.ACTIVE.value},
           after={"status": PassStatus.REVOKED.value, "serial": pass_.serial, "version": pass_.version},
           enterprise_id=pass_.enterprise_id, unit_id=pass_.unit_id)
    _when_committed(session, registry, pass_, "portal_pass_revoked", reason=reason)
    return True


def revoke_all_for_enterprise(session, enterprise, actor, reason: str) -> int:
    """Revoke every active pass of ``enterprise``; return how many."""
    passes = session.scalars(
        select(Pass).where(Pass.enterprise_id == enterprise.id, Pass.status == PassStatus.ACTIVE.value)
        .options(joinedload(Pass.unit), joinedload(Pass.enterprise)).with_for_update(of=Pass)
    ).all()
    return sum(revoke_pass(session, pass_, actor, reason) for pass_ in passes)


def _snapshot(pass_: Pass) -> dict:
    return {"serial": pass_.serial, "version": pass_.version, "content_digest": pass_.content_digest,
            "valid_from": pass_.valid_from.isoformat(), "valid_until": pass_.valid_until.isoformat(),
            "windows": pass_.windows, "route_from": pass_.route_from, "route_to": pass_.route_to}


def _when_committed(session, registry, pass_: Pass, event: str, **kwargs) -> None:
    """Once committed: drop the pass's cached PDFs (a first version has none) and tell the unit's plugin."""
    facts = pass_facts(pass_)
    unit_code, serial = pass_.unit.code, pass_.serial
    app = current_app._get_current_object() if pass_.version > 1 or pass_.is_revoked else None

    def follow_up() -> None:
        if app is not None:
            invalidate_cached_pdfs(app, serial)
        registry.notify(unit_code, event, pass_=facts, **kwargs)

    after_commit(session, follow_up)


# ---------------------------------------------------------------------------
# What other features' changes do to passes (inside their transaction)
# ---------------------------------------------------------------------------

def _active_passes_of(session, worker_ids) -> list[Pass]:
    ids = sorted(set(worker_ids))
    found = []
    for start in range(0, len(ids), CHUNK):
        found += session.scalars(
            select(Pass).where(Pass.worker_id.in_(ids[start:start + CHUNK]), Pass.status == PassStatus.ACTIVE.value)
            .options(joinedload(Pass.worker).selectinload(Worker.doses)).with_for_update(of=Pass)
        ).unique().all()
    return found


def sync_passes(session, registry, worker_ids, actor, *, today: date | None = None) -> dict[str, int]:
    """Bring the active passes of ``worker_ids`` in line with the workers' data (new version or revoked)."""
    today = today or local_today()
    outcome = {"new_version": 0, "revoked": 0}
    for pass_ in _active_passes_of(session, worker_ids):
        worker = pass_.worker
        if not worker.active:
            outcome["revoked"] += revoke_pass(session, pass_, actor, _in_default_locale(LEFT_REASON))
            continue
        eligibility = evaluate(registry, worker, today)
        if not eligibility.eligible:
            reason = _in_default_locale(_l("No longer eligible: %(reason)s", reason=eligibility.reason))
            outcome["revoked"] += revoke_pass(session, pass_, actor, reason)
            continue
        version = pass_.version
        refresh_pass(session, registry, pass_, eligibility, actor, today=today, reason="worker data changed")
        outcome["new_version"] += pass_.version != version
    return outcome


def on_workers_changed(enterprise, *, session, actor=None, worker_ids=(), **_ignored) -> None:
    sync_passes(session, current_registry(), worker_ids, actor)


def on_workers_deactivated(enterprise, *, session, actor=None, worker_ids=(), reason=None, **_ignored) -> None:
    left = _in_default_locale(LEFT_REASON)
    text = f"{left} — {reason}" if reason else left
    for pass_ in _active_passes_of(session, worker_ids):
        revoke_pass(session, pass_, actor, text)


def on_enterprise_status_changed(enterprise, *, session, actor=None, before=None, after=None, reason=None,
                                  **_ignored) -> None:
    labels = {
        EnterpriseStatus.SUSPENDED.value: _l("The enterprise was suspended from the pilot"),
        EnterpriseStatus.REJECTED.value: _l("The enterprise's application was rejected"),
    }
    if after not in labels or before == after:
        return
    label = _in_default_locale(labels[after])
    revoke_all_for_enterprise(session, enterprise, actor, f"{label} — {reason}" if reason else label)


# ---------------------------------------------------------------------------
# The PDF, rendered once per content
# ---------------------------------------------------------------------------

def pass_pdf(pass_: Pass, registry, *, base_url: str, locale: str = "vi") -> bytes:
    """Return the PDF of an active pass, rendering it only when this exact card has no cached copy.

    The copy is kept in the blob store every node reads (``portal.storage.cache.PASS_PDFS``, one
    group per serial), so a revocation or a new version drops it on every node at once.
    """
    if pass_.is_revoked:
        raise PassError(_l("This green card was revoked and can no longer be downloaded."))
    card = build_card(pass_, registry, base_url=base_url, locale=locale)
    return PASS_PDFS.get_or_make(
        current_app._get_current_object(), pass_.serial, f"v{pass_.version}-{card_fingerprint(card)}.pdf",
        lambda: render_pass_pdf(card), still_current=_unchanged_check(pass_))


def _unchanged_check(pass_: Pass):
    """Return a check, on a connection of its own, that the pass is still active and as it was read."""
    from portal.extensions import db

    pass_id, version, digest = pass_.id, pass_.version, pass_.content_digest

    def unchanged() -> bool:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            row = connection.execute(select(Pass.status, Pass.version, Pass.content_digest)
                                     .where(Pass.id == pass_id)).one_or_none()
        return row is not None and tuple(row) == (PassStatus.ACTIVE.value, version, digest)

    return unchanged


def invalidate_cached_pdfs(app, serial: str) -> int:
    """Delete every cached PDF of ``serial`` (all versions and languages) on every node; return how many."""
    return PASS_PDFS.drop(app, serial)


def pdf_filename(pass_: Pass) -> str:
    return f"the-xanh-{pass_.serial}.pdf"


# ---------------------------------------------------------------------------
# "Issue for all" as a background job (print sheets: portal.printing.sheet)
# ---------------------------------------------------------------------------

def issue_all_job(ctx, *, enterprise_id: int, actor_id: int):
    """Issue the cards of every eligible worker in one transaction."""
    from portal.auth.models import User
    from portal.enterprises.models import Enterprise

    session = ctx.session
    enterprise = session.get(Enterprise, enterprise_id)
    actor = session.get(User, actor_id)
    if enterprise is None or actor is None or actor.enterprise_id != enterprise_id:
        raise PassError("the job's user no longer belongs to the enterprise")
    summary = issue_all_eligible(session, current_registry(), enterprise, actor)
    session.commit()
    done = summary.issued + summary.renewed + summary.unchanged
    ctx.progress(done, done, _l("Green cards issued"))
    return summary.as_dict()


def enterprise_passes(session, enterprise_id: int, *, query: str = "", page: int = 1, per_page: int = 20):
    """Return a page of an enterprise's passes, active first, for its officials (search by serial or name)."""
    from portal.workers.models import Worker

    statement = (select(Pass).join(Worker, Worker.id == Pass.worker_id)
                 .where(Pass.enterprise_id == enterprise_id)
                 .options(joinedload(Pass.worker))
                 .order_by(Pass.status, Worker.name_key, Pass.id))
    query = query.strip()
    if query:
        statement = statement.where(Pass.serial.ilike(f"%{query}%") | Worker.name_key.contains(fold(query)))
    from portal.extensions import db

    return db.paginate(statement, page=page, per_page=per_page, error_out=False, count=True)
