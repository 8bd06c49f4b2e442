"""Reading worker lists as offices produce them: encodings, separators, title rows, header spellings, XLSX cells."""
from __future__ import annotations

import codecs
import io
import unicodedata
import zipfile

import pytest

from portal.imports.parsing import ImportFileError, Limits, parse_upload
from portal.imports.settings import header_spec


def parse(data: bytes, **limits):
    return parse_upload(data, header_spec(), Limits(**limits) if limits else Limits())


def refused(data: bytes, **limits) -> str:
    with pytest.raises(ImportFileError) as caught:
        parse(data, **limits)
    return str(caught.value)


# -- text encodings ------------------------------------------------------------------------------------------

def test_utf8_with_bom(files):
    data = files.csv(files.rows(3), encoding="utf-8-sig")
    assert data.startswith(codecs.BOM_UTF8)
    parsed = parse(data)
    assert (parsed.kind, parsed.encoding, parsed.delimiter, parsed.header_row) == ("csv", "utf-8-sig", ",", 1)
    assert [row.number for row in parsed.rows] == [2, 3, 4]
    assert parsed.rows[1].values["full_name"] == "Trần Thị Bích Ngọc"
    assert parsed.headers["citizen_id"] == "Số CCCD/CMND"


def test_utf8_without_bom(files):
    parsed = parse(files.csv(files.rows(2), encoding="utf-8"))
    assert parsed.encoding == "utf-8"
    assert parsed.rows[0].values["home_address"] == "1/4 Nguyễn Thị Thập"


def test_cp1258_codec_needs_combining_tone_marks():
    # Python's cp1258 codec has no "ễ": Windows-1258 stores "ê" (0xEA) then a combining tilde (0xDE).
    with pytest.raises(UnicodeEncodeError):
        "Nguyễn".encode("cp1258")
    with pytest.raises(UnicodeEncodeError):
        unicodedata.normalize("NFD", "Nguyễn").encode("cp1258")  # full NFD splits the circumflex off too


def test_windows_1258_file(files, cp1258):
    assert cp1258("Nguyễn").encode("cp1258") == b"Nguy\xea\xden"
    rows = files.rows(4)
    data = files.csv(rows, encoding="cp1258", transform=cp1258)
    assert "Nguyễn".encode() not in data
    parsed = parse(data)
    assert parsed.encoding == "cp1258"
    names = [row.values["full_name"] for row in parsed.rows]
    assert names == [row["Họ và tên"] for row in rows]
    assert names[0] == unicodedata.normalize("NFC", "Nguyễn Văn An")
    assert parsed.headers["full_name"] == "Họ và tên"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be-bom"])
def test_utf16_with_bom(files, encoding):
    text = files.csv(files.rows(2), encoding="utf-8").decode("utf-8")
    data = codecs.BOM_UTF16_LE + text.encode("utf-16-le") if encoding == "utf-16" \
        else codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    parsed = parse(data)
    assert parsed.encoding == "utf-16"
    assert [row.values["full_name"] for row in parsed.rows] == ["Nguyễn Văn An", "Trần Thị Bích Ngọc"]


def test_utf16_without_bom_is_recognised(files):
    data = files.csv(files.rows(1), encoding="utf-8").decode("utf-8").encode("utf-16-le")
    assert parse(data).rows[0].values["sex"] == "Nam"


# -- separators, quotes, title rows, headers ---------------------------------------------------------------

@pytest.mark.parametrize("delimiter", [";", "\t", ","])
def test_separators_are_sniffed(files, delimiter):
    rows = files.rows(2)
    rows[0]["Địa chỉ thường trú"] = "12, hẻm 4; Lê Lợi"
    parsed = parse(files.csv(rows, delimiter=delimiter))
    assert parsed.delimiter == delimiter
    assert parsed.rows[0].values["home_address"] == "12, hẻm 4; Lê Lợi"
    assert parsed.rows[1].values["phone"] == rows[1]["Số điện thoại"]


def test_quoted_cell_with_a_line_break_is_one_excel_row(files):
    rows = files.rows(3)
    rows[0]["Địa chỉ thường trú"] = 'Số 5 "Khu B"\nLầu 2'
    parsed = parse(files.csv(rows))
    assert [row.number for row in parsed.rows] == [2, 3, 4]
    assert parsed.rows[0].values["home_address"] == 'Số 5 "Khu B"\nLầu 2'


