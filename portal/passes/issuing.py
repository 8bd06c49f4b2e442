"""Issuing green cards: one worker's, or every eligible worker's at once, and new versions when data changes.

Issuing always asks the unit's rules live (:func:`portal.eligibility.facts.evaluate`); pages read the
snapshot. Nothing here commits; what must wait for the commit (telling the unit's plugin, dropping
the cached PDF) is registered by :func:`portal.passes.follow_up.when_committed`.
"""
from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import asdict, dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal.audit.services import record
from portal.clock import local, local_today, utcnow
from portal.eligibility.facts import evaluate, worker_facts
from portal.eligibility.models import EligibilitySnapshot as Snapshot
from portal.enterprises.models import EnterpriseStatus
from portal.jobs.services import Outcome
from portal.messages import Message, Refusal
from portal.passes import history
from portal.passes.follow_up import when_committed
from portal.passes.listing import is_expired
from portal.passes.models import Pass, PassStatus, VersionEnd
from portal.plugins.api import validity_instants
from portal.plugins.types import Basis, Eligibility
from portal.printing.card import workplace_address
from portal.units.services import UNIT_NOT_ACTIVE, is_active
from portal.workers.models import Worker

#: Crockford's base32: no I, L, O or U, so a serial read aloud or typed is not misread.
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SERIAL_CHARS = 10  # 50 random bits: not guessable, not sequential
#: Rows per IN (...) clause when a bulk change names thousands of workers.
CHUNK = 1000
#: Above this many active workers, "issue for all eligible" runs as a background job.
ISSUE_ALL_INLINE_MAX = 200

# Another request issued the same worker's pass at the same moment (one active pass per worker).
CONCURRENT_ISSUE = _l("Someone else issued this green card at the same time. Reload the page.")
ISSUING_REFUSED = {
    EnterpriseStatus.PENDING.value: _l("Your enterprise is waiting for its unit's approval. Green cards can be "
                                       "issued once it is approved."),
    EnterpriseStatus.REJECTED.value: _l("Your enterprise's application was rejected, so it cannot issue green "
                                        "cards. Correct the application and submit it again."),
    EnterpriseStatus.SUSPENDED.value: _l("Your enterprise is suspended from the pilot: it cannot issue green "
                                         "cards until its unit reinstates it."),
}


def issuing_refusal(registry, enterprise) -> Refusal | None:
    """Return why ``enterprise`` may not issue cards now (not approved, unit not active), or None."""
    if enterprise.status != EnterpriseStatus.APPROVED.value:
        return Refusal(ISSUING_REFUSED.get(enterprise.status, ISSUING_REFUSED[EnterpriseStatus.PENDING.value]))
    if not is_active(registry, enterprise.unit.code):
        return Refusal(UNIT_NOT_ACTIVE)
    return None


def check_can_issue(registry, worker: Worker) -> None:
    """Raise Refusal unless ``worker`` is active in an approved enterprise of an active unit."""
    refusal = issuing_refusal(registry, worker.enterprise)
    if refusal:
        raise refusal
    if not worker.active:
        raise Refusal(_l("This worker has left the enterprise."))


# ---------------------------------------------------------------------------
# What a pass carries
# ---------------------------------------------------------------------------

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


def last_revoked_pass(session, worker_id: int) -> Pass | None:
    """Return the worker's most recently revoked card when they hold no active one, else None.

    Issuing again after a revocation needs the issuer's confirmation (:class:`ReissueNotConfirmed`).
    """
    active = select(Pass.id).where(Pass.worker_id == worker_id, Pass.status == PassStatus.ACTIVE.value)
    return session.scalar(
        select(Pass).where(Pass.worker_id == worker_id, Pass.status == PassStatus.REVOKED.value, ~active.exists())
        .order_by(Pass.revoked_at.desc(), Pass.id.desc()).limit(1))


class ReissueNotConfirmed(Refusal):
    """The worker's last card was revoked: issuing again needs the issuer's confirmation."""


