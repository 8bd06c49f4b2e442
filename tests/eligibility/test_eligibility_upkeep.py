"""The snapshot is kept by the write paths, read by the pages, and re-evaluated only on request (never by a GET)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from portal.clock import local_today
from portal.eligibility.models import EligibilitySnapshot
from portal.eligibility.testing import evaluate_everyone
from portal.extensions import db
from portal.messages import Message
from portal.testing.fixtures import make_worker


def _rows(app) -> dict[int, EligibilitySnapshot]:
    with app.app_context():
        rows = db.session.scalars(select(EligibilitySnapshot)).all()
        for row in rows:
            db.session.expunge(row)
        return {row.worker_id: row for row in rows}


def test_the_snapshot_keeps_the_rules_reason_as_a_message(app, world):
    evaluate_everyone(app)
    row = _rows(app)[world.worker_a]
    assert row.eligible and row.reason["id"].startswith("Dose %(number)s on %(given)s")
    with app.test_request_context():
        assert Message.from_json(row.reason).render().startswith("Mũi 2 ngày ")


def test_pages_read_the_snapshot_and_write_nothing(app, client, auth, world):
    auth.login(world.hr_a)
    page = client.get("/passes").get_data(as_text=True)
    assert "Chưa được xét" in page and "chưa được xét điều kiện" in page  # written without the services
    assert _rows(app) == {}
    for url in ("/enterprise", f"/enterprises/{world.enterprise_a}", "/dashboard/data-quality"):
        assert client.get(url).status_code == 200
    assert _rows(app) == {}
    response = client.submit("/eligibility/refresh", {"next": "/passes"})
    assert response.status_code == 302 and response.headers["Location"] == "/passes"
    assert set(_rows(app)) == {world.worker_a}  # HR re-evaluates their own enterprise only
    page = client.get("/passes").get_data(as_text=True)
    assert "Chưa được xét" not in page and "Đủ điều kiện từ ngày" in page


def test_a_day_later_the_rows_say_when_they_were_evaluated(app, client, auth, world):
    evaluate_everyone(app)
    yesterday = local_today() - timedelta(days=1)
    with app.app_context():
        db.session.execute(update(EligibilitySnapshot).values(evaluated_on=yesterday))
        db.session.commit()
    auth.login(world.hr_a)
    page = client.get("/passes").get_data(as_text=True)
    assert f"Theo lần xét ngày {yesterday:%d/%m/%Y}" in page and "hệ thống xét lại mỗi đêm" in page


@pytest.mark.parametrize(("who", "target", "status"), [
    ("official_x", "enterprise_a", 302), ("official_y", "enterprise_a", 404), ("admin", "enterprise_b", 302),
])
def test_officials_re_evaluate_only_what_they_oversee(app, client, auth, world, who, target, status):
    auth.login(getattr(world, who))
    response = client.submit("/eligibility/refresh", {"enterprise": getattr(world, target)})
    assert response.status_code == status
    expected = {getattr(world, target.replace("enterprise", "worker"))} if status == 302 else set()
    assert set(_rows(app)) == expected


def test_the_admin_names_a_unit_or_re_evaluates_everyone(app, client, auth, world):
    auth.login(world.admin)
    assert client.submit("/eligibility/refresh", {"unit": "nowhere"}).status_code == 404
    assert client.submit("/eligibility/refresh", {"unit": "cugi"}).status_code == 302
    assert set(_rows(app)) == {world.worker_b}
    assert client.submit("/eligibility/refresh").status_code == 302
    assert set(_rows(app)) == {world.worker_a, world.worker_b}


def test_a_reclassified_enterprise_is_evaluated_again_in_the_same_transaction(app, client, auth, world):
    """Cần Giờ asks tourism staff for a negative test: moving a pending enterprise there changes the answers."""
    from portal.enterprises.models import Enterprise

    with app.app_context():
        enterprise = db.session.get(Enterprise, world.enterprise_a)
        enterprise.status = "pending"
        db.session.commit()
        version = enterprise.version
    evaluate_everyone(app)
    assert _rows(app)[world.worker_a].eligible
    auth.login(world.hr_a)
    form = {"version": version, "contact_name": "Lê Thị Hoa", "phone": "02837750000", "email": "hr@example.vn",
            "headcount": "50", "address": "12 Nguyễn Văn Linh", "ward": "Tân Phong", "district": "Quận 7",
            "unit": "cangio", "business_type": "cangio:service_provider", "sector": "cangio:local_tourism",
            "location": ""}
    response = client.submit("/enterprise/edit", form)
    assert response.status_code == 302, response.get_data(as_text=True)
    row = _rows(app)[world.worker_a]
    assert (row.eligible, row.basis) == (False, "test_required")
    with app.app_context():
        assert row.unit_id == db.session.get(Enterprise, world.enterprise_a).unit_id


def test_workers_written_by_the_services_enter_the_snapshot_at_once(app, client, auth, world):
    from portal.workers.forms import worker_form_data
    from portal.workers.models import Worker

    auth.login(world.hr_a)
    with app.app_context():
        data = worker_form_data(db.session.get(Worker, world.worker_a))
    data.update(citizen_id="079090008888", full_name="Võ Văn Tám", phone="0912345678")
    assert client.submit("/workers/new", {k: v for k, v in data.items() if v is not None}).status_code == 302
    with app.app_context():
        new_id = db.session.scalar(select(Worker.id).where(Worker.citizen_id == "079090008888"))
        assert db.session.scalar(select(func.count()).select_from(EligibilitySnapshot)) == 1
    assert _rows(app)[new_id].eligible


def test_a_worker_who_left_leaves_the_snapshot(app, world):
    evaluate_everyone(app)
    with app.app_context():
        from portal.enterprises.models import Enterprise

        make_worker(db.session, db.session.get(Enterprise, world.enterprise_a), citizen_id="079092009999")
        db.session.commit()
    evaluate_everyone(app)
    assert len(_rows(app)) == 3
    from portal.workers.models import Worker
    from portal.workers.services import deactivate_worker

    with app.test_request_context():
        worker = db.session.scalar(select(Worker).where(Worker.citizen_id == "079092009999"))
        deactivate_worker(db.session, app.extensions["portal.plugins"].registry, worker, None,
                          left_on=local_today(), reason="Nghỉ việc")
        db.session.commit()
    assert len(_rows(app)) == 2
