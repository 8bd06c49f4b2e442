"""Keep the pilot_units table in step with the installed unit plugins; say whether a unit is active."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.messages import Refusal
from portal.plugins.registry import UnitRegistry
from portal.units.models import PilotUnit


def sync_units(session: Session, registry: UnitRegistry) -> list[PilotUnit]:
    """Create or update a row for every installed unit; return them in registry order (not committed)."""
    existing = {unit.code: unit for unit in session.scalars(select(PilotUnit))}
    rows = []
    for code, descriptor in registry.units.items():
        row = existing.get(code) or PilotUnit(code=code)
        row.short_code = descriptor.short_code
        row.name_vi, row.name_en = descriptor.name_vi, descriptor.name_en
        row.authority_vi, row.authority_en = descriptor.authority_vi, descriptor.authority_en
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def unit_row(session: Session, registry: UnitRegistry, code: str) -> PilotUnit:
    """Return the row of an installed unit, creating it on first use."""
    row = session.scalar(select(PilotUnit).where(PilotUnit.code == code))
    if row is None:
        registry.unit(code)  # KeyError for a unit no plugin brings
        sync_units(session, registry)
        row = session.scalar(select(PilotUnit).where(PilotUnit.code == code))
    return row


#: What a page says, and a refused change answers, about a unit whose plugin is not installed or disabled.
UNIT_NOT_ACTIVE = _l("This pilot unit is not active on the portal now (its rules are not installed): "
                     "nothing that needs its rules can be done until it is active again. Ask the city's "
                     "administrator.")


def is_active(registry: UnitRegistry, unit_code: str | None) -> bool:
    """Say whether a plugin of the running app brings the unit ``unit_code`` (installed and not disabled)."""
    return unit_code in registry.units


def require_active(registry: UnitRegistry, unit) -> None:
    """Raise a Refusal unless ``unit`` (a PilotUnit) is active: its rules are needed for what comes next."""
    if not is_active(registry, unit.code):
        raise Refusal(UNIT_NOT_ACTIVE)
