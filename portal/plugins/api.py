"""The public portal API for plugin authors: every type and helper a unit plugin may use.

A plugin imports ``from portal.plugins import api, hookimpl`` and nothing else from the portal:
``hookimpl`` marks its hook functions, ``api`` holds the rest. Anything not listed in ``__all__``
here is a core internal that may change without notice.
"""
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext

from portal.clock import HCMC, end_of_local_day, format_date, local_today, start_of_local_day
from portal.plugins import ENTRY_POINT_GROUP
from portal.plugins.default import (
    DEFAULT_WINDOWS,
    PASS_LIFETIME_MONTHS,
    RECOVERY_WINDOW_DAYS,
    STANDARD_SHIFTS,
    VACCINATION_WAIT_DAYS,
    add_months,
    default_eligibility,
    default_validity,
    require_confirmed,
)
from portal.plugins.types import (
    Admission,
    Basis,
    BusinessType,
    CommuteWindow,
    Dose,
    Eligibility,
    EnterpriseFacts,
    Location,
    NegativeTest,
    PassFacts,
    Provenance,
    RegistryConnector,
    RegistryRecord,
    Sector,
    Shift,
    UnitDescriptor,
    Validity,
    WorkerFacts,
)

__all__ = [
    # the values plugins and the core hand each other
    "Admission", "Basis", "BusinessType", "CommuteWindow", "Dose", "Eligibility", "EnterpriseFacts", "Location",
    "NegativeTest", "PassFacts", "Provenance", "RegistryConnector",
    "RegistryRecord", "Sector", "Shift", "UnitDescriptor", "Validity", "WorkerFacts",
    # the city's default rule
    "DEFAULT_WINDOWS", "PASS_LIFETIME_MONTHS", "RECOVERY_WINDOW_DAYS", "VACCINATION_WAIT_DAYS", "add_months",
    "default_eligibility", "default_validity", "require_confirmed",
    # shifts
    "STANDARD_SHIFTS", "shift_change_windows", "standard_shift",
    # time and text
    "HCMC", "format_date", "lazy_gettext", "local_today", "validity_instants",
    # the entry-point group (for tools; a plugin names it in its setup.cfg)
    "ENTRY_POINT_GROUP",
]


def _shift_time(moment: time, minutes: int) -> time:
    """Move a time of day by ``minutes``, wrapping around midnight."""
    return (datetime.combine(date(2000, 1, 3), moment) + timedelta(minutes=minutes)).time()


def shift_change_windows(shift: Shift, before_start: int = 60, after_start: int = 15,
                         before_end: int = 15, after_end: int = 90) -> list[CommuteWindow]:
    """Return a to-work window around a shift's start and a to-home window around its end (in minutes)."""
    return [
        CommuteWindow(_shift_time(shift.start, -before_start), _shift_time(shift.start, after_start), "to_work"),
        CommuteWindow(_shift_time(shift.end, -before_end), _shift_time(shift.end, after_end), "to_home"),
    ]


def standard_shift(code: str | None) -> Shift | None:
    """Return the built-in shift whose code is ``code`` (``office``, ``shift1``..``shift3``), else None.

    Hooks receive a worker's shift as its code; a unit whose windows follow the shift changes looks
    the times up here. Shifts declared by other plugins are not standard and give None.
    """
    return next((shift for shift in STANDARD_SHIFTS if shift.code == code), None)


def validity_instants(validity: Validity) -> tuple[datetime, datetime]:
    """Return the UTC instants a pass is valid between: ``[start, end)``.

    ``valid_from`` and ``valid_until`` are local days, both inclusive, so a pass whose last day is D
    is valid until D 23:59:59 in Ho Chi Minh City (16:59:59 UTC) and no longer at the next local
    midnight, D+1 00:00 (D 17:00 UTC): UTC midnight is seven hours too late.
    """
    return start_of_local_day(validity.valid_from), end_of_local_day(validity.valid_until)