def test_title_rows_above_the_header_count_in_row_numbers(files):
    data = files.csv(files.rows(2), title_rows=["CÔNG TY TNHH ÁNH DƯƠNG", "DANH SÁCH NGƯỜI LAO ĐỘNG"])
    parsed = parse(data)
    assert parsed.header_row == 3
    assert [row.number for row in parsed.rows] == [4, 5]


def test_headers_without_diacritics_in_any_case_with_extra_spaces(files):
    headers = ["stt", "HO VA TEN", "  ngay   sinh ", "Gioi tinh", "CCCD/CMND", "So dien thoai", "Dia chi thuong tru",
               "Phuong / Xa", "QUAN/HUYEN", "chuc vu", "Ca lam viec", "Vac xin mui 1", "Ngay tiem mui 1",
               "vac xin mui 2", "Ngày tiêm mũi 2 (*)"]
    parsed = parse(files.csv(files.rows(1), headers=headers))
    assert set(parsed.headers) == {"full_name", "date_of_birth", "sex", "citizen_id", "phone", "home_address",
                                   "home_ward", "home_district", "job_title", "shift", "dose1_product",
                                   "dose1_date", "dose2_product", "dose2_date"}
    assert parsed.headers["home_ward"] == "Phuong / Xa"
    assert parsed.headers["date_of_birth"] == "ngay sinh"  # shown as the user wrote it, spaces tidied
    assert parsed.ignored_headers == []


@pytest.mark.parametrize("header", ["Số CCCD", "CCCD/CMND", "So CMND", "Số CCCD / CMND", "CCCD"])
def test_citizen_id_header_variants(files, header):
    headers = [header if h == "Số CCCD/CMND" else h for h in files.headers]
    assert parse(files.csv(files.rows(1), headers=headers)).headers["citizen_id"] == header


def test_unknown_columns_are_listed_and_ignored(files):
    columns = [*files.headers, "Ghi chú", "Mã nhân viên"]
    rows = files.rows(1)
    rows[0]["Ghi chú"] = "nghỉ phép"
    parsed = parse(files.csv(rows, columns=columns))
    assert parsed.ignored_headers == ["Ghi chú", "Mã nhân viên"]
    assert "nghỉ phép" not in parsed.rows[0].values.values()


def test_missing_required_columns_are_named_in_one_error(files):
    columns = [h for h in files.headers if h not in ("Ngày sinh", "Số điện thoại")]
    message = refused(files.csv(files.rows(1), columns=columns))
    assert "Ngày sinh" in message and "Số điện thoại" in message
    assert message.startswith("The file has no column for:")


def test_no_header_row_at_all(files):
    data = "\n".join(f"{i},Nguyễn Văn {i},01/01/1990" for i in range(30)).encode()
    assert "No header row was found" in refused(data)


def test_one_field_in_two_columns_is_refused(files):
    columns = [*files.headers, "CCCD"]
    message = refused(files.csv(files.rows(1), columns=columns))
    assert "“Số CCCD/CMND”" in message and "“CCCD”" in message


def test_empty_rows_and_stt_only_rows_are_skipped(files):
    rows = files.rows(2)
    data = files.csv([rows[0], {}, {"STT": "3"}, rows[1], {}])
    parsed = parse(data)
    assert [row.number for row in parsed.rows] == [2, 5]
    assert "STT" not in str(parsed.headers)


def test_header_without_rows_is_refused(files):
    assert refused(files.csv([])) == "The file has a header row but no worker rows under it."


# -- XLSX -------------------------------------------------------------------------------------------------

def test_xlsx_numbers_and_date_cells(files):
    rows = files.rows(2)
    data = files.xlsx(rows, title_rows=["DANH SÁCH NGƯỜI LAO ĐỘNG"], numbers=True, date_cells=True)
    parsed = parse(data)
    assert (parsed.kind, parsed.header_row, parsed.sheet) == ("xlsx", 2, "Danh sách")
    first = parsed.rows[0]
    assert first.number == 3
    # Excel dropped the leading zero; the cell text keeps the digits and validation puts the 0 back.
    assert first.values["citizen_id"] == rows[0]["Số CCCD/CMND"].lstrip("0")
    assert first.values["phone"] == rows[0]["Số điện thoại"].lstrip("0")
    assert first.values["date_of_birth"] == rows[0]["Ngày sinh"]
    assert first.values["dose2_date"] == rows[0]["Ngày tiêm mũi 2"]


def test_xlsx_text_dates_in_d_m_yyyy(files):
    rows = files.rows(1)
    rows[0]["Ngày sinh"] = "5/1/1980"
    parsed = parse(files.xlsx(rows))
    assert parsed.rows[0].values["date_of_birth"] == "5/1/1980"


