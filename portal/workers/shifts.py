"""Which shifts start or end outside the card's travel hours, where the hours do not follow the shift."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.plugins.types import CommuteWindow
from portal.units.services import is_active
from portal.workers.models import Worker

#: The journeys of a shift made outside every window, as HR reads them.
JOURNEY_LABELS = {
    ("to_work", "to_home"): _l("going to work and going home"),
    ("to_work",): _l("going to work"),
    ("to_home",): _l("going home"),
}


@dataclass(frozen=True)
class ShiftNotice:
    """What HR is told about shifts and the card's hours in the enterprise's unit."""

    #: True when the unit gives each shift its own windows (the card's hours follow the shift).
    follows: bool
    #: The unit's windows when they do not follow the shift.
    windows: tuple[CommuteWindow, ...]
    #: Each shift that starts or ends outside every window: the journeys concerned ("to_work", "to_home").
    outside: dict[str, tuple[str, ...]]
    #: How many active workers of the enterprise are on each of those shifts.
    counts: dict[str, int]

    @property
    def windows_label(self) -> str:
        return ", ".join(window.label() for window in self.windows)

    @property
    def workers_outside(self) -> int:
        return sum(self.counts.values())


def shift_notice(session, registry, enterprise) -> ShiftNotice | None:
    """Return the shift notice of ``enterprise``'s unit, or None when its unit is not active."""
    unit_code = enterprise.unit.code
    if not is_active(registry, unit_code):
        return None
    if registry.windows_follow_shift(unit_code):
        return ShiftNotice(True, (), {}, {})
    outside = {code: journeys for code in registry.shifts
               if (journeys := registry.journeys_outside_windows(unit_code, code))}
    counts = {}
    if outside:
        counts = dict(session.execute(
            select(Worker.shift, func.count()).where(Worker.enterprise_id == enterprise.id, Worker.active.is_(True),
                                                     Worker.shift.in_(outside)).group_by(Worker.shift)).all())
    return ShiftNotice(False, tuple(registry.commute_windows(unit_code, None)), outside, counts)
