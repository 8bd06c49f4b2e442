"""The data-quality page: the records that block eligibility, for HR to correct, masked outside HR."""
from __future__ import annotations

import pytest

from portal.eligibility.testing import evaluate_everyone
from portal.extensions import db
from portal.workers.models import Worker


@pytest.fixture
def pilot(pilot, app):
    """The seeded pilot, evaluated as the nightly command leaves it: the pages read the snapshot."""
    evaluate_everyone(app)
    return pilot


def _citizen_id(app, worker_id: int) -> str:
    with app.app_context():
        return db.session.get(Worker, worker_id).citizen_id


def test_hr_sees_their_workers_to_correct_with_full_ids_and_reasons(app, client, auth, world, pilot, read):
    auth.login(world.hr_a)
    page = client.get("/dashboard/data-quality").get_data(as_text=True)
    rows = read.parse_page(page).tables["table-workers"]
    names = [row[0] for row in rows[1:]]
    # Enterprise A: a dose without a date. Its other workers (not vaccinated, waiting…) have nothing to correct.
    assert names == ["Người lao động no_date"]
    assert rows[1][1] == _citizen_id(app, pilot.workers["no_date"])  # HR sees the whole ID
    assert rows[1][2] == "Mũi tiêm thiếu ngày hoặc loại vắc xin"
    assert rows[1][3] == "Mũi 2 thiếu tên vắc xin hoặc ngày tiêm."  # the rule's own words, today
    assert "Công ty CP Logistics Tân Thuận" not in page


def test_officials_see_their_unit_grouped_by_enterprise(client, auth, world, pilot, read):
    auth.login(world.official_x)
    page = client.get("/dashboard/data-quality").get_data(as_text=True)
    rows = read.table_rows(page, "table-issues")
    assert set(rows) == {"Công ty TNHH Ánh Dương · 0301234562", "Công ty CP Logistics Tân Thuận · 0309999991",
                         "Tổng, 2 doanh nghiệp"}
    assert rows["Tổng, 2 doanh nghiệp"] == [2, 1, 1, 0, 0, 0]
    # Columns: workers to correct, then one per issue (invalid ID, dose data, test missing, test old, other).
    assert rows["Công ty CP Logistics Tân Thuận · 0309999991"] == [1, 1, 0, 0, 0, 0]
    assert rows["Công ty TNHH Ánh Dương · 0301234562"] == [1, 0, 1, 0, 0, 0]
    assert "Rừng Sác" not in page


def test_cangio_official_sees_the_tourism_tests_to_renew(client, auth, world, pilot, read):
    auth.login(pilot.official_cangio)
    page = client.get("/dashboard/data-quality").get_data(as_text=True)
    rows = read.table_rows(page, "table-issues")
    assert rows == {"Công ty TNHH Du lịch Rừng Sác · 0309999995": [2, 0, 0, 1, 1, 0],
                    "Tổng, 1 doanh nghiệp": [2, 0, 0, 1, 1, 0]}
    tourism = pilot.enterprise_ids["Công ty TNHH Du lịch Rừng Sác"]
    listing = client.get(f"/dashboard/data-quality?enterprise={tourism}").get_data(as_text=True)
    table = read.parse_page(listing).tables["table-workers"]
    issues = {row[0]: row[2] for row in table[1:]}
    assert issues == {"Người lao động no_test": "Chưa có kết quả xét nghiệm âm tính",
                      "Người lao động old_test": "Kết quả xét nghiệm đã quá hạn"}
    assert all(row[3] for row in table[1:])  # the unit's rule says why, in Vietnamese


def test_ids_are_masked_for_officials_and_the_admin(app, client, auth, world, pilot, read):
    logistics = pilot.enterprise_ids["Công ty CP Logistics Tân Thuận"]
    full = _citizen_id(app, pilot.workers["bad_id"])
    for who in (world.official_x, world.admin):
        auth.login(who)
        page = client.get(f"/dashboard/data-quality?enterprise={logistics}").get_data(as_text=True)
        row = read.parse_page(page).tables["table-workers"][1]
        assert row[1] == "••••••••" + full[-4:]
        assert full not in page
        assert row[2] == "Số CCCD/CMND không còn hợp lệ"
        auth.logout()


def test_admin_sees_every_unit_and_can_filter(client, auth, world, pilot, read):
    auth.login(world.admin)
    everything = read.table_rows(client.get("/dashboard/data-quality").get_data(as_text=True), "table-issues")
    assert len(everything) == 4 and any("Rừng Sác" in name for name in everything)
    assert everything["Tổng, 3 doanh nghiệp"][0] == 4
    cangio = read.table_rows(client.get("/dashboard/data-quality?unit=cangio").get_data(as_text=True),
                             "table-issues")
    assert list(cangio) == ["Công ty TNHH Du lịch Rừng Sác · 0309999995", "Tổng, 1 doanh nghiệp"]


def test_a_corrected_record_leaves_the_list(app, client, auth, world, pilot, read):
    from datetime import timedelta

    from portal import events

    auth.login(world.hr_a)
    assert "table-workers" in client.get("/dashboard/data-quality").get_data(as_text=True)
    with app.app_context():
        worker = db.session.get(Worker, pilot.workers["no_date"])
        worker.doses[1].given_on = pilot.today - timedelta(days=20)
        events.workers_changed.send(worker.enterprise, session=db.session, actor=None,
                                    registry=app.extensions["portal.plugins"].registry, worker_ids=[worker.id])
        db.session.commit()
    page = client.get("/dashboard/data-quality").get_data(as_text=True)
    assert "table-workers" not in page
    assert "Không có hồ sơ người lao động nào cản trở việc xét điều kiện." in page


def test_the_summary_pages_enterprises_most_affected_first(app, client, auth, world, pilot, read):
    from portal.dashboard.quality import issues_by_enterprise
    from portal.dashboard.scope import Scope

    auth.login(world.admin)
    page = client.get("/dashboard/data-quality?page=99").get_data(as_text=True)  # past the end: the last page
    assert "Tổng, 3 doanh nghiệp" in page and "Rừng Sác" in page
    with app.test_request_context():
        summary = issues_by_enterprise(db.session, Scope(None), page=2, per_page=2)
        assert (summary.page.page, summary.page.pages, summary.page.total) == (2, 2, 3)
        assert [item.workers for item in summary.page.items] == [1]
        assert summary.workers == 4


@pytest.fixture
def edit_endpoint(app):
    """Give the app a ``workers.edit`` page, as the workers feature does, when it has none yet."""
    if "workers.edit" not in app.view_functions:
        app.add_url_rule("/_test/workers/<int:worker_id>/edit", "workers.edit", lambda worker_id: "edit")
    return app


def test_hr_gets_a_link_to_correct_each_worker_when_the_edit_page_exists(edit_endpoint, client, auth, world, pilot):
    from flask import url_for

    (rule,) = edit_endpoint.url_map.iter_rules("workers.edit")
    (argument,) = rule.arguments
    with edit_endpoint.test_request_context():
        link = url_for("workers.edit", **{argument: pilot.workers["no_date"]})
    auth.login(world.hr_a)
    assert f'href="{link}"' in client.get("/dashboard/data-quality").get_data(as_text=True)
    auth.logout()
    auth.login(world.official_x)
    page = client.get(f"/dashboard/data-quality?enterprise={world.enterprise_a}").get_data(as_text=True)
    assert f'href="{link}"' not in page  # officials do not edit workers
