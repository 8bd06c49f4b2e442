"""Real worker-list files, written the ways Vietnamese offices write them, and helpers to upload them."""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from datetime import date, datetime, timedelta

import pytest

from portal.clock import local_today
from portal.workers.identity import make_cccd

HEADERS = ["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Số CCCD/CMND", "Số điện thoại", "Địa chỉ thường trú",
           "Phường/Xã", "Quận/Huyện", "Chức vụ", "Ca làm việc", "Vắc xin mũi 1", "Ngày tiêm mũi 1",
           "Vắc xin mũi 2", "Ngày tiêm mũi 2"]
NAMES = ["Nguyễn Văn An", "Trần Thị Bích Ngọc", "Lê Hoàng Phúc", "Phạm Thị Thuỷ", "Huỳnh Đức Thịnh",
         "Võ Thị Ánh Tuyết", "Đặng Quốc Bảo", "Bùi Thị Hằng", "Đỗ Minh Triết", "Hồ Thị Mỹ Duyên"]
SHIFTS = ["Hành chính", "Ca 1", "Ca 2", "Ca 3"]
VACCINES = ["AstraZeneca", "Pfizer", "Moderna", "Vero Cell"]


def worker_row(index: int) -> dict[str, str]:
    """Return a valid worker row (header → cell text), different for every ``index``."""
    sex = "F" if index % 2 else "M"
    born = date(1970 + index % 30, 1 + index % 12, 1 + index % 28)
    first = local_today() - timedelta(days=120 + index % 30)
    return {
        "STT": str(index + 1),
        "Họ và tên": NAMES[index % len(NAMES)],
        "Ngày sinh": born.strftime("%d/%m/%Y"),
        "Giới tính": "Nữ" if sex == "F" else "Nam",
        "Số CCCD/CMND": make_cccd(79, born, sex, 100000 + index),
        "Số điện thoại": f"09{index % 10}{1000000 + index:07d}",
        "Địa chỉ thường trú": f"{index + 1}/4 Nguyễn Thị Thập",
        "Phường/Xã": "Tân Hưng",
        "Quận/Huyện": "Quận 7",
        "Chức vụ": "Công nhân",
        "Ca làm việc": SHIFTS[index % len(SHIFTS)],
        "Vắc xin mũi 1": VACCINES[index % len(VACCINES)],
        "Ngày tiêm mũi 1": first.strftime("%d/%m/%Y"),
        "Vắc xin mũi 2": VACCINES[index % len(VACCINES)],
        "Ngày tiêm mũi 2": (first + timedelta(days=35)).strftime("%d/%m/%Y"),
    }


def worker_rows(count: int, start: int = 0) -> list[dict[str, str]]:
    return [worker_row(index) for index in range(start, start + count)]


def cp1258_form(text: str) -> str:
    """Write ``text`` the way Windows-1258 stores Vietnamese: precomposed letters where the code page has them,
    otherwise the base letter (with its circumflex, breve or horn) followed by a combining tone mark."""
    out = []
    for char in unicodedata.normalize("NFC", text):
        try:
            char.encode("cp1258")
            out.append(char)
            continue
        except UnicodeEncodeError:
            pass
        decomposed = unicodedata.normalize("NFD", char)
        base = decomposed[0] + "".join(m for m in decomposed[1:] if m in "\u0302\u0306\u031b")
        tones = "".join(m for m in decomposed[1:] if m not in "\u0302\u0306\u031b")
        out.append(unicodedata.normalize("NFC", base) + tones)
    return "".join(out)


class Files:
    """Build CSV and XLSX files in memory."""

    headers = HEADERS

    def rows(self, count: int, start: int = 0) -> list[dict[str, str]]:
        return worker_rows(count, start)

    def csv(self, rows, *, columns=None, headers=None, encoding="utf-8-sig", delimiter=",", title_rows=(),
            transform=None, newline="\r\n") -> bytes:
        """Return a CSV file; ``headers`` (default: ``columns``) is what the header row says for each column."""
        columns = columns or self.headers
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline)
        for title in title_rows:
            writer.writerow([title])
        writer.writerow(headers or columns)
        for row in rows:
            writer.writerow([row.get(column, "") for column in columns])
        text = buffer.getvalue()
        if transform:
            text = transform(text)
        return text.encode(encoding)

    def xlsx(self, rows, *, columns=None, headers=None, title_rows=(), numbers=False, date_cells=False,
             sheets_before=(), cells=None) -> bytes:
        """Return a workbook; ``numbers`` stores ID and phone as numbers, ``date_cells`` dates as date cells."""
        from openpyxl import Workbook

        columns = columns or self.headers
        workbook = Workbook()
        sheet = workbook.active
        for title in sheets_before:
            sheet.title = title
            sheet.append(["Ghi chú"])
            sheet = workbook.create_sheet()
        sheet.title = "Danh sách"
        for title in title_rows:
            sheet.append([title])
        sheet.append(headers or columns)
        for row in rows:
            values = []
            for column in columns:
                value = row.get(column, "")
                if numbers and column in ("Số CCCD/CMND", "Số điện thoại") and value:
                    value = int(value)
                elif date_cells and column.startswith("Ngày") and value:
                    value = datetime.strptime(value, "%d/%m/%Y")
                values.append(None if value == "" else value)
            sheet.append(values)
        for (row, column), value in (cells or {}).items():
            sheet.cell(row=row, column=column, value=value)
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()


@pytest.fixture
def cp1258():
    """The function writing text in Windows-1258's form (tone marks as combining characters)."""
    return cp1258_form


@pytest.fixture
def files() -> Files:
    return Files()


class Importer:
    """Drive the import pages the way a browser does."""

    def __init__(self, client):
        self.client = client

    def upload(self, data: bytes, filename: str = "danh_sach.csv", follow: bool = False):
        return self.client.submit("/workers/import", {"file": (io.BytesIO(data), filename)},
                                  content_type="multipart/form-data", follow_redirects=follow)

    def batch_id(self, response) -> int:
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        match = re.search(r"/workers/import/(\d+)$", response.headers["Location"])
        assert match, response.headers["Location"]
        return int(match.group(1))

    def preview(self, batch_id: int, **params):
        return self.client.get(f"/workers/import/{batch_id}", query_string=params)

    def commit(self, batch_id: int, valid_only: bool = False):
        data = {"valid_only": "y"} if valid_only else {}
        return self.client.submit(f"/workers/import/{batch_id}/commit", data)


@pytest.fixture
def importer(client) -> Importer:
    return Importer(client)


@pytest.fixture
def hr_a(world, auth):
    auth.login(world.hr_a)
    return world


@pytest.fixture
def registry(app):
    return app.extensions["portal.plugins"].registry
