"""Cần Giờ's own rules, asked through the registry the core uses.

The rules every unit shares are checked by the conformance suite (test_cangio_conformance.py).
"""
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from portal.plugins import api
from portal.plugins.manager import build_plugin_manager
from portal.testing.conformance import ON, standard_workers

UNIT = "cangio"
TOURISM = "local_tourism"
D = ON

A_WORKER = api.WorkerFacts(date_of_birth=date(1992, 8, 9), sex="F", shift="office",
                           job_title="Hướng dẫn viên", sector="food_supply", business_type="service_provider")


def worker(**overrides) -> api.WorkerFacts:
    return replace(A_WORKER, **overrides)


def doses(last_dose_on: date) -> tuple[api.Dose, ...]:
    return (api.Dose(1, "pfizer", "Pfizer", 2, last_dose_on - timedelta(days=21)),
            api.Dose(2, "pfizer", "Pfizer", 2, last_dose_on))


def guide(test_on: date | None, last_dose_on: date = D - timedelta(days=30), **overrides) -> api.WorkerFacts:
    """A vaccinated local tourism worker with a negative test dated ``test_on``."""
    test = api.NegativeTest("rapid", test_on) if test_on else None
    return worker(sector="local_tourism", doses=doses(last_dose_on), negative_test=test, **overrides)


def enterprise(sector: str) -> api.EnterpriseFacts:
    return api.EnterpriseFacts(tax_code="0309876543", business_type="service_provider", sector=sector,
                               location=None, ward="Thạnh An", district="Huyện Cần Giờ")


# -- the unit -----------------------------------------------------------------


def test_unit_is_declared_with_exactly_three_sectors(pm):
    unit = pm.registry.unit(UNIT)
    assert (unit.short_code, unit.name_vi) == ("CG", "Huyện Cần Giờ")
    assert unit.authority_vi == "Ủy ban nhân dân huyện Cần Giờ"
    assert list(pm.registry.sectors[UNIT]) == ["food_supply", "agri_inputs", "local_tourism"]
    assert pm.registry.sectors[UNIT]["local_tourism"].name_vi == "Du lịch địa phương"


# -- admission: the three sectors it declares ---------------------------------


@pytest.mark.parametrize("sector", ["food_supply", "agri_inputs", "local_tourism"])
def test_pilot_sectors_are_admitted(pm, sector):
    assert pm.registry.admit(UNIT, enterprise(sector), approved_count=500) == api.Admission(True)


@pytest.mark.parametrize("sector", ["seafood_processing", "logistics", ""])
def test_other_sectors_are_refused_by_the_core(pm, sector):
    admission = pm.registry.admit(UNIT, enterprise(sector), approved_count=0)
    assert admission.admitted is False
    assert f"“{sector}”" in str(admission.reason)


# -- eligibility: the city's rule for staff outside tourism --------------------


@pytest.mark.parametrize(("case", "facts"), [
    case for case in standard_workers(build_plugin_manager().registry, UNIT) if case[1].sector != TOURISM])
def test_staff_outside_tourism_follow_the_city_rule(pm, case, facts):
    assert pm.registry.eligibility(UNIT, facts, ON) == api.default_eligibility(facts, ON)


# -- eligibility: local tourism staff need a test within 72 hours --------------


@pytest.mark.parametrize("days_after_test", [0, 1, 2])
def test_a_test_dated_d_covers_d_to_d_plus_2(pm, days_after_test):
    result = pm.registry.eligibility(UNIT, guide(test_on=D), D + timedelta(days=days_after_test))
    assert (result.eligible, result.basis, result.until) == (
        True, api.Basis.VACCINATED, D + timedelta(days=2))


def test_a_test_dated_d_no_longer_covers_d_plus_3(pm):
    result = pm.registry.eligibility(UNIT, guide(test_on=D), D + timedelta(days=3))
    assert (result.eligible, result.basis) == (False, api.Basis.TEST_REQUIRED)
    assert str(result.reason) == (
        "The negative test of 01/10/2021 covered up to 03/10/2021; "
        "local tourism staff need a test taken within the last 72 hours."
    )


def test_tourism_staff_without_a_test_are_refused(pm):
    result = pm.registry.eligibility(UNIT, guide(test_on=None), D)
    assert (result.eligible, result.basis, result.since) == (False, api.Basis.TEST_REQUIRED, None)


def test_a_test_dated_after_the_day_does_not_cover_it(pm):
    result = pm.registry.eligibility(UNIT, guide(test_on=D + timedelta(days=1)), D)
    assert (result.eligible, result.basis, result.since) == (
        False, api.Basis.TEST_REQUIRED, D + timedelta(days=1))


def test_a_test_does_not_shorten_the_vaccination_wait(pm):
    result = pm.registry.eligibility(UNIT, guide(test_on=D, last_dose_on=D - timedelta(days=13)), D)
    assert (result.eligible, result.basis) == (False, api.Basis.WAITING_PERIOD)


def test_recovery_ending_before_the_test_bounds_eligibility(pm):
    facts = worker(sector="local_tourism", recovered_on=D - timedelta(days=179),
                   negative_test=api.NegativeTest("pcr", D))
    result = pm.registry.eligibility(UNIT, facts, D)
    assert (result.eligible, result.basis, result.until) == (True, api.Basis.RECOVERED, D + timedelta(days=1))


def test_the_pass_ends_when_the_test_does(pm):
    facts = guide(test_on=D)
    validity = pm.registry.validity(UNIT, facts, pm.registry.eligibility(UNIT, facts, D), D)
    assert validity == api.Validity(D, D + timedelta(days=2))
    _start, end = api.validity_instants(validity)
    assert end == datetime(2021, 10, 3, 17, 0, tzinfo=UTC)  # 04/10 00:00 local: 72 h from 01/10 00:00


def test_non_tourism_passes_still_last_six_months(pm):
    facts = worker(doses=doses(D - timedelta(days=30)))
    validity = pm.registry.validity(UNIT, facts, pm.registry.eligibility(UNIT, facts, D), D)
    assert validity == api.Validity(D, date(2022, 3, 31))


def test_tourism_reasons_read_in_vietnamese(app, pm):
    eligible = pm.registry.eligibility(UNIT, guide(test_on=D), D).reason
    missing = pm.registry.eligibility(UNIT, guide(test_on=None), D).reason
    with app.test_request_context():
        assert str(eligible) == (
            "Mũi 2 ngày 01/09/2021 — đủ 14 ngày từ 15/09/2021. "
            "Xét nghiệm âm tính ngày 01/10/2021, có giá trị đến hết ngày 03/10/2021."
        )
        assert str(missing) == ("Người lao động ngành du lịch địa phương cần thêm kết quả xét nghiệm âm tính "
                                "SARS-CoV-2 trong vòng 72 giờ.")


# -- printing -------------------------------------------------------------------


def test_passes_are_printed_for_cangio_only(app, pm):
    pass_ = api.PassFacts("CG-000001", 1, UNIT, "0309876543", D, D + timedelta(days=2))
    assert pm.registry.extra_lines(UNIT, pass_) == ["Valid for travel within Cần Giờ District only."]
    with app.test_request_context():
        assert pm.registry.extra_lines(UNIT, pass_) == ["Chỉ có giá trị đi lại trên địa bàn huyện Cần Giờ."]

