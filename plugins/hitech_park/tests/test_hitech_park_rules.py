"""The Saigon Hi-Tech Park's own rules, asked through the registry the core uses.

The rules every unit shares are checked by the conformance suite (test_hitech_park_conformance.py).
"""
from datetime import date, datetime, time, timedelta

import pytest

from portal.plugins import api

UNIT = "hitech_park"
ON = date(2021, 10, 1)


def enterprise(location: str | None) -> api.EnterpriseFacts:
    return api.EnterpriseFacts(tax_code="0304567891", business_type="hitech_manufacturing",
                               sector="microelectronics", location=location, ward="Tân Phú",
                               district="TP Thủ Đức")


# -- the unit -----------------------------------------------------------------


def test_unit_is_the_park(pm):
    unit = pm.registry.unit(UNIT)
    assert (unit.short_code, unit.name_en, unit.authority_en) == (
        "CNC", "Saigon Hi-Tech Park (SHTP)", "Saigon Hi-Tech Park Authority (SHTP)")
    assert list(pm.registry.locations[UNIT]) == ["shtp"]
    assert "Thủ Đức" in pm.registry.locations[UNIT]["shtp"].name_vi
    assert set(pm.registry.sectors[UNIT]) == {"microelectronics", "ict_software", "automation_mechatronics",
                                              "biotech_pharma", "new_materials_energy"}
    assert {"hitech_manufacturing", "research_development", "hitech_services", "incubation"} == set(
        pm.registry.business_types[UNIT])


# -- admission: inside the park, its one declared location ---------------------


def test_enterprise_inside_the_park_is_admitted(pm):
    assert pm.registry.admit(UNIT, enterprise("shtp"), approved_count=900) == api.Admission(True)


@pytest.mark.parametrize("location", [None, "", "tan_thuan", "SHTP"])
def test_enterprise_outside_the_park_is_refused_by_the_core(pm, location):
    admission = pm.registry.admit(UNIT, enterprise(location), approved_count=0)
    assert admission.admitted is False
    assert "travel permit (giấy đi đường)" in str(admission.reason)


# -- commute windows: around each shift change ---------------------------------


def test_windows_follow_the_shift(pm):
    assert pm.registry.windows_follow_shift(UNIT) is True


@pytest.mark.parametrize(("shift", "to_work", "to_home"), [
    ("shift1", (time(5, 0), time(6, 15)), (time(13, 45), time(15, 30))),
    ("shift2", (time(13, 0), time(14, 15)), (time(21, 45), time(23, 30))),
    ("shift3", (time(21, 0), time(22, 15)), (time(5, 45), time(7, 30))),
])
def test_three_shift_plants_commute_around_shift_changes(pm, shift, to_work, to_home):
    windows = pm.registry.commute_windows(UNIT, shift)
    assert [(w.start, w.end, w.direction) for w in windows] == [(*to_work, "to_work"), (*to_home, "to_home")]
    going, leaving = windows
    assert going.contains(to_work[1]) and not going.contains(time(to_work[1].hour, to_work[1].minute, 1))
    assert leaving.contains(to_home[0])
    assert not leaving.contains((datetime.combine(ON, to_home[0]) - timedelta(seconds=1)).time())
    assert pm.registry.journeys_outside_windows(UNIT, shift) == ()


def test_office_hours_keep_the_default_windows(pm):
    to_work, to_home = pm.registry.commute_windows(UNIT, "office")
    assert (to_work, to_home) == api.DEFAULT_WINDOWS
    assert pm.registry.shift_outside_windows(UNIT, "office") is False
