"""Every rule of clean_worker, with the exact message HR staff read (Vietnamese unless English is chosen)."""
from __future__ import annotations

import json
import unicodedata
from datetime import date, datetime

import pytest

from portal.messages import Message, Refusal
from portal.workers.columns import COLUMNS, HEADERS, escape_cell, match_header, unescape_cell
from portal.workers.validation import FIELD_LABELS, FIELDS, CleanWorker, clean_worker, duplicate_rows

TODAY = date(2021, 10, 1)
VALID = {
    "full_name": "Nguyễn Văn An", "date_of_birth": "17/05/1990", "sex": "Nam", "citizen_id": "079090001234",
    "phone": "0909123456", "home_address": "45 Lê Văn Lương", "home_ward": "Tân Hưng", "home_district": "Quận 7",
    "job_title": "Công nhân", "shift": "Hành chính",
    "dose1_product": "AstraZeneca", "dose1_date": "01/07/2021", "dose2_product": "AstraZeneca",
    "dose2_date": "01/09/2021",
}
ACCEPTED_VACCINES = "AstraZeneca, Pfizer, Moderna, Vero Cell, Sputnik V, Janssen, Abdala"


@pytest.fixture
def check(app):
    """Clean VALID with some fields changed, inside a Vietnamese request; return (clean, {field: message})."""
    registry = app.extensions["portal.plugins"].registry
    with app.test_request_context():
        def run(**changes):
            clean, errors = clean_worker({**VALID, **changes}, registry, today=TODAY)
            messages = {}
            for error in errors:
                assert isinstance(error, Refusal) and isinstance(error.message, Message)
                assert error.field not in messages, f"two messages for {error.field}: {errors}"
                messages[error.field] = str(error)
            assert (clean is None) == bool(errors)
            return clean, messages
        yield run


def test_fields_and_labels_follow_the_template_order():
    assert FIELDS == tuple(column.key for column in COLUMNS[1:])
    assert set(FIELD_LABELS) == set(FIELDS)


def test_a_valid_worker_is_normalised(check):
    clean, messages = check(full_name="  nguyễn   văn\tan ", phone="+84 909 123 456", shift="ca 1",
                            dose1_product="az", dose2_product="Vaxzevria")
    assert messages == {}
    assert clean == CleanWorker(
        full_name="nguyễn văn an", name_key="nguyen van an", date_of_birth=date(1990, 5, 17), sex="M",
        citizen_id="079090001234", phone="0909123456", home_address="45 Lê Văn Lương", home_ward="Tân Hưng",
        home_district="Quận 7", job_title="Công nhân", shift="shift1",
        doses=(("astrazeneca", date(2021, 7, 1)), ("astrazeneca", date(2021, 9, 1))),
        recovered_on=None, test_kind=None, tested_on=None,
    )


def test_decomposed_name_is_stored_composed(check):
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Hồng Đào")
    assert decomposed != "Nguyễn Thị Hồng Đào"
    clean, _ = check(full_name=decomposed, home_address=unicodedata.normalize("NFD", "Đường Lê Văn Lương"))
    assert clean.full_name == "Nguyễn Thị Hồng Đào"
    assert unicodedata.is_normalized("NFC", clean.full_name)
    assert clean.home_address == "Đường Lê Văn Lương"
    assert clean.name_key == "nguyen thi hong dao"


@pytest.mark.parametrize("field, label", [
    ("full_name", "Họ và tên"), ("date_of_birth", "Ngày sinh"), ("sex", "Giới tính"),
    ("citizen_id", "Số CCCD/CMND"), ("phone", "Số điện thoại"), ("home_address", "Địa chỉ thường trú"),
    ("home_ward", "Phường/Xã"), ("home_district", "Quận/Huyện"),
])
@pytest.mark.parametrize("empty", [None, "", "   "])
def test_required_fields(check, field, label, empty):
    _, messages = check(**{field: empty})
    assert messages[field] == f"{label} là bắt buộc."


def test_optional_fields_may_be_empty(check):
    clean, messages = check(job_title=None, shift="", dose1_product="", dose1_date="", dose2_product=None,
                            dose2_date=None)
    assert messages == {}
    assert clean.job_title == "" and clean.shift is None and clean.doses == ()


