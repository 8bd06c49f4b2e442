"""HR self-registration: one form creates the pending enterprise and its HR account, or nothing."""
from __future__ import annotations

import re
import unicodedata

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.auth.models import User
from portal.enterprises.models import Enterprise


def _field_errors(page: str, name: str) -> list[str]:
    """Return the error messages shown inside the field wrapper of input ``name``."""
    match = re.search(rf'<div class="field[^"]*">(?:(?!<div class="field).)*?name="{name}"(?:(?!<div class="field).)*',
                      page, re.S)
    assert match, f"no field {name} on the page"
    return re.findall(r'<p class="error" role="alert">(.*?)</p>', match.group(0), re.S)


def test_registration_creates_pending_enterprise_and_signs_in(app, client, registration, count, confirm_email):
    response = client.submit("/enterprises/register", registration(
        name="  Công ty TNHH   Thực phẩm Sài Gòn Xanh ", tax_code="030-1234-562",
        account_email="NhanSu@SaiGonXanh.vn", phone="+84 909 123 456"))

    assert response.status_code == 302 and response.headers["Location"].endswith("/enterprise")
    # Signed in only to confirm the email first (portal/auth).
    assert client.get("/enterprise").headers["Location"] == "/account/confirm"
    confirm_email("nhansu@saigonxanh.vn")
    page = client.get("/enterprise").get_data(as_text=True)
    assert "Chờ duyệt" in page
    assert "Bạn có thể nhập người lao động, nhưng chưa thể cấp thẻ xanh cho đến khi đơn vị duyệt doanh nghiệp." in page
    with app.app_context():
        from portal.extensions import db

        enterprise = db.session.scalar(select(Enterprise))
        assert (enterprise.name, enterprise.tax_code, enterprise.status) == (
            "Công ty TNHH Thực phẩm Sài Gòn Xanh", "0301234562", "pending")
        assert enterprise.name_key == "cong ty tnhh thuc pham sai gon xanh"
        assert (enterprise.unit.code, enterprise.business_type, enterprise.sector, enterprise.location) == (
            "district7", "essential_production", "food_processing", None)
        assert (enterprise.phone, enterprise.headcount) == ("0909123456", 120)
        user = db.session.scalar(select(User))
        assert (user.email, user.role, user.enterprise_id) == ("nhansu@saigonxanh.vn", "hr", enterprise.id)
        event = db.session.scalar(select(AuditEvent))
        assert (event.action, event.actor_id, event.enterprise_id, event.after["status"]) == (
            "enterprise.registered", user.id, enterprise.id, "pending")
    assert count(Enterprise) == 1 and count(User) == 1


def test_text_is_stored_in_nfc_and_trimmed(app, client, registration):
    decomposed = unicodedata.normalize("NFD", "Hợp tác xã Nông sản Đồng Xanh")
    contact = unicodedata.normalize("NFD", "Lê Thị Hoa")
    response = client.submit("/enterprises/register", registration(
        name=f"  {decomposed}\t", contact_name=f" {contact} ", ward=unicodedata.normalize("NFD", " Tân Phong ")))
    assert response.status_code == 302
    with app.app_context():
        from portal.extensions import db

        enterprise = db.session.scalar(select(Enterprise))
        assert enterprise.name == "Hợp tác xã Nông sản Đồng Xanh"
        assert unicodedata.is_normalized("NFC", enterprise.name)
        assert enterprise.contact_name == "Lê Thị Hoa" and enterprise.ward == "Tân Phong"


def test_branch_tax_code_of_thirteen_digits_is_stored_compact(app, client, registration, confirm_email):
    assert client.submit("/enterprises/register", registration(tax_code="0301234562 - 001")).status_code == 302
    confirm_email(registration()["account_email"])
    with app.app_context():
        from portal.extensions import db

        assert db.session.scalar(select(Enterprise.tax_code)) == "0301234562001"
    assert "0301234562-001" in client.get("/enterprise").get_data(as_text=True)


def test_unit_with_locations_stores_the_chosen_zone(app, client, registration):
    response = client.submit("/enterprises/register", registration(
        unit="industrial_zones", business_type="industrial_zones:export_processing",
        sector="industrial_zones:electronics", location="industrial_zones:tan_thuan"))
    assert response.status_code == 302
    with app.app_context():
        from portal.extensions import db

        enterprise = db.session.scalar(select(Enterprise))
        assert (enterprise.unit.code, enterprise.location) == ("industrial_zones", "tan_thuan")