def active_pass_for(session, worker_id: int) -> Pass | None:
    """Return the worker's active pass, locked for this transaction (on PostgreSQL)."""
    return session.scalar(select(Pass).where(Pass.worker_id == worker_id, Pass.status == PassStatus.ACTIVE.value)
                          .with_for_update())


# ---------------------------------------------------------------------------
# One worker
# ---------------------------------------------------------------------------

def issue_pass(session, registry, worker: Worker, actor, *, today: date | None = None,
               confirmed: bool = False) -> Pass:
    """Issue ``worker``'s pass, or a new version when what it carries changed; return the active pass.

    A worker whose active pass is unchanged gets it back as it is; an expired pass is renewed from
    ``today``. Raise Refusal when the enterprise may not issue or the worker is not eligible, and
    :class:`ReissueNotConfirmed` when their last card was revoked and the issuer has not ``confirmed``.
    """
    today = today or local_today()
    check_can_issue(registry, worker)
    eligibility = evaluate(registry, worker, today)
    if not eligibility.eligible:
        raise Refusal(_l("Not eligible: %(reason)s", reason=eligibility.reason))
    current = active_pass_for(session, worker.id)
    if current is not None:
        return refresh_pass(session, registry, current, eligibility, actor, today=today)
    revoked = last_revoked_pass(session, worker.id)
    if revoked is not None and not confirmed:
        raise ReissueNotConfirmed(REISSUE_NEEDS_CONFIRMATION)
    pass_ = _create(session, registry, worker, eligibility, actor, today)
    if revoked is not None:
        _reissued(session, pass_, revoked, actor)
    return pass_


REISSUE_NEEDS_CONFIRMATION = _l("This worker's last green card was revoked. Confirm that a new card may be issued.")


def _reissued(session, pass_: Pass, revoked: Pass, actor) -> None:
    """Audit that ``pass_`` was issued, with the issuer's confirmation, after ``revoked``."""
    record(session, actor, "pass.reissued", pass_, reason=revoked.revocation_code,
           before={"serial": revoked.serial, "version": revoked.version, "status": revoked.status,
                   "revoked_at": revoked.revoked_at.isoformat() if revoked.revoked_at else None},
           after={"serial": pass_.serial, "version": pass_.version, "confirmed": True},
           enterprise_id=pass_.enterprise_id, unit_id=pass_.unit_id)


def _create(session, registry, worker: Worker, eligibility: Eligibility, actor, today: date) -> Pass:
    [serial] = new_serials(session, worker.enterprise.unit.short_code)
    pass_ = _new_pass(registry, worker, eligibility, actor, today, serial)
    try:
        with session.begin_nested():
            session.add(pass_)
    except IntegrityError:
        raise Refusal(CONCURRENT_ISSUE) from None
    _issued(session, registry, pass_, actor)
    return pass_


def _new_pass(registry, worker: Worker, eligibility: Eligibility, actor, today: date, serial: str) -> Pass:
    enterprise = worker.enterprise
    pass_ = Pass(serial=serial, version=1, worker=worker, enterprise=enterprise, unit=enterprise.unit,
                 status=PassStatus.ACTIVE.value, issued_at=utcnow(), issued_by_id=getattr(actor, "id", None),
                 **pass_content(registry, worker, eligibility, today))
    history.open_version(pass_, worker.full_name)  # added with the pass (cascade)
    return pass_


def _issued(session, registry, pass_: Pass, actor) -> None:
    """Audit a flushed new pass and tell its unit once committed."""
    record(session, actor, "pass.issued", pass_, after=snapshot(pass_), enterprise_id=pass_.enterprise_id,
           unit_id=pass_.unit_id)
    when_committed(session, registry, pass_, "portal_pass_issued")


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
    before = snapshot(pass_)
    now = utcnow()
    history.close_version(session, pass_, actor, VersionEnd.SUPERSEDED, at=now,
                          code=history.DATA_CHANGED if reason else history.UPDATED)
    for key, value in content.items():
        setattr(pass_, key, value)
    pass_.version += 1
    pass_.issued_at = now
    pass_.issued_by_id = getattr(actor, "id", None)
    session.add(history.open_version(pass_, pass_.worker.full_name))
    record(session, actor, "pass.new_version", pass_, reason=reason, before=before, after=snapshot(pass_),
           enterprise_id=pass_.enterprise_id, unit_id=pass_.unit_id)
    when_committed(session, registry, pass_, "portal_pass_issued")
    return pass_