def test_name_with_digits_is_refused(check):
    _, messages = check(full_name="079090001234")
    assert messages == {"full_name": "Họ và tên không được chứa chữ số. Hãy kiểm tra các cột có đúng thứ tự không."}


def test_too_long_text(check):
    _, messages = check(home_ward="P" * 101)
    assert messages == {"home_ward": "Phường/Xã quá dài (tối đa 100 ký tự)."}


# -- citizen IDs ---------------------------------------------------------------------------


@pytest.mark.parametrize("born, sex, citizen_id", [
    ("31/12/1999", "Nam", "079099000001"),
    ("31/12/1999", "Nữ", "079199000001"),
    ("01/01/2000", "Nam", "079200000001"),
    ("01/01/2000", "Nữ", "079300000001"),
])
def test_cccd_century_digit_at_the_boundary(check, born, sex, citizen_id):
    clean, messages = check(date_of_birth=born, sex=sex, citizen_id=citizen_id)
    assert messages == {}
    assert clean.citizen_id == citizen_id


@pytest.mark.parametrize("born, sex, citizen_id", [
    ("31/12/1999", "Nam", "079299000001"),  # 2 is for men born from 2000
    ("01/01/2000", "Nam", "079000000001"),  # 0 is for men born in the 1900s
    ("01/01/2000", "Nữ", "079200000001"),  # 2 is a man
    ("31/12/1999", "Nữ", "079099000001"),  # 0 is a man
])
def test_cccd_century_digit_mismatch(check, born, sex, citizen_id):
    _, messages = check(date_of_birth=born, sex=sex, citizen_id=citizen_id)
    assert messages == {"citizen_id": "Chữ số thứ tư của CCCD không khớp với ngày sinh và giới tính."}


def test_cccd_year_digits(check):
    _, messages = check(date_of_birth="31/12/1999", citizen_id="079000000001")
    assert messages == {"citizen_id": "Chữ số thứ 5 và 6 của CCCD phải là hai số cuối của năm sinh."}
    _, messages = check(date_of_birth="01/01/2000", citizen_id="079299000001")
    assert messages == {"citizen_id": "Chữ số thứ 5 và 6 của CCCD phải là hai số cuối của năm sinh."}


@pytest.mark.parametrize("citizen_id", ["000090001234", "097090001234", "999090001234"])
def test_cccd_province_code(check, citizen_id):
    _, messages = check(citizen_id=citizen_id)
    assert messages == {"citizen_id": "Ba chữ số đầu của CCCD là mã tỉnh, từ 001 đến 096."}


@pytest.mark.parametrize("citizen_id", ["12345", "07909000123", "0790900012345", "07909000123A"])
def test_cccd_length(check, citizen_id):
    _, messages = check(citizen_id=citizen_id)
    assert messages == {"citizen_id": "Số định danh gồm 12 chữ số (CCCD) hoặc 9 chữ số (CMND cũ)."}


def test_legacy_cmnd_is_accepted(check):
    clean, messages = check(citizen_id="025123456")
    assert messages == {} and clean.citizen_id == "025123456"


def test_province_below_010_loses_two_zeros_in_a_spreadsheet(check):
    clean, messages = check(citizen_id=1090001234)
    assert messages == {} and clean.citizen_id == "001090001234"


def test_id_typed_with_spaces_and_dots(check):
    clean, _ = check(citizen_id=" 079 090.001.234 ")
    assert clean.citizen_id == "079090001234"


@pytest.mark.parametrize("value", [79180611544, 79180611544.0, "79180611544"])
def test_spreadsheet_number_gets_its_leading_zero_back(check, value):
    clean, messages = check(citizen_id=value, date_of_birth="11/06/1980", sex="Nữ")
    assert messages == {}
    assert clean.citizen_id == "079180611544"


# -- phones ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value, stored", [
    (910131394, "0910131394"),
    (910131394.0, "0910131394"),
    ("910131394", "0910131394"),
    ("+84910131394", "0910131394"),
    ("84 910 131 394", "0910131394"),
    ("0910.131.394", "0910131394"),
    ("(028) 3775 0000", "02837750000"),
    (2837750000, "02837750000"),
])
def test_phone_numbers(check, value, stored):
    clean, messages = check(phone=value)
    assert messages == {}
    assert clean.phone == stored


