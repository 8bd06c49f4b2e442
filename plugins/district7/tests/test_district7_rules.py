"""District 7's own rules, asked through the registry the core uses.

The rules every unit shares are checked by the conformance suite (test_district7_conformance.py).
"""
from dataclasses import replace

import portal_district7
import pytest

from portal.plugins import api

UNIT = "district7"

AN_ENTERPRISE = api.EnterpriseFacts(tax_code="0301234562", business_type="essential_production",
                                    sector="food_processing", location=None, ward="Tân Phong",
                                    district="Quận 7")


def enterprise(**overrides) -> api.EnterpriseFacts:
    return replace(AN_ENTERPRISE, **overrides)


# -- the unit -----------------------------------------------------------------


def test_unit_is_declared_with_its_business_types_and_sectors(pm):
    unit = pm.registry.unit(UNIT)
    assert (unit.short_code, unit.name_vi, unit.authority_vi) == ("Q7", "Quận 7", "Ủy ban nhân dân Quận 7")
    assert "giấy đi đường" in unit.travel_note_vi
    assert set(pm.registry.business_types[UNIT]) == {"essential_production", "essential_trading"}
    assert pm.registry.business_types[UNIT]["essential_trading"].name_vi == "Kinh doanh hàng hóa thiết yếu"
    assert {"food_processing", "pharma_medical", "logistics", "utilities"} <= set(pm.registry.sectors[UNIT])
    assert pm.registry.locations[UNIT] == {}


# -- admission: 150 enterprises ----------------------------------------------


def test_cap_is_150():
    assert portal_district7.ENTERPRISE_CAP == 150


def test_the_150th_enterprise_is_admitted(pm):
    assert pm.registry.admit(UNIT, enterprise(), approved_count=149) == api.Admission(True)


def test_the_151st_enterprise_is_refused(pm):
    admission = pm.registry.admit(UNIT, enterprise(), approved_count=150)
    assert admission.admitted is False
    assert str(admission.reason) == (
        "District 7 has already approved its 150 pilot enterprises; "
        "apply for a travel permit (giấy đi đường) instead."
    )


def test_refusal_reads_in_vietnamese_and_english(app, pm):
    reason = pm.registry.admit(UNIT, enterprise(), approved_count=200).reason
    with app.test_request_context():
        assert str(reason) == ("Quận 7 đã duyệt đủ 150 doanh nghiệp thí điểm; "
                               "doanh nghiệp vui lòng đăng ký giấy đi đường.")
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        assert str(reason).startswith("District 7 has already approved its 150")


# -- shifts: the city's two windows, and the travel permit outside them --------


def test_windows_do_not_follow_the_shift(pm):
    assert pm.registry.windows_follow_shift(UNIT) is False
    assert {tuple(pm.registry.commute_windows(UNIT, shift)) for shift in ("office", "shift2", "shift3")} == {
        api.DEFAULT_WINDOWS}


@pytest.mark.parametrize(("shift", "outside"), [
    ("office", ()),  # 07:30–16:30: both ends inside 06:30–08:00 and 16:30–18:00
    ("shift1", ("to_work", "to_home")),  # 06:00–14:00
    ("shift2", ("to_work", "to_home")),  # 14:00–22:00
    ("shift3", ("to_work", "to_home")),  # 22:00–06:00: "outside hours" on every real journey
    (None, ()),
])
def test_shift_workers_need_the_travel_permit_for_journeys_outside_the_windows(pm, shift, outside):
    assert pm.registry.journeys_outside_windows(UNIT, shift) == outside
    assert pm.registry.shift_outside_windows(UNIT, shift) is bool(outside)

