"""Hostile uploads: zip bombs, XML entities, formula-like cells, markup in cells, oversized requests."""
from __future__ import annotations

import io
import tracemalloc
import zipfile

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.imports.parsing import ImportFileError, Limits, parse_upload
from portal.imports.settings import header_spec
from portal.workers.models import Worker

BOMB_MESSAGE = "This workbook is abnormally large once unpacked"


def rebuild(xlsx: bytes, replace: dict[str, object], extra: int = 0) -> bytes:
    """Copy a workbook, swapping members (bytes, or a callable writing to a stream) and adding empty ones."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as source, \
            zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            body = replace.get(info.filename, source.read(info))
            if callable(body):
                with target.open(info.filename, "w", force_zip64=True) as stream:
                    body(stream)
            else:
                target.writestr(info.filename, body)
        for index in range(extra):
            target.writestr(f"xl/media/pad{index}.bin", b"")
    return buffer.getvalue()


def huge_cell_sheet(megabytes: float):
    """Write a valid worksheet whose one cell holds ``megabytes`` MB of text (it compresses a thousandfold)."""

    def write(stream):
        stream.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
                     b'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>')
        chunk = b"A" * (64 * 1024)
        for _ in range(int(megabytes * 16)):
            stream.write(chunk)
        stream.write(b"</t></is></c></row></sheetData></worksheet>")

    return write


def refused(data: bytes, **limits) -> str:
    with pytest.raises(ImportFileError) as caught:
        parse_upload(data, header_spec(), Limits(**limits))
    return str(caught.value)


def test_zip_bomb_is_refused_before_anything_is_inflated(files):
    bomb = rebuild(files.xlsx(files.rows(1)), {"xl/worksheets/sheet1.xml": huge_cell_sheet(200)})
    assert len(bomb) < 1024 * 1024  # 200 MB of cell text in a file smaller than 1 MB
    tracemalloc.start()
    try:
        message = refused(bomb)
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert message.startswith(BOMB_MESSAGE)
    assert peak < 8 * 1024 * 1024


def test_zip_bomb_by_ratio_alone(files):
    # 30 MB stays under the total limit; its compression ratio gives it away.
    bomb = rebuild(files.xlsx(files.rows(1)), {"xl/worksheets/sheet1.xml": huge_cell_sheet(30)})
    assert refused(bomb).startswith(BOMB_MESSAGE)


def test_same_sheet_within_limits_would_be_read(files):
    # The control for the two tests above: the same construction, small, is an ordinary (headerless) workbook.
    small = rebuild(files.xlsx(files.rows(1)), {"xl/worksheets/sheet1.xml": huge_cell_sheet(0.9)})
    assert refused(small).startswith("No header row was found")


def test_too_many_zip_entries(files):
    assert refused(rebuild(files.xlsx(files.rows(1)), {}, extra=600)).startswith(BOMB_MESSAGE)


def test_xml_entities_are_not_expanded(files):
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML, "defusedxml must be installed so that openpyxl refuses entity declarations"
    xlsx = files.xlsx(files.rows(1))
    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    # Without defusedxml this workbook would import, with "lolol…" as the job title.
    doctype = ('<!DOCTYPE worksheet [<!ENTITY lol "lolololololololololol">'
               '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>')
    laughs = doctype + sheet.replace("<t>Công nhân</t>", "<t>&lol2;</t>")
    assert "&lol2;" in laughs
    assert refused(rebuild(xlsx, {"xl/worksheets/sheet1.xml": laughs.encode()})).startswith(
        "This Excel file could not be read")


def test_formula_like_cells_are_data(app, hr_a, importer, files):
    rows = files.rows(3)
    rows[0]["Chức vụ"] = "@SUM(A1)"
    rows[1]["Số điện thoại"] = "+84 909 123 456"
    rows[1]["Địa chỉ thường trú"] = "-x"
    rows[2]["Họ và tên"] = "=1+1"
    batch_id = importer.batch_id(importer.upload(files.csv(rows)))
    importer.client.set_cookie("lang", "en")
    page = importer.preview(batch_id, show="problems").get_data(as_text=True)
    assert "=1+1" in page and "A full name has no digits" in page
    assert importer.commit(batch_id, valid_only=True).status_code == 302
    with app.app_context():
        stored = {w.citizen_id: w for w in db.session.scalars(select(Worker))}
        assert stored[rows[0]["Số CCCD/CMND"]].job_title == "@SUM(A1)"
        assert stored[rows[1]["Số CCCD/CMND"]].phone == "0909123456"
        assert stored[rows[1]["Số CCCD/CMND"]].home_address == "-x"
        assert rows[2]["Số CCCD/CMND"] not in stored


def test_markup_in_cells_is_shown_escaped(hr_a, importer, files):
    rows = files.rows(1)
    rows[0]["Họ và tên"] = '<script>alert("x")</script>'
    rows[0]["Ngày sinh"] = "<b>hôm qua</b>"
    batch_id = importer.batch_id(importer.upload(files.csv(rows, columns=[*files.headers, "<img src=x>"])))
    page = importer.preview(batch_id, show="problems").get_data(as_text=True)
    assert "<script>alert" not in page and "<b>hôm qua" not in page and "<img src=x>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "&lt;img src=x&gt;" in page  # the ignored column is named in a notice, escaped


def test_problem_csv_neutralises_formulas(hr_a, importer, files):
    rows = files.rows(1)
    rows[0]["Họ và tên"] = "=1+1"
    batch_id = importer.batch_id(importer.upload(files.csv(rows)))
    importer.client.set_cookie("lang", "en")
    body = importer.client.get(f"/workers/import/{batch_id}/problems.csv").get_data().decode("utf-8-sig")
    lines = body.splitlines()
    assert lines[0] == "Row,Column,Full name,Problem"
    assert lines[1].startswith("2,Họ và tên,'=1+1,")


def test_upload_larger_than_the_app_limit_is_413(app, hr_a, client):
    # The body is built here (the test client would spool a file this large to a temporary file it never closes).
    boundary = "portal-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{client.csrf_token()}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\n"
            f"Content-Type: text/csv\r\n\r\n").encode() + b"a" * app.config["MAX_CONTENT_LENGTH"] + \
        f"\r\n--{boundary}--\r\n".encode()
    response = client.post("/workers/import", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 413


def test_upload_larger_than_the_import_limit(app, hr_a, importer, files):
    app.config["IMPORT_MAX_BYTES"] = 2048
    importer.client.set_cookie("lang", "en")
    response = importer.upload(files.csv(files.rows(30)))
    assert response.status_code == 422
    assert "The file is larger than 2 KB. Split the list into several files." in response.get_data(as_text=True)
