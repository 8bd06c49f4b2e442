"""Revoking green cards: one by HR or an official, or all of a worker's or an enterprise's by the portal.

A revocation keeps a reason code (:data:`portal.vocabulary.REVOCATION_REASONS`) and, beside it, what
the person added as a stored message; pages render both in the reader's language. Nothing here commits.
"""
from __future__ import annotations

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.audit.services import record
from portal.clock import local_today, utcnow
from portal.eligibility.upkeep import RefreshScope, refresh_eligibility
from portal.messages import Message, literal
from portal.passes.follow_up import when_committed
from portal.passes.history import close_version
from portal.passes.models import Pass, PassStatus, VersionEnd, revocation_message
from portal.vocabulary import POSITIVE_TEST_REASON, REVOCATION_ALIASES, REVOCATION_REASONS


def typed_note(text: str | None) -> Message | None:
    """Return what a person typed beside a reason as a literal message (None when they typed nothing)."""
    text = " ".join((text or "").split())
    return literal(text) if text else None


def revoke_pass(session, registry, pass_: Pass, actor, code: str, note: Message | None = None) -> bool:
    """Revoke ``pass_`` for reason ``code`` (with ``note``); return False when it was already revoked."""
    code = REVOCATION_ALIASES.get(code, code)
    if code not in REVOCATION_REASONS:
        raise ValueError(f"unknown revocation reason {code!r}")
    if pass_.is_revoked:
        return False
    stored_note = note.as_json() if note is not None else None
    pass_.status = PassStatus.REVOKED.value
    pass_.revoked_at = utcnow()
    pass_.revoked_by_id = getattr(actor, "id", None)
    pass_.revocation_code, pass_.revocation_note = code, stored_note
    close_version(session, pass_, actor, VersionEnd.REVOKED, code=code, note=stored_note, at=pass_.revoked_at)
    session.flush()
    record(session, actor, "pass.revoked", pass_, reason=code, before={"status": PassStatus.ACTIVE.value},
           after={"status": PassStatus.REVOKED.value, "serial": pass_.serial, "version": pass_.version,
                  "note": stored_note}, enterprise_id=pass_.enterprise_id, unit_id=pass_.unit_id)
    # Plugins hear the reason as words, in the portal's first language (what officials read).
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        words = revocation_message(code, stored_note).render()
    when_committed(session, registry, pass_, "portal_pass_revoked", reason=words)
    if code == POSITIVE_TEST_REASON:
        hold_after_positive_test(session, registry, pass_.worker, local_today(pass_.revoked_at))
    return True


def hold_after_positive_test(session, registry, worker, day) -> None:
    """Put ``worker`` on hold from ``day``: no card until a recovery or a negative test dated after it."""
    worker.tested_positive_on = day
    now = utcnow()
    refresh_eligibility(session, registry, RefreshScope(worker_ids=(worker.id,)), on_date=local_today(now), now=now)


def revoke_all_for_enterprise(session, registry, enterprise, actor, code: str, note: Message | None = None) -> int:
    """Revoke every active pass of ``enterprise``; return how many."""
    passes = session.scalars(
        select(Pass).where(Pass.enterprise_id == enterprise.id, Pass.status == PassStatus.ACTIVE.value)
        .options(joinedload(Pass.unit), joinedload(Pass.enterprise)).with_for_update(of=Pass)
    ).all()
    return sum(revoke_pass(session, registry, pass_, actor, code, note) for pass_ in passes)