def snapshot(pass_: Pass) -> dict:
    """Return what a pass carries as the audit trail keeps it."""
    return {"serial": pass_.serial, "version": pass_.version, "content_digest": pass_.content_digest,
            "valid_from": pass_.valid_from.isoformat(), "valid_until": pass_.valid_until.isoformat(),
            "windows": pass_.windows, "route_from": pass_.route_from, "route_to": pass_.route_to}


# ---------------------------------------------------------------------------
# Every eligible worker at once
# ---------------------------------------------------------------------------

@dataclass
class IssueAllResult:
    """What "issue for all eligible" did, as counts."""

    issued: int = 0
    renewed: int = 0
    unchanged: int = 0
    ineligible: int = 0
    #: of the ineligible, those on hold after a positive test (skipped until a recovery or a later negative test)
    on_hold: int = 0

    def as_dict(self) -> dict:
        return asdict(self)

    def message(self) -> Message:
        """Say what was done, as a message to store or show."""
        if self.on_hold:
            return Message.of(_l("%(issued)s green cards issued, %(renewed)s updated, %(unchanged)s already up to "
                                 "date; %(ineligible)s workers are not eligible today. %(on_hold)s of them were "
                                 "skipped because they tested positive: they need a recovery or a negative test "
                                 "dated after that.", **self.as_dict()))
        return Message.of(_l("%(issued)s green cards issued, %(renewed)s updated, %(unchanged)s already up to "
                             "date; %(ineligible)s workers are not eligible today.", **self.as_dict()))


@dataclass(frozen=True)
class IssueAllPreview:
    """What "issue for all eligible" would touch, as the eligibility snapshot says (shown before confirming)."""

    new: int  # eligible workers without a card: each gets one
    reissued: int  # of those, workers whose last card was revoked
    current: int  # eligible workers with a card: brought up to date when their data changed
    on_hold: int  # not eligible: on hold after a positive test
    ineligible: int  # not eligible (the held ones included) or not evaluated yet

    @property
    def touched(self) -> int:
        return self.new + self.current


def issue_all_preview(session, enterprise_id: int) -> IssueAllPreview:
    """Count, from the snapshot, the cards "issue for all eligible" would issue or check, and whom it skips."""
    active = select(Pass.id).where(Pass.worker_id == Worker.id, Pass.status == PassStatus.ACTIVE.value).exists()
    revoked = select(Pass.id).where(Pass.worker_id == Worker.id, Pass.status == PassStatus.REVOKED.value).exists()
    eligible = Snapshot.eligible.is_(True)
    counted = (
        select(func.count().filter(eligible, ~active), func.count().filter(eligible, ~active, revoked),
               func.count().filter(eligible, active),
               func.count().filter(Snapshot.basis == Basis.POSITIVE_HOLD.value), func.count().filter(~eligible))
        .select_from(Worker).outerjoin(Snapshot, Snapshot.worker_id == Worker.id)
        .where(Worker.enterprise_id == enterprise_id, Worker.active.is_(True))
    )
    new, reissued, current, on_hold, ineligible = session.execute(counted).one()
    return IssueAllPreview(new, reissued, current, on_hold, ineligible)


ISSUE_ALL_NEEDS_CONFIRMATION = _l("Confirm how many green cards to issue first.")


