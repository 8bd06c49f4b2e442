"""Officials' decisions: who may decide, what each decision does, the unit's admission rule, the trail."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import insert, select

from portal import events
from portal.audit.models import AuditEvent
from portal.auth.models import User
from portal.enterprises import decisions
from portal.enterprises.models import Enterprise
from portal.plugins import hookimpl
from portal.testing.fixtures import make_enterprise
from portal.units.services import unit_row

CAP_MESSAGE = "Quận 7 đã duyệt đủ 150 doanh nghiệp thí điểm; doanh nghiệp vui lòng đăng ký giấy đi đường."


def _version(client, enterprise_id: int) -> str:
    page = client.get(f"/enterprises/{enterprise_id}").get_data(as_text=True)
    return re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)


def _decide(client, enterprise_id: int, action: str, reason: str = "", version: str | None = None, **kwargs):
    version = version if version is not None else _version(client, enterprise_id)
    # "confirm": the step that shows how many cards a suspension or rejection revokes (tested below) is taken.
    return client.submit(f"/enterprises/{enterprise_id}/decision",
                         {"action": action, "reason": reason, "version": version, "confirm": "y"}, **kwargs)


def _enterprise(app, enterprise_id: int) -> Enterprise:
    from portal.extensions import db

    with app.app_context():
        enterprise = db.session.get(Enterprise, enterprise_id)
        db.session.expunge(enterprise)
        return enterprise


def _decisions(app, enterprise_id: int) -> list[tuple[str, dict, dict, str | None]]:
    from portal.extensions import db

    with app.app_context():
        return [(e.action, e.before, e.after, e.reason) for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.object_id == enterprise_id, AuditEvent.object_type == "enterprises")
            .order_by(AuditEvent.id))]


@pytest.fixture
def pending(app, registry):
    """A pending District 7 enterprise; returns its id."""
    from portal.extensions import db

    with app.app_context():
        enterprise = make_enterprise(db.session, registry, "district7", "Công ty CP Logistics Phú Mỹ", "0311112225",
                                     status="pending")
        db.session.commit()
        return enterprise.id


def _approve_others(app, registry, unit_code: str, how_many: int) -> None:
    """Add ``how_many`` approved enterprises to a unit with one bulk insert (no ORM per row)."""
    from portal.extensions import db

    with app.app_context():
        unit = unit_row(db.session, registry, unit_code)
        rows = [{"name": f"Doanh nghiệp thí điểm số {n}", "tax_code": f"9{n:09d}", "address": "1 Nguyễn Văn Linh",
                 "ward": "Tân Phong", "district": "Quận 7", "unit_id": unit.id, "business_type": "essential_trading",
                 "sector": "food_retail", "headcount": 10, "contact_name": "Lê Văn A", "phone": "0909000000",
                 "email": "a@example.vn", "status": "approved"} for n in range(how_many)]
        db.session.execute(insert(Enterprise), rows)
        db.session.commit()


def test_journey_from_registration_to_approval_by_the_units_official(app, client, auth, world, registration,
                                                                    confirm_email):
    assert client.submit("/enterprises/register", registration()).status_code == 302
    confirm_email(registration()["account_email"])
    enterprise_id = _enterprise_id_by_tax_code(app, registration()["tax_code"])

    own = client.get(f"/enterprises/{enterprise_id}").get_data(as_text=True)
    assert "/decision" not in own  # HR sees the page but no decision form
    assert _decide(client, enterprise_id, "approve", version="1").status_code == 403
    auth.logout()

    auth.login(world.official_y)  # Củ Chi's official
    assert client.get(f"/enterprises/{enterprise_id}").status_code == 404
    assert _decide(client, enterprise_id, "approve", version="1").status_code == 404
    auth.logout()
    assert _enterprise(app, enterprise_id).status == "pending"

    auth.login(world.official_x)  # District 7's official
    queue = client.get("/officials/enterprises").get_data(as_text=True)
    assert "Công ty TNHH Thực phẩm Sài Gòn Xanh" in queue
    response = _decide(client, enterprise_id, "approve", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Đã duyệt Công ty TNHH Thực phẩm Sài Gòn Xanh: cán bộ nhân sự của doanh nghiệp có thể cấp thẻ xanh." in page
    trail = page[page.index("audit-trail"):]
    assert trail.index("Lê Văn Quận") < trail.index("Trần Thị Hạnh")  # newest first
    assert re.search(r"Trạng thái:</span>\s*Chờ duyệt → Đã duyệt", trail)
    auth.logout()

    enterprise = _enterprise(app, enterprise_id)
    assert enterprise.status == "approved" and enterprise.status_changed_at is not None
    assert [action for action, *_rest in _decisions(app, enterprise_id)] == [
        "enterprise.registered", "enterprise.approved"]
    auth.login("nhansu@saigonxanh.vn", registration()["password"])
    mine = client.get("/enterprise").get_data(as_text=True)
    assert "Doanh nghiệp của bạn đã được Quận 7 duyệt" in mine


def _enterprise_id_by_tax_code(app, tax_code: str) -> int:
    from portal.extensions import db

    with app.app_context():
        return db.session.scalar(select(Enterprise.id).where(Enterprise.tax_code == tax_code))


def test_reject_needs_a_reason_which_hr_then_reads(app, client, auth, world, pending):
    auth.login(world.official_x)
    response = _decide(client, pending, "reject", reason="  ")
    assert response.status_code == 400
    assert "Vui lòng nêu lý do: cán bộ nhân sự của doanh nghiệp sẽ đọc được." in response.get_data(as_text=True)
    assert _enterprise(app, pending).status == "pending" and _decisions(app, pending) == []

    reason = "Ngành nghề kinh doanh không thuộc diện thiết yếu"
    assert _decide(client, pending, "reject", reason=reason).status_code == 302
    enterprise = _enterprise(app, pending)
    assert (enterprise.status, enterprise.status_reason) == ("rejected", reason)
    assert _decisions(app, pending) == [("enterprise.rejected", {"status": "pending"}, {"status": "rejected"}, reason)]


def test_rejected_enterprise_can_be_reconsidered(app, client, auth, world, pending):
    auth.login(world.official_x)
    _decide(client, pending, "reject", reason="Thiếu hồ sơ")
    page = client.get(f"/enterprises/{pending}").get_data(as_text=True)
    assert 'value="approve"' in page and "Duyệt lại" in page and 'value="reject"' not in page
    assert _decide(client, pending, "approve").status_code == 302
    assert _enterprise(app, pending).status == "approved"


def test_suspend_and_reinstate_are_told_to_the_other_features_inside_the_transaction(app, client, auth, world):
    from portal.extensions import db

    heard = []

    def receiver(enterprise, *, session, registry, actor, before, after, reason):
        assert session is db.session and enterprise.status == after
        assert registry is app.extensions["portal.plugins"].registry  # the rules the decision used
        # A receiver's own write lands with the decision (the passes feature revokes cards this way).
        session.add(AuditEvent(actor_label="receiver", action="test.heard", object_type="test", object_id=1))
        heard.append((enterprise.id, actor.email, before, after, reason))

    auth.login(world.official_x)
    with events.enterprise_status_changed.connected_to(receiver):
        assert _decide(client, world.enterprise_a, "suspend").status_code == 400  # a reason is required
        assert _decide(client, world.enterprise_a, "suspend", reason="Phát hiện ca F0").status_code == 302
        assert _decide(client, world.enterprise_a, "reinstate").status_code == 302

    assert heard == [
        (world.enterprise_a, world.official_x, "approved", "suspended", "Phát hiện ca F0"),
        (world.enterprise_a, world.official_x, "suspended", "approved", None),
    ]
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "test.heard").limit(1))
    assert [a for a, *_r in _decisions(app, world.enterprise_a)] == ["enterprise.suspended", "enterprise.reinstated"]


def test_a_failing_receiver_undoes_the_whole_decision(app, world, registry):
    from portal.extensions import db

    def receiver(enterprise, **kwargs):
        raise RuntimeError("the passes could not be revoked")

    with app.test_request_context(), events.enterprise_status_changed.connected_to(receiver):
        official = db.session.scalar(select(User).where(User.email == world.official_x))
        with pytest.raises(RuntimeError):
            decisions.decide(db.session, registry, world.enterprise_a, "suspend", official, "F0", 1)
    assert _enterprise(app, world.enterprise_a).status == "approved"
    assert _decisions(app, world.enterprise_a) == []


@pytest.mark.parametrize(("action", "status"), [("approve", "approved"), ("reinstate", "approved"),
                                                ("reject", "approved")])
def test_a_decision_the_status_does_not_allow_changes_nothing(app, client, auth, world, action, status):
    auth.login(world.official_x)
    page = _decide(client, world.enterprise_a, action, reason="x", follow_redirects=True).get_data(as_text=True)
    assert "Không thể đưa ra quyết định này khi doanh nghiệp đang ở trạng thái Đã duyệt." in page
    assert _enterprise(app, world.enterprise_a).status == status and _decisions(app, world.enterprise_a) == []


def test_an_unknown_action_changes_nothing(app, client, auth, world):
    auth.login(world.official_x)
    page = _decide(client, world.enterprise_a, "delete", follow_redirects=True).get_data(as_text=True)
    assert "Vui lòng chọn duyệt, từ chối, tạm ngưng hoặc khôi phục." in page
    assert _decisions(app, world.enterprise_a) == []


def test_a_stale_version_means_someone_else_decided_first(app, client, auth, world, pending):
    auth.login(world.official_x)
    seen = _version(client, pending)
    assert _decide(client, pending, "approve", version=seen).status_code == 302
    response = _decide(client, pending, "reject", reason="Thiếu hồ sơ", version=seen, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Một cán bộ khác đã quyết định về doanh nghiệp này trước bạn: trạng thái hiện tại là Đã duyệt." in page
    assert _enterprise(app, pending).status == "approved"
    assert [a for a, *_r in _decisions(app, pending)] == ["enterprise.approved"]


def test_admin_decides_in_every_unit(app, client, auth, world):
    auth.login(world.admin)
    assert _decide(client, world.enterprise_b, "suspend", reason="Kiểm tra").status_code == 302
    assert _enterprise(app, world.enterprise_b).status == "suspended"


class TestDistrictSevenCap:
    def test_the_150th_enterprise_is_admitted(self, app, client, auth, world, registry, pending):
        _approve_others(app, registry, "district7", 148)  # with enterprise A: 149 approved
        auth.login(world.official_x)
        assert _decide(client, pending, "approve").status_code == 302
        assert _enterprise(app, pending).status == "approved"

    def test_the_151st_is_refused_with_the_units_message(self, app, client, auth, world, registry, pending):
        _approve_others(app, registry, "district7", 149)  # with enterprise A: 150 approved
        auth.login(world.official_x)
        page = _decide(client, pending, "approve", follow_redirects=True).get_data(as_text=True)
        assert CAP_MESSAGE in page
        assert _enterprise(app, pending).status == "pending" and _decisions(app, pending) == []

    def test_reinstating_counts_the_others_too(self, app, client, auth, world, registry):
        auth.login(world.official_x)
        _decide(client, world.enterprise_a, "suspend", reason="Phát hiện ca F0")
        _approve_others(app, registry, "district7", 150)
        page = _decide(client, world.enterprise_a, "reinstate", follow_redirects=True).get_data(as_text=True)
        assert CAP_MESSAGE in page
        assert _enterprise(app, world.enterprise_a).status == "suspended"

    def test_bulk_inserted_rows_are_searchable_by_folded_name(self, app, registry):
        _approve_others(app, registry, "district7", 2)
        from portal.extensions import db

        with app.app_context():
            keys = db.session.scalars(select(Enterprise.name_key).where(Enterprise.tax_code.like("9%"))).all()
        assert keys == ["doanh nghiep thi diem so 0", "doanh nghiep thi diem so 1"]


def test_a_units_rule_refuses_an_enterprise_outside_its_zones(app, client, auth, world, registry):
    from portal.extensions import db

    with app.app_context():
        enterprise = make_enterprise(db.session, registry, "industrial_zones", "Công ty TNHH Dệt may Bình Tân",
                                     "0322223336", status="pending")
        enterprise.location = None
        db.session.commit()
        enterprise_id = enterprise.id
    auth.login(world.admin)
    page = _decide(client, enterprise_id, "approve", follow_redirects=True).get_data(as_text=True)
    # The zones declare their locations; the core refuses an enterprise in none of them.
    assert "Đơn vị thí điểm chỉ tiếp nhận doanh nghiệp nằm trong các khu chế xuất, khu công nghiệp" in page
    assert _enterprise(app, enterprise_id).status == "pending"


class Listener:
    """A plugin (not a unit) that hears approvals and checks they are already committed."""

    def __init__(self, fail: bool = False):
        self.heard = []
        self.fail = fail

    @hookimpl
    def portal_enterprise_approved(self, unit, enterprise):
        from portal.extensions import db

        with db.engine.connect() as connection:
            committed = connection.execute(
                select(Enterprise.status).where(Enterprise.tax_code == enterprise.tax_code)).scalar_one()
        self.heard.append((unit.code, enterprise.tax_code, enterprise.sector, committed))
        if self.fail:
            raise RuntimeError("the plugin's webhook is down")


class TestUnitIsToldAfterTheCommit:
    @pytest.fixture
    def listener(self):
        return Listener()

    @pytest.fixture
    def app_config(self, app_config, listener):
        return {**app_config, "PORTAL_EXTRA_PLUGINS": [listener]}

    def test_approval_is_announced_once_committed(self, client, auth, world, pending, listener):
        auth.login(world.official_x)
        _decide(client, pending, "reject", reason="Thiếu hồ sơ")
        assert listener.heard == []
        _decide(client, pending, "approve")
        assert listener.heard == [("district7", "0311112225", "food_processing", "approved")]

    def test_a_failing_listener_does_not_undo_the_approval(self, app, client, auth, world, pending, listener):
        listener.fail = True
        auth.login(world.official_x)
        response = _decide(client, pending, "approve", follow_redirects=True)
        assert response.status_code == 200 and "Đã duyệt Công ty CP Logistics Phú Mỹ" in response.get_data(as_text=True)
        assert _enterprise(app, pending).status == "approved" and len(listener.heard) == 1


def test_a_decision_without_version_is_refused_with_a_message(app, client, auth, world):
    auth.login(world.official_x)
    response = client.submit(f"/enterprises/{world.enterprise_a}/decision", {"action": "suspend", "reason": "F0"})
    assert response.status_code == 400
    assert "Không đọc được quyết định. Vui lòng tải lại trang và thử lại." in response.get_data(as_text=True)
    assert _enterprise(app, world.enterprise_a).status == "approved"
