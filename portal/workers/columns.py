"""The worker spreadsheet's columns: one definition shared by the export, the import template and header matching.

The headers are the Vietnamese ones HR staff know from the city's template; they stay Vietnamese whatever
the interface language, so a file exported in English imports back unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass

from portal.text import fold


@dataclass(frozen=True)
class Column:
    """One spreadsheet column: ``key`` is a field of :data:`portal.workers.validation.FIELDS` (None for STT)."""

    key: str | None
    header: str
    aliases: tuple[str, ...] = ()
    #: Kept as text in XLSX so that leading zeros survive (citizen IDs, phones).
    text: bool = False


def _dose_columns(number: int) -> tuple[Column, Column]:
    return (
        Column(f"dose{number}_product", f"Vắc xin mũi {number}",
               (f"vaccine mui {number}", f"vac xin mui {number}", f"loai vac xin mui {number}",
                f"ten vac xin mui {number}", f"mui {number}", f"vaccine {number}", f"dose {number} vaccine",
                f"dose {number} product", f"dose{number}_product")),
        Column(f"dose{number}_date", f"Ngày tiêm mũi {number}",
               (f"ngay tiem {number}", f"ngay mui {number}", f"ngay tiem vac xin mui {number}",
                f"dose {number} date", f"dose{number}_date")),
    )


#: Every column in the order of the import template and the export.
COLUMNS: tuple[Column, ...] = (
    Column(None, "STT", ("so thu tu", "tt", "no", "no.", "#")),
    Column("full_name", "Họ và tên", ("ho ten", "ho va ten", "ten", "ho ten nguoi lao dong", "full name", "name",
                                      "full_name")),
    Column("date_of_birth", "Ngày sinh", ("ngay thang nam sinh", "ngay/thang/nam sinh", "sinh ngay", "date of birth",
                                          "dob", "date_of_birth")),
    Column("sex", "Giới tính", ("gioi", "nam/nu", "phai", "sex", "gender")),
    Column("citizen_id", "Số CCCD/CMND", ("cccd", "cmnd", "cccd/cmnd", "so cccd", "so cmnd", "so cmnd/cccd",
                                          "can cuoc cong dan", "so dinh danh", "citizen id", "id number",
                                          "citizen_id"), text=True),
    Column("phone", "Số điện thoại", ("dien thoai", "sdt", "so dt", "dt", "di dong", "phone", "phone number",
                                      "mobile"), text=True),
    Column("home_address", "Địa chỉ thường trú", ("dia chi", "dia chi noi o", "noi o hien nay", "cho o hien nay",
                                                   "dia chi tam tru", "address", "home address", "home_address")),
    Column("home_ward", "Phường/Xã", ("phuong", "xa", "phuong xa", "phuong/xa/thi tran", "ward", "home_ward")),
    Column("home_district", "Quận/Huyện", ("quan", "huyen", "quan huyen", "quan/huyen/thanh pho", "district",
                                           "home_district")),
    Column("job_title", "Chức vụ", ("chuc danh", "vi tri", "vi tri cong viec", "cong viec", "nghe nghiep",
                                    "job title", "position", "job_title")),
    Column("shift", "Ca làm việc", ("ca", "ca lam", "ca truc", "shift")),
    *_dose_columns(1),
    *_dose_columns(2),
    *_dose_columns(3),
    Column("recovered_on", "Ngày khỏi bệnh (F0)", ("ngay khoi benh", "khoi benh", "ngay ra vien", "f0 khoi benh",
                                                    "ngay khoi benh f0", "recovered on", "recovery date",
                                                    "recovered_on")),
    Column("test_kind", "Loại xét nghiệm", ("loai xn", "xet nghiem", "hinh thuc xet nghiem", "test kind", "test type",
                                            "test_kind")),
    Column("tested_on", "Ngày xét nghiệm âm tính", ("ngay xet nghiem", "ngay xn", "ngay xn am tinh",
                                                    "ngay xet nghiem gan nhat", "test date", "tested on",
                                                    "tested_on")),
)

HEADERS: tuple[str, ...] = tuple(column.header for column in COLUMNS)

_BY_NAME: dict[str, Column] = {}
for _column in COLUMNS:
    for _name in (_column.header, *_column.aliases):
        _BY_NAME.setdefault(fold(_name), _column)

#: A cell beginning with one of these is a formula (or becomes one) when a spreadsheet opens the file.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def match_header(text: object) -> Column | None:
    """Return the column a header cell names (any case, with or without diacritics, a trailing ``*`` ignored)."""
    if text is None:
        return None
    name = fold(str(text).replace("\n", " ").strip().rstrip("*:").strip())
    return _BY_NAME.get(name)


def escape_cell(value: str) -> str:
    """Prefix a text that a spreadsheet would run as a formula with an apostrophe."""
    if value and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def unescape_cell(value: str) -> str:
    """Undo :func:`escape_cell` (a file exported by the portal imports back as it was)."""
    if len(value) > 1 and value[0] == "'" and value[1:].startswith(FORMULA_TRIGGERS):
        return value[1:]
    return value
