"""What other features' changes do to green cards, inside their transaction (connected in portal.wiring).

A worker whose printed data changed gets a new version of their card; a worker who left, or is no
longer eligible, loses it; an enterprise suspended or rejected loses all of its cards.
"""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from portal.clock import local_today
from portal.eligibility.facts import evaluate
from portal.enterprises.models import EnterpriseStatus
from portal.messages import Message, Notice, add_notice, literal
from portal.passes.issuing import CHUNK, refresh_pass
from portal.passes.models import Pass, PassStatus
from portal.passes.revoking import revoke_all_for_enterprise, revoke_pass
from portal.workers.models import Worker

#: An enterprise's new status → the reason its cards are revoked.
REVOKED_WITH_ENTERPRISE = {
    EnterpriseStatus.SUSPENDED.value: "enterprise_suspended",
    EnterpriseStatus.REJECTED.value: "enterprise_rejected",
}


def _active_passes_of(session, worker_ids) -> list[Pass]:
    ids = sorted(set(worker_ids))
    found = []
    for start in range(0, len(ids), CHUNK):
        found += session.scalars(
            select(Pass).where(Pass.worker_id.in_(ids[start:start + CHUNK]), Pass.status == PassStatus.ACTIVE.value)
            .options(joinedload(Pass.worker).selectinload(Worker.doses)).with_for_update(of=Pass)
        ).unique().all()
    return found


#: What changed a worker's data (``cause`` of ``events.workers_changed``) → the reason a card is revoked for
#: when the worker is no longer eligible.
REVOKED_FOR_CAUSE = {"registry": "registry_conflict"}


def sync_passes(session, registry, worker_ids, actor, *, today: date | None = None,
                revoke_code: str = "not_eligible") -> dict[str, int]:
    """Bring the active passes of ``worker_ids`` in line with the workers' data (new version or revoked)."""
    today = today or local_today()
    outcome = {"new_version": 0, "revoked": 0}
    replaced = []
    for pass_ in _active_passes_of(session, worker_ids):
        worker = pass_.worker
        if not worker.active:
            outcome["revoked"] += revoke_pass(session, registry, pass_, actor, "left")
            continue
        eligibility = evaluate(registry, worker, today)
        if not eligibility.eligible:
            outcome["revoked"] += revoke_pass(session, registry, pass_, actor, revoke_code,
                                              Message.of(eligibility.reason))
            continue
        version = pass_.version
        refresh_pass(session, registry, pass_, eligibility, actor, today=today, reason="worker data changed")
        if pass_.version != version:
            outcome["new_version"] += 1
            replaced.append(pass_)
    if replaced:
        add_notice(session, reprint_notice(replaced))
    return outcome


def reprint_notice(replaced: list[Pass]) -> Notice:
    """Tell whoever changed the workers that their cards were replaced and must be printed again."""
    if len(replaced) == 1:
        pass_ = replaced[0]
        message = Message.of(_l("The green card %(serial)s of %(name)s was replaced by version %(version)s: print it "
                                "again and take back the old card.", serial=pass_.serial,
                                name=pass_.worker.full_name, version=pass_.version))
    else:
        message = Message.of(_l("%(count)s green cards were replaced by a new version: print them again and take "
                                "back the old cards.", count=len(replaced)))
    return Notice(message, endpoint="passes.reprint", link_label=_l("Cards to reprint"))



def on_workers_changed(enterprise, *, session, registry, actor=None, worker_ids=(), cause=None,
                       **_ignored) -> None:
    sync_passes(session, registry, worker_ids, actor, revoke_code=REVOKED_FOR_CAUSE.get(cause, "not_eligible"))


def on_workers_deactivated(enterprise, *, session, registry, actor=None, worker_ids=(), reason=None,
                           **_ignored) -> None:
    note = literal(reason) if reason else None
    for pass_ in _active_passes_of(session, worker_ids):
        revoke_pass(session, registry, pass_, actor, "left", note)


def count_cards_at_stake(enterprise, *, session, **_ignored) -> int:
    """Count the active cards of ``enterprise``: those a suspension or a rejection revokes."""
    return session.scalar(select(func.count()).select_from(Pass).where(
        Pass.enterprise_id == enterprise.id, Pass.status == PassStatus.ACTIVE.value))


def on_enterprise_status_changed(enterprise, *, session, registry, actor=None, before=None, after=None,
                                 reason=None, **_ignored) -> None:
    code = REVOKED_WITH_ENTERPRISE.get(after)
    if code is None or before == after:
        return
    revoke_all_for_enterprise(session, registry, enterprise, actor, code, literal(reason) if reason else None)
