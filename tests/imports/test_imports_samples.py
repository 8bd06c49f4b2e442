"""The sample worker lists (tests/data, see its README) import as offices would use them."""
from __future__ import annotations

import hashlib
from collections import Counter

from sqlalchemy import select

from portal import PROJECT_ROOT
from portal.extensions import db
from portal.imports.models import ImportBatch
from portal.imports.parsing import parse_upload
from portal.imports.settings import header_spec
from portal.workers.models import Worker

DATA = PROJECT_ROOT / "tests" / "data"
CSV = DATA / "danh_sach_nhan_vien_utf8_bom.csv"
XLSX = DATA / "danh_sach_nhan_vien.xlsx"


def test_the_samples_are_in_the_repository_as_received():
    # Checksums from tests/data/README.md: a missing or altered sample fails here, never skips.
    digests = {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in (CSV, XLSX)}
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    for name, digest in digests.items():
        assert f"| `{name}` | `{digest}` |" in readme


def test_every_row_of_both_samples_parses():
    csv_file = parse_upload(CSV.read_bytes(), header_spec())
    xlsx_file = parse_upload(XLSX.read_bytes(), header_spec())
    assert (csv_file.kind, csv_file.encoding, csv_file.header_row, len(csv_file.rows)) == ("csv", "utf-8-sig", 1, 200)
    assert (xlsx_file.kind, xlsx_file.header_row, len(xlsx_file.rows)) == ("xlsx", 2, 120)
    assert csv_file.rows[-1].number == 201 and xlsx_file.rows[-1].number == 122
    assert csv_file.ignored_headers == xlsx_file.ignored_headers == []
    # Checked by hand: row 2 of the CSV and row 3 of the workbook are the same person.
    assert csv_file.rows[0].values["full_name"] == xlsx_file.rows[0].values["full_name"] == "Hồ Kim Lan"
    assert csv_file.rows[0].values["citizen_id"] == "079180611544"
    assert xlsx_file.rows[0].values["citizen_id"] == "79180611544"  # a number cell: Excel lost the 0
    assert xlsx_file.rows[0].values["date_of_birth"] == "05/01/1980"  # a date cell


def test_csv_sample_through_the_import(app, hr_a, importer):
    batch_id = importer.batch_id(importer.upload(CSV.read_bytes(), CSV.name))
    with app.app_context():
        batch = db.session.get(ImportBatch, batch_id)
        report = batch.report()
    # Every row is valid; 61 give a negative-test date although the file has no test-type column
    # (kept, with the type unknown, and the preview says the column is missing).
    assert (batch.create_count, batch.update_count, batch.error_count, batch.conflict_count) == (200, 0, 0, 0)
    assert Counter(problem["field"] for entry in report for problem in entry["problems"]) == Counter()
    first = report[0]
    assert (first["row"], first["name"], first["action"]) == (2, "Hồ Kim Lan", "create")  # tested 21/09/2021
    page = importer.preview(batch_id).get_data(as_text=True)
    assert "Loại xét nghiệm" in page  # the notice naming the missing column

    importer.commit(batch_id, valid_only=True)
    with app.app_context():
        stored = {w.citizen_id: w for w in db.session.scalars(select(Worker).where(
            Worker.enterprise_id == hr_a.enterprise_a))}
    assert len(stored) == 1 + 200
    lan = stored["079180611544"]
    assert (lan.test_kind, lan.tested_on.isoformat()) == (None, "2021-09-21")
    assert sum(len(citizen_id) == 9 for citizen_id in stored) > 0  # old CMND numbers kept their leading 0
    assert all(citizen_id.startswith("0") for citizen_id in stored)
    # Row 3: Huỳnh Thanh Hương, Abdala ×2, Ca 1, no test date.
    huong = stored["089170329584"]
    assert (huong.full_name, huong.phone, huong.shift, huong.home_district) == \
        ("Huỳnh Thanh Hương", "0981152372", "shift1", "Huyện Nhà Bè")


def test_xlsx_sample_after_the_csv_changes_nothing(app, hr_a, importer):
    importer.commit(importer.batch_id(importer.upload(CSV.read_bytes(), CSV.name)), valid_only=True)
    batch_id = importer.batch_id(importer.upload(XLSX.read_bytes(), XLSX.name))
    with app.app_context():
        batch = db.session.get(ImportBatch, batch_id)
    # Same people: numbers that lost their zeros and date cells give back exactly the stored workers.
    assert (batch.create_count, batch.update_count, batch.unchanged_count, batch.error_count) == (0, 0, 120, 0)
