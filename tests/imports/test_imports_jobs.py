"""Large lists are checked and committed by background jobs, with progress; small ones in the request."""
from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from portal.extensions import db
from portal.imports.models import ImportBatch
from portal.jobs.models import Job
from portal.messages import Message
from portal.workers.models import Worker


@pytest.fixture
def app_config(app_config):
    # Jobs run inline under TESTING: right after the request's commit, in their own app context.
    return {**app_config, "IMPORT_JOB_THRESHOLD": 5}


def _said(app, stored, language: str) -> str:
    """Render a stored message as a reader of ``language`` sees it."""
    with app.test_request_context(), force_locale(language):
        return Message.from_json(stored).render()


def test_large_list_is_checked_and_committed_by_jobs(app, hr_a, importer, files):
    rows = files.rows(8)
    rows[7]["Giới tính"] = "?"
    batch_id = importer.batch_id(importer.upload(files.csv(rows)))
    with app.app_context():
        batch = db.session.get(ImportBatch, batch_id)
        check = db.session.get(Job, batch.job_id)
        assert (check.kind, check.status, check.done, check.total) == ("imports.check", "done", 8, 8)
        assert check.result == {"batch_id": batch_id, "create": 7, "error": 1}
        assert _said(app, check.summary, "en") == "8 rows checked: 1 with problems."
        assert check.next_step["endpoint"] == "imports.preview"
        assert (batch.status, batch.create_count, batch.error_count) == ("ready", 7, 1)
    assert importer.commit(batch_id, valid_only=True).status_code == 302
    with app.app_context():
        batch = db.session.get(ImportBatch, batch_id)
        commit = db.session.get(Job, batch.job_id)
        assert (commit.kind, commit.status) == ("imports.commit", "done")
        assert commit.result == {"batch_id": batch_id, "created": 7, "updated": 0}
        assert _said(app, commit.summary, "vi") == "Đã nhập: thêm mới 7 người lao động, cập nhật 0 người."
        assert (batch.status, batch.written_created) == ("committed", 7)
        assert db.session.scalar(select(func.count()).select_from(Worker)) == 2 + 7


def test_large_list_with_problems_is_refused_by_the_commit_job(app, hr_a, importer, files):
    rows = files.rows(7)
    rows[0]["Ngày sinh"] = "?"
    batch_id = importer.batch_id(importer.upload(files.csv(rows)))
    importer.commit(batch_id)
    with app.app_context():
        batch = db.session.get(ImportBatch, batch_id)
        job = db.session.get(Job, batch.job_id)
        assert job.result == {"batch_id": batch_id, "refused": True}
        assert batch.status == "ready"
        # Kept once, as a message id and its parameters; shown in each reader's language.
        assert batch.message == job.summary == {
            "id": "Nothing was imported: %(count)s rows have problems. Fix them in your file and upload it again, "
                  "or tick “Import only the valid rows”.", "params": {"count": 1}}
        assert _said(app, batch.message, "en") == ("Nothing was imported: 1 rows have problems. Fix them in your file "
                                                   "and upload it again, or tick “Import only the valid rows”.")
        assert _said(app, batch.message, "vi") == ("Chưa nhập dòng nào: có 1 dòng bị lỗi. Hãy sửa trong tệp rồi tải "
                                                   "lên lại, hoặc đánh dấu “Chỉ nhập các dòng hợp lệ”.")
        assert db.session.scalar(select(func.count()).select_from(Worker)) == 2


def test_progress_is_shown_while_a_job_runs(app, hr_a, importer, files):
    batch_id = importer.batch_id(importer.upload(files.csv(files.rows(6))))
    with app.app_context():
        batch = db.session.get(ImportBatch, batch_id)
        job = Job(kind="imports.check", params={"batch_id": batch_id}, status="running", done=2, total=6,
                  user_id=batch.user_id)
        db.session.add(job)
        db.session.flush()
        batch.status, batch.job_id = "checking", job.id
        db.session.commit()
        job_id = job.id
    page = importer.preview(batch_id).get_data(as_text=True)
    assert f'data-job-status-url="/jobs/{job_id}"' in page
    assert '<progress class="job-progress" max="100" value="33">' in page
    assert "/static/js/jobs.js" in page and "/static/js/reload-when-finished.js" in page
    assert importer.client.get(f"/jobs/{job_id}", headers={"Accept": "application/json"}).json["percent"] == 33
    # Nothing can be committed while the rows are being checked.
    importer.commit(batch_id)
    with app.app_context():
        assert db.session.get(ImportBatch, batch_id).status == "checking"


def test_small_list_needs_no_job(app, hr_a, importer, files):
    batch_id = importer.batch_id(importer.upload(files.csv(files.rows(5))))
    importer.commit(batch_id)
    with app.app_context():
        assert db.session.get(ImportBatch, batch_id).job_id is None
        assert db.session.scalar(select(func.count()).select_from(Job)) == 0


def test_a_large_file_is_read_by_the_job(app, hr_a, importer, files):
    app.config["IMPORT_JOB_XLSX_BYTES"] = 1024
    data = files.xlsx(files.rows(3), numbers=True, date_cells=True)
    assert len(data) > 1024
    batch_id = importer.batch_id(importer.upload(data, "ds.xlsx"))
    with app.app_context():
        batch = db.session.get(ImportBatch, batch_id)
        assert db.session.get(Job, batch.job_id).status == "done"
        assert (batch.status, batch.kind, batch.total_rows, batch.create_count, batch.file_data) == \
            ("ready", "xlsx", 3, 3, None)
        assert batch.headers["citizen_id"] == "Số CCCD/CMND"


def test_a_large_file_that_is_not_a_list_fails_with_the_reason(app, hr_a, importer, files):
    app.config["IMPORT_JOB_CSV_BYTES"] = 100
    columns = [h for h in files.headers if h != "Ngày sinh"]
    batch_id = importer.batch_id(importer.upload(files.csv(files.rows(3), columns=columns)))
    importer.client.set_cookie("lang", "en")
    page = importer.preview(batch_id).get_data(as_text=True)
    assert "The file has no column for: Ngày sinh." in page
    with app.app_context():
        batch = db.session.get(ImportBatch, batch_id)
        assert (batch.status, batch.file_data) == ("failed", None)
        assert _said(app, batch.message, "vi").startswith("Tệp thiếu cột: Ngày sinh.")
    importer.commit(batch_id)
    with app.app_context():
        assert db.session.get(ImportBatch, batch_id).status == "failed"


def test_a_failed_job_is_shown_as_such(app, hr_a, importer, files):
    batch_id = importer.batch_id(importer.upload(files.csv(files.rows(6))))
    with app.app_context():
        batch = db.session.get(ImportBatch, batch_id)
        job = Job(kind="imports.check", params={"batch_id": batch_id}, status="failed", user_id=batch.user_id)
        db.session.add(job)
        db.session.flush()
        batch.status, batch.job_id = "checking", job.id
        db.session.commit()
    importer.client.set_cookie("lang", "en")
    page = importer.preview(batch_id).get_data(as_text=True)
    assert "The background work on this list failed; nothing was written." in page
    assert "data-job-status-url" not in page
