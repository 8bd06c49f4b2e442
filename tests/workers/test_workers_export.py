"""The XLSX and CSV exports: template headers, text IDs, dd/mm/yyyy dates, no formulas, own workers only."""
from __future__ import annotations

import csv
import io
from datetime import date

import openpyxl
import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.testing.fixtures import make_worker
from portal.workers.columns import HEADERS, match_header, unescape_cell
from portal.workers.validation import clean_worker

HOSTILE = {
    "job_title": "=HYPERLINK(\"http://evil.example\",\"x\")",
    "home_address": "+84 Nguyễn Hữu Thọ",
    "home_ward": "-Tân Phong",
    "home_district": "@SUM(1+1)",
}


@pytest.fixture
def exported(app, world):
    """A's workers: worker A, plus one with a CMND, F0 recovery, a test and cells that look like formulas."""
    from portal.enterprises.models import Enterprise

    with app.app_context():
        a = db.session.get(Enterprise, world.enterprise_a)
        tricky = make_worker(db.session, a, citizen_id="025123456", name="Đặng Thị Ánh", sex="F",
                             born=date(1985, 1, 2),
                             doses=[("verocell", date(2021, 7, 1)), ("verocell", date(2021, 8, 1)),
                                    ("pfizer", date(2021, 9, 20))],
                             recovered_on=date(2021, 8, 15), shift="shift3")
        for key, value in HOSTILE.items():
            setattr(tricky, key, value)
        tricky.phone = "02837750000"
        tricky.test_kind, tricky.tested_on = "rapid", date(2021, 9, 28)
        db.session.commit()
    return world


def sheet_rows(response) -> list[list]:
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    return [[cell.value for cell in row] for row in workbook.active.iter_rows()]


def csv_rows(response) -> list[list[str]]:
    assert response.data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


EXPECTED_TRICKY = [
    "Đặng Thị Ánh", "02/01/1985", "Nữ", "025123456", "02837750000", "'+84 Nguyễn Hữu Thọ", "'-Tân Phong",
    "'@SUM(1+1)", "'=HYPERLINK(\"http://evil.example\",\"x\")", "Ca 3", "Vero Cell", "01/07/2021", "Vero Cell",
    "01/08/2021", "Pfizer", "20/09/2021", "15/08/2021", "Nhanh", "28/09/2021",
]


def expected_a(app, world) -> list[str]:
    from portal.workers.models import Worker

    with app.app_context():
        worker = db.session.get(Worker, world.worker_a)
        first, second = (dose.given_on.strftime("%d/%m/%Y") for dose in worker.doses)
    return ["Nguyễn Văn An", "17/05/1990", "Nam", "079090001234", "0909123456", "45 Lê Văn Lương", "Tân Hưng",
            "Quận 7", "Công nhân", "Hành chính", "AstraZeneca", first, "AstraZeneca", second, "", "", "", "", ""]


def test_xlsx_export(client, auth, exported, app):
    auth.login(exported.hr_a)
    response = client.submit("/workers/export.xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert response.headers["Content-Disposition"].startswith('attachment; filename="nguoi-lao-dong-0301234562-')
    assert response.headers["Cache-Control"] == "no-store"
    rows = sheet_rows(response)
    assert tuple(rows[0]) == HEADERS
    assert len(rows) == 3
    by_name = {row[1]: row for row in rows[1:]}
    assert [row[0] for row in rows[1:]] == [1, 2]
    assert [value or "" for value in by_name["Đặng Thị Ánh"][1:]] == EXPECTED_TRICKY
    assert [value or "" for value in by_name["Nguyễn Văn An"][1:]] == expected_a(app, exported)
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    for row in workbook.active.iter_rows(min_row=2):
        for cell in row[1:]:
            assert cell.data_type == "s" or cell.value is None  # text: no formula, no number
    with app.app_context():
        [logged] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "workers.exported")).all()
        assert logged.after == {"format": "xlsx", "count": 2}


def test_csv_export(client, auth, exported, app):
    auth.login(exported.hr_a)
    response = client.submit("/workers/export.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = csv_rows(response)
    assert tuple(rows[0]) == HEADERS
    by_name = {row[1]: row for row in rows[1:]}
    assert by_name["Đặng Thị Ánh"][1:] == EXPECTED_TRICKY
    assert by_name["Nguyễn Văn An"][1:] == expected_a(app, exported)
    for row in rows[1:]:
        for value in row:
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value


def test_export_follows_the_list_filters(client, auth, exported):
    auth.login(exported.hr_a)
    rows = csv_rows(client.submit("/workers/export.csv?q=dang thi"))
    assert [row[1] for row in rows[1:]] == ["Đặng Thị Ánh"]
    assert csv_rows(client.submit("/workers/export.csv?status=left"))[1:] == []


def test_export_holds_only_own_workers(client, auth, exported):
    auth.login(exported.hr_b)
    rows = csv_rows(client.submit("/workers/export.csv"))
    assert [row[1] for row in rows[1:]] == ["Đỗ Thị Bích"]
    assert sheet_rows(client.submit("/workers/export.xlsx"))[1][4] == "079190004321"


def test_unknown_format(client, auth, exported):
    auth.login(exported.hr_a)
    assert client.submit("/workers/export.pdf").status_code == 404


def test_an_export_is_a_post_because_it_is_recorded(app, client, auth, exported):
    auth.login(exported.hr_a)
    assert client.get("/workers/export.csv").status_code == 405  # a GET never writes the audit trail
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "workers.exported")) is None


def test_export_imports_back_unchanged(client, auth, exported, app):
    """Every exported row, read back through the header matching and clean_worker, is the stored worker."""
    from portal.workers.models import Worker

    auth.login(exported.hr_a)
    rows = sheet_rows(client.submit("/workers/export.xlsx"))
    keys = [match_header(header).key for header in rows[0]]
    registry = app.extensions["portal.plugins"].registry
    with app.test_request_context():
        for row in rows[1:]:
            raw = {key: unescape_cell(value) if isinstance(value, str) else value
                   for key, value in zip(keys, row, strict=True) if key}
            clean, errors = clean_worker(raw, registry, today=date(2030, 1, 1))
            assert errors == []
            worker = db.session.scalar(select(Worker).where(Worker.citizen_id == clean.citizen_id))
            assert clean.full_name == worker.full_name and clean.home_address == worker.home_address
            assert clean.job_title == worker.job_title and clean.shift == worker.shift
            assert clean.doses == tuple((d.product, d.given_on) for d in worker.doses)
            assert (clean.recovered_on, clean.test_kind, clean.tested_on) == (
                worker.recovered_on, worker.test_kind, worker.tested_on)
