"""Registry extracts built as real files in each test, and a few more workers of enterprise A."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from portal.clock import local_today
from portal.extensions import db

UNKNOWN_ID = "079099999999"


def csv_file(rows: list[list], headers: list[str]) -> bytes:
    """Write a CSV as a Vietnamese office would: UTF-8 with a BOM, a title line above the header."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["TRÍCH XUẤT DỮ LIỆU TIÊM CHỦNG — HCDC"])
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def xlsx_file(rows: list[list], headers: list[str]) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Danh sách F0 đã khỏi bệnh"])
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


VACCINATION_HEADERS = ["STT", "Họ và tên", "Ngày sinh", "Số CCCD/CMND", "Mũi số", "Ngày tiêm", "Loại vắc xin",
                       "Nơi tiêm"]


def dmy(day: date) -> str:
    return day.strftime("%d/%m/%Y")


class Days:
    """The days the world's doses were given on (relative to today, as the world fixture makes them)."""

    def __init__(self):
        today = local_today()
        self.today = today
        self.a1, self.a2 = today - timedelta(days=60), today - timedelta(days=30)
        self.b1, self.b2 = today - timedelta(days=50), today - timedelta(days=20)


@pytest.fixture
def days() -> Days:
    return Days()


@pytest.fixture
def worker_c(app, world, days) -> int:
    """A third worker, of enterprise A: two Pfizer doses."""
    from portal.enterprises.models import Enterprise
    from portal.testing.fixtures import make_worker

    with app.app_context():
        enterprise = db.session.get(Enterprise, world.enterprise_a)
        worker = make_worker(db.session, enterprise, citizen_id="079090005678", name="Trần Văn Cường",
                             doses=[("pfizer", days.b1), ("pfizer", days.b2)])
        db.session.commit()
        return worker.id


def vaccination_extract(days: Days) -> bytes:
    """Confirmed (worker A), conflicting (worker B's date, worker C's vaccine and a missing dose), unknown rows."""
    born = "17/05/1990"
    rows = [
        [1, "NGUYEN VAN AN", born, "079090001234", 1, dmy(days.a1), "AstraZeneca", "TYT Tân Hưng"],
        [2, "Nguyễn Văn An", born, "079090001234", 2, dmy(days.a2), "AZ", "TYT Tân Hưng"],
        [3, "Đỗ Thị Bích", born, "079190004321", 1, dmy(days.b1), "Pfizer", "BV Quận 7"],
        [4, "Đỗ Thị Bích", born, "079190004321", 2, dmy(days.today - timedelta(days=5)), "Pfizer", "BV Quận 7"],
        [5, "Trần Văn Cảnh", born, "079090005678", 1, dmy(days.b1), "Moderna", "TYT Tân Phong"],
        # Unknown: a citizen ID no worker has, and worker A's ID with another date of birth.
        [6, "Lê Thị Lạ", "01/01/1985", UNKNOWN_ID, 1, dmy(days.a1), "Vero Cell", "TYT Bình Thuận"],
        [7, "Nguyễn Văn An", "18/05/1990", "079090001234", 3, dmy(days.a2), "Pfizer", "TYT Tân Hưng"],
    ]
    return csv_file(rows, VACCINATION_HEADERS)


@pytest.fixture
def officer(client, auth, world):
    """The client, signed in as the health-data officer."""
    assert auth.login(world.health).status_code == 302
    return client


def upload(client, data: bytes, filename: str, kind: str = "vaccination"):
    return client.post("/health/extracts", data={"kind": kind, "file": (io.BytesIO(data), filename),
                                                 "csrf_token": client.csrf_token()},
                       content_type="multipart/form-data")


def latest_extract(app):
    from sqlalchemy import select

    from portal.health.models import HealthExtract

    with app.app_context():
        return db.session.scalars(select(HealthExtract).order_by(HealthExtract.id.desc())).first()


@pytest.fixture(autouse=True)
def _english(client):
    """Pages in English, so that assertions read as the code's msgids (one test checks the Vietnamese)."""
    client.set_cookie("lang", "en")
