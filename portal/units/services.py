"""Keep the pilot_units table in step with the installed unit plugins."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

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
