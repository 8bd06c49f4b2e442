"""The enterprise page: its workers' eligibility today, grouped by why not, and its history."""
from __future__ import annotations

import re
from datetime import timedelta

from portal.clock import local_today
from portal.eligibility.testing import evaluate_everyone
from portal.testing.fixtures import make_worker


def _rows(page: str) -> list[tuple[str, str]]:
    table = page[page.index("Lý do chưa đủ điều kiện hôm nay"):]
    table = table[:table.index("</table>")]
    return re.findall(r"<tr><td>([^<]+)</td><td class=\"num\">(\d+)</td></tr>", table)


def _figures(page: str) -> list[str]:
    return re.findall(r'<span class="figure-number">(\d+)</span>', page)


def test_worker_summary_counts_the_eligible_and_groups_the_others_by_reason(app, client, auth, world):
    from portal.enterprises.models import Enterprise
    from portal.extensions import db

    today = local_today()
    with app.app_context():
        enterprise = db.session.get(Enterprise, world.enterprise_a)  # worker_a: fully vaccinated 30 days ago
        make_worker(db.session, enterprise, citizen_id="079090000002",
                    doses=[("pfizer", today - timedelta(days=40)), ("pfizer", today - timedelta(days=5))])
        make_worker(db.session, enterprise, citizen_id="079090000003", doses=[("moderna", today - timedelta(days=20))])
        make_worker(db.session, enterprise, citizen_id="079090000004")
        make_worker(db.session, enterprise, citizen_id="079090000005")
        make_worker(db.session, enterprise, citizen_id="079090000006", recovered_on=today - timedelta(days=30))
        gone = make_worker(db.session, enterprise, citizen_id="079090000007")
        gone.active = False
        db.session.commit()
    evaluate_everyone(app)  # as the nightly command does for workers written without the services

    auth.login(world.official_x)
    page = client.get(f"/enterprises/{world.enterprise_a}").get_data(as_text=True)

    assert _figures(page) == ["6", "2", "4"]  # active, eligible today, not eligible today
    assert _rows(page) == [("Chưa tiêm vắc xin", "2"), ("Chưa tiêm đủ liều", "1"),
                           ("Chưa đủ 14 ngày sau mũi cuối", "1")]
    assert "079090000002" not in page and "Nguyễn Văn An" not in page  # no worker's identity on this page


def test_enterprise_without_workers(app, client, auth, world, registry):
    from portal.extensions import db
    from portal.testing.fixtures import make_enterprise

    with app.app_context():
        enterprise_id = make_enterprise(db.session, registry, "district7", "Công ty mới", "0399990000",
                                        status="pending").id
        db.session.commit()
    auth.login(world.admin)
    page = client.get(f"/enterprises/{enterprise_id}").get_data(as_text=True)
    assert _figures(page) == ["0", "0", "0"] and "Lý do chưa đủ điều kiện hôm nay" not in page
    assert "Chưa có ghi nhận nào." in page


def test_history_shows_who_when_what_why_and_the_change(app, client, auth, world):
    auth.login(world.official_x)
    client.submit(f"/enterprises/{world.enterprise_a}/decision",
                  {"action": "suspend", "reason": "Phát hiện ca F0 tại xưởng", "version": "1",
                   "confirm": "y"})
    client.submit(f"/enterprises/{world.enterprise_a}/decision", {"action": "reinstate", "reason": "", "version": "2"})
    page = client.get(f"/enterprises/{world.enterprise_a}").get_data(as_text=True)
    rows = re.findall(r"<tr>\s*<td class=\"nowrap\" data-label=\"Thời điểm\">(.*?)</tr>", page, re.S)
    assert len(rows) == 2
    newest, oldest = rows
    assert "Đã khôi phục" in newest and re.search(r"Tạm ngưng → Đã duyệt", newest)
    assert "Tạm ngưng" in oldest and "Phát hiện ca F0 tại xưởng" in oldest and "Lê Văn Quận" in oldest
    assert re.match(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}</td>", newest)  # dd/mm/yyyy HH:MM, Ho Chi Minh City time


def test_english_switch(app, client, auth, world):
    client.set_cookie("lang", "en")
    auth.login(world.official_x)
    page = client.get(f"/enterprises/{world.enterprise_a}").get_data(as_text=True)
    assert "eligible for a green card today" in page and "History" in page and "Approved" in page