def test_xlsx_header_on_a_later_sheet(files):
    parsed = parse(files.xlsx(files.rows(1), sheets_before=["Hướng dẫn"]))
    assert parsed.sheet == "Danh sách"
    assert parsed.rows[0].values["full_name"] == "Nguyễn Văn An"


def test_xlsx_formula_cells_are_refused_naming_the_cell_never_kept_as_text(files):
    # The STT column's numbering formula is in a column the import ignores: it is no problem.
    data = files.xlsx(files.rows(2), cells={(2, 10): "=1+1", (2, 7): '=HYPERLINK("http://x.example","A")',
                                            (2, 1): "=ROW()-1", (3, 1): "=ROW()-1"})
    first, second = parse(data).rows
    assert "job_title" not in first.values and "home_address" not in first.values
    assert not any(value.startswith("=") for value in first.values.values())
    problems = {problem.field: str(problem.message) for problem in first.problems}
    assert set(problems) == {"job_title", "home_address"}
    assert problems["job_title"].startswith("Cell J2 holds a formula (=1+1), not a value.")
    assert problems["home_address"].startswith('Cell G2 holds a formula (=HYPERLINK("http://x.example","A"))')
    assert second.problems == [] and second.values["full_name"] == "Trần Thị Bích Ngọc"


def test_xls_is_refused_with_a_save_as_message():
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2000)
    assert "(.xls)" in refused(data) and ".xlsx" in refused(data)


# -- what is not a worker list ----------------------------------------------------------------------------

NOT_A_LIST = "This file is not a worker list we can read."


@pytest.mark.parametrize("data", [
    b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
    b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
    bytes((i * 7919 + 13) % 256 for i in range(5000)),
], ids=["png", "pdf", "random"])
def test_not_a_spreadsheet(data):
    assert refused(data).startswith(NOT_A_LIST)


@pytest.mark.parametrize("data", [
    "<html><body><table><tr><td>Họ và tên</td></tr></table></body></html>".encode(),
    '<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"></Workbook>'.encode("utf-16"),
], ids=["html-table-named-xls", "excel-2003-xml"])
def test_web_page_saved_as_excel(data):
    assert refused(data).startswith("This file is a web page or an Excel 2003 XML file")


def test_other_markup_is_not_a_list():
    assert refused(b'<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>').startswith(NOT_A_LIST)


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\r\n\r\n  "], ids=["empty", "bom-only", "blank"])
def test_empty_file(data):
    assert refused(data) == "The file is empty."


def test_a_zip_that_is_not_a_workbook():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    assert refused(buffer.getvalue()).startswith(NOT_A_LIST)


def test_a_damaged_workbook(files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(files.xlsx(files.rows(1)))) as source, zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            body = b"<worksheet><sheetData><row" if info.filename.endswith("sheet1.xml") else source.read(info)
            target.writestr(info, body)
    assert refused(buffer.getvalue()).startswith("This Excel file could not be read")


# -- limits ------------------------------------------------------------------------------------------------

def test_too_many_rows(files):
    data = files.csv(files.rows(11))
    assert len(parse(data, max_rows=11).rows) == 11
    assert refused(data, max_rows=10) == "The file has more than 10 worker rows. Split it into several files."


def test_too_many_rows_in_xlsx(files):
    assert "more than 5 worker rows" in refused(files.xlsx(files.rows(6)), max_rows=5)


def test_file_too_large(files):
    data = files.csv(files.rows(20))
    assert refused(data, max_bytes=len(data) - 1).startswith("The file is larger than")


def test_too_many_columns(files):
    columns = [*files.headers, *(f"Cột thêm {i}" for i in range(60))]
    assert refused(files.csv(files.rows(1), columns=columns)).startswith("The file has more than 60 columns")


def test_a_cell_too_long_is_a_problem_of_its_row(files):
    rows = files.rows(2)
    rows[1]["Chức vụ"] = "x" * 1001
    parsed = parse(files.csv(rows))
    assert parsed.rows[0].problems == []
    (problem,) = parsed.rows[1].problems
    assert problem.field == "job_title"
    assert str(problem.message) == "This cell is longer than 1000 characters."


def test_progress_is_told_while_a_long_file_is_read(files):
    told = []
    parse_upload(files.csv(files.rows(2500)), header_spec(), Limits(), progress=told.append)
    assert told == [1000, 2000]
