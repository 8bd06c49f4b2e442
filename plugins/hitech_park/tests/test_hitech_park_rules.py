"""The Saigon Hi-Tech Park's rules, asked through the registry the core uses."""
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import portal_hitech_park
import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from portal.plugins import api

UNIT = "hitech_park"
ON = date(2021, 10, 1)
PACKAGE = Path(portal_hitech_park.__file__).parent

A_WORKER = api.WorkerFacts(date_of_birth=date(1995, 4, 12), sex="M", shift="shift2",
                           job_title="Kỹ thuật viên", sector="microelectronics",
                           business_type="hitech_manufacturing")


def worker(**overrides) -> api.WorkerFacts:
    return replace(A_WORKER, **overrides)


def janssen(given_on: date) -> api.WorkerFacts:
    return worker(doses=(api.Dose(1, "janssen", "Janssen", 1, given_on),))


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


# -- admission: inside the park -----------------------------------------------


def test_enterprise_inside_the_park_is_admitted(pm):
    assert pm.registry.admit(UNIT, enterprise("shtp"), approved_count=900) == api.Admission(True)


@pytest.mark.parametrize("location", [None, "", "tan_thuan", "SHTP"])
def test_enterprise_outside_the_park_is_refused(pm, location):
    admission = pm.registry.admit(UNIT, enterprise(location), approved_count=0)
    assert admission.admitted is False
    assert "travel permit (giấy đi đường)" in str(admission.reason)


def test_refusal_reads_in_vietnamese(app, pm):
    reason = pm.registry.admit(UNIT, enterprise("tan_thuan"), approved_count=0).reason
    with app.test_request_context():
        assert str(reason) == ("Chỉ doanh nghiệp nằm trong Khu công nghệ cao TP.HCM được tham gia thí điểm; "
                               "doanh nghiệp khác vui lòng đăng ký giấy đi đường.")


# -- commute windows ------------------------------------------------------------


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


def test_office_hours_keep_the_default_windows(pm):
    to_work, to_home = pm.registry.commute_windows(UNIT, "office")
    assert (to_work, to_home) == api.DEFAULT_WINDOWS
    assert to_work.contains(time(8, 0, 0))
    assert not to_work.contains(time(8, 0, 1))


# -- eligibility and validity: the default rule --------------------------------


def test_janssen_13_days_ago_is_still_waiting(pm):
    result = pm.registry.eligibility(UNIT, janssen(ON - timedelta(days=13)), ON)
    assert (result.eligible, result.basis, result.since) == (
        False, api.Basis.WAITING_PERIOD, ON + timedelta(days=1))


def test_janssen_14_days_ago_is_eligible(pm):
    result = pm.registry.eligibility(UNIT, janssen(ON - timedelta(days=14)), ON)
    assert (result.eligible, result.basis, result.since) == (True, api.Basis.VACCINATED, ON)


def test_recovered_180_days_ago_is_eligible_through_today(pm):
    result = pm.registry.eligibility(UNIT, worker(recovered_on=ON - timedelta(days=180)), ON)
    assert (result.eligible, result.basis, result.until) == (True, api.Basis.RECOVERED, ON)


def test_recovered_181_days_ago_is_not_eligible(pm):
    result = pm.registry.eligibility(UNIT, worker(recovered_on=ON - timedelta(days=181)), ON)
    assert (result.eligible, result.basis) == (False, api.Basis.RECOVERY_EXPIRED)


def test_pass_ends_at_local_midnight_not_utc_midnight(pm):
    facts = janssen(ON - timedelta(days=20))
    validity = pm.registry.validity(UNIT, facts, pm.registry.eligibility(UNIT, facts, ON), ON)
    assert validity == api.Validity(ON, date(2022, 3, 31))
    start, end = api.validity_instants(validity)
    assert start == datetime(2021, 9, 30, 17, 0, tzinfo=UTC)
    assert start <= datetime(2022, 3, 31, 16, 59, 59, tzinfo=UTC) < end  # 31/03 23:59:59 local
    assert not datetime(2022, 3, 31, 17, 0, 0, tzinfo=UTC) < end  # 01/04 00:00:00 local
    assert not datetime(2022, 4, 1, 0, 0, 0, tzinfo=UTC) < end  # UTC midnight: 07:00 local


# -- translations ---------------------------------------------------------------


def test_every_message_has_a_vietnamese_translation():
    with (PACKAGE / "translations" / "vi" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="vi")
    extracted = extract_from_file("python", PACKAGE / "__init__.py")
    msgids = {message for _line, message, _comments, _context in extracted}
    assert msgids
    for msgid in msgids:
        assert catalog.get(msgid) is not None and catalog[msgid].string, f"no Vietnamese for {msgid!r}"
