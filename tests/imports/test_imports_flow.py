"""The two steps through the pages: upload → preview (nothing written) → commit (all or nothing, or valid rows)."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal.audit.models import AuditEvent
from portal.clock import utcnow
from portal.extensions import db
from portal.imports.models import ImportBatch
from portal.testing.fixtures import make_worker
from portal.workers.models import Worker


def workers_of(app, enterprise_id: int) -> dict[str, Worker]:
    with app.app_context():
        rows = db.session.scalars(select(Worker).options(selectinload(Worker.doses))
                                  .where(Worker.enterprise_id == enterprise_id, Worker.active))
        return {worker.citizen_id: worker for worker in rows}


def problem_rows(page: str) -> list[list[str]]:
    """Return the cells of the problem table's rows, as text."""
    body = page.split('<table class="import-rows">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<tr class="problem">(.*?)</tr>', body, re.S)
    # Row, name, ID, column, problem; the sixth cell holds the row's fields (see test_imports_cells).
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)][:5]
            for row in rows]


@pytest.fixture
def english(client):
    client.set_cookie("lang", "en")


def test_preview_writes_nothing_and_shows_each_problem(app, hr_a, importer, files, english):
    rows = files.rows(4)
    rows[1]["Ngày sinh"] = "31/02/1990"
    rows[3]["Giới tính"] = "X"
    rows[3]["Số điện thoại"] = "12345"
    data = files.csv(rows, title_rows=["DANH SÁCH NGƯỜI LAO ĐỘNG"])
    response = importer.upload(data, "ds.csv")
    batch_id = importer.batch_id(response)
    assert workers_of(app, hr_a.enterprise_a).keys() == {"079090001234"}  # only the world's worker

    page = importer.preview(batch_id).get_data(as_text=True)
    # Row numbers as Excel shows them: title row 1, header row 2, data from row 3.
    assert problem_rows(page) == [
        ["4", rows[1]["Họ và tên"], "••••••••" + rows[1]["Số CCCD/CMND"][-4:], "Ngày sinh",
         "Date of birth: 31/02/1990 does not exist, month 2 of 1990 has 28 days. Check the day and the month."],
        ["6", rows[3]["Họ và tên"], "••••••••" + rows[3]["Số CCCD/CMND"][-4:], "Giới tính",
         "Sex must be Nam (male) or Nữ (female)."],
        ["6", rows[3]["Họ và tên"], "••••••••" + rows[3]["Số CCCD/CMND"][-4:], "Số điện thoại",
         "Enter a Vietnamese mobile or landline number, e.g. 0909 123 456 or 028 3775 0000."],
    ]
    assert "The column headers were found on row 2" in page
    with app.app_context():
        batch = db.session.get(ImportBatch, batch_id)
        assert (batch.create_count, batch.error_count, batch.total_rows, batch.status) == (2, 2, 4, "ready")
        assert batch.filename == "ds.csv" and len(batch.sha256) == 64


def test_all_or_nothing_commit_writes_nothing_when_a_row_is_wrong(app, hr_a, importer, files, english):
    rows = files.rows(3)
    rows[2]["Số CCCD/CMND"] = "12345"
    batch_id = importer.batch_id(importer.upload(files.csv(rows)))
    response = importer.commit(batch_id)
    assert response.status_code == 302
    page = importer.preview(batch_id).get_data(as_text=True)
    assert "Nothing was imported: 1 rows have problems." in page
    assert len(workers_of(app, hr_a.enterprise_a)) == 1
    with app.app_context():
        assert db.session.get(ImportBatch, batch_id).status == "ready"  # the valid rows may still be imported


def test_valid_rows_only_writes_exactly_the_valid_rows(app, hr_a, importer, files):
    rows = files.rows(5)
    rows[1]["Ngày sinh"] = "hôm qua"
    rows[3]["Vắc xin mũi 1"] = "Vaccine X"
    batch_id = importer.batch_id(importer.upload(files.csv(rows)))
    assert importer.commit(batch_id, valid_only=True).status_code == 302
    stored = workers_of(app, hr_a.enterprise_a)
    assert set(stored) == {"079090001234", *(rows[i]["Số CCCD/CMND"] for i in (0, 2, 4))}
    worker = stored[rows[0]["Số CCCD/CMND"]]
    assert worker.full_name == "Nguyễn Văn An" and worker.shift == "office"
    assert [(dose.product, dose.given_on.strftime("%d/%m/%Y")) for dose in worker.doses] == [
        ("astrazeneca", rows[0]["Ngày tiêm mũi 1"]), ("astrazeneca", rows[0]["Ngày tiêm mũi 2"])]
    with app.app_context():
        batch = db.session.get(ImportBatch, batch_id)
        assert (batch.status, batch.written_created, batch.written_updated, batch.valid_only) == \
            ("committed", 3, 0, True)
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "workers.imported"))
        assert event.after["created"] == 3 and event.after["skipped"] == 2 and event.enterprise_id == hr_a.enterprise_a