@pytest.mark.parametrize("value", ["0123456789", "12345", "+6591234567", "abc", "1900 1234"])
def test_invalid_phone(check, value):
    _, messages = check(phone=value)
    # The one message of portal.text, the same as on the enterprise's form.
    assert messages == {"phone": "Vui lòng nhập số di động hoặc số cố định Việt Nam, ví dụ 0909 123 456 hoặc "
                                 "028 3775 0000."}


# -- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [date(1990, 5, 17), datetime(1990, 5, 17, 0, 0), "17/5/1990", "1990-05-17",
                                   "17-05-1990", "17.05.1990"])
def test_date_forms(check, value):
    clean, messages = check(date_of_birth=value)
    assert messages == {} and clean.date_of_birth == date(1990, 5, 17)


@pytest.mark.parametrize("value", ["31/02/1990", "1990", "17/05/90", "hôm qua", 33000])
def test_not_a_date(check, value):
    _, messages = check(date_of_birth=value)
    assert messages == {"date_of_birth": "Ngày sinh phải là ngày theo dạng dd/mm/yyyy, ví dụ 25/09/2021."}


@pytest.mark.parametrize("field, label", [
    ("dose1_date", "Ngày tiêm mũi 1"), ("recovered_on", "Ngày khỏi bệnh (F0)"),
    ("tested_on", "Ngày xét nghiệm âm tính"),
])
def test_future_dates_are_refused(check, field, label):
    extra = {"test_kind": "PCR"} if field == "tested_on" else {}
    if field == "dose1_date":
        extra = {"dose2_product": "", "dose2_date": ""}
    _, messages = check(**{field: "02/10/2021"}, **extra)
    assert messages == {field: f"{label} không thể là ngày trong tương lai (02/10/2021)."}


def test_today_is_not_the_future(check):
    clean, messages = check(dose2_date="01/10/2021", recovered_on="01/10/2021", test_kind="pcr",
                            tested_on="01/10/2021")
    assert messages == {}
    assert clean.tested_on == TODAY


def test_future_date_of_birth(check):
    _, messages = check(date_of_birth="02/10/2021")
    assert messages == {"date_of_birth": "Ngày sinh không thể là ngày trong tương lai (02/10/2021)."}


def test_age_limits(check):
    # Turns 15 on 01/10/2021 (today): accepted; one day younger: refused.
    clean, messages = check(date_of_birth="01/10/2006", citizen_id="079206000001")
    assert messages == {}
    _, messages = check(date_of_birth="02/10/2006", citizen_id="079206000001")
    assert messages == {"date_of_birth": "Người lao động phải từ đủ 15 tuổi trở lên (ngày sinh 02/10/2006)."}
    clean, messages = check(date_of_birth="02/10/1921", citizen_id="079021000001")
    assert messages == {}
    _, messages = check(date_of_birth="30/09/1920", citizen_id="079020000001")
    assert messages == {"date_of_birth": "Ngày sinh cách đây hơn 100 năm là không hợp lý (30/09/1920)."}


def test_vaccination_before_december_2020_is_a_slip(check):
    _, messages = check(dose1_date="01/07/2020")
    assert messages == {"dose1_date": "Ngày tiêm mũi 1 không thể trước ngày 01/12/2020."}


# -- doses -------------------------------------------------------------------------------------


def test_doses_out_of_order(check):
    _, messages = check(dose1_date="01/09/2021", dose2_date="01/07/2021")
    assert messages == {"dose2_date": "Ngày tiêm mũi 2 phải sau mũi 1 (01/09/2021)."}
    _, messages = check(dose2_date="01/07/2021")
    assert messages == {"dose2_date": "Ngày tiêm mũi 2 phải sau mũi 1 (01/07/2021)."}


