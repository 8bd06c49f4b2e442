"""HR's own changes to their enterprise: contact details at any time, its classification until the unit decides."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from portal import events
from portal.audit.services import record
from portal.auth.models import User
from portal.auth.services import normalise_email
from portal.enterprises.classification import (
    CLASSIFICATION_FIELDS,
    CONTACT_FIELDS,
    Classification,
    classification_of,
    classification_refusals,
    fitted,
)
from portal.enterprises.decisions import PENDING, REJECTED, locked, set_status
from portal.enterprises.models import Enterprise
from portal.messages import Conflict, Refusal
from portal.plugins.registry import UnitRegistry
from portal.units.services import unit_row

#: The statuses in which HR may still change the classification.
RECLASSIFIABLE = frozenset({PENDING, REJECTED})
EDIT_CONFLICT = _l("Your enterprise was changed by someone else while you were editing (for example, your unit "
                   "decided on it). Here is its current state: check it and save again.")


def can_reclassify(enterprise: Enterprise) -> bool:
    """Say whether HR may still change the enterprise's unit, business type, sector or location."""
    return enterprise.status in RECLASSIFIABLE


def update_enterprise(session: Session, registry: UnitRegistry, enterprise_id: int, actor: User, *,
                      contact: dict, classification: Classification | None, expected_version: int) -> list[str]:
    """Apply HR's changes with an audit event (not committed); a rejected enterprise goes back to pending.

    Return the names of the fields that changed (empty: nothing to save). Raise Conflict when the
    enterprise changed since the form was shown, Refusal when the change is not allowed.
    """
    try:
        return _apply_edit(session, registry, enterprise_id, actor, contact, classification, expected_version)
    except StaleDataError:
        raise Conflict(EDIT_CONFLICT) from None


def _apply_edit(session, registry, enterprise_id, actor, contact, classification, expected_version) -> list[str]:
    enterprise = locked(session, enterprise_id)
    if enterprise is None or not (actor.is_hr and actor.enterprise_id == enterprise.id):
        raise Refusal(_l("You may change only your own enterprise."))
    if enterprise.version != expected_version:
        raise Conflict(EDIT_CONFLICT)
    if "email" in contact:
        contact = {**contact, "email": normalise_email(contact["email"] or "")}
    before, after = {}, {}
    for name in CONTACT_FIELDS:
        if name in contact and getattr(enterprise, name) != contact[name]:
            before[name], after[name] = getattr(enterprise, name), contact[name]
            setattr(enterprise, name, contact[name])
    reclassified = classification is not None and _reclassify(
        session, registry, enterprise, fitted(registry, classification), before, after)
    if not after:
        return []
    resubmitted = enterprise.status == REJECTED
    if resubmitted:
        set_status(session, registry, enterprise, actor, PENDING, None, before, after)
    record(session, actor, "enterprise.resubmitted" if resubmitted else "enterprise.updated", enterprise,
           before=before, after=after, enterprise_id=enterprise.id, unit_id=enterprise.unit_id)
    session.flush()
    if reclassified:
        events.enterprise_reclassified.send(enterprise, session=session, registry=registry, actor=actor)
    return [name for name in after if name != "status"]


def _reclassify(session, registry, enterprise, wanted: Classification, before: dict, after: dict) -> bool:
    """Change the classification when it differs; say whether it did."""
    current = classification_of(enterprise)
    if wanted == current:
        return False
    if not can_reclassify(enterprise):
        raise Refusal(_l("Your unit has already decided on your enterprise: its unit, business type, sector and "
                         "location can no longer be changed. Ask your unit's officials."), field="unit")
    refusal = Refusal.of(classification_refusals(registry, wanted))
    if refusal:
        raise refusal
    for name in CLASSIFICATION_FIELDS:
        old, new = getattr(current, name), getattr(wanted, name)
        if old != new:
            before[name], after[name] = old, new
    enterprise.unit = unit_row(session, registry, wanted.unit)
    enterprise.business_type, enterprise.sector, enterprise.location = (
        wanted.business_type, wanted.sector, wanted.location)
    return True