def test_reimporting_the_same_file_changes_nothing(app, hr_a, importer, files, english):
    data = files.csv(files.rows(6))
    first = importer.batch_id(importer.upload(data))
    importer.commit(first)
    before = {key: (w.id, w.updated_at) for key, w in workers_of(app, hr_a.enterprise_a).items()}
    assert len(before) == 7

    second = importer.batch_id(importer.upload(data))
    page = importer.preview(second, show="unchanged").get_data(as_text=True)
    assert "This same file was already imported on" in page
    with app.app_context():
        batch = db.session.get(ImportBatch, second)
        assert (batch.create_count, batch.update_count, batch.unchanged_count) == (0, 0, 6)
    importer.commit(second)
    after = {key: (w.id, w.updated_at) for key, w in workers_of(app, hr_a.enterprise_a).items()}
    assert after == before
    with app.app_context():
        assert db.session.get(ImportBatch, second).written_created == 0


def test_changed_rows_are_updates_listing_the_changed_columns(app, hr_a, importer, files, english):
    rows = files.rows(3)
    importer.commit(importer.batch_id(importer.upload(files.csv(rows))))
    rows[1]["Số điện thoại"] = "0912345678"
    rows[1]["Ca làm việc"] = "Ca 3" if rows[1]["Ca làm việc"] != "Ca 3" else "Ca 1"
    headers = [h.upper() if h == "Số điện thoại" else h for h in files.headers]
    batch_id = importer.batch_id(importer.upload(files.csv(rows, headers=headers)))
    page = importer.preview(batch_id, show="update").get_data(as_text=True)
    assert '<td data-label="Changes">SỐ ĐIỆN THOẠI, Ca làm việc</td>' in page
    importer.commit(batch_id)
    assert workers_of(app, hr_a.enterprise_a)[rows[1]["Số CCCD/CMND"]].phone == "0912345678"


def test_conflict_with_another_enterprise_reveals_nothing(app, hr_a, importer, files, english):
    rows = files.rows(2)
    # worker_b belongs to enterprise B (Củ Chi): same ID, name, date of birth and sex.
    rows.append({**files.rows(1, start=50)[0], "Họ và tên": "Đỗ Thị Bích", "Ngày sinh": "17/05/1990",
                 "Giới tính": "Nữ", "Số CCCD/CMND": "079190004321"})
    batch_id = importer.batch_id(importer.upload(files.csv(rows)))
    page = importer.preview(batch_id).get_data(as_text=True)
    (row,) = problem_rows(page)
    assert row[0] == "4" and row[3] == "Số CCCD/CMND"
    assert row[4].endswith("This citizen ID (CCCD/CMND) is already registered by another enterprise.")
    for secret in ("Bình Minh", "Củ Chi", "cugi", "0312345673"):
        assert secret not in page
    importer.commit(batch_id)
    assert len(workers_of(app, hr_a.enterprise_a)) == 1
    importer.commit(batch_id, valid_only=True)
    assert len(workers_of(app, hr_a.enterprise_a)) == 3
    assert "079190004321" in workers_of(app, hr_a.enterprise_b)


def test_duplicate_ids_in_the_file_are_errors_on_the_later_rows(app, hr_a, importer, files, english):
    rows = files.rows(3)
    rows.append({**rows[0], "Số điện thoại": "0987654321"})
    rows.append({**rows[0], "Số CCCD/CMND": rows[0]["Số CCCD/CMND"][1:]})  # Excel lost the leading zero
    batch_id = importer.batch_id(importer.upload(files.csv(rows)))
    assert [row[0] for row in problem_rows(importer.preview(batch_id).get_data(as_text=True))] == ["5", "6"]
    assert "This citizen ID is already on row 2 of the file; keep only one row per worker." in \
        importer.preview(batch_id).get_data(as_text=True)
    importer.commit(batch_id, valid_only=True)
    assert workers_of(app, hr_a.enterprise_a)[rows[0]["Số CCCD/CMND"]].phone == rows[0]["Số điện thoại"]