def test_dose_gap(check):
    _, messages = check(dose1_product="", dose1_date="", dose2_product="Pfizer", dose2_date="01/09/2021")
    assert messages == {"dose1_product": "Đã nhập mũi 2 nhưng mũi 1 còn trống: hãy nhập các mũi theo thứ tự."}
    _, messages = check(dose2_product="", dose2_date="", dose3_product="Pfizer", dose3_date="01/09/2021")
    assert messages == {"dose2_product": "Đã nhập mũi 3 nhưng mũi 2 còn trống: hãy nhập các mũi theo thứ tự."}


def test_dose_needs_product_and_date(check):
    _, messages = check(dose2_date="")
    assert messages == {"dose2_date": "Nhập ngày tiêm mũi 2."}
    _, messages = check(dose2_product="")
    assert messages == {"dose2_product": "Nhập loại vắc xin của mũi 2."}


def test_three_doses_and_mixed_products(check):
    clean, messages = check(dose2_product="Pfizer-BioNTech", dose3_product="moderna", dose3_date="2021-09-30")
    assert messages == {}
    assert [product for product, _day in clean.doses] == ["astrazeneca", "pfizer", "moderna"]


@pytest.mark.parametrize("name, code", [("Vero Cell", "verocell"), ("sinopharm", "verocell"),
                                        ("SPUTNIK V", "sputnikv"), ("Johnson & Johnson", "janssen"),
                                        ("abdala", "abdala"), ("Astra", "astrazeneca")])
def test_vaccine_names_and_aliases(check, name, code):
    clean, messages = check(dose1_product=name, dose2_product="", dose2_date="")
    assert messages == {}
    assert clean.doses == ((code, date(2021, 7, 1)),)


def test_unknown_vaccine_lists_the_accepted_names(check):
    _, messages = check(dose1_product="Nanocovax")
    assert messages == {"dose1_product": f"Không nhận ra vắc xin “Nanocovax”. Các tên được chấp nhận: "
                                         f"{ACCEPTED_VACCINES}."}


# -- shift, sex, tests ---------------------------------------------------------------------------


@pytest.mark.parametrize("text, code", [("Hành chính", "office"), ("hanh chinh", "office"), ("Ca 1", "shift1"),
                                        ("ca đêm", "shift3"), ("shift2", "shift2")])
def test_shift_by_name_code_or_alias(check, text, code):
    clean, _ = check(shift=text)
    assert clean.shift == code


def test_unknown_shift_lists_the_shifts(check, app):
    _, messages = check(shift="Ca 9")
    names = ", ".join(shift.name_vi for shift in app.extensions["portal.plugins"].registry.shifts.values())
    assert "Ca 1" in names
    assert messages == {"shift": f"Không có ca làm việc “Ca 9”. Các ca hợp lệ: {names}."}


@pytest.mark.parametrize("text, sex", [("Nam", "M"), ("NAM", "M"), ("m", "M"), ("male", "M"), ("Nữ", "F"),
                                       ("nu", "F"), ("F", "F"), ("Female", "F")])
def test_sex_spellings(check, text, sex):
    born_digit = "0" if sex == "M" else "1"
    clean, messages = check(sex=text, citizen_id=f"079{born_digit}90001234")
    assert messages == {} and clean.sex == sex


def test_unknown_sex(check):
    _, messages = check(sex="X")
    assert messages == {"sex": "Giới tính phải là Nam hoặc Nữ."}


def test_negative_test_needs_a_date_and_may_lack_its_kind(check):
    clean, messages = check(test_kind="Test nhanh", tested_on="28/09/2021")
    assert messages == {} and (clean.test_kind, clean.tested_on) == ("rapid", date(2021, 9, 28))
    _, messages = check(test_kind="PCR")
    assert messages == {"tested_on": "Nhập ngày xét nghiệm âm tính."}
    clean, messages = check(tested_on="28/09/2021")  # offices' lists rarely say which test
    assert messages == {} and (clean.test_kind, clean.tested_on) == (None, date(2021, 9, 28))
    _, messages = check(test_kind="máu", tested_on="28/09/2021")
    assert messages == {"test_kind": "Loại xét nghiệm phải là PCR hoặc xét nghiệm nhanh."}


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x","An")', "@An", "Nguyễn <b>An</b>", "An+Bình"])
def test_names_refuse_formula_and_markup_characters(check, name):
    _, messages = check(full_name=name)
    assert messages == {"full_name": "Họ và tên chỉ gồm chữ cái, dấu cách, dấu nháy đơn, dấu gạch nối và dấu chấm."}


