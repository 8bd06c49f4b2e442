"""Workbooks built to exhaust the server (issue 10): each within the upload limit, answered plainly, nothing written.

The files are in ``hostile.py``; bench/hostile_uploads.py prints the peak memory each one costs.
"""
from __future__ import annotations

import io
import tracemalloc
import zipfile

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from portal.extensions import db
from portal.imports.models import ImportBatch
from portal.imports.parsing import ImportFileError, Limits, parse_upload
from portal.imports.settings import header_spec
from portal.messages import Message
from portal.workers.models import Worker

from . import hostile

pytestmark = pytest.mark.slow

#: What the uploader reads about each hostile file, in English and in Vietnamese (the start of the message).
ANSWERS = {
    "wide_row": ("Row 1 of the sheet “Sheet1” has more than 16,384 cells, more than Excel allows.",
                 "Dòng 1 của trang “Sheet1” có hơn 16,384 ô"),
    "many_cells": ("This workbook holds far more cells than a worker list has",
                   "Tệp Excel này có quá nhiều ô so với một danh sách người lao động"),
    "many_shared_strings": ("This workbook holds far more text than a worker list has",
                            "Tệp Excel này có quá nhiều chữ so với một danh sách người lao động"),
    "one_huge_string": ("This workbook holds far more text than a worker list has",
                        "Tệp Excel này có quá nhiều chữ so với một danh sách người lao động"),
    "many_sheets": ("No header row was found in the first rows of the file.",
                    "Không tìm thấy dòng tiêu đề"),
    "deep_nesting": ("This Excel file could not be read; it may be damaged.",
                     "Không đọc được tệp Excel này"),
}


def _said(app, stored, language: str) -> str:
    with app.test_request_context(), force_locale(language):
        return Message.from_json(stored).render()