def test_location_is_dropped_for_a_unit_that_declares_none(app, client, registration):
    response = client.submit("/enterprises/register", registration(location="industrial_zones:tan_thuan"))
    assert response.status_code == 302
    with app.app_context():
        from portal.extensions import db

        assert db.session.scalar(select(Enterprise.location)) is None


INVALID = [
    ("tax_code", {"tax_code": "0301234563"},
     "Chữ số kiểm tra của mã số thuế không đúng: vui lòng đối chiếu với giấy chứng nhận đăng ký doanh nghiệp."),
    ("tax_code", {"tax_code": "030123456"},
     "Mã số thuế gồm 10 chữ số, hoặc 13 chữ số với chi nhánh (ví dụ 0312345678-001)."),
    ("tax_code", {"tax_code": "03O1234562"},
     "Mã số thuế chỉ gồm chữ số (được phép có khoảng trắng và dấu gạch ngang)."),
    ("tax_code", {"tax_code": ""}, "Vui lòng nhập mã số thuế."),
    ("phone", {"phone": "090912345"},
     "Vui lòng nhập số di động hoặc số cố định Việt Nam, ví dụ 0909 123 456 hoặc 028 3775 0000."),
    ("phone", {"phone": "+1 212 555 0100"},
     "Vui lòng nhập số di động hoặc số cố định Việt Nam, ví dụ 0909 123 456 hoặc 028 3775 0000."),
    ("confirm", {"confirm": "mat-khau-khac-han"}, "Hai mật khẩu không giống nhau."),
    ("password", {"password": "ngan-qua", "confirm": "ngan-qua"}, "Mật khẩu cần từ 10 đến 200 ký tự."),
    ("account_email", {"account_email": "nhansu@"}, "Địa chỉ email không hợp lệ."),
    ("sector", {"sector": "cugi:food_supply"},
     "Vui lòng chọn ngành nghề trong danh mục của đơn vị thí điểm của bạn."),
    ("business_type", {"business_type": "district7:no_such_type"},
     "Vui lòng chọn loại hình kinh doanh trong danh mục của đơn vị thí điểm của bạn."),
    ("location", {"unit": "industrial_zones", "business_type": "industrial_zones:export_processing",
                  "sector": "industrial_zones:electronics", "location": ""},
     "Đơn vị thí điểm của bạn chỉ tiếp nhận doanh nghiệp nằm trong các khu của đơn vị: vui lòng chọn khu của "
     "doanh nghiệp."),
    ("unit", {"unit": ""}, "Vui lòng chọn đơn vị thí điểm quản lý doanh nghiệp của bạn."),
    ("unit", {"unit": "atlantis"}, "Vui lòng chọn đơn vị thí điểm quản lý doanh nghiệp của bạn."),
    ("headcount", {"headcount": "nhiều"}, "Vui lòng nhập số nguyên, ví dụ 120."),
    ("headcount", {"headcount": "0"}, "Vui lòng nhập số từ 1 đến 1000000."),
    ("name", {"name": "   "}, "Vui lòng nhập tên doanh nghiệp theo giấy đăng ký kinh doanh."),
    ("name", {"name": "x" * 301}, "Tối đa 300 ký tự."),
]


@pytest.mark.parametrize(("field", "change", "message"), INVALID,
                         ids=[f"{field}-{index}" for index, (field, *_rest) in enumerate(INVALID)])
def test_invalid_input_is_refused_on_its_field_and_creates_nothing(client, registration, count, field, change, message):
    response = client.submit("/enterprises/register", registration(**change))

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in _field_errors(page, field)
    assert count(Enterprise) == 0 and count(User) == 0 and count(AuditEvent) == 0


