"""The export-processing and industrial zones' rules, asked through the registry the core uses."""
import re
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import portal_industrial_zones
import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from portal.plugins import api

UNIT = "industrial_zones"
ON = date(2021, 10, 1)
PACKAGE = Path(portal_industrial_zones.__file__).parent

A_WORKER = api.WorkerFacts(date_of_birth=date(1998, 11, 30), sex="F", shift="shift1",
                           job_title="Công nhân may", sector="textiles_garments",
                           business_type="export_processing")


def worker(**overrides) -> api.WorkerFacts:
    return replace(A_WORKER, **overrides)


def vaccinated(last_dose_on: date) -> api.WorkerFacts:
    return worker(doses=(api.Dose(1, "moderna", "Moderna", 2, last_dose_on - timedelta(days=28)),
                         api.Dose(2, "moderna", "Moderna", 2, last_dose_on)))


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
def test_enterprise_outside_the_zones_is_refused(pm, location):
    admission = pm.registry.admit(UNIT, enterprise(location), approved_count=0)
    assert admission.admitted is False
    assert "travel permit (giấy đi đường)" in str(admission.reason)


def test_refusal_reads_in_vietnamese(app, pm):
    reason = pm.registry.admit(UNIT, enterprise(None), approved_count=0).reason
    with app.test_request_context():
        assert str(reason) == ("Chỉ doanh nghiệp nằm trong các khu chế xuất, khu công nghiệp do HEPZA "
                               "quản lý được tham gia thí điểm; "
                               "doanh nghiệp khác vui lòng đăng ký giấy đi đường.")


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


# -- eligibility and validity: the default rule --------------------------------


def test_last_dose_13_days_ago_is_still_waiting(pm):
    result = pm.registry.eligibility(UNIT, vaccinated(ON - timedelta(days=13)), ON)
    assert (result.eligible, result.basis, result.since) == (
        False, api.Basis.WAITING_PERIOD, ON + timedelta(days=1))


def test_last_dose_14_days_ago_is_eligible(pm):
    result = pm.registry.eligibility(UNIT, vaccinated(ON - timedelta(days=14)), ON)
    assert (result.eligible, result.basis, result.since) == (True, api.Basis.VACCINATED, ON)


def test_recovered_180_days_ago_is_eligible_through_today(pm):
    result = pm.registry.eligibility(UNIT, worker(recovered_on=ON - timedelta(days=180)), ON)
    assert (result.eligible, result.basis, result.until) == (True, api.Basis.RECOVERED, ON)


def test_recovered_181_days_ago_is_not_eligible(pm):
    result = pm.registry.eligibility(UNIT, worker(recovered_on=ON - timedelta(days=181)), ON)
    assert (result.eligible, result.basis) == (False, api.Basis.RECOVERY_EXPIRED)


def test_pass_ends_at_local_midnight_not_utc_midnight(pm):
    facts = worker(recovered_on=ON - timedelta(days=150))
    validity = pm.registry.validity(UNIT, facts, pm.registry.eligibility(UNIT, facts, ON), ON)
    assert validity == api.Validity(ON, date(2021, 10, 31))
    start, end = api.validity_instants(validity)
    assert start <= datetime(2021, 10, 31, 16, 59, 59, tzinfo=UTC) < end  # 31/10 23:59:59 local
    assert not datetime(2021, 10, 31, 17, 0, 0, tzinfo=UTC) < end  # 01/11 00:00:00 local
    assert not datetime(2021, 11, 1, 0, 0, 0, tzinfo=UTC) < end  # UTC midnight: 07:00 local


# -- translations ---------------------------------------------------------------


def test_every_message_has_a_vietnamese_translation():
    with (PACKAGE / "translations" / "vi" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="vi")
    extracted = extract_from_file("python", PACKAGE / "__init__.py")
    msgids = {message for _line, message, _comments, _context in extracted}
    assert msgids
    for msgid in msgids:
        assert catalog.get(msgid) is not None and catalog[msgid].string, f"no Vietnamese for {msgid!r}"
