"""The built-in rules (decision 3328/QĐ-BCĐ as reported), which answer when a unit says nothing."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from portal.plugins import api, hookimpl
from portal.plugins.manager import build_plugin_manager

D = date(2021, 10, 1)


def dose(number: int, given_on: date | None, product: str = "pfizer") -> api.Dose:
    name, required = {"pfizer": ("Pfizer", 2), "astrazeneca": ("AstraZeneca", 2), "janssen": ("Janssen", 1),
                      "abdala": ("Abdala", 3), "verocell": ("Vero Cell", 2)}[product]
    return api.Dose(number, product, name, required, given_on)


def worker(*doses: api.Dose, recovered_on: date | None = None) -> api.WorkerFacts:
    return api.WorkerFacts(date_of_birth=date(1990, 5, 17), sex="F", shift="office", job_title="Công nhân",
                           doses=doses, recovered_on=recovered_on)


def two_doses(last_on: date, product: str = "pfizer") -> api.WorkerFacts:
    return worker(dose(1, last_on - timedelta(days=28), product), dose(2, last_on, product))


def decide(facts: api.WorkerFacts, on_date: date = D) -> api.Eligibility:
    return api.default_eligibility(facts, on_date)


# -- vaccinated: 14 days after the dose completing the series -------------------


def test_last_dose_13_days_ago_waits_until_the_14th_day():
    result = decide(two_doses(D - timedelta(days=13)))
    assert (result.eligible, result.basis, result.since, result.until) == (
        False, api.Basis.WAITING_PERIOD, D + timedelta(days=1), None)
    assert str(result.reason) == "Dose 2 on 18/09/2021 — eligible from 02/10/2021 (14 days after)."


def test_last_dose_14_days_ago_is_eligible():
    result = decide(two_doses(D - timedelta(days=14)))
    assert (result.eligible, result.basis, result.since, result.until) == (
        True, api.Basis.VACCINATED, D, None)
    assert str(result.reason) == "Dose 2 on 17/09/2021 — 14 days reached on 01/10/2021."


def test_janssen_is_complete_after_one_dose():
    assert decide(worker(dose(1, D - timedelta(days=14), "janssen"))).basis == api.Basis.VACCINATED
    assert decide(worker(dose(1, D - timedelta(days=13), "janssen"))).basis == api.Basis.WAITING_PERIOD


def test_abdala_needs_three_doses():
    two = worker(dose(1, D - timedelta(days=60), "abdala"), dose(2, D - timedelta(days=40), "abdala"))
    result = decide(two)
    assert (result.eligible, result.basis) == (False, api.Basis.PARTIALLY_VACCINATED)
    assert str(result.reason) == "2 of 3 doses of Abdala received."
    three = worker(*two.doses, dose(3, D - timedelta(days=14), "abdala"))
    result = decide(three)
    assert (result.eligible, result.basis, result.since) == (True, api.Basis.VACCINATED, D)
    assert str(result.reason).startswith("Dose 3 on 17/09/2021")


def test_mixed_products_complete_with_the_longest_series():
    mixed = worker(dose(1, D - timedelta(days=90), "astrazeneca"), dose(2, D - timedelta(days=14), "pfizer"))
    assert decide(mixed).basis == api.Basis.VACCINATED
    # AstraZeneca then Janssen: still two doses, counted from the second.
    az_then_janssen = worker(dose(1, D - timedelta(days=90), "astrazeneca"),
                             dose(2, D - timedelta(days=5), "janssen"))
    result = decide(az_then_janssen)
    assert (result.basis, result.since) == (api.Basis.WAITING_PERIOD, D + timedelta(days=9))
    # Pfizer then Abdala: Abdala's three doses are needed.
    pfizer_then_abdala = worker(dose(1, D - timedelta(days=90), "pfizer"),
                                dose(2, D - timedelta(days=60), "abdala"))
    result = decide(pfizer_then_abdala)
    assert (result.basis, str(result.reason)) == (
        api.Basis.PARTIALLY_VACCINATED, "2 of 3 doses of Abdala received.")


def test_doses_are_taken_in_date_order_whatever_their_numbers():
    shuffled = worker(dose(2, D - timedelta(days=14)), dose(1, D - timedelta(days=60)))
    assert decide(shuffled).since == D


def test_missing_dose_date_is_missing_data():
    result = decide(worker(dose(1, D - timedelta(days=60)), dose(2, None)))
    assert (result.eligible, result.basis) == (False, api.Basis.MISSING_DATA)
    assert str(result.reason) == "Dose 2 is missing its vaccine or its date."


def test_missing_vaccine_is_missing_data():
    unnamed = api.Dose(1, "", "", 2, D - timedelta(days=60))
    assert decide(worker(unnamed, dose(2, D - timedelta(days=30)))).basis == api.Basis.MISSING_DATA


def test_doses_after_the_day_asked_about_are_ignored():
    facts = worker(dose(1, D - timedelta(days=30)), dose(2, D + timedelta(days=1)))
    result = decide(facts)
    assert (result.basis, str(result.reason)) == (
        api.Basis.PARTIALLY_VACCINATED, "1 of 2 doses of Pfizer received.")
    assert decide(facts, D + timedelta(days=15)).basis == api.Basis.VACCINATED


def test_no_dose_and_no_recovery():
    result = decide(worker())
    assert (result.eligible, result.basis) == (False, api.Basis.NOT_VACCINATED)
    assert str(result.reason) == "No vaccine dose and no recovery registered."


# -- recovered: within 180 days ------------------------------------------------------


def test_recovered_180_days_ago_is_eligible_through_today():
    result = decide(worker(recovered_on=D - timedelta(days=180)))
    assert (result.eligible, result.basis, result.since, result.until) == (
        True, api.Basis.RECOVERED, D - timedelta(days=180), D)
    assert str(result.reason) == "Recovered from COVID-19 on 04/04/2021 — eligible until 01/10/2021."


def test_recovered_181_days_ago_is_not_eligible():
    result = decide(worker(recovered_on=D - timedelta(days=181)))
    assert (result.eligible, result.basis) == (False, api.Basis.RECOVERY_EXPIRED)
    assert str(result.reason) == "Recovered on 03/04/2021, more than 180 days ago, and not fully vaccinated."


def test_recovery_dated_after_the_day_is_ignored():
    assert decide(worker(recovered_on=D + timedelta(days=1))).basis == api.Basis.NOT_VACCINATED


def test_vaccinated_is_preferred_over_recovered():
    result = decide(worker(*two_doses(D - timedelta(days=30)).doses, recovered_on=D - timedelta(days=10)))
    assert (result.basis, result.until) == (api.Basis.VACCINATED, None)


def test_recovered_covers_the_vaccination_wait():
    result = decide(worker(*two_doses(D - timedelta(days=5)).doses, recovered_on=D - timedelta(days=100)))
    assert (result.eligible, result.basis, result.until) == (
        True, api.Basis.RECOVERED, D + timedelta(days=80))


def test_waiting_is_reported_before_an_expired_recovery():
    result = decide(worker(*two_doses(D - timedelta(days=5)).doses, recovered_on=D - timedelta(days=200)))
    assert (result.basis, result.since) == (api.Basis.WAITING_PERIOD, D + timedelta(days=9))


# -- validity: six months, never past the basis ----------------------------------------


def eligible(until: date | None = None) -> api.Eligibility:
    return api.Eligibility(True, api.Basis.VACCINATED, "", since=D, until=until)


@pytest.mark.parametrize(("issued_on", "last_day"), [
    (date(2021, 10, 1), date(2022, 3, 31)),
    (date(2021, 9, 15), date(2022, 3, 14)),
    (date(2021, 8, 31), date(2022, 2, 27)),  # 31/08 + 6 months is clamped to 28/02
    (date(2021, 12, 31), date(2022, 6, 29)),  # clamped to 30/06
    (date(2023, 8, 31), date(2024, 2, 28)),  # leap year: clamped to 29/02
])
def test_pass_is_valid_six_months(issued_on, last_day):
    assert api.default_validity(eligible(), issued_on) == api.Validity(issued_on, last_day)


@pytest.mark.parametrize(("day", "months", "expected"), [
    (date(2021, 8, 31), 6, date(2022, 2, 28)),
    (date(2021, 10, 31), 1, date(2021, 11, 30)),
    (date(2021, 12, 15), 3, date(2022, 3, 15)),
    (date(2023, 8, 31), 6, date(2024, 2, 29)),
])
def test_add_months_clamps_to_month_end(day, months, expected):
    assert api.add_months(day, months) == expected


def test_pass_never_outlasts_the_recovery_window():
    basis = decide(worker(recovered_on=D - timedelta(days=100)))
    assert api.default_validity(basis, D) == api.Validity(D, D + timedelta(days=80))


def test_validity_instants_follow_local_midnight():
    start, end = api.validity_instants(api.Validity(D, D + timedelta(days=2)))
    assert start == datetime(2021, 9, 30, 17, 0, tzinfo=UTC)
    assert end == datetime(2021, 10, 3, 17, 0, tzinfo=UTC)
    assert start <= datetime(2021, 10, 3, 16, 59, 59, tzinfo=UTC) < end  # 03/10 23:59:59 local
    assert not datetime(2021, 10, 4, 0, 0, tzinfo=UTC) < end  # UTC midnight: 04/10 07:00 local


# -- windows and shifts -----------------------------------------------------------------------


def test_default_windows_are_inclusive_to_the_second():
    to_work, to_home = api.DEFAULT_WINDOWS
    assert (to_work.direction, to_home.direction) == ("to_work", "to_home")
    assert to_work.contains(time(6, 30, 0)) and to_work.contains(time(8, 0, 0))
    assert not to_work.contains(time(6, 29, 59)) and not to_work.contains(time(8, 0, 1))
    assert to_work.contains(time(8, 0, 0, 999_999))  # microseconds are dropped, not rounded
    assert to_home.contains(time(16, 30)) and to_home.contains(time(18, 0))
    assert not to_home.contains(time(18, 0, 1))


def test_window_crossing_midnight():
    night = api.CommuteWindow(time(21, 0), time(0, 15))
    assert night.contains(time(23, 59, 59)) and night.contains(time(0, 0)) and night.contains(time(0, 15))
    assert not night.contains(time(0, 15, 1)) and not night.contains(time(20, 59, 59))
    assert night.label() == "21:00–00:15"


def test_standard_shifts_and_their_change_windows():
    assert api.standard_shift("office").start == time(7, 30)
    assert api.standard_shift("ca 3") is None  # codes only; aliases are the registry's business
    assert api.standard_shift(None) is None
    night = api.standard_shift("shift3")
    assert [(w.start, w.end, w.direction) for w in api.shift_change_windows(night)] == [
        (time(21, 0), time(22, 15), "to_work"), (time(5, 45), time(7, 30), "to_home")]
    late = api.shift_change_windows(night, before_start=30, after_start=0, before_end=0, after_end=0)
    assert (late[0].start, late[0].end, late[1].start, late[1].end) == (
        time(21, 30), time(22), time(6), time(6))
    wrapped = api.shift_change_windows(api.standard_shift("shift2"), after_end=150)
    assert (wrapped[1].start, wrapped[1].end) == (time(21, 45), time(0, 30))  # crosses midnight
    assert wrapped[1].contains(time(0, 10)) and not wrapped[1].contains(time(0, 30, 1))


# -- the built-in plugin answers last, through the registry -------------------------------


class QuietUnit:
    """A unit that declares itself and what enterprises may choose, and decides nothing."""

    @hookimpl
    def portal_unit(self):
        return api.UnitDescriptor("quiet", "QT", "Đơn vị thử", "Quiet unit", "UBND", "People's Committee")

    @hookimpl
    def portal_business_types(self):
        return [api.BusinessType("any", "Bất kỳ", "Any")]

    @hookimpl
    def portal_sectors(self):
        return [api.Sector("any", "Bất kỳ", "Any")]


@pytest.fixture
def quiet_pm():
    return build_plugin_manager(extra=[QuietUnit()])


def test_hook_portal_worker_eligibility_default_answers_for_a_quiet_unit(quiet_pm):
    ready, waiting = two_doses(D - timedelta(days=14)), two_doses(D - timedelta(days=13))
    assert quiet_pm.registry.eligibility("quiet", ready, D).basis == api.Basis.VACCINATED
    assert quiet_pm.registry.eligibility("quiet", waiting, D).basis == api.Basis.WAITING_PERIOD


def test_hook_portal_pass_validity_default_answers_for_a_quiet_unit(quiet_pm):
    assert quiet_pm.registry.validity("quiet", worker(), eligible(), D) == api.Validity(D, date(2022, 3, 31))


def test_hook_portal_commute_windows_default_answers_for_a_quiet_unit(quiet_pm):
    assert tuple(quiet_pm.registry.commute_windows("quiet", "shift3")) == api.DEFAULT_WINDOWS


def test_hook_portal_admit_enterprise_default_admits(quiet_pm):
    facts = api.EnterpriseFacts("0301234562", "any", "any", None, "Tân Phong", "Quận 7")
    assert quiet_pm.registry.admit("quiet", facts, 10_000) == api.Admission(True)


def test_hook_portal_shifts_builtin_shifts(quiet_pm):
    assert set(quiet_pm.registry.shifts) == {"office", "shift1", "shift2", "shift3"}
    assert quiet_pm.registry.shift_for("Ca đêm").code == "shift3"
    assert quiet_pm.registry.shift_for("GIO HANH CHINH").code == "office"


# -- reasons are translated ----------------------------------------------------------------


def test_reasons_read_in_vietnamese_by_default(app):
    waiting = decide(two_doses(D - timedelta(days=13))).reason
    recovered = decide(worker(recovered_on=D - timedelta(days=180))).reason
    nothing = decide(worker()).reason
    with app.test_request_context():
        assert str(waiting) == "Mũi 2 ngày 18/09/2021 — đủ điều kiện từ 02/10/2021 (sau 14 ngày)."
        assert str(recovered) == "Khỏi bệnh COVID-19 ngày 04/04/2021 — đủ điều kiện đến 01/10/2021."
        assert str(nothing) == "Chưa có mũi tiêm vắc xin nào và chưa có thông tin khỏi bệnh."
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        assert str(waiting) == "Dose 2 on 18/09/2021 — eligible from 02/10/2021 (14 days after)."
