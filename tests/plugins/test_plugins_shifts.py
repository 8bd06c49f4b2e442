"""Whether a unit's windows follow the shift, and which journeys of a shift need the travel permit."""
from __future__ import annotations

import types
from datetime import time

import pytest

from portal.plugins import api, hookimpl
from portal.plugins.manager import build_plugin_manager
from portal.plugins.registry import PluginError

DEFAULT_UNITS = ("district7", "cugi", "cangio")
SHIFT_UNITS = ("industrial_zones", "hitech_park")


def unit_plugin(name: str, **hookimpls) -> types.ModuleType:
    """Return a unit plugin module ``name`` (unit code = name) with ``hookimpls`` besides its declarations."""
    module = types.ModuleType(name)
    module.portal_unit = hookimpl(lambda: api.UnitDescriptor(name, "ZZ", "Đơn vị thử", "Test unit", "UBND", "PC"))
    module.portal_business_types = hookimpl(lambda: [api.BusinessType("any", "Bất kỳ", "Any")])
    module.portal_sectors = hookimpl(lambda: [api.Sector("any", "Bất kỳ", "Any")])
    for attribute, function in hookimpls.items():
        setattr(module, attribute, hookimpl(function))
    return module


def night_windows(unit, shift):
    if shift == "shift3":
        return [api.CommuteWindow(time(21), time(22, 15)), api.CommuteWindow(time(5, 45), time(7, 30), "to_home")]
    return None


# -- the hook ------------------------------------------------------------------------


@pytest.mark.parametrize("unit", DEFAULT_UNITS)
def test_hook_portal_windows_follow_shift_default_is_the_city_s_two_windows(pm, unit):
    assert pm.registry.windows_follow_shift(unit) is False
    assert {tuple(pm.registry.commute_windows(unit, shift)) for shift in (None, *pm.registry.shifts)} == {
        api.DEFAULT_WINDOWS}


@pytest.mark.parametrize("unit", SHIFT_UNITS)
def test_hook_portal_windows_follow_shift_units_around_shift_changes_say_so(pm, unit):
    assert pm.registry.windows_follow_shift(unit) is True
    assert len({tuple(pm.registry.commute_windows(unit, shift)) for shift in pm.registry.shifts}) == 4


def test_hook_portal_windows_follow_shift_a_new_unit_that_says_so():
    night = unit_plugin("night_depot", portal_commute_windows=night_windows,
                        portal_windows_follow_shift=lambda unit: True)
    registry = build_plugin_manager(extra=[night]).registry
    assert registry.windows_follow_shift("night_depot") is True
    assert registry.journeys_outside_windows("night_depot", "shift3") == ()
    assert registry.journeys_outside_windows("night_depot", "shift2") == ("to_work", "to_home")


def test_hook_portal_windows_follow_shift_windows_that_follow_without_saying_so_stop_start_up():
    silent = unit_plugin("night_depot", portal_commute_windows=night_windows)
    with pytest.raises(PluginError) as refused:
        build_plugin_manager(extra=[silent])
    assert str(refused.value) == (
        "Unit 'night_depot' gives shift 'shift3' other commute windows (21:00–22:15, 05:45–07:30) than a worker "
        "without a shift (06:30–08:00, 16:30–18:00), but does not say that its windows follow the shift: "
        "implement portal_windows_follow_shift returning True (see docs/plugins.md).")


def test_hook_portal_windows_follow_shift_saying_so_with_the_same_windows_stops_start_up():
    boastful = unit_plugin("night_depot", portal_windows_follow_shift=lambda unit: True)
    with pytest.raises(PluginError, match="'night_depot' says its commute windows follow the shift.*same windows"):
        build_plugin_manager(extra=[boastful])


def test_hook_portal_commute_windows_empty_windows_stop_start_up():
    empty = unit_plugin("night_depot", portal_commute_windows=lambda unit, shift: [])
    with pytest.raises(PluginError, match="'night_depot' gives no commute windows for shift None"):
        build_plugin_manager(extra=[empty])


# -- journeys outside the windows --------------------------------------------------------


@pytest.mark.parametrize(("shift", "outside"), [
    ("office", ()),  # 07:30–16:30: starts in 06:30–08:00, ends in 16:30–18:00 (both inclusive)
    ("shift1", ("to_work", "to_home")),  # 06:00–14:00
    ("shift2", ("to_work", "to_home")),  # 14:00–22:00
    ("shift3", ("to_work", "to_home")),  # 22:00–06:00
    (None, ()),  # no shift recorded: nothing to say
    ("no_such_shift", ()),
])
def test_journeys_outside_the_city_s_windows(pm, shift, outside):
    for unit in DEFAULT_UNITS:
        assert pm.registry.journeys_outside_windows(unit, shift) == outside
        assert pm.registry.shift_outside_windows(unit, shift) is bool(outside)


@pytest.mark.parametrize("unit", SHIFT_UNITS)
def test_no_journey_outside_windows_that_follow_the_shift(pm, unit):
    assert not any(pm.registry.shift_outside_windows(unit, shift) for shift in pm.registry.shifts)


def test_a_declared_shift_is_asked_about_too():
    market = types.ModuleType("portal_night_market")
    market.portal_shifts = hookimpl(lambda: [api.Shift("night_market", "Ca chợ đêm", "Night market shift",
                                                       time(1), time(7))])
    registry = build_plugin_manager(extra=[market]).registry
    # 01:00 is in no window; 07:00 is inside 06:30–08:00.
    assert registry.journeys_outside_windows("district7", "night_market") == ("to_work",)


def test_only_the_time_counts_not_the_window_s_direction():
    late = api.Shift("late", "Ca muộn", "Late shift", time(16, 45), time(7, 0))
    assert late.journeys_outside(api.DEFAULT_WINDOWS) == ()  # starts in the to-home window: the checkpoint admits it


def test_windows_crossing_midnight_and_their_edges():
    night = api.Shift("night", "Ca đêm", "Night", time(23, 0), time(5, 0))
    windows = [api.CommuteWindow(time(22, 0), time(0, 15)), api.CommuteWindow(time(4, 0), time(5, 0), "to_home")]
    assert night.journeys_outside(windows) == ()
    assert night.journeys_outside(windows[:1]) == ("to_home",)
    early = api.Shift("early", "Ca sớm", "Early", time(0, 15), time(8, 0))
    assert early.journeys_outside(windows) == ("to_home",)  # 00:15:00 is the window's last second
    assert api.Shift("x", "x", "x", time(0, 16), time(4, 0)).journeys_outside(windows) == ("to_work",)


def test_a_unit_no_plugin_brings_is_a_key_error(pm):
    # A disabled unit's enterprises ask the core, which shows the unit as not active instead.
    with pytest.raises(KeyError):
        pm.registry.windows_follow_shift("district99")
    with pytest.raises(KeyError):
        pm.registry.shift_outside_windows("district99", "shift3")
    with pytest.raises(KeyError):
        pm.registry.journeys_outside_windows("district99", None)
