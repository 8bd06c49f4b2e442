"""The officials' decisions on an enterprise: approve, reject, suspend, reinstate.

A decision locks the enterprise's row (and, for an approval, its unit's), asks the unit's plugin
before an approval, and tells the other features inside the transaction
(:data:`portal.events.enterprise_status_changed`: a suspension revokes every card). Nothing here
commits: the view does, then :func:`tell_unit_approved`.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from portal import events
from portal.audit.services import record
from portal.auth.access import can_decide_enterprise
from portal.auth.models import User
from portal.clock import utcnow
from portal.enterprises.classification import enterprise_facts
from portal.enterprises.models import Enterprise, EnterpriseStatus
from portal.messages import Conflict, Refusal
from portal.plugins.registry import UnitRegistry
from portal.plugins.types import EnterpriseFacts
from portal.text import clean_text
from portal.units.models import PilotUnit
from portal.units.services import require_active
from portal.vocabulary import ENTERPRISE_STATUS_LABELS

log = logging.getLogger(__name__)

PENDING, APPROVED, REJECTED, SUSPENDED = (status.value for status in EnterpriseStatus)

#: action → (the statuses it may be taken from, the status it leads to, the audit action)
ACTIONS = {
    "approve": (frozenset({PENDING, REJECTED}), APPROVED, "enterprise.approved"),
    "reject": (frozenset({PENDING}), REJECTED, "enterprise.rejected"),
    "suspend": (frozenset({APPROVED}), SUSPENDED, "enterprise.suspended"),
    "reinstate": (frozenset({SUSPENDED}), APPROVED, "enterprise.reinstated"),
}
REASON_REQUIRED = frozenset({"reject", "suspend"})
#: Decisions that revoke every card: the official confirms them with the count in front of them.
CONFIRMED_ACTIONS = frozenset({"reject", "suspend"})


def cards_at_stake(session: Session, enterprise: Enterprise) -> int:
    """Count the active green cards a suspension or a rejection of ``enterprise`` would revoke."""
    answers = events.cards_at_stake.send(enterprise, session=session)
    return sum(int(count or 0) for _receiver, count in answers)


def needs_confirmation(action: str, reason: str | None, confirmed: bool) -> bool:
    """Say whether the official must first confirm ``action`` (a reason given, not yet confirmed)."""
    return action in CONFIRMED_ACTIONS and not confirmed and bool(clean_text(reason))


def allowed_actions(enterprise: Enterprise) -> list[str]:
    """Return the decisions possible from the enterprise's current status, in display order."""
    return [action for action, (sources, _target, _event) in ACTIONS.items() if enterprise.status in sources]


@dataclass(frozen=True)
class Decision:
    enterprise_id: int
    action: str
    before: str
    after: str
    #: what the unit's plugin hears once the decision is committed (an approval), else None
    approved: EnterpriseFacts | None = None
    unit_code: str = ""


def decide(session: Session, registry: UnitRegistry, enterprise_id: int, action: str, actor: User,
           reason: str | None, expected_version: int) -> Decision:
    """Record an official's decision, asking the unit's plugin before an approval (not committed).

    The enterprise row (and, for an approval, its unit's row) is locked, so that two officials
    end in one state and the unit's count of approved enterprises is exact. ``expected_version``
    is the version the official saw: anything else means someone decided first (a Conflict).
    """
    try:
        return _decide(session, registry, enterprise_id, action, actor, clean_text(reason) or None,
                       expected_version)
    except StaleDataError:
        raise Conflict(_l("Someone else decided on this enterprise first. Its current state is shown below; "
                          "nothing was changed.")) from None


def _decide(session, registry, enterprise_id, action, actor, reason, expected_version) -> Decision:
    if action not in ACTIONS:
        raise Refusal(_l("Choose approve, reject, suspend or reinstate."), field="action")
    enterprise = locked(session, enterprise_id)
    if enterprise is None or not can_decide_enterprise(actor, enterprise):
        raise Refusal(_l("You may not decide on this enterprise."))
    if enterprise.version != expected_version:
        raise Conflict(_l("Someone else decided on this enterprise first: it is now %(status)s. Its current "
                          "state is shown below; nothing was changed.",
                          status=ENTERPRISE_STATUS_LABELS[enterprise.status]))
    sources, target, event = ACTIONS[action]
    if enterprise.status not in sources:
        raise Refusal(_l("This decision is not possible while the enterprise is %(status)s.",
                         status=ENTERPRISE_STATUS_LABELS[enterprise.status]), field="action")
    if action in REASON_REQUIRED and not reason:
        raise Refusal(_l("Give the reason: the enterprise's HR staff will read it."), field="reason")
    if target == APPROVED:
        require_active(registry, enterprise.unit)
        _admit(session, registry, enterprise)
    before, after = {}, {}
    set_status(session, registry, enterprise, actor, target, reason, before, after)
    record(session, actor, event, enterprise, reason=reason, before=before, after=after,
           enterprise_id=enterprise.id, unit_id=enterprise.unit_id)
    session.flush()
    approved = enterprise_facts(enterprise) if target == APPROVED else None
    return Decision(enterprise.id, action, before["status"], target, approved, enterprise.unit.code)


def locked(session: Session, enterprise_id: int) -> Enterprise | None:
    """Return the enterprise's current row, locked until the commit (PostgreSQL; SQLite locks the database)."""
    return session.scalar(
        select(Enterprise).where(Enterprise.id == enterprise_id).with_for_update()
        .execution_options(populate_existing=True)
    )


def set_status(session: Session, registry: UnitRegistry, enterprise: Enterprise, actor, status: str,
               reason: str | None, before: dict, after: dict) -> None:
    """Change the status and tell the other features inside this transaction."""
    previous = enterprise.status
    before["status"], after["status"] = previous, status
    enterprise.status, enterprise.status_reason, enterprise.status_changed_at = status, reason, utcnow()
    events.enterprise_status_changed.send(enterprise, session=session, registry=registry, actor=actor,
                                          before=previous, after=status, reason=reason)


def _admit(session: Session, registry: UnitRegistry, enterprise: Enterprise) -> None:
    """Ask the unit's plugin, counting its other approved enterprises under the unit's lock."""
    # Approvals of one unit queue here, so the count cannot change before our commit.
    session.execute(select(PilotUnit.id).where(PilotUnit.id == enterprise.unit_id).with_for_update())
    approved_count = session.scalar(
        select(func.count()).select_from(Enterprise)
        .where(Enterprise.unit_id == enterprise.unit_id, Enterprise.status == APPROVED, Enterprise.id != enterprise.id)
    )
    admission = registry.admit(enterprise.unit.code, enterprise_facts(enterprise), approved_count)
    if not admission.admitted:
        # A plugin's reason is usually a lazy string: testing its truth would translate it here, too early.
        reason = admission.reason
        if isinstance(reason, str) and not reason.strip():
            reason = _l("The unit's rules do not admit this enterprise.")
        raise Refusal(reason)


def tell_unit_approved(registry: UnitRegistry, decision: Decision) -> None:
    """Tell the unit's plugin about a committed approval; its failure is logged, never shown."""
    if decision.approved is None:
        return
    try:
        registry.notify(decision.unit_code, "portal_enterprise_approved", enterprise=decision.approved)
    except Exception:
        # The approval is committed; a plugin's listener failing must not undo it or show an error.
        log.exception("portal_enterprise_approved failed for %s in unit %s", decision.approved.tax_code,
                      decision.unit_code)
