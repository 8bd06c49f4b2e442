"""Củ Chi's rules, asked through the registry the core uses."""
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import portal_cugi
import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from portal.plugins import api

UNIT = "cugi"
ON = date(2021, 10, 1)
PACKAGE = Path(portal_cugi.__file__).parent

A_WORKER = api.WorkerFacts(date_of_birth=date(1985, 2, 3), sex="M", shift="office",
                           job_title="Nhân viên giao hàng", sector="food_supply", business_type="cooperative")


def worker(**overrides) -> api.WorkerFacts:
    return replace(A_WORKER, **overrides)


def vaccinated(last_dose_on: date) -> api.WorkerFacts:
    return worker(doses=(api.Dose(1, "verocell", "Vero Cell", 2, last_dose_on - timedelta(days=28)),
                         api.Dose(2, "verocell", "Vero Cell", 2, last_dose_on)))


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


# -- admission: three sectors -------------------------------------------------


@pytest.mark.parametrize("sector", ["food_supply", "agri_inputs", "local_tourism"])
def test_pilot_sectors_are_admitted(pm, sector):
    assert pm.registry.admit(UNIT, enterprise(sector), approved_count=1000) == api.Admission(True)


@pytest.mark.parametrize("sector", ["garments", "food_processing", "", "Food_Supply"])
def test_other_sectors_are_sent_to_the_travel_permit(pm, sector):
    admission = pm.registry.admit(UNIT, enterprise(sector), approved_count=0)
    assert admission.admitted is False
    assert "travel permit (giấy đi đường)" in str(admission.reason)


def test_refusal_reads_in_vietnamese(app, pm):
    reason = pm.registry.admit(UNIT, enterprise("garments"), approved_count=0).reason
    with app.test_request_context():
        assert str(reason) == (
            "Huyện Củ Chi chỉ thí điểm với doanh nghiệp cung ứng lương thực, thực phẩm, vật tư và dịch vụ "
            "nông nghiệp, du lịch địa phương; doanh nghiệp khác vui lòng đăng ký giấy đi đường."
        )


# -- eligibility: the default rule --------------------------------------------


def test_last_dose_13_days_ago_is_still_waiting(pm):
    result = pm.registry.eligibility(UNIT, vaccinated(ON - timedelta(days=13)), ON)
    assert (result.eligible, result.basis, result.since) == (
        False, api.Basis.WAITING_PERIOD, ON + timedelta(days=1))


def test_last_dose_14_days_ago_is_eligible(pm):
    result = pm.registry.eligibility(UNIT, vaccinated(ON - timedelta(days=14)), ON)
    assert (result.eligible, result.basis, result.since) == (True, api.Basis.VACCINATED, ON)


def test_tourism_staff_need_no_test_in_cu_chi(pm):
    facts = replace(vaccinated(ON - timedelta(days=14)), sector="local_tourism", negative_test=None)
    result = pm.registry.eligibility(UNIT, facts, ON)
    assert (result.eligible, result.basis) == (True, api.Basis.VACCINATED)


def test_recovered_180_days_ago_is_eligible_through_today(pm):
    result = pm.registry.eligibility(UNIT, worker(recovered_on=ON - timedelta(days=180)), ON)
    assert (result.eligible, result.basis, result.until) == (True, api.Basis.RECOVERED, ON)


def test_recovered_181_days_ago_is_not_eligible(pm):
    result = pm.registry.eligibility(UNIT, worker(recovered_on=ON - timedelta(days=181)), ON)
    assert (result.eligible, result.basis) == (False, api.Basis.RECOVERY_EXPIRED)


# -- commute windows and printing ---------------------------------------------


def test_default_windows_end_at_08_00_00(pm):
    to_work, to_home = pm.registry.commute_windows(UNIT, "shift1")
    assert (to_work, to_home) == api.DEFAULT_WINDOWS
    assert to_work.contains(time(8, 0, 0))
    assert not to_work.contains(time(8, 0, 1))
    assert to_home.contains(time(16, 30, 0)) and not to_home.contains(time(16, 29, 59))


def test_no_extra_lines_on_passes(pm):
    pass_ = api.PassFacts("CC-000001", 1, UNIT, "0312345673", ON, ON + timedelta(days=30))
    assert pm.registry.extra_lines(UNIT, pass_) == []


# -- pass validity: local days, not UTC days ----------------------------------


def test_pass_never_outlasts_recovery_and_ends_at_local_midnight(pm):
    facts = worker(recovered_on=ON - timedelta(days=100))
    validity = pm.registry.validity(UNIT, facts, pm.registry.eligibility(UNIT, facts, ON), ON)
    last_day = ON + timedelta(days=80)  # recovered + 180 days
    assert validity == api.Validity(ON, last_day)

    start, end = api.validity_instants(validity)
    assert start == datetime(2021, 9, 30, 17, 0, tzinfo=UTC)
    assert end == datetime(2021, 12, 20, 17, 0, tzinfo=UTC)  # 21/12 00:00 local
    assert start <= datetime(2021, 12, 20, 16, 59, 59, tzinfo=UTC) < end  # 20/12 23:59:59 local
    assert not datetime(2021, 12, 21, 0, 0, tzinfo=UTC) < end  # UTC midnight is 07:00 local


# -- translations ---------------------------------------------------------------


def test_every_message_has_a_vietnamese_translation():
    with (PACKAGE / "translations" / "vi" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="vi")
    extracted = extract_from_file("python", PACKAGE / "__init__.py")
    msgids = {message for _line, message, _comments, _context in extracted}
    assert msgids
    for msgid in msgids:
        assert catalog.get(msgid) is not None and catalog[msgid].string, f"no Vietnamese for {msgid!r}"
