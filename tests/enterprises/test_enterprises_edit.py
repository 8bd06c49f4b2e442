"""HR's own edits: contact details at any time, the classification only until the unit decides."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal import events
from portal.audit.models import AuditEvent
from portal.enterprises.models import Enterprise


@pytest.fixture(autouse=True)
def valid_phone(app, world):
    """Give enterprise A a phone number that passes today's check (the shared fixture's does not)."""
    from portal.extensions import db

    with app.app_context():
        db.session.get(Enterprise, world.enterprise_a).phone = "02837750000"
        db.session.commit()


def _form(client) -> dict:
    """Return the edit form as the browser would send it unchanged."""
    page = client.get("/enterprise/edit").get_data(as_text=True)
    data = dict(re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', page))
    for name, select_html in re.findall(r'<select[^>]*name="(\w+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', select_html)
        data[name] = next(value for value in chosen.groups() if value is not None) if chosen else ""
    data.pop("csrf_token", None)
    return data


def _state(app, enterprise_id: int) -> Enterprise:
    from portal.extensions import db

    with app.app_context():
        enterprise = db.session.get(Enterprise, enterprise_id)
        enterprise.unit  # noqa: B018  (loaded before leaving the session)
        db.session.expunge_all()
        return enterprise


def _trail(app, enterprise_id: int) -> list[tuple[str, dict, dict]]:
    from portal.extensions import db

    with app.app_context():
        return [(e.action, e.before, e.after) for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.object_type == "enterprises", AuditEvent.object_id == enterprise_id)
            .order_by(AuditEvent.id))]


def _set_status(app, enterprise_id: int, status: str) -> None:
    from portal.extensions import db

    with app.app_context():
        db.session.get(Enterprise, enterprise_id).status = status
        db.session.commit()


def test_contact_details_change_any_time_and_are_audited(app, client, auth, world):
    auth.login(world.hr_a)  # enterprise A is approved
    data = _form(client)
    assert "unit" not in data  # no longer changeable, so not offered
    data.update(phone="+84 909 888 777", contact_name="Ngô Thị  Mai ", headcount="1.200", unit="cugi",
                sector="cugi:food_supply")
    response = client.submit("/enterprise/edit", data, follow_redirects=True)
    assert "Đã lưu thay đổi." in response.get_data(as_text=True)

    enterprise = _state(app, world.enterprise_a)
    assert (enterprise.phone, enterprise.contact_name, enterprise.headcount) == ("0909888777", "Ngô Thị Mai", 1200)
    assert (enterprise.unit.code, enterprise.sector, enterprise.status) == ("district7", "food_processing", "approved")
    assert _trail(app, world.enterprise_a) == [("enterprise.updated",
                                                {"contact_name": "Lê Thị Hoa", "phone": "02837750000", "headcount": 50},
                                                {"contact_name": "Ngô Thị Mai", "phone": "0909888777",
                                                 "headcount": 1200})]


def test_saving_without_change_records_nothing(app, client, auth, world):
    auth.login(world.hr_a)
    _set_status(app, world.enterprise_a, "pending")
    page = client.submit("/enterprise/edit", _form(client), follow_redirects=True).get_data(as_text=True)
    assert "Không có thay đổi nào." in page
    assert _trail(app, world.enterprise_a) == []


def test_pending_enterprise_may_move_to_another_unit(app, client, auth, world):
    _set_status(app, world.enterprise_a, "pending")
    auth.login(world.hr_a)
    data = _form(client)
    assert data["unit"] == "district7" and data["sector"] == "district7:food_processing"
    data.update(unit="cugi", business_type="cugi:trader", sector="cugi:food_supply")
    assert client.submit("/enterprise/edit", data).status_code == 302
    enterprise = _state(app, world.enterprise_a)
    assert (enterprise.unit.code, enterprise.business_type, enterprise.sector, enterprise.status) == (
        "cugi", "trader", "food_supply", "pending")
    assert _trail(app, world.enterprise_a)[0][2] == {"unit": "cugi", "business_type": "trader",
                                                     "sector": "food_supply"}
    auth.logout()
    auth.login(world.official_y)  # Củ Chi's official now sees it, District 7's no longer does
    assert client.get(f"/enterprises/{world.enterprise_a}").status_code == 200
    auth.logout()
    auth.login(world.official_x)
    assert client.get(f"/enterprises/{world.enterprise_a}").status_code == 404


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"sector": "cugi:food_supply"}, "sector", "Vui lòng chọn ngành nghề trong danh mục của đơn vị thí điểm của bạn."),
    ({"unit": "industrial_zones", "business_type": "industrial_zones:export_processing",
      "sector": "industrial_zones:electronics", "location": ""}, "location",
     "Đơn vị thí điểm của bạn chỉ tiếp nhận doanh nghiệp nằm trong các khu của đơn vị"),
    ({"phone": "12345"}, "phone", "Vui lòng nhập số di động hoặc số cố định Việt Nam"),
    ({"email": "không-phải-email"}, "email", "Địa chỉ email không hợp lệ."),
])
def test_invalid_changes_are_refused_and_nothing_changes(app, client, auth, world, change, field, message):
    _set_status(app, world.enterprise_a, "pending")
    auth.login(world.hr_a)
    data = _form(client)
    data.update(change)
    response = client.submit("/enterprise/edit", data)
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    enterprise = _state(app, world.enterprise_a)
    assert (enterprise.unit.code, enterprise.sector, enterprise.phone) == (
        "district7", "food_processing", "02837750000")
    assert _trail(app, world.enterprise_a) == []


def test_contact_email_is_stored_in_lowercase(app, client, auth, world):
    auth.login(world.hr_a)
    data = _form(client)
    data["email"] = " NhanSu@AnhDuong.VN "
    assert client.submit("/enterprise/edit", data).status_code == 302
    assert _state(app, world.enterprise_a).email == "nhansu@anhduong.vn"


def test_rejected_enterprise_that_corrects_its_registration_is_resubmitted(app, client, auth, world):
    from portal.extensions import db

    with app.app_context():
        enterprise = db.session.get(Enterprise, world.enterprise_a)
        enterprise.status, enterprise.status_reason = "rejected", "Sai ngành nghề"
        db.session.commit()
    heard = []
    auth.login(world.hr_a)
    mine = client.get("/enterprise").get_data(as_text=True)
    assert "Lý do: Sai ngành nghề" in mine and 'href="/travel-permit"' in mine and 'href="/enterprise/edit"' in mine
    data = _form(client)
    data["sector"] = "district7:pharma_medical"
    with events.enterprise_status_changed.connected_to(lambda sender, **kw: heard.append((kw["before"], kw["after"]))):
        page = client.submit("/enterprise/edit", data, follow_redirects=True).get_data(as_text=True)
    assert "Đang chờ Quận 7 xét duyệt doanh nghiệp của bạn." in page
    enterprise = _state(app, world.enterprise_a)
    assert (enterprise.status, enterprise.status_reason, enterprise.sector) == ("pending", None, "pharma_medical")
    assert heard == [("rejected", "pending")]
    assert _trail(app, world.enterprise_a) == [("enterprise.resubmitted",
                                                {"sector": "food_processing", "status": "rejected"},
                                                {"sector": "pharma_medical", "status": "pending"})]


def test_a_decision_taken_while_hr_was_editing_wins(app, client, auth, world):
    _set_status(app, world.enterprise_a, "pending")
    auth.login(world.hr_a)
    data = _form(client)
    _set_status(app, world.enterprise_a, "approved")  # the unit decided meanwhile (the version moved on)
    data.update(contact_name="Người Sửa Muộn", sector="district7:logistics")
    page = client.submit("/enterprise/edit", data, follow_redirects=True).get_data(as_text=True)
    assert "Trong lúc bạn sửa, thông tin doanh nghiệp đã được người khác thay đổi" in page
    enterprise = _state(app, world.enterprise_a)
    assert (enterprise.contact_name, enterprise.sector, enterprise.status) == (
        "Lê Thị Hoa", "food_processing", "approved")
    assert _trail(app, world.enterprise_a) == []


def test_the_page_says_why_the_classification_cannot_change(client, auth, world):
    auth.login(world.hr_a)
    page = client.get("/enterprise/edit").get_data(as_text=True)
    assert "Đơn vị đã ra quyết định về doanh nghiệp của bạn" in page
    assert 'name="sector"' not in page
