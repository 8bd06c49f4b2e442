"""Issuing green cards: only approved enterprises, only eligible workers, one active card per worker."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.clock import end_of_local_day, local_today, start_of_local_day
from portal.extensions import db
from portal.jobs.models import Job
from portal.passes.models import Pass
from portal.plugins.api import add_months

SERIAL = re.compile(r"^Q7-[0-9A-HJKMNP-TV-Z]{10}$")


def _issue(client, worker_id: int, **data):
    return client.submit(f"/passes/workers/{worker_id}/issue", data, follow_redirects=True)


def test_hr_issues_a_card_that_carries_the_workers_route_windows_and_validity(client, auth, world, helpers, app):
    auth.login(world.hr_a)
    page = _issue(client, world.worker_a).get_data(as_text=True)
    pass_ = helpers.pass_of(world.worker_a)
    assert f"Đã cấp thẻ xanh {pass_.serial} cho Nguyễn Văn An." in page
    assert SERIAL.match(pass_.serial)
    assert pass_.version == 1 and pass_.status == "active"
    today = local_today()
    assert pass_.valid_from == start_of_local_day(today)
    assert pass_.valid_until == end_of_local_day(add_months(today, 6) - timedelta(days=1))
    assert pass_.windows == [{"start": "06:30", "end": "08:00", "direction": "to_work"},
                             {"start": "16:30", "end": "18:00", "direction": "to_home"}]
    assert pass_.route_from == "Tân Hưng, Quận 7"
    assert pass_.route_to == "12 Nguyễn Văn Linh, Tân Phong, Quận 7"
    assert re.fullmatch(r"[0-9a-f]{64}", pass_.content_digest)
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "pass.issued"))
        assert event.object_id == pass_.id and event.actor_label == world.hr_a
        assert event.enterprise_id == world.enterprise_a and event.after["serial"] == pass_.serial


def test_issuing_again_returns_the_same_card_when_nothing_changed(client, auth, world, helpers, app):
    auth.login(world.hr_a)
    _issue(client, world.worker_a)
    first = helpers.pass_of(world.worker_a)
    page = _issue(client, world.worker_a).get_data(as_text=True)
    assert "Thẻ xanh của Nguyễn Văn An đã là bản mới nhất." in page
    again = helpers.pass_of(world.worker_a)
    assert (again.id, again.serial, again.version, again.content_digest) == (
        first.id, first.serial, 1, first.content_digest)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Pass)) == 1


def test_serials_are_unique_and_not_sequential(world, helpers):
    ids = [helpers.add_worker(world.enterprise_a, f"0790920{n:05d}", f"Người Thứ {n}") for n in range(12)]
    for worker_id in ids:
        helpers.issue(worker_id, world.hr_a)
    serials = [helpers.pass_of(worker_id).serial for worker_id in ids]
    assert len(set(serials)) == 12 and all(SERIAL.match(serial) for serial in serials)
    assert serials != sorted(serials)  # random order: 12! orderings, one of them sorted


@pytest.mark.parametrize("status, message", [
    ("pending", "Doanh nghiệp của bạn đang chờ đơn vị phê duyệt."),
    ("rejected", "Hồ sơ của doanh nghiệp bị từ chối nên chưa thể cấp thẻ xanh."),
    ("suspended", "Doanh nghiệp của bạn đang bị tạm dừng tham gia thí điểm"),
])
def test_an_enterprise_that_is_not_approved_cannot_issue(client, auth, world, helpers, status, message):
    helpers.set_status(world.enterprise_a, status)
    auth.login(world.hr_a)
    page = client.get("/passes").get_data(as_text=True)
    assert message in page
    assert f"/passes/workers/{world.worker_a}/issue" not in page and "/passes/issue-all" not in page
    assert message in _issue(client, world.worker_a).get_data(as_text=True)
    assert message in client.submit("/passes/issue-all", follow_redirects=True).get_data(as_text=True)
    assert helpers.pass_of(world.worker_a) is None


def test_an_ineligible_worker_is_refused_with_the_reason(client, auth, world, helpers):
    worker_id = helpers.add_worker(world.enterprise_a, "079092004444", "Hồ Văn Tâm",
                                   doses=[("pfizer", local_today() - timedelta(days=10))])
    auth.login(world.hr_a)
    page = client.get("/passes").get_data(as_text=True)
    assert f"/passes/workers/{worker_id}/issue" not in page
    page = _issue(client, worker_id).get_data(as_text=True)
    assert "Chưa đủ điều kiện: Đã tiêm 1 trên 2 mũi vắc xin Pfizer." in page
    assert helpers.pass_of(worker_id) is None


def test_hr_cannot_issue_for_another_enterprises_worker(client, auth, world, helpers):
    auth.login(world.hr_a)
    assert client.submit(f"/passes/workers/{world.worker_b}/issue").status_code == 404
    assert client.submit("/passes/workers/999999/issue").status_code == 404
    assert helpers.pass_of(world.worker_b) is None


@pytest.mark.parametrize("who", ["official_x", "admin"])
def test_officials_and_the_admin_do_not_issue(client, auth, world, who):
    auth.login(getattr(world, who))
    assert client.submit(f"/passes/workers/{world.worker_a}/issue").status_code == 403
    assert client.submit("/passes/issue-all").status_code == 403


def test_issuing_needs_the_csrf_token(client, auth, world, helpers):
    auth.login(world.hr_a)
    assert client.post(f"/passes/workers/{world.worker_a}/issue").status_code == 400
    assert helpers.pass_of(world.worker_a) is None


def test_issue_for_all_eligible_in_one_go(client, auth, world, helpers, app):
    today = local_today()
    eligible = [helpers.add_worker(world.enterprise_a, f"07909210{n:04d}", f"Công Nhân {n}") for n in range(3)]
    helpers.add_worker(world.enterprise_a, "079092109999", "Chưa Tiêm", doses=[])
    helpers.add_worker(world.enterprise_a, "079092108888", "Đang Chờ", doses=[("pfizer", today - timedelta(days=40)),
                                                                           ("pfizer", today - timedelta(days=2))])
    auth.login(world.hr_a)
    # The button opens a confirmation that says how many cards it touches; a POST without it comes back there.
    index = client.get("/passes").get_data(as_text=True)
    assert 'href="/passes/issue-all"' in index
    response = client.submit("/passes/issue-all")
    assert response.status_code == 302 and response.headers["Location"] == "/passes/issue-all"
    assert helpers.pass_of(world.worker_a) is None
    confirm = client.get("/passes/issue-all").get_data(as_text=True)
    assert "Sẽ cấp 4 thẻ xanh mới." in confirm
    assert "2 người lao động chưa đủ điều kiện hôm nay và không được cấp thẻ." in confirm
    assert "Tôi xác nhận: cấp hoặc cập nhật 4 thẻ xanh." in confirm and 'name="confirm"' in confirm
    page = client.submit("/passes/issue-all", {"confirm": "y"}, follow_redirects=True).get_data(as_text=True)
    assert ("Đã cấp 4 thẻ xanh, cập nhật 0 thẻ, 0 thẻ không thay đổi; "
            "2 người lao động chưa đủ điều kiện hôm nay.") in page
    # ... with the next step.
    assert 'href="/passes?show=with_pass">Tiếp theo: in thẻ</a>' in page
    assert all(helpers.pass_of(worker_id) for worker_id in [world.worker_a, *eligible])
    page = client.submit("/passes/issue-all", {"confirm": "y"}, follow_redirects=True).get_data(as_text=True)
    assert "Đã cấp 0 thẻ xanh, cập nhật 0 thẻ, 4 thẻ không thay đổi" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Pass)) == 4


def test_issue_for_all_runs_as_a_job_for_a_large_enterprise(client, auth, world, helpers, app):
    app.config["PASSES_ISSUE_ALL_INLINE_MAX"] = 2
    others = [helpers.add_worker(world.enterprise_a, f"07909220{n:04d}", f"Thợ Máy {n}") for n in range(3)]
    auth.login(world.hr_a)
    response = client.submit("/passes/issue-all", {"confirm": "y"})
    assert response.status_code == 302
    job_url = response.headers["Location"]
    assert re.fullmatch(r"/jobs/\d+", job_url)
    status = client.get(job_url, headers={"Accept": "application/json"}).get_json()
    assert status["status"] == "done" and status["result"] == {"issued": 4, "renewed": 0, "unchanged": 0,
                                                                  "ineligible": 0, "on_hold": 0}
    # What the job did is kept as a message, shown in the reader's language, with the next step.
    assert status["summary"].startswith("Đã cấp 4 thẻ xanh") and status["next_url"] == "/passes"
    client.set_cookie("lang", "en")
    status = client.get(job_url, headers={"Accept": "application/json"}).get_json()
    assert status["summary"].startswith("4 green cards issued, 0 updated")
    assert all(helpers.pass_of(worker_id) for worker_id in [world.worker_a, *others])
    with app.app_context():
        job = db.session.get(Job, int(job_url.rsplit("/", 1)[1]))
        assert job.kind == "issue_all" and job.enterprise_id == world.enterprise_a
        assert job.params["_locale"] == "vi"
