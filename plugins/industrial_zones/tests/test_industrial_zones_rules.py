"""The export-processing and industrial zones' own rules, asked through the registry the core uses.

The rules every unit shares are checked by the conformance suite (test_industrial_zones_conformance.py).
"""
import re
from datetime import date, datetime, time, timedelta

import pytest

from portal.plugins import api

UNIT = "industrial_zones"
ON = date(2021, 10, 1)


def enterprise(location: str | None) -> api.EnterpriseFacts:
    return api.EnterpriseFacts(tax_code="0300559014", business_type="export_processing", sector="electronics",
                               location=location, ward="Tân Thuận Đông", district="Quận 7")


# -- the unit -----------------------------------------------------------------


def test_unit_lists_the_hepza_zones(pm):
    unit = pm.registry.unit(UNIT)
    assert unit.short_code == "KCN"
    assert "HEPZA" in unit.authority_vi and "HEPZA" in unit.authority_en
    locations = pm.registry.locations[UNIT]
    export_processing = {"tan_thuan", "linh_trung_1", "linh_trung_2"}
    industrial = {"hiep_phuoc", "tan_tao", "vinh_loc", "le_minh_xuan", "tay_bac_cu_chi", "cat_lai"}
    assert export_processing | industrial <= set(locations)
    assert locations["tan_thuan"].name_vi == "Khu chế xuất Tân Thuận"
    assert all(re.fullmatch(r"[a-z0-9_]+", code) for code in locations)
    assert {"electronics", "textiles_garments", "footwear", "logistics"} <= set(pm.registry.sectors[UNIT])
    assert "export_processing" in pm.registry.business_types[UNIT]


# -- admission: inside a listed zone ------------------------------------------


@pytest.mark.parametrize("location", ["tan_thuan", "linh_trung_2", "phong_phu"])
def test_enterprise_inside_a_zone_is_admitted(pm, location):
    assert pm.registry.admit(UNIT, enterprise(location), approved_count=3000) == api.Admission(True)


@pytest.mark.parametrize("location", [None, "", "shtp", "Tan Thuan"])
def test_enterprise_outside_the_zones_is_refused_by_the_core(pm, location):
    admission = pm.registry.admit(UNIT, enterprise(location), approved_count=0)
    assert admission.admitted is False
    assert "travel permit (giấy đi đường)" in str(admission.reason)


# -- commute windows: around each shift change --------------------------------


EDGES = {
    # shift: (to-work window, to-home window), from api.shift_change_windows' margins
    "shift1": ((time(5, 0), time(6, 15)), (time(13, 45), time(15, 30))),
    "shift2": ((time(13, 0), time(14, 15)), (time(21, 45), time(23, 30))),
    "shift3": ((time(21, 0), time(22, 15)), (time(5, 45), time(7, 30))),
}


def _second_before(moment: time) -> time:
    return (datetime.combine(ON, moment) - timedelta(seconds=1)).time()


def _second_after(moment: time) -> time:
    return (datetime.combine(ON, moment) + timedelta(seconds=1)).time()


def test_windows_follow_the_shift(pm):
    assert pm.registry.windows_follow_shift(UNIT) is True


@pytest.mark.parametrize("shift", sorted(EDGES))
def test_shift_change_windows_and_their_edges(pm, shift):
    windows = pm.registry.commute_windows(UNIT, shift)
    assert [(w.start, w.end, w.direction) for w in windows] == [
        (*EDGES[shift][0], "to_work"), (*EDGES[shift][1], "to_home"),
    ]
    for window in windows:
        assert window.start <= window.end  # none of the standard shift changes crosses midnight
        assert window.contains(window.start) and window.contains(window.end)
        assert not window.contains(_second_before(window.start))
        assert not window.contains(_second_after(window.end))
    assert pm.registry.journeys_outside_windows(UNIT, shift) == ()  # no travel permit needed


def test_night_shift_may_not_travel_in_the_default_morning_window(pm):
    to_work, to_home = pm.registry.commute_windows(UNIT, "shift3")
    assert not to_work.contains(time(7, 0)) and to_home.contains(time(7, 0))
    assert not any(window.contains(time(17, 0)) for window in (to_work, to_home))


@pytest.mark.parametrize("shift", ["office", None, "night_market"])
def test_office_hours_and_unknown_shifts_keep_the_default(pm, shift):
    to_work, to_home = pm.registry.commute_windows(UNIT, shift)
    assert (to_work, to_home) == api.DEFAULT_WINDOWS
    assert to_work.contains(time(8, 0, 0))
    assert not to_work.contains(time(8, 0, 1))

