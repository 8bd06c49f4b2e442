"""Củ Chi's own rules, asked through the registry the core uses.

The rules every unit shares are checked by the conformance suite (test_cugi_conformance.py).
"""
from datetime import date, timedelta

import pytest

from portal.plugins import api
from portal.testing.conformance import ON

UNIT = "cugi"


def enterprise(sector: str) -> api.EnterpriseFacts:
    return api.EnterpriseFacts(tax_code="0312345673", business_type="cooperative", sector=sector,
                               location=None, ward="Tân Thạnh Đông", district="Huyện Củ Chi")


# -- the unit -----------------------------------------------------------------


def test_unit_is_declared_with_exactly_three_sectors(pm):
    unit = pm.registry.unit(UNIT)
    assert (unit.short_code, unit.name_vi) == ("CC", "Huyện Củ Chi")
    assert unit.authority_vi == "Ủy ban nhân dân huyện Củ Chi"
    assert "giấy đi đường" in unit.travel_note_vi
    sectors = pm.registry.sectors[UNIT]
    assert list(sectors) == ["food_supply", "agri_inputs", "local_tourism"]
    assert sectors["food_supply"].name_vi == "Cung ứng lương thực, thực phẩm"
    assert sectors["agri_inputs"].name_en == "Agricultural inputs and services"
    assert pm.registry.business_types[UNIT]["cooperative"].name_vi == "Hợp tác xã"


# -- admission: the three sectors it declares ---------------------------------


@pytest.mark.parametrize("sector", ["food_supply", "agri_inputs", "local_tourism"])
def test_pilot_sectors_are_admitted_however_many(pm, sector):
    assert pm.registry.admit(UNIT, enterprise(sector), approved_count=1000) == api.Admission(True)


@pytest.mark.parametrize("sector", ["garments", "food_processing", "", "Food_Supply"])
def test_other_sectors_are_refused_by_the_core(pm, sector):
    admission = pm.registry.admit(UNIT, enterprise(sector), approved_count=0)
    assert admission.admitted is False
    assert str(admission.reason) == (f"The unit no longer lists the sector “{sector}” that this enterprise "
                                     "declared, so it cannot be approved.")


# -- eligibility --------------------------------------------------------------


def test_tourism_staff_need_no_test_in_cu_chi(pm):
    # Cần Giờ asks its local tourism staff for a negative test; Củ Chi does not.
    doses = (api.Dose(1, "verocell", "Vero Cell", 2, ON - timedelta(days=42)),
             api.Dose(2, "verocell", "Vero Cell", 2, ON - timedelta(days=14)))
    facts = api.WorkerFacts(date_of_birth=date(1985, 2, 3), sex="M", shift="office", job_title="Hướng dẫn viên",
                            doses=doses, sector="local_tourism", business_type="service_provider")
    result = pm.registry.eligibility(UNIT, facts, ON)
    assert (result.eligible, result.basis, result.until) == (True, api.Basis.VACCINATED, None)
    assert pm.registry.validity(UNIT, facts, result, ON) == api.Validity(ON, date(2022, 3, 31))
