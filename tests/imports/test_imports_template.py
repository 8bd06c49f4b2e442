"""The downloadable template: Vietnamese headers, text ID/phone columns, a guide sheet, and it imports back."""
from __future__ import annotations

import io

from openpyxl import load_workbook

from portal.extensions import db
from portal.imports.models import ImportBatch
from portal.workers.columns import HEADERS


def test_xlsx_template(client, hr_a):
    response = client.get("/workers/import/template.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["Danh sách", "Hướng dẫn"]
    sheet = workbook["Danh sách"]
    assert [cell.value for cell in sheet[1]] == list(HEADERS)
    example = dict(zip(HEADERS, sheet[2], strict=True))
    assert example["Số CCCD/CMND"].value == "079090001234" and example["Số CCCD/CMND"].number_format == "@"
    assert example["Số điện thoại"].value == "0909123456" and example["Số điện thoại"].number_format == "@"
    guide = workbook["Hướng dẫn"]
    described = {row[0].value: row[2].value for row in guide.iter_rows(min_row=2) if row[0].value}
    assert set(described) == set(HEADERS)
    assert "AstraZeneca" in described["Vắc xin mũi 1"] and "Ca 3" in described["Ca làm việc"]
    assert "Nữ" in described["Giới tính"] and "dd/mm/yyyy" in described["Ngày sinh"]


def test_csv_template_has_a_bom_and_the_headers(client, hr_a):
    response = client.get("/workers/import/template.csv")
    assert response.data.startswith(b"\xef\xbb\xbf")
    header, example = response.data.decode("utf-8-sig").splitlines()
    assert header.split(",") == list(HEADERS)
    assert example.startswith("1,Nguyễn Văn An,17/05/1990,Nam,079090001234,0909123456")


def test_both_templates_import_back(app, client, hr_a, importer):
    for fmt in ("xlsx", "csv"):
        data = client.get(f"/workers/import/template.{fmt}").data
        batch_id = importer.batch_id(importer.upload(data, f"mau.{fmt}"))
        with app.app_context():
            batch = db.session.get(ImportBatch, batch_id)
            # The example is the world's worker_a, already registered with other data: an update.
            assert (batch.kind, batch.total_rows, batch.error_count, batch.conflict_count) == (fmt, 1, 0, 0), \
                batch.report()
