"""The units the installed plugins bring, their declarations, and the per-unit hook callers."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from portal.plugins.types import (
    Admission,
    BusinessType,
    CommuteWindow,
    Eligibility,
    EnterpriseFacts,
    Location,
    PassFacts,
    Sector,
    Shift,
    UnitDescriptor,
    Validity,
    WorkerFacts,
)
from portal.text import fold  # noqa: F401  (re-exported: the name the code used first)

if TYPE_CHECKING:
    from portal.plugins.manager import PortalPluginManager


class PluginError(RuntimeError):
    """Raised at start-up when the installed plugins are inconsistent."""


class DuplicateDeclaration(PluginError):
    """Raised when two declarations share a code where codes must be unique."""


def _index(items, what: str, owner: str) -> dict:
    found: dict = {}
    for item in items:
        if item.code in found:
            raise DuplicateDeclaration(f"{what} code {item.code!r} is declared twice ({owner}).")
        found[item.code] = item
    return found


@dataclass
class UnitRegistry:
    """Everything declared by the installed plugins, and the way to ask one unit's rules."""

    pm: PortalPluginManager
    units: dict[str, UnitDescriptor] = field(default_factory=dict)
    business_types: dict[str, dict[str, BusinessType]] = field(default_factory=dict)
    sectors: dict[str, dict[str, Sector]] = field(default_factory=dict)
    locations: dict[str, dict[str, Location]] = field(default_factory=dict)
    shifts: dict[str, Shift] = field(default_factory=dict)
    _unit_plugins: dict[str, object] = field(default_factory=dict)
    _callers: dict[tuple[str, str], object] = field(default_factory=dict)
    _shift_names: dict[str, Shift] = field(default_factory=dict)

    @classmethod
    def build(cls, pm: PortalPluginManager) -> UnitRegistry:
        """Ask every plugin for its unit and declarations; reject duplicates."""
        registry = cls(pm=pm)
        for impl in pm.hook.portal_unit.get_hookimpls():
            descriptor = impl.function()
            if descriptor is None:
                continue
            if descriptor.code in registry.units:
                raise DuplicateDeclaration(
                    f"Unit code {descriptor.code!r} is declared by two plugins "
                    f"({pm.get_name(registry._unit_plugins[descriptor.code])!r} and {pm.get_name(impl.plugin)!r})."
                )
            registry.units[descriptor.code] = descriptor
            registry._unit_plugins[descriptor.code] = impl.plugin
        short_codes = [unit.short_code for unit in registry.units.values()]
        if len(set(short_codes)) != len(short_codes):
            raise DuplicateDeclaration(f"Two units share a short code: {sorted(short_codes)}.")

        registry.shifts = _index(
            (shift for answer in pm.hook.portal_shifts() for shift in answer), "Shift", "portal_shifts"
        )
        for code in registry.units:
            owner = f"unit {code}"
            registry.business_types[code] = _index(
                (t for answer in registry.hook(code, "portal_business_types")() for t in answer),
                "Business type", owner,
            )
            registry.sectors[code] = _index(
                (s for answer in registry.hook(code, "portal_sectors")() for s in answer), "Sector", owner
            )
            registry.locations[code] = _index(
                (loc for answer in registry.hook(code, "portal_locations")() for loc in answer), "Location", owner
            )
        return registry

    # -- asking one unit ------------------------------------------------------

    def hook(self, unit_code: str, name: str):
        """Return a caller for hook ``name`` that reaches ``unit_code``'s plugin but no other unit's."""
        key = (unit_code, name)
        if key not in self._callers:
            others = [plugin for code, plugin in self._unit_plugins.items() if code != unit_code]
            self._callers[key] = self.pm.subset_hook_caller(name, remove_plugins=others)
        return self._callers[key]

    def unit(self, code: str) -> UnitDescriptor:
        """Return the descriptor of unit ``code``; KeyError when no installed plugin brings it."""
        return self.units[code]

    def shift_for(self, text: str | None) -> Shift | None:
        """Find a shift by its code, its names or an alias, ignoring case and diacritics."""
        if not text:
            return None
        if not self._shift_names:
            self._shift_names = {fold(name): shift for shift in self.shifts.values()
                                 for name in (shift.code, shift.name_vi, shift.name_en, *shift.aliases)}
        return self._shift_names.get(fold(text))

    def commute_windows(self, unit_code: str, shift: str | None) -> list[CommuteWindow]:
        """Return the unit's windows for ``shift``."""
        return self.hook(unit_code, "portal_commute_windows")(unit=self.unit(unit_code), shift=shift)

    def admit(self, unit_code: str, enterprise: EnterpriseFacts, approved_count: int) -> Admission:
        """Ask the unit whether it admits ``enterprise``."""
        return self.hook(unit_code, "portal_admit_enterprise")(
            unit=self.unit(unit_code), enterprise=enterprise, approved_count=approved_count
        )

    def eligibility(self, unit_code: str, worker: WorkerFacts, on_date: date) -> Eligibility:
        """Ask the unit whether ``worker`` is eligible on the local day ``on_date``."""
        return self.hook(unit_code, "portal_worker_eligibility")(
            unit=self.unit(unit_code), worker=worker, on_date=on_date
        )

    def validity(self, unit_code: str, worker: WorkerFacts, eligibility: Eligibility, issued_on: date) -> Validity:
        """Ask the unit for the validity of a pass issued on ``issued_on``."""
        return self.hook(unit_code, "portal_pass_validity")(
            unit=self.unit(unit_code), worker=worker, eligibility=eligibility, issued_on=issued_on
        )

    def extra_lines(self, unit_code: str, pass_: PassFacts) -> list[str]:
        """Collect the unit's extra lines for a pass."""
        answers = self.hook(unit_code, "portal_pass_extra_lines")(unit=self.unit(unit_code), pass_=pass_)
        return [str(line) for answer in answers for line in (answer or ())]

    def notify(self, unit_code: str, event: str, **kwargs) -> None:
        """Call event hook ``event`` (e.g. ``portal_pass_issued``) for the unit; results are ignored."""
        self.hook(unit_code, event)(unit=self.unit(unit_code), **kwargs)