def test_taken_tax_code_and_email_are_refused_and_nothing_is_created(client, world, registration, count):
    before = (count(Enterprise), count(User), count(AuditEvent))
    # Enterprise A of the world holds 0301234562; its HR signs in as hr.a@example.vn.
    response = client.submit("/enterprises/register", registration(tax_code="0301-234-562",
                                                                    account_email="HR.A@example.vn"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert ("Mã số thuế này đã được đăng ký. Nếu đó là doanh nghiệp của bạn, hãy liên hệ đồng nghiệp đã đăng ký "
            "hoặc cán bộ đơn vị quản lý.") in _field_errors(page, "tax_code")
    assert "Email này đã có tài khoản: hãy đăng nhập, hoặc dùng email khác." in _field_errors(page, "account_email")
    assert (count(Enterprise), count(User), count(AuditEvent)) == before


def test_typed_values_are_kept_when_the_form_is_refused(client, registration):
    page = client.submit("/enterprises/register", registration(phone="12")).get_data(as_text=True)
    assert 'value="Công ty TNHH Thực phẩm Sài Gòn Xanh"' in page
    assert re.search(r'<option selected value="district7:food_processing">|'
                     r'<option value="district7:food_processing" selected>', page)
    assert 'value="mat-khau-that-dai"' not in page  # passwords are never sent back


def test_not_in_any_pilot_unit_leads_to_the_travel_permit(client, registration, count):
    page = client.get("/enterprises/register").get_data(as_text=True)
    assert '<option value="none">Doanh nghiệp của tôi không thuộc đơn vị thí điểm nào</option>' in page
    assert 'href="/travel-permit"' in page

    response = client.submit("/enterprises/register", registration(unit="none", tax_code="", sector=""))
    assert response.status_code == 302 and response.headers["Location"].endswith("/travel-permit")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert ("Doanh nghiệp ngoài các đơn vị thí điểm không được cấp thẻ xanh: người lao động tiếp tục sử dụng giấy "
            "đi đường.") in page
    assert count(Enterprise) == 0 and count(User) == 0


def test_choices_are_grouped_by_unit_for_browsers_without_javascript(client, registry):
    page = client.get("/enterprises/register").get_data(as_text=True)
    sector_select = re.search(r'<select[^>]*name="sector".*?</select>', page, re.S).group(0)
    groups = re.findall(r'<optgroup label="([^"]+)">', sector_select)
    assert groups == [unit.name_vi for code, unit in registry.units.items() if registry.sectors[code]]
    assert 'value="cugi:local_tourism"' in sector_select and 'value="district7:logistics"' in sector_select
    location_select = re.search(r'<select[^>]*name="location".*?</select>', page, re.S).group(0)
    assert re.findall(r'<optgroup label="([^"]+)">', location_select) == [
        unit.name_vi for code, unit in registry.units.items() if registry.locations[code]]
    assert "js/enterprises.js" in page and "css/enterprises.css" in page


def test_english_switch_translates_the_form(client, registration):
    client.set_cookie("lang", "en")
    page = client.submit("/enterprises/register", registration(tax_code="030123456")).get_data(as_text=True)
    assert "A tax code has 10 digits, or 13 for a branch (e.g. 0312345678-001)." in page
    assert "Register your enterprise" in page


def test_signed_in_user_is_sent_to_their_page(client, auth, world):
    auth.login(world.hr_a)
    response = client.get("/enterprises/register")
    assert response.status_code == 302 and response.headers["Location"].endswith("/home")


def test_post_without_csrf_token_is_refused(client, registration, count):
    response = client.post("/enterprises/register", data=registration())
    assert response.status_code == 400
    assert "Biểu mẫu đã hết hạn hoặc được gửi từ trang khác." in response.get_data(as_text=True)
    assert count(Enterprise) == 0


class TestRateLimit:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "REGISTRATION_RATE_LIMIT": "2 per hour", "REGISTRATION_ATTEMPT_LIMIT": "4 per hour"}

    def test_registrations_per_address_are_limited(self, client, auth, registration, valid_tax_code, count):
        for number in (1, 2):
            response = client.submit("/enterprises/register", registration(
                tax_code=valid_tax_code(number), account_email=f"hr{number}@example.vn"))
            assert response.status_code == 302
            auth.logout()
        response = client.submit("/enterprises/register", registration(
            tax_code=valid_tax_code(3), account_email="hr3@example.vn"))
        assert response.status_code == 429
        assert count(Enterprise) == 2

    def test_refused_attempts_count_towards_a_looser_limit(self, client, registration, valid_tax_code, count):
        for _attempt in range(3):
            assert client.submit("/enterprises/register", registration(tax_code="1")).status_code == 200
        # Three typos do not use up the two registrations...
        assert client.submit("/enterprises/register", registration(tax_code=valid_tax_code(9))).status_code == 302
        client.submit("/logout")
        # ...but the fifth attempt of the hour is refused.
        assert client.submit("/enterprises/register", registration(
            tax_code=valid_tax_code(10), account_email="other@example.vn")).status_code == 429
        assert count(Enterprise) == 1