def _upload(importer, data: bytes):
    """POST ``data`` as the import form does; the body is built here because the test client spools a large file
    to a temporary file it never closes."""
    client = importer.client
    boundary = "portal-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{client.csrf_token()}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"danh_sach.xlsx\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return client.post("/workers/import", data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_the_hostile_files_are_what_they_claim():
    """The control: each file is within the upload's size limit and passes the zip checks, unpacking large."""
    for name, (build, _what) in hostile.HOSTILE.items():
        data = build()
        assert len(data) < 5 * 1024 * 1024, name
        if name.startswith("csv_"):
            continue
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
        if name not in ("amplified_text", "text_at_the_bound"):  # those are small: their shared strings amplify
            assert sum(info.file_size for info in infos) > 14 * 1024 * 1024, name
        assert all(info.file_size <= 150 * max(info.compress_size, 1) for info in infos), name
    with zipfile.ZipFile(io.BytesIO(hostile.wide_row())) as archive:
        with archive.open("xl/worksheets/sheet1.xml") as sheet:
            head = sheet.read(4 * 1024 * 1024)
    assert head.count(b"<c>") > 250_000  # one row, cell after cell, far past Excel's 16,384 columns
    assert head.count(b"<row") == 1


@pytest.mark.parametrize("name", list(ANSWERS))
def test_a_hostile_workbook_is_refused_plainly_and_nothing_is_written(app, hr_a, importer, name):
    english, vietnamese = ANSWERS[name]
    workers, batches = _count(app, Worker), _count(app, ImportBatch)
    batch_id = importer.batch_id(_upload(importer, hostile.HOSTILE[name][0]()))
    importer.client.set_cookie("lang", "en")
    page = importer.preview(batch_id).get_data(as_text=True)
    assert english in page.replace("&#34;", '"')
    with app.app_context():
        batch = db.session.get(ImportBatch, batch_id)
        assert _said(app, batch.message, "vi").startswith(vietnamese)
        assert (batch.status, batch.file_data, batch.rows_data, batch.report_data) == ("failed", None, None, None)
    assert _count(app, Worker) == workers and _count(app, ImportBatch) == batches + 1


def test_long_shared_strings_are_cut_and_reported_per_row(app, hr_a, importer):
    workers = _count(app, Worker)
    batch_id = importer.batch_id(_upload(importer, hostile.long_shared_strings()))
    importer.client.set_cookie("lang", "en")
    page = importer.preview(batch_id).get_data(as_text=True)
    assert "This cell is longer than 1000 characters." in page
    with app.app_context():
        batch = db.session.get(ImportBatch, batch_id)
        assert (batch.status, batch.total_rows, batch.error_count, batch.valid_count) == ("ready", 3000, 3000, 0)
        assert all(len(entry["name"]) <= 80 for entry in batch.report())
    assert importer.commit(batch_id).status_code == 302
    assert _count(app, Worker) == workers


def test_shared_strings_repeated_in_every_cell_are_refused_once_the_text_is_too_much(app, hr_a, importer):
    # 40 KB; read as it is written, 160,000 cells of 1,000 characters: the server stops at 4 million characters.
    data = hostile.amplified_text()
    assert len(data) < 64 * 1024  # read in the request
    importer.client.set_cookie("lang", "en")
    response = importer.upload(data, "danh_sach.xlsx")
    assert response.status_code == 422
    assert ("This file holds far more text than a worker list has (more than 4,000,000 characters by row 502), so "
            "it was not read to the end.") in response.get_data(as_text=True)
    assert _count(app, ImportBatch) == 0


def test_text_just_under_the_bound_is_checked_row_by_row(app, hr_a, importer):
    """The control for the test above: the same construction with shorter cells is read and reported."""
    workers = _count(app, Worker)
    batch_id = importer.batch_id(_upload(importer, hostile.HOSTILE["text_at_the_bound"][0]()))
    with app.app_context():
        batch = db.session.get(ImportBatch, batch_id)
        assert (batch.status, batch.total_rows, batch.error_count) == ("ready", 10_000, 10_000)
    assert _count(app, Worker) == workers


def test_a_small_hostile_workbook_is_refused_on_the_form(app, hr_a, importer):
    data = hostile.deep_nesting(depth=200)
    assert len(data) < 64 * 1024  # read in the request, not by a job
    importer.client.set_cookie("lang", "en")
    response = importer.upload(data, "danh_sach.xlsx")
    assert response.status_code == 422
    assert "This Excel file could not be read; it may be damaged." in response.get_data(as_text=True)
    assert _count(app, ImportBatch) == 0


@pytest.mark.parametrize("name", ["wide_row", "one_huge_string", "deep_nesting"])
def test_reading_a_hostile_workbook_allocates_little(name):
    data = hostile.HOSTILE[name][0]()
    tracemalloc.start()
    try:
        with pytest.raises(ImportFileError):
            parse_upload(data, header_spec(), Limits())
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024, f"{name}: {peak / 1e6:.1f} MB"


def test_the_same_construction_within_bounds_is_read():
    """The control for the bounds: a row of Excel's full width, and a normal list, are read."""
    parsed = parse_upload(hostile.normal(), header_spec(), Limits())
    assert len(parsed.rows) == 1000 and parsed.rows[-1].values["home_district"] == "Quận 7"
    with pytest.raises(ImportFileError) as caught:
        parse_upload(hostile.wide_row(cells=16_384), header_spec(), Limits())
    assert str(caught.value).startswith("No header row was found")  # read to the end: 16,384 cells are allowed


@pytest.mark.parametrize(("body", "said"), [
    # One line of 4.9 MB: refused before the CSV reader splits it.
    (hostile.csv_long_line(), "Line 1 of the file is longer than 1,048,576 characters: this is not a worker list."),
    # Lines within the bound, each row far wider than Excel allows.
    (hostile.csv_wide_rows(), "Row 2 of the file has more than 16,384 cells: this is not a worker list."),
    # One row spread over many lines by quoted line breaks.
    (b"Ho va ten,Ngay sinh\r\n" + b'"\n",' * 1_000_000, "Row 2 of the file has more than 16,384 cells"),
])
def test_hostile_csv_files_are_refused_plainly(app, hr_a, importer, body, said):
    assert len(body) < 5 * 1024 * 1024
    importer.client.set_cookie("lang", "en")
    response = _upload(importer, body)
    assert response.status_code == 302  # read by the job: the batch page says why
    page = importer.client.get(response.headers["Location"]).get_data(as_text=True)
    assert said in page
    assert _count(app, Worker) == 2
