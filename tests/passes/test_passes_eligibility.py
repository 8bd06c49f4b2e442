"""HR sees who may hold a green card today, why (in Vietnamese), and from when."""
from __future__ import annotations

from datetime import timedelta

import pytest

from portal.clock import format_date, local_today


def test_the_page_gives_each_workers_eligibility_with_the_reason_and_the_date(client, auth, world, helpers):
    today = local_today()
    second = today - timedelta(days=30)
    waiting_second = today - timedelta(days=5)
    helpers.add_worker(world.enterprise_a, "079092001111", "Lê Thị Thu",
                       doses=[("pfizer", today - timedelta(days=40)), ("pfizer", waiting_second)])
    helpers.add_worker(world.enterprise_a, "079092002222", "Phạm Văn Đức",
                       doses=[("moderna", today - timedelta(days=3))])
    auth.login(world.hr_a)
    page = client.get("/passes").get_data(as_text=True)
    # worker_a: two AstraZeneca doses, the second 30 days ago.
    ready = second + timedelta(days=14)
    assert f"Mũi 2 ngày {format_date(second)} — đủ 14 ngày từ {format_date(ready)}." in page
    assert f"Đủ điều kiện từ ngày {format_date(ready)}" in page
    # Waiting for the 14 days: not eligible yet, with the day it becomes eligible.
    assert f"Mũi 2 ngày {format_date(waiting_second)}" in page
    assert f"Sẽ đủ điều kiện từ ngày {format_date(waiting_second + timedelta(days=14))}" in page
    assert "Đã tiêm 1 trên 2 mũi vắc xin Moderna." in page
    assert "Chưa đủ điều kiện" in page
    assert "Nguyễn Văn An" in page and "••••••••1234" in page
    assert "079090001234" not in page  # the full ID number is not needed here
    assert "Đỗ Thị Bích" not in page  # enterprise B's worker


def test_filters_and_counts(client, auth, world, helpers):
    today = local_today()
    helpers.add_worker(world.enterprise_a, "079092002222", "Phạm Văn Đức",
                       doses=[("moderna", today - timedelta(days=3))])
    helpers.add_worker(world.enterprise_a, "079092003333", "Võ Thị Hoa")
    helpers.issue(world.worker_a, world.hr_a)
    auth.login(world.hr_a)
    eligible = client.get("/passes?show=eligible").get_data(as_text=True)
    assert "Nguyễn Văn An" in eligible and "Võ Thị Hoa" in eligible and "Phạm Văn Đức" not in eligible
    ineligible = client.get("/passes?show=ineligible").get_data(as_text=True)
    assert "Phạm Văn Đức" in ineligible and "Nguyễn Văn An" not in ineligible
    with_pass = client.get("/passes?show=with_pass").get_data(as_text=True)
    assert "Nguyễn Văn An" in with_pass and "Võ Thị Hoa" not in with_pass
    without = client.get("/passes?show=without_pass").get_data(as_text=True)
    assert "Nguyễn Văn An" not in without and "Võ Thị Hoa" in without
    # Counts: 3 workers, 2 eligible, 1 not, 1 with a card, 2 without.
    for label, count in (("all", 3), ("eligible", 2), ("ineligible", 1), ("with_pass", 1), ("without_pass", 2)):
        assert f'show={label}"' in eligible
        assert f'<span class="count">{count}</span>' in eligible.split(f"show={label}")[1].split("</a>")[0]
    # An unknown filter or page number shows everything instead of failing.
    assert client.get("/passes?show=<script>&page=-4").status_code == 200


def test_the_card_column_shows_serial_version_last_valid_day_and_status(client, auth, world, helpers):
    helpers.issue(world.worker_a, world.hr_a)
    pass_ = helpers.pass_of(world.worker_a)
    auth.login(world.hr_a)
    page = client.get("/passes").get_data(as_text=True)
    from portal.passes.listing import last_valid_day

    assert pass_.serial in page and "phiên bản 1" in page
    assert f"hiệu lực đến {format_date(last_valid_day(pass_))}" in page
    assert 'badge-active' in page


@pytest.mark.parametrize("who, status", [("hr_b", 200), ("official_x", 403), ("official_y", 403), ("admin", 403)])
def test_only_hr_staff_use_the_page_and_each_sees_their_own_workers(client, auth, world, who, status):
    auth.login(getattr(world, who))
    response = client.get("/passes")
    assert response.status_code == status
    if who == "hr_b":
        page = response.get_data(as_text=True)
        assert "Đỗ Thị Bích" in page and "Nguyễn Văn An" not in page


def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    response = client.get("/passes")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_english_switch(client, auth, world):
    auth.login(world.hr_a)
    client.get("/lang/en")
    page = client.get("/passes").get_data(as_text=True)
    assert "Green cards" in page and "Eligible since" in page and "14 days reached on" in page


def test_search_by_name_without_diacritics_or_by_the_end_of_the_id(client, auth, world, helpers):
    helpers.add_worker(world.enterprise_a, "079092003333", "Võ Thị Hoa")
    auth.login(world.hr_a)
    page = client.get("/passes?q=vo thi").get_data(as_text=True)
    assert "Võ Thị Hoa" in page and "Nguyễn Văn An" not in page
    page = client.get("/passes?q=1234").get_data(as_text=True)
    assert "Nguyễn Văn An" in page and "Võ Thị Hoa" not in page
    page = client.get("/passes?q=hoa&show=ineligible").get_data(as_text=True)
    assert "Võ Thị Hoa" not in page and "Không có người lao động nào để hiển thị." in page