@pytest.mark.parametrize("name", ["Nguyễn Văn An", "Trần Thị Ánh-Hồng", "O'Neil Mary", "Lê T. Hoa"])
def test_names_with_ordinary_punctuation_pass(check, name):
    clean, messages = check(full_name=name)
    assert messages == {} and clean.full_name == name


@pytest.mark.parametrize("value", [["Nguyễn"], {"a": 1}, True])
def test_values_of_the_wrong_kind(check, value):
    _, messages = check(full_name=value)
    assert messages == {"full_name": "Họ và tên có giá trị không đúng kiểu."}


def test_every_problem_is_reported_at_once(check):
    _, messages = check(full_name="", date_of_birth="x", sex="?", phone="1", shift="Ca 9", dose2_date="")
    assert set(messages) == {"full_name", "date_of_birth", "sex", "phone", "shift", "dose2_date"}


def test_messages_are_kept_as_ids_and_shown_in_each_language(app):
    registry = app.extensions["portal.plugins"].registry
    with app.test_request_context():
        _, errors = clean_worker({**VALID, "citizen_id": "079290001234", "full_name": ""}, registry, today=TODAY)
    # Validated once: what is stored renders in whichever language the reader chose.
    stored = [(error.field, json.loads(json.dumps(error.message.as_json()))) for error in errors]
    assert [field for field, _message in stored] == ["full_name", "citizen_id"]
    assert stored[0][1]["id"] == "%(label)s is required."
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        assert [Message.from_json(message).render() for _field, message in stored] == [
            "Full name is required.", "The fourth digit of the CCCD does not match the date of birth and sex."]
    with app.test_request_context():
        assert Message.from_json(stored[0][1]).render() == "Họ và tên là bắt buộc."


def test_duplicate_rows(check):
    first, _ = check()
    other, _ = check(citizen_id="079090004321")
    assert duplicate_rows([first, other, first, other, first]) == {2: 0, 3: 1, 4: 0}
    assert duplicate_rows([first, other]) == {}


# -- spreadsheet columns -----------------------------------------------------------------------------


def test_headers_are_the_templates():
    assert HEADERS == (
        "STT", "Họ và tên", "Ngày sinh", "Giới tính", "Số CCCD/CMND", "Số điện thoại", "Địa chỉ thường trú",
        "Phường/Xã", "Quận/Huyện", "Chức vụ", "Ca làm việc", "Vắc xin mũi 1", "Ngày tiêm mũi 1", "Vắc xin mũi 2",
        "Ngày tiêm mũi 2", "Vắc xin mũi 3", "Ngày tiêm mũi 3", "Ngày khỏi bệnh (F0)", "Loại xét nghiệm",
        "Ngày xét nghiệm âm tính",
    )


def test_header_names_do_not_clash():
    from portal.text import fold

    owners = {}
    for column in COLUMNS:
        for name in (column.header, *column.aliases):
            assert owners.setdefault(fold(name), column.key) == column.key, name


@pytest.mark.parametrize("text, key", [
    ("Họ và tên", "full_name"), ("HO VA TEN", "full_name"), ("Ho ten", "full_name"), ("Số CCCD/CMND *", "citizen_id"),
    ("so cccd/cmnd", "citizen_id"), ("SĐT", "phone"), ("Ngày tiêm\nmũi 2", "dose2_date"),
    ("vac xin mui 3", "dose3_product"), ("Ngay xet nghiem am tinh", "tested_on"), ("STT", None),
])
def test_header_matching(text, key):
    column = match_header(text)
    assert column is not None and column.key == key


def test_unknown_header():
    assert match_header("Ghi chú") is None
    assert match_header(None) is None


@pytest.mark.parametrize("value, escaped", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+84 phố", "'+84 phố"), ("-1", "'-1"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\tTab", "'\tTab"), ("\rCR", "'\rCR"), ("Nguyễn", "Nguyễn"), ("", ""),
    ("'quoted", "'quoted"),
])
def test_escape_cell_round_trip(value, escaped):
    assert escape_cell(value) == escaped
    assert unescape_cell(escaped) == value
