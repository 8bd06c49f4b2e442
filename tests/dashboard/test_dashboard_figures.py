"""The dashboard's figures equal counts made here from the seeded data, per unit and city-wide."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale

from portal.dashboard.report import ENTERPRISE_STATUSES, OUTCOMES, PASS_STATES
from portal.eligibility.testing import evaluate_everyone
from portal.vocabulary import (
    BASIS_LABELS,
    ELIGIBLE_BASES,
    ENTERPRISE_STATUS_LABELS,
    INELIGIBLE_BASES,
    PASS_STATE_LABELS,
)


@pytest.fixture
def pilot(pilot, app):
    """The seeded pilot, evaluated as the nightly command leaves it: the pages read the snapshot."""
    evaluate_everyone(app)
    return pilot


def _vi(app, lazy) -> str:
    with app.test_request_context(), force_locale("vi"):
        return str(lazy)


@pytest.mark.parametrize("who,unit", [("admin", None), ("official_x", "district7"), ("official_y", "cugi")])
def test_key_figures_match_the_seeded_data(client, auth, world, pilot, read, who, unit):
    auth.login(getattr(world, who))
    page = client.get("/dashboard").get_data(as_text=True)
    assert read.kpi(page, "kpi-enterprises") == pilot.count_enterprises(unit=unit, status="approved")
    assert read.kpi(page, "kpi-workers") == pilot.count_bases(unit=unit)
    assert read.kpi(page, "kpi-eligible") == pilot.count_bases(unit=unit, eligible=True)
    assert read.kpi(page, "kpi-passes") == pilot.count_passes(unit=unit, state="valid")
    today_scans = sum(n for (day, _o), n in pilot.scans_per_day().items() if day == pilot.today) if unit is None \
        else sum(n for (day, _o), n in pilot.scans_per_day(unit=unit).items() if day == pilot.today)
    assert read.kpi(page, "kpi-scans") == today_scans


@pytest.mark.parametrize("who,unit", [("admin", None), ("official_x", "district7")])
def test_enterprises_by_status_and_sector(app, client, auth, world, pilot, read, who, unit):
    auth.login(getattr(world, who))
    page = client.get("/dashboard").get_data(as_text=True)
    by_status = read.table_rows(page, "table-enterprise-status")
    for status in ENTERPRISE_STATUSES:
        assert by_status[_vi(app, ENTERPRISE_STATUS_LABELS[status])][0] == pilot.count_enterprises(unit, status)
    by_sector = read.table_rows(page, "table-enterprises_by_sector")
    registry = app.extensions["portal.plugins"].registry
    # Each sector as the unit holding it names it (District 7 and HEPZA name food_processing differently).
    names = {code: registry.sectors[u][code].name_vi for u, code, _s in pilot.enterprises}
    sectors = {sector for u, sector, _s in pilot.enterprises if unit in (None, u)}
    assert set(by_sector) - {"Tổng"} == {names[code] for code in sectors}
    for code in sectors:
        expected = [pilot.count_enterprises(unit, status, code) for status in ENTERPRISE_STATUSES]
        assert by_sector[names[code]] == expected + [sum(expected)]
    if unit is None:
        assert "Du lịch địa phương" in by_sector  # Cần Giờ's local tourism, named by its plugin


@pytest.mark.parametrize("who,unit", [("admin", None), ("official_x", "district7"), ("official_y", "cugi")])
def test_eligibility_by_basis(app, client, auth, world, pilot, read, who, unit):
    auth.login(getattr(world, who))
    rows = read.table_rows(client.get("/dashboard").get_data(as_text=True), "table-eligibility")
    for eligible, bases in ((True, ELIGIBLE_BASES), (False, INELIGIBLE_BASES)):
        for basis in bases:
            assert rows[_vi(app, BASIS_LABELS[basis.value])][0] == pilot.count_bases(unit, eligible, basis.value), basis
    assert rows["Tổng"][0] == pilot.count_bases(unit)


def test_every_reason_appears_in_the_seed(pilot):
    """The seed covers each basis, or the figure tests above could pass on zeros."""
    seeded = {basis for _u, _e, basis in pilot.bases}
    assert seeded >= {"vaccinated", "recovered", "not_vaccinated", "partially_vaccinated", "waiting_period",
                      "recovery_expired", "test_required", "missing_data"}


@pytest.mark.parametrize("who,unit", [("admin", None), ("official_x", "district7")])
def test_passes_by_state_and_superseded_versions(app, client, auth, world, pilot, read, who, unit):
    auth.login(getattr(world, who))
    page = client.get("/dashboard").get_data(as_text=True)
    rows = read.table_rows(page, "table-passes")
    for state in PASS_STATES:
        assert rows[_vi(app, PASS_STATE_LABELS[state])][0] == pilot.count_passes(unit, state), state
    superseded = sum(pilot.superseded.values()) if unit is None else pilot.superseded[unit]
    assert superseded == 3
    assert f"{pilot.count_passes(unit)} thẻ xanh; {superseded} phiên bản cũ" in page


@pytest.mark.parametrize("who,unit", [("admin", None), ("official_x", "district7"), ("official_y", "cugi")])
def test_scans_per_local_day_over_the_last_30_days(client, auth, world, pilot, read, who, unit):
    auth.login(getattr(world, who))
    rows = read.table_rows(client.get("/dashboard").get_data(as_text=True), "table-scans_by_day")
    first = pilot.today - timedelta(days=29)
    expected = pilot.scans_per_day(unit=unit, first=first, last=pilot.today)
    assert len([label for label in rows if label != "Tổng"]) == 30
    for offset in range(30):
        day = first + timedelta(days=offset)
        counts = [expected[day, outcome] for outcome in OUTCOMES]
        assert rows[day.strftime("%d/%m/%Y")] == counts + [sum(counts)], day
    assert rows["Tổng"][-1] == sum(expected.values())


def test_local_midnight_not_utc_midnight_decides_the_day(client, auth, world, pilot, read):
    """16:59:59 UTC is 23:59:59 in HCMC (that day); 17:00 UTC and 23:30 UTC belong to the next local day."""
    auth.login(world.official_x)
    rows = read.table_rows(client.get("/dashboard").get_data(as_text=True), "table-scans_by_day")
    column = {outcome: index for index, outcome in enumerate(OUTCOMES)}
    d = lambda days: (pilot.today - timedelta(days=days)).strftime("%d/%m/%Y")  # noqa: E731
    assert rows[d(10)][column["expired"]] == 1   # 16:59:59 UTC on d10
    assert rows[d(9)][column["revoked"]] == 1    # 17:00:00 UTC on d10
    assert rows[d(10)][column["revoked"]] == 0
    assert rows[d(5)][column["valid"]] == 1      # 23:30 UTC on d6
    assert rows[d(6)][column["valid"]] == 0
    assert rows[d(4)][column["valid"]] == 1      # the second before local midnight
    assert rows[d(3)][column["valid"]] == 1      # local midnight itself


def test_the_admin_sees_a_breakdown_per_unit(app, client, auth, world, pilot, read):
    auth.login(world.admin)
    page = client.get("/dashboard").get_data(as_text=True)
    eligibility = read.table_rows(page, "table-eligibility_by_unit")
    passes = read.table_rows(page, "table-passes_by_unit")
    scans = read.table_rows(page, "table-scans_by_unit")
    for code, name in (("district7", "Quận 7"), ("cugi", "Huyện Củ Chi"), ("cangio", "Huyện Cần Giờ")):
        assert eligibility[name][:3] == [pilot.count_bases(code), pilot.count_bases(code, True),
                                         pilot.count_bases(code, False)]
        assert passes[name][0] == pilot.count_passes(code)
        assert passes[name][2] == pilot.count_passes(code, "upcoming")
        in_window = pilot.scans_per_day(unit=code, first=pilot.today - timedelta(days=29))
        assert scans[name][-1] == sum(in_window.values())
    invalid = pilot.scans_per_day(unit=None, first=pilot.today - timedelta(days=29))
    assert scans["Không xác định đơn vị (mã không hợp lệ)"][-1] == sum(
        n for (day, outcome), n in invalid.items() if outcome == "invalid")
    # An official's page has no per-unit section.
    auth.logout()
    auth.login(world.official_x)
    assert "table-eligibility_by_unit" not in client.get("/dashboard").get_data(as_text=True)


def test_charts_are_server_side_svg_with_title_desc_and_no_inline_style(client, auth, world, pilot):
    auth.login(world.admin)
    response = client.get("/dashboard")
    page = response.get_data(as_text=True)
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg"') == 5  # with the confirmed share per day
    assert 'aria-labelledby="chart-confirmed-title chart-confirmed-desc"' in page
    assert 'aria-labelledby="chart-scans-title chart-scans-desc"' in page
    assert '<title id="chart-eligibility-title">Điều kiện hôm nay</title>' in page
    assert "style=" not in page and "<script" not in page
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert '/static/css/dashboard.css' in page


def test_as_of_is_shown_in_hcmc_time(client, auth, world, pilot):
    auth.login(world.official_x)
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Điều kiện được xét lúc " + pilot.now.astimezone(
        __import__("zoneinfo").ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%d/%m/%Y") in page


def test_english_switch(client, auth, world, pilot, read):
    auth.login(world.admin)
    client.set_cookie("lang", "en")
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Pilot dashboard" in page and "Within 14 days of the last dose" in page
    assert read.table_rows(page, "table-eligibility")["Total"][0] == pilot.count_bases()