def issue_all_eligible(session, registry, enterprise, actor, *, today: date | None = None,
                       confirmed: bool = False) -> IssueAllResult:
    """Issue (or bring up to date) the pass of every eligible active worker of ``enterprise``.

    Every active worker is evaluated live; the new passes are inserted together, in one flush, so a
    thousand workers take one statement. The issuer must have ``confirmed`` (having seen
    :func:`issue_all_preview`): it covers the workers whose last card was revoked, each audited.
    """
    today = today or local_today()
    refusal = issuing_refusal(registry, enterprise)
    if refusal:
        raise refusal
    if not confirmed:
        raise Refusal(ISSUE_ALL_NEEDS_CONFIRMATION)
    result = IssueAllResult()
    workers = session.scalars(
        select(Worker).where(Worker.enterprise_id == enterprise.id, Worker.active.is_(True))
        .options(selectinload(Worker.doses)).order_by(Worker.name_key, Worker.id)
    ).all()
    current = {pass_.worker_id: pass_ for pass_ in session.scalars(
        select(Pass).where(Pass.enterprise_id == enterprise.id, Pass.status == PassStatus.ACTIVE.value)
    )}
    answers = [(worker, evaluate(registry, worker, today)) for worker in workers]
    eligible = [(worker, answer) for worker, answer in answers if answer.eligible]
    result.ineligible = len(answers) - len(eligible)
    result.on_hold = sum(answer.basis == Basis.POSITIVE_HOLD for _worker, answer in answers)
    fresh = [(worker, answer) for worker, answer in eligible if worker.id not in current]
    serials = new_serials(session, enterprise.unit.short_code, len(fresh))
    with session.no_autoflush:
        created = [_new_pass(registry, worker, answer, actor, today, serial)
                   for (worker, answer), serial in zip(fresh, serials, strict=True)]
        for worker, answer in eligible:
            pass_ = current.get(worker.id)
            if pass_ is not None:
                version = pass_.version
                refresh_pass(session, registry, pass_, answer, actor, today=today)
                result.renewed += pass_.version != version
    result.unchanged = len(eligible) - len(fresh) - result.renewed
    session.add_all(created)
    try:
        session.flush()
    except IntegrityError:
        raise Refusal(CONCURRENT_ISSUE) from None
    revoked = _last_revoked_by_worker(session, [pass_.worker_id for pass_ in created])
    for pass_ in created:
        _issued(session, registry, pass_, actor)
        if pass_.worker_id in revoked:
            _reissued(session, pass_, revoked[pass_.worker_id], actor)
    result.issued = len(created)
    return result


def _last_revoked_by_worker(session, worker_ids) -> dict[int, Pass]:
    found: dict[int, Pass] = {}
    ids = sorted(set(worker_ids))
    for start in range(0, len(ids), CHUNK):
        for pass_ in session.scalars(select(Pass).where(Pass.worker_id.in_(ids[start:start + CHUNK]),
                                                        Pass.status == PassStatus.REVOKED.value)
                                     .order_by(Pass.revoked_at, Pass.id)):
            found[pass_.worker_id] = pass_  # the latest wins
    return found


def issue_all_job(ctx, *, enterprise_id: int, actor_id: int):
    """Issue the cards of every eligible worker in one transaction; the result says what was done."""
    from flask import current_app

    from portal.auth.models import User
    from portal.enterprises.models import Enterprise

    session = ctx.session
    enterprise = session.get(Enterprise, enterprise_id)
    actor = session.get(User, actor_id)
    if enterprise is None or actor is None or actor.enterprise_id != enterprise_id:
        raise RuntimeError("the job's user no longer belongs to the enterprise")
    try:
        # Enqueued only once the issuer confirmed the counts (passes.views.issue_all).
        result = issue_all_eligible(session, current_app.extensions["portal.plugins"].registry, enterprise, actor,
                                    confirmed=True)
    except Refusal as refusal:
        session.rollback()
        return Outcome({"refused": True}, summary=refusal.message)
    session.commit()
    done = result.issued + result.renewed + result.unchanged
    ctx.progress(done, done, _l("Green cards issued"))
    return Outcome(result.as_dict(), summary=result.message(), next_endpoint="passes.index",
                   next_label=_l("See the green cards"))
