"""Who may open the dashboard, the report and the data-quality page, and whose figures they see."""
from __future__ import annotations

import pytest

from portal.eligibility.testing import evaluate_everyone


@pytest.fixture
def pilot(pilot, app):
    """The seeded pilot, evaluated as the nightly command leaves it: the pages read the snapshot."""
    evaluate_everyone(app)
    return pilot

OFFICIAL_PAGES = ("/dashboard", "/dashboard/report", "/dashboard/report.pdf", "/dashboard/report.xlsx")
ALL_PAGES = OFFICIAL_PAGES + ("/dashboard/data-quality",)


@pytest.mark.parametrize("url", ALL_PAGES)
def test_anonymous_visitors_are_sent_to_login(client, world, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("url", OFFICIAL_PAGES)
@pytest.mark.parametrize("who", ["hr_a", "hr_b"])
def test_hr_staff_may_not_see_the_pilot_figures(client, auth, world, url, who):
    auth.login(getattr(world, who))
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", ALL_PAGES)
@pytest.mark.parametrize("who", ["official_x", "official_y", "admin"])
def test_officials_and_admin_open_every_page(client, auth, world, url, who):
    auth.login(getattr(world, who))
    assert client.get(url).status_code == 200


def test_hr_opens_data_quality_for_their_own_enterprise_only(client, auth, world, pilot):
    auth.login(world.hr_b)
    page = client.get(f"/dashboard/data-quality?enterprise={world.enterprise_a}").get_data(as_text=True)
    assert "Hợp tác xã Bình Minh" in page  # B, whatever was asked
    assert "Công ty TNHH Ánh Dương" not in page


def test_official_of_another_unit_gets_404_for_an_enterprise_outside_it(client, auth, world, pilot):
    auth.login(world.official_y)
    assert client.get(f"/dashboard/data-quality?enterprise={world.enterprise_a}").status_code == 404
    assert client.get("/dashboard/data-quality?enterprise=abc").status_code == 404
    auth.logout()
    auth.login(world.official_x)
    assert client.get(f"/dashboard/data-quality?enterprise={world.enterprise_a}").status_code == 200


def test_official_of_y_sees_y_numbers_even_when_asking_for_x(client, auth, world, pilot, read):
    auth.login(world.official_y)
    for url in ("/dashboard", "/dashboard?unit=district7"):
        page = client.get(url).get_data(as_text=True)
        assert read.kpi(page, "kpi-workers") == pilot.count_bases(unit="cugi")
        assert read.kpi(page, "kpi-enterprises") == pilot.count_enterprises(unit="cugi", status="approved")
        assert "Quận 7" not in page.split('<main id="main"', 1)[1]
        assert 'name="unit"' not in page  # no unit filter offered to an official
    report = client.get("/dashboard/report?unit=district7").get_data(as_text=True)
    rows = read.table_rows(report, "table-eligibility_by_unit")
    assert list(rows) == ["Huyện Củ Chi"]


def test_official_of_x_sees_only_x(client, auth, world, pilot, read):
    auth.login(world.official_x)
    page = client.get("/dashboard?unit=cugi").get_data(as_text=True)
    assert read.kpi(page, "kpi-workers") == pilot.count_bases(unit="district7")
    assert read.kpi(page, "kpi-passes") == pilot.count_passes(unit="district7", state="valid")


def test_admin_filters_by_unit_and_is_told_about_an_unknown_unit(client, auth, world, pilot, read):
    auth.login(world.admin)
    page = client.get("/dashboard?unit=cangio").get_data(as_text=True)
    assert read.kpi(page, "kpi-workers") == pilot.count_bases(unit="cangio")
    page = client.get("/dashboard?unit=no-such-unit").get_data(as_text=True)
    assert "Không có đơn vị" in page
    assert read.kpi(page, "kpi-workers") == pilot.count_bases()


@pytest.mark.parametrize("url", ALL_PAGES)
def test_the_pages_change_nothing_on_post(client, auth, world, url):
    auth.login(world.admin)
    assert client.submit(url, {}).status_code == 405
