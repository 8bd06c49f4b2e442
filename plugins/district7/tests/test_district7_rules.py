"""District 7's rules, asked through the registry the core uses."""
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import portal_district7
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from portal.plugins import api

UNIT = "district7"
ON = date(2021, 10, 1)
PACKAGE = Path(portal_district7.__file__).parent

A_WORKER = api.WorkerFacts(date_of_birth=date(1990, 5, 17), sex="F", shift="office", job_title="Công nhân",
                           sector="food_processing", business_type="essential_production")


def worker(**overrides) -> api.WorkerFacts:
    return replace(A_WORKER, **overrides)


def vaccinated(last_dose_on: date) -> api.WorkerFacts:
    return worker(doses=(api.Dose(1, "astrazeneca", "AstraZeneca", 2, last_dose_on - timedelta(days=84)),
                         api.Dose(2, "astrazeneca", "AstraZeneca", 2, last_dose_on)))


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


# -- eligibility: the default rule --------------------------------------------


def test_last_dose_13_days_ago_is_still_waiting(pm):
    result = pm.registry.eligibility(UNIT, vaccinated(ON - timedelta(days=13)), ON)
    assert (result.eligible, result.basis, result.since) == (
        False, api.Basis.WAITING_PERIOD, ON + timedelta(days=1))


def test_last_dose_14_days_ago_is_eligible(pm):
    result = pm.registry.eligibility(UNIT, vaccinated(ON - timedelta(days=14)), ON)
    assert (result.eligible, result.basis, result.since, result.until) == (
        True, api.Basis.VACCINATED, ON, None)


def test_recovered_180_days_ago_is_eligible_through_today(pm):
    result = pm.registry.eligibility(UNIT, worker(recovered_on=ON - timedelta(days=180)), ON)
    assert (result.eligible, result.basis, result.until) == (True, api.Basis.RECOVERED, ON)


def test_recovered_181_days_ago_is_not_eligible(pm):
    result = pm.registry.eligibility(UNIT, worker(recovered_on=ON - timedelta(days=181)), ON)
    assert (result.eligible, result.basis) == (False, api.Basis.RECOVERY_EXPIRED)


# -- commute windows: the default, whatever the shift -------------------------


def test_default_windows_end_at_08_00_00(pm):
    for shift in ("office", "shift3", None):
        to_work, to_home = pm.registry.commute_windows(UNIT, shift)
        assert (to_work, to_home) == api.DEFAULT_WINDOWS
        assert to_work.contains(time(6, 30, 0)) and to_work.contains(time(8, 0, 0))
        assert not to_work.contains(time(8, 0, 1))
        assert not to_work.contains(time(6, 29, 59))
        assert to_home.contains(time(18, 0, 0)) and not to_home.contains(time(18, 0, 1))


# -- pass validity: local days, not UTC days ----------------------------------


def test_pass_lasts_six_months_for_a_vaccinated_worker(pm):
    facts = vaccinated(ON - timedelta(days=30))
    validity = pm.registry.validity(UNIT, facts, pm.registry.eligibility(UNIT, facts, ON), ON)
    assert validity == api.Validity(ON, date(2022, 3, 31))


def test_pass_ends_at_local_midnight_not_utc_midnight(pm):
    facts = worker(recovered_on=ON - timedelta(days=170))
    validity = pm.registry.validity(UNIT, facts, pm.registry.eligibility(UNIT, facts, ON), ON)
    last_day = ON + timedelta(days=10)
    assert validity == api.Validity(ON, last_day)

    start, end = api.validity_instants(validity)
    assert start == datetime(2021, 9, 30, 17, 0, tzinfo=UTC)  # 01/10 00:00 in HCMC

    def valid_at(instant):
        return start <= instant < end

    assert valid_at(datetime(2021, 10, 11, 16, 59, 59, tzinfo=UTC))  # 11/10 23:59:59 local
    assert not valid_at(datetime(2021, 10, 11, 17, 0, 0, tzinfo=UTC))  # 12/10 00:00:00 local
    assert not valid_at(datetime(2021, 10, 12, 0, 0, 0, tzinfo=UTC))  # UTC midnight: 07:00 local
    assert not valid_at(datetime(2021, 9, 30, 16, 59, 59, tzinfo=UTC))


# -- translations ---------------------------------------------------------------


def test_every_message_has_a_vietnamese_translation():
    catalog_path = PACKAGE / "translations" / "vi" / "LC_MESSAGES" / "messages.po"
    with catalog_path.open("rb") as handle:
        catalog = read_po(handle, locale="vi")
    extracted = extract_from_file("python", PACKAGE / "__init__.py")
    msgids = {message for _line, message, _comments, _context in extracted}
    assert msgids, "the plugin passes its messages to api.lazy_gettext as _(...)"
    for msgid in msgids:
        assert catalog.get(msgid) is not None and catalog[msgid].string, f"no Vietnamese for {msgid!r}"
