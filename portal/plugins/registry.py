"""The units the installed plugins bring, their declarations, and the per-unit hook callers."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l

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
    # Answers derived from pure hooks, asked for every worker on a page: computed once per registry.
    _follows_shift: dict[str, bool] = field(default_factory=dict)
    _journeys: dict[tuple[str, str | None], tuple[str, ...]] = field(default_factory=dict)

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
        for code in registry.units:
            registry._check_windows(code)
        return registry

    def _check_windows(self, unit_code: str) -> None:
        """Stop start-up when a unit's windows are empty, or disagree with what it says about shifts."""
        answers = {}
        for shift in (None, *self.shifts):
            windows = self.commute_windows(unit_code, shift)
            if not windows or not all(isinstance(window, CommuteWindow) for window in windows):
                raise PluginError(
                    f"Unit {unit_code!r} gives no commute windows for shift {shift!r} (got {windows!r}): "
                    "return a non-empty list of api.CommuteWindow, or None for the city's two windows."
                )
            answers[shift] = tuple(windows)
        differing = [shift for shift in answers if answers[shift] != answers[None]]
        follows = self.windows_follow_shift(unit_code)
        if differing and not follows:
            shift = differing[0]
            raise PluginError(
                f"Unit {unit_code!r} gives shift {shift!r} other commute windows "
                f"({_labels(answers[shift])}) than a worker without a shift ({_labels(answers[None])}), "
                "but does not say that its windows follow the shift: implement portal_windows_follow_shift "
                "returning True (see docs/plugins.md)."
            )
        if follows and not differing:
            raise PluginError(
                f"Unit {unit_code!r} says its commute windows follow the shift (portal_windows_follow_shift), "
                f"but gives every shift the same windows ({_labels(answers[None])}): return False, or "
                "leave portal_windows_follow_shift out."
            )

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

    def plugin(self, code: str) -> object:
        """Return the plugin (usually a module) that brings unit ``code``; KeyError for an unknown unit."""
        return self._unit_plugins[code]

    def implements(self, code: str, hook_name: str) -> bool:
        """Say whether the plugin of unit ``code`` implements hook ``hook_name`` itself."""
        plugin = self.plugin(code)
        return any(impl.plugin is plugin for impl in getattr(self.pm.hook, hook_name).get_hookimpls())

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

    def windows_follow_shift(self, unit_code: str) -> bool:
        """Say whether the unit's commute windows depend on the worker's shift.

        When they do not (the default), the shift does not change the card; a worker whose shift
        starts or ends outside the windows needs the travel permit for those journeys
        (see :meth:`journeys_outside_windows`). KeyError for a unit no installed plugin brings.
        """
        if unit_code not in self._follows_shift:
            answer = self.hook(unit_code, "portal_windows_follow_shift")(unit=self.unit(unit_code))
            self._follows_shift[unit_code] = bool(answer)
        return self._follows_shift[unit_code]

    def journeys_outside_windows(self, unit_code: str, shift_code: str | None) -> tuple[str, ...]:
        """Return the journeys ("to_work", "to_home") a worker on ``shift_code`` makes outside every window.

        The journey to work is counted at the shift's start, the journey home at its end; each one
        returned needs the travel permit (giấy đi đường). An unknown or missing shift gives ``()``;
        KeyError for a unit no installed plugin brings.
        """
        key = (unit_code, shift_code)
        if key not in self._journeys:
            self.unit(unit_code)
            shift = self.shifts.get(shift_code or "")
            self._journeys[key] = (shift.journeys_outside(self.commute_windows(unit_code, shift_code))
                                   if shift is not None else ())
        return self._journeys[key]

    def shift_outside_windows(self, unit_code: str, shift_code: str | None) -> bool:
        """Say whether a worker on ``shift_code`` starts or ends the shift outside every window of the unit."""
        return bool(self.journeys_outside_windows(unit_code, shift_code))

    def admit(self, unit_code: str, enterprise: EnterpriseFacts, approved_count: int) -> Admission:
        """Ask the unit whether it admits ``enterprise``, after refusing what the unit does not declare.

        The forms offer only declared business types, sectors and locations; this catches an
        enterprise whose choice the unit has since stopped declaring, so no plugin checks it again.
        """
        undeclared = self.undeclared(unit_code, enterprise)
        if undeclared is not None:
            return undeclared
        return self.hook(unit_code, "portal_admit_enterprise")(
            unit=self.unit(unit_code), enterprise=enterprise, approved_count=approved_count
        )

    def undeclared(self, unit_code: str, enterprise: EnterpriseFacts) -> Admission | None:
        """Return the refusal of an enterprise whose business type, sector or location the unit does not declare."""
        if enterprise.business_type not in self.business_types[unit_code]:
            return Admission(False, _l("The unit no longer lists the business type “%(code)s” that this "
                                       "enterprise declared, so it cannot be approved.",
                                       code=enterprise.business_type))
        if enterprise.sector not in self.sectors[unit_code]:
            return Admission(False, _l("The unit no longer lists the sector “%(code)s” that this enterprise "
                                       "declared, so it cannot be approved.", code=enterprise.sector))
        locations = self.locations[unit_code]
        if locations and not enterprise.location:
            return Admission(False, _l("The unit admits only enterprises inside one of its zones or parks, and "
                                       "this enterprise gave none; apply for a travel permit (giấy đi đường) "
                                       "instead."))
        if locations and enterprise.location not in locations:
            return Admission(False, _l("The unit admits only enterprises inside one of its zones or parks, and "
                                       "“%(code)s” is not one of them; apply for a travel permit (giấy đi "
                                       "đường) instead.", code=enterprise.location))
        return None

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


def _labels(windows) -> str:
    return ", ".join(window.label() for window in windows)
