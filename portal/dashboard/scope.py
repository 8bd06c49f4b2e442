"""Who sees which figures: an official their unit's, the city admin any unit's or the whole city's."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, true
from sqlalchemy.orm import Session

from portal.messages import Refusal
from portal.plugins.registry import UnitRegistry
from portal.units.models import PilotUnit

UNKNOWN_UNIT = _l("There is no unit with that code; showing the whole city.")


@dataclass(frozen=True)
class Scope:
    """The figures a user may see: one unit, or (``unit`` None) the whole city."""

    unit: PilotUnit | None

    @property
    def unit_id(self) -> int | None:
        return self.unit.id if self.unit is not None else None

    def where(self, column):
        """Return a WHERE clause limiting ``column`` (a unit id) to the scope."""
        return column == self.unit_id if self.unit is not None else true()


def resolve_scope(session: Session, user, unit_code: str | None) -> Scope:
    """Return an official's own unit whatever was asked; for the admin, the unit asked for or the city.

    Raise Refusal when the admin asked for a unit that does not exist.
    """
    if user.is_official:
        return Scope(session.get(PilotUnit, user.unit_id))
    if not user.is_admin:
        raise PermissionError("only officials and the city admin see the pilot's figures")
    if not unit_code:
        return Scope(None)
    unit = session.scalar(select(PilotUnit).where(PilotUnit.code == unit_code))
    if unit is None:
        raise Refusal(UNKNOWN_UNIT, field="unit")
    return Scope(unit)


def all_units(session: Session, registry: UnitRegistry) -> list[PilotUnit]:
    """Return every unit with data, in the order the plugins declare them (uninstalled ones last)."""
    order = {code: index for index, code in enumerate(registry.units)}
    units = session.scalars(select(PilotUnit)).all()
    return sorted(units, key=lambda unit: (order.get(unit.code, len(order)), unit.code))


def scope_units(session: Session, registry: UnitRegistry, scope: Scope) -> list[PilotUnit]:
    return [scope.unit] if scope.unit is not None else all_units(session, registry)


def sector_declaration(registry: UnitRegistry, code: str, unit_codes: list[str]):
    """Return how the first of ``unit_codes`` declaring sector ``code`` names it (else any unit), or None.

    Units may give the same code different names; a unit's own name is preferred for its own data.
    """
    for unit_code in [*unit_codes, *registry.sectors]:
        sector = registry.sectors.get(unit_code, {}).get(code)
        if sector is not None:
            return sector
    return None