def test_commit_checks_again_against_the_database(app, hr_a, importer, files, english, registry):
    rows = files.rows(3)
    batch_id = importer.batch_id(importer.upload(files.csv(rows)))
    with app.app_context():
        from portal.enterprises.models import Enterprise

        # Meanwhile, enterprise B registers the worker of row 3.
        born = date(1972, 3, 3)
        assert rows[2]["Ngày sinh"] == born.strftime("%d/%m/%Y")
        make_worker(db.session, db.session.get(Enterprise, hr_a.enterprise_b), citizen_id=rows[2]["Số CCCD/CMND"],
                    born=born, sex="M")
        db.session.commit()
    importer.commit(batch_id)
    page = importer.preview(batch_id).get_data(as_text=True)
    assert "Nothing was imported: 1 rows have problems." in page
    assert problem_rows(page)[0][0] == "4"
    assert len(workers_of(app, hr_a.enterprise_a)) == 1
    importer.commit(batch_id, valid_only=True)
    assert set(workers_of(app, hr_a.enterprise_a)) == {"079090001234", rows[0]["Số CCCD/CMND"],
                                                       rows[1]["Số CCCD/CMND"]}


def test_a_batch_is_committed_once(app, hr_a, importer, files, english):
    batch_id = importer.batch_id(importer.upload(files.csv(files.rows(2))))
    importer.commit(batch_id)
    response = importer.commit(batch_id)
    assert response.status_code == 302
    assert "This list is already imported, or being imported." in importer.preview(batch_id).get_data(as_text=True)
    assert len(workers_of(app, hr_a.enterprise_a)) == 3


def test_an_expired_batch_cannot_be_committed_and_loses_its_rows(app, hr_a, importer, files, english):
    from portal.imports.batches import purge_expired

    batch_id = importer.batch_id(importer.upload(files.csv(files.rows(2))))
    with app.app_context():
        batch = db.session.get(ImportBatch, batch_id)
        batch.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    importer.commit(batch_id)
    assert "This import is more than a day old" in importer.preview(batch_id).get_data(as_text=True)
    assert len(workers_of(app, hr_a.enterprise_a)) == 1
    with app.app_context():
        purge_expired(db.session)
        db.session.commit()
        batch = db.session.get(ImportBatch, batch_id)
        assert (batch.status, batch.rows_data, batch.report_data, batch.total_rows) == ("expired", None, None, 2)
    assert "its rows were deleted" in importer.preview(batch_id).get_data(as_text=True)


def test_file_errors_are_shown_on_the_form(app, hr_a, importer, english):
    response = importer.upload(b"\x89PNG\r\n\x1a\n" + bytes(100), "anh.png")
    assert response.status_code == 422
    assert "This file is not a worker list we can read." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_an_upload_without_a_file(hr_a, client, english):
    response = client.submit("/workers/import", {})
    assert response.status_code == 422
    assert "Choose the file to upload." in response.get_data(as_text=True)


def test_pending_enterprise_may_import(app, world, auth, importer, files):
    from portal.enterprises.models import Enterprise

    with app.app_context():
        db.session.get(Enterprise, world.enterprise_a).status = "pending"
        db.session.commit()
    auth.login(world.hr_a)
    batch_id = importer.batch_id(importer.upload(files.csv(files.rows(1))))
    importer.commit(batch_id)
    assert len(workers_of(app, world.enterprise_a)) == 2


def test_preview_lists_problems_page_by_page(app, hr_a, importer, files, english):
    rows = files.rows(130)
    for row in rows:
        row["Giới tính"] = "?"
    batch_id = importer.batch_id(importer.upload(files.csv(rows)))
    first = importer.preview(batch_id).get_data(as_text=True)
    assert len(problem_rows(first)) == 100 and "Page 1 of 2" in first
    second = importer.preview(batch_id, page=2).get_data(as_text=True)
    assert [row[0] for row in problem_rows(second)] == [str(n) for n in range(102, 132)]
    body = importer.client.get(f"/workers/import/{batch_id}/problems.csv").get_data().decode("utf-8-sig")
    assert len(body.splitlines()) == 131


def test_purge_command_keeps_committed_batches_as_a_record(app, hr_a, importer, files, runner):
    committed = importer.batch_id(importer.upload(files.csv(files.rows(2))))
    importer.commit(committed)
    waiting = importer.batch_id(importer.upload(files.csv(files.rows(2, start=10))))
    fresh = importer.batch_id(importer.upload(files.csv(files.rows(2, start=20))))
    with app.app_context():
        for batch_id in (committed, waiting):
            db.session.get(ImportBatch, batch_id).expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    result = runner.invoke(args=["imports", "purge"])
    assert result.exit_code == 0 and "Deleted the rows of 2 expired uploads." in result.output
    with app.app_context():
        states = {batch_id: (batch.status, batch.rows_data is None) for batch_id in (committed, waiting, fresh)
                  for batch in [db.session.get(ImportBatch, batch_id)]}
    assert states == {committed: ("committed", True), waiting: ("expired", True), fresh: ("ready", False)}


def test_validated_rows_survive_storage_exactly(app, registry):
    from portal.imports.batches import _plain, _unplain
    from portal.workers.validation import clean_worker

    raw = {"full_name": "Phạm Thị Thuỷ", "date_of_birth": "03/02/1985", "sex": "Nữ", "citizen_id": "079185123456",
           "phone": "0909000111", "home_address": "1 Lê Lợi", "home_ward": "Bến Nghé", "home_district": "Quận 1",
           "job_title": "Kế toán", "shift": "Ca 2", "dose1_product": "Pfizer", "dose1_date": "01/07/2021",
           "dose2_product": "Pfizer", "dose2_date": "01/08/2021", "recovered_on": "01/06/2021",
           "test_kind": "PCR", "tested_on": "20/09/2021"}
    with app.test_request_context():
        clean, errors = clean_worker(raw, registry, today=date(2021, 9, 25))
    assert errors == []
    assert all(getattr(clean, name) not in (None, "", ()) for name in clean.__dataclass_fields__)
    import json

    assert _unplain(json.loads(json.dumps(_plain(clean)))) == clean


def test_problems_follow_the_language_switch(hr_a, importer, files):
    rows = files.rows(2)
    rows.append(dict(rows[0]))
    batch_id = importer.batch_id(importer.upload(files.csv(rows)))
    vietnamese = importer.preview(batch_id).get_data(as_text=True)
    assert "Số CCCD/CMND này đã có ở dòng 2 của tệp; mỗi người lao động chỉ ghi một dòng." in vietnamese
    assert "Dòng lỗi (1)" in vietnamese
    importer.client.set_cookie("lang", "en")
    english = importer.preview(batch_id).get_data(as_text=True)
    assert "This citizen ID is already on row 2 of the file; keep only one row per worker." in english
    assert "Problems (1)" in english


def test_windows_1258_names_are_stored_as_nfc(app, hr_a, importer, files, cp1258):
    import unicodedata

    rows = files.rows(2)
    data = files.csv(rows, encoding="cp1258", transform=cp1258, delimiter=";")
    batch_id = importer.batch_id(importer.upload(data, "ds_1258.csv"))
    importer.commit(batch_id)
    stored = workers_of(app, hr_a.enterprise_a)[rows[0]["Số CCCD/CMND"]]
    assert stored.full_name == unicodedata.normalize("NFC", "Nguyễn Văn An") and len(stored.full_name) == 13
    assert stored.name_key == "nguyen van an"
    assert workers_of(app, hr_a.enterprise_a)[rows[1]["Số CCCD/CMND"]].full_name == "Trần Thị Bích Ngọc"


def test_the_kind_comes_from_the_content_not_the_name(app, hr_a, importer, files):
    workbook = importer.batch_id(importer.upload(files.xlsx(files.rows(1)), "danh_sach.csv"))
    text = importer.batch_id(importer.upload(files.csv(files.rows(1, start=5)), "danh_sach.xlsx"))
    with app.app_context():
        assert db.session.get(ImportBatch, workbook).kind == "xlsx"
        assert db.session.get(ImportBatch, text).kind == "csv"
        assert db.session.get(ImportBatch, text).create_count == 1


def test_xlsx_text_dates_and_number_ids_import(app, hr_a, importer, files):
    rows = files.rows(1)
    rows[0]["Ngày sinh"] = "1/1/1970"  # worker_row(0) was born 01/01/1970: the ID encodes it
    importer.commit(importer.batch_id(importer.upload(files.xlsx(rows, numbers=True), "ds.xlsx")))
    stored = workers_of(app, hr_a.enterprise_a)[rows[0]["Số CCCD/CMND"]]
    assert stored.date_of_birth == date(1970, 1, 1) and stored.phone == rows[0]["Số điện thoại"]


def test_row_limit_from_the_configuration(app, hr_a, importer, files, english):
    app.config["IMPORT_MAX_ROWS"] = 3
    response = importer.upload(files.csv(files.rows(4)))
    assert response.status_code == 422
    assert "The file has more than 3 worker rows. Split it into several files." in response.get_data(as_text=True)


def test_ids_that_excel_wrote_in_scientific_form_get_their_own_message(app, hr_a, importer, files, english):
    rows = files.rows(2)
    rows[1]["Số CCCD/CMND"] = "7.91806E+10"
    batch_id = importer.batch_id(importer.upload(files.csv(rows)))
    (row,) = problem_rows(importer.preview(batch_id).get_data(as_text=True))
    assert row[0] == "3" and row[3] == "Số CCCD/CMND"
    assert row[4] == ("Excel turned this number into “scientific” form and lost its last digits. Format the "
                      "column as Text in Excel, type the numbers again, and save the file again.")
