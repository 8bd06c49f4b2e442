"""An uploaded extract is checked and matched by background jobs (real files, the jobs the suite runs inline after
each commit): progress in rows, the file deleted when matched or failed, nothing written by a failed match."""
from __future__ import annotations

from contextlib import contextmanager

from flask_babel import force_locale
from sqlalchemy import func, select, text

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.health.models import HealthExtract, HealthRecord
from portal.jobs.models import Job
from portal.messages import Message
from portal.storage import blob_store
from portal.workers.models import VaccineDose
from tests.health.conftest import (
    UNKNOWN_ID,
    VACCINATION_HEADERS,
    csv_file,
    dmy,
    latest_extract,
    upload,
    vaccination_extract,
    xlsx_file,
)


def _job(app, job_id: int) -> Job:
    with app.app_context():
        job = db.session.get(Job, job_id)
        db.session.expunge(job)
        return job


def _said(app, stored, language: str) -> str:
    with app.test_request_context(), force_locale(language):
        return Message.from_json(stored).render()


def _commit(client, extract_id: int):
    return client.post(f"/health/extracts/{extract_id}/commit", data={"csrf_token": client.csrf_token()})


def _provenances(app) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(select(VaccineDose.provenance)).all())


def _count(app, model, *conditions) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def test_an_upload_is_checked_by_a_job_whose_progress_leads_to_the_preview(app, world, worker_c, days, officer):
    response = upload(officer, vaccination_extract(days), "trich_xuat.csv")
    extract = latest_extract(app)
    assert response.headers["Location"].endswith(f"/health/extracts/{extract.id}")
    check = _job(app, extract.job_id)
    assert (check.kind, check.status, check.done, check.total) == ("health.check", "done", 7, 7)
    assert check.result == {"extract_id": extract.id, "rows": 7, "errors": 0}
    assert _said(app, check.summary, "en") == "7 rows checked: 0 with problems, 5 matching a worker."
    assert _said(app, check.summary, "vi") == "Đã kiểm tra 7 dòng: 0 dòng có lỗi, 5 dòng khớp với người lao động."
    assert extract.status == "ready" and extract.counts["matched"] == 5 and extract.counts["unmatched"] == 2
    with app.app_context():
        assert blob_store(app).exists(extract.blob_key)  # waits for the match
    answer = officer.get(f"/health/extracts/{extract.id}/job")
    status = answer.json
    assert "no-store" in answer.headers["Cache-Control"]  # personal data: never kept by a browser or a proxy
    assert status["finished"] and status["next_url"] == f"/health/extracts/{extract.id}"
    answer = officer.get(f"/health/extracts/{extract.id}")
    page = answer.get_data(as_text=True)
    assert "no-store" in answer.headers["Cache-Control"]
    assert "Match this extract" in page and "data-job-status-url" not in page
    assert _provenances(app) == ["declared"] * 6  # the check wrote nothing about the workers


def test_the_preview_shows_the_progress_of_a_running_check(app, world, days, officer):
    upload(officer, vaccination_extract(days), "x.csv")
    extract = latest_extract(app)
    with app.app_context():  # as a consumer would leave it a moment into a long file
        officer_id = db.session.get(HealthExtract, extract.id).created_by_id
        job = Job(kind="health.check", params={"extract_id": extract.id}, status="running", done=3, total=12,
                  user_id=officer_id, progress_message=Message.of("Matching the rows…").as_json())
        db.session.add(job)
        db.session.flush()
        row = db.session.get(HealthExtract, extract.id)
        row.status, row.job_id, row.counts = "checking", job.id, {}
        db.session.commit()
        job_id = job.id
    page = officer.get(f"/health/extracts/{extract.id}").get_data(as_text=True)
    assert f'data-job-status-url="/health/extracts/{extract.id}/job"' in page
    assert '<progress class="job-progress" max="100" value="25">' in page
    assert "In progress: 3 of 12 (25%) — Matching the rows…" in page
    assert "/static/js/jobs.js" in page and "/static/js/reload-when-finished.js" in page
    assert "Match this extract" not in page
    assert officer.get(f"/health/extracts/{extract.id}/job").json["percent"] == 25
    # Nothing can be matched while the file is being checked.
    response = _commit(officer, extract.id)
    page = officer.get(response.headers["Location"]).get_data(as_text=True)
    assert "This extract is still being checked: wait for its preview." in page
    assert latest_extract(app).status == "checking" and _count(app, Job) == 2
    with app.app_context():
        db.session.get(Job, job_id).status = "failed"
        db.session.commit()
    page = officer.get(f"/health/extracts/{extract.id}").get_data(as_text=True)
    assert "The background work on this extract failed; nothing was written." in page
    assert "data-job-status-url" not in page


def test_a_match_job_sets_provenance_and_deletes_the_file(app, world, worker_c, days, officer):
    upload(officer, xlsx_file([[1, "Nguyễn Văn An", "17/05/1990", "079090001234", 1, dmy(days.a1), "AstraZeneca",
                                "TYT Tân Hưng"],
                               [2, "Lê Thị Lạ", "01/01/1985", UNKNOWN_ID, 1, dmy(days.a1), "Vero Cell", "TYT"]],
                              VACCINATION_HEADERS), "tiem_chung.xlsx")
    extract = latest_extract(app)
    key = extract.blob_key
    assert extract.status == "ready" and extract.counts["rows"] == 2
    assert _commit(officer, extract.id).status_code == 302
    extract = latest_extract(app)
    match = _job(app, extract.job_id)
    assert (match.kind, match.status, match.done, match.total) == ("health.match", "done", 2, 2)
    assert match.result == {"extract_id": extract.id, "matched": 1, "unmatched": 1, "changed": 1}
    assert _said(app, match.summary, "vi") == "1 dòng khớp với 1 người lao động; tệp đã được xoá."
    assert match.next_step["endpoint"] == "health.preview"
    assert (extract.status, extract.blob_key, extract.message) == ("committed", None, None)
    with app.app_context():
        assert not blob_store(app).exists(key)
        dose = db.session.scalars(select(VaccineDose).where(VaccineDose.worker_id == world.worker_a,
                                                            VaccineDose.number == 1)).one()
        assert dose.provenance == "confirmed"
    assert _count(app, AuditEvent, AuditEvent.action == "health.extract_matched") == 1
    page = officer.get(f"/health/extracts/{extract.id}").get_data(as_text=True)
    assert "its file was deleted." in page and "Match this extract" not in page


def test_a_second_submit_is_refused_and_queues_nothing(app, world, days, officer):
    upload(officer, vaccination_extract(days), "x.csv")
    extract_id = latest_extract(app).id
    _commit(officer, extract_id)
    jobs = _count(app, Job)
    response = _commit(officer, extract_id)  # the second click, after the first was matched
    assert response.headers["Location"].endswith(f"/health/extracts/{extract_id}")
    assert "This extract was already matched." in officer.get(response.headers["Location"]).get_data(as_text=True)
    with app.app_context():  # a match still running (another tab's click)
        db.session.get(HealthExtract, extract_id).status = "matching"
        db.session.commit()
    response = _commit(officer, extract_id)
    page = officer.get(response.headers["Location"]).get_data(as_text=True)
    assert "This extract is already being matched: its page shows the progress." in page
    assert _count(app, Job) == jobs and _count(app, AuditEvent, AuditEvent.action == "health.extract_matched") == 1


def test_a_file_with_bad_rows_fails_the_check_and_is_deleted(app, world, days, officer):
    data = vaccination_extract(days).replace(b"AstraZeneca", b"", 1)
    upload(officer, data, "bad.csv")
    extract = latest_extract(app)
    check = _job(app, extract.job_id)
    assert check.status == "done" and check.result["errors"] == 1  # one row, its first problem kept
    assert (extract.status, extract.blob_key) == ("failed", None)
    assert _said(app, extract.message, "en") == ("1 rows of this extract have problems: correct the file and upload "
                                                 "it again.")
    assert _said(app, extract.message, "vi").startswith("1 dòng của tệp trích xuất có lỗi")
    page = officer.get(f"/health/extracts/{extract.id}").get_data(as_text=True)
    assert "Vaccine is missing." in page and "Match this extract" not in page
    with app.app_context():
        assert not list(blob_store(app).list("health/"))
    _commit(officer, extract.id)
    assert latest_extract(app).status == "failed" and _count(app, HealthRecord) == 0


def test_a_file_that_is_no_extract_fails_the_check_with_the_reason(app, world, officer):
    upload(officer, csv_file([["a", "b"]], ["Cột một", "Cột hai"]), "khac.csv")
    extract = latest_extract(app)
    check = _job(app, extract.job_id)
    assert check.status == "done" and check.result == {"extract_id": extract.id, "refused": True}
    assert (extract.status, extract.blob_key) == ("failed", None)
    assert extract.message == check.summary
    assert _said(app, extract.message, "en").startswith("No header row was found in the first rows of the file.")
    with app.app_context():
        assert not list(blob_store(app).list("health/"))


@contextmanager
def _database_refusing_records_of(app, worker_id: int):
    """Make the database itself refuse a health record of ``worker_id`` (a trigger), for the length of a block."""
    with app.app_context():
        dialect = db.engine.dialect.name
        with db.engine.begin() as connection:
            if dialect == "postgresql":
                connection.execute(text(
                    "CREATE FUNCTION refuse_health_record() RETURNS trigger AS $$ BEGIN "
                    f"IF NEW.worker_id = {worker_id} THEN RAISE EXCEPTION 'refused by the test'; END IF; "
                    "RETURN NEW; END $$ LANGUAGE plpgsql"))
                connection.execute(text("CREATE TRIGGER refuse_health_record BEFORE INSERT ON health_records "
                                        "FOR EACH ROW EXECUTE FUNCTION refuse_health_record()"))
            else:
                connection.execute(text(
                    "CREATE TRIGGER refuse_health_record BEFORE INSERT ON health_records "
                    f"WHEN NEW.worker_id = {worker_id} BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"))
    try:
        yield
    finally:
        with app.app_context(), db.engine.begin() as connection:
            connection.execute(text("DROP TRIGGER refuse_health_record" +
                                    (" ON health_records" if dialect == "postgresql" else "")))
            if dialect == "postgresql":
                connection.execute(text("DROP FUNCTION refuse_health_record()"))


def test_a_match_failing_midway_leaves_nothing_written(app, world, worker_c, days, officer):
    born = "17/05/1990"
    # Worker A's doses in the first batch of 2000 records, worker C's in the third: two batches are written
    # (in the job's transaction) before the database refuses.
    rows = [[1, "Nguyễn Văn An", born, "079090001234", 1, dmy(days.a1), "AstraZeneca", "TYT"],
            [2, "Nguyễn Văn An", born, "079090001234", 2, dmy(days.a2), "AstraZeneca", "TYT"]]
    rows += [[3 + n, "Người Lạ", "01/01/1985", f"0790{n:08d}", 1, dmy(days.a1), "Pfizer", "TYT"] for n in range(4100)]
    rows += [[9999, "Trần Văn Cường", born, "079090005678", 1, dmy(days.b1), "Pfizer", "TYT"]]
    upload(officer, csv_file(rows, VACCINATION_HEADERS), "lon.csv")
    extract = latest_extract(app)
    key = extract.blob_key
    assert extract.status == "ready" and extract.counts["matched"] == 3, extract.problems
    with _database_refusing_records_of(app, worker_c):
        _commit(officer, extract.id)
    extract = latest_extract(app)
    match = _job(app, extract.job_id)
    assert match.kind == "health.match" and match.status == "failed"
    assert match.done >= 4000 and match.total == 4103  # it was in its third batch
    assert extract.status == "failed" and extract.blob_key is None
    assert _said(app, extract.message, "en").startswith("The work on this extract stopped because of an error on "
                                                        "our side; nothing was written.")
    assert _said(app, extract.message, "vi").startswith("Việc xử lý tệp trích xuất này đã dừng")
    assert _count(app, HealthRecord) == 0  # the two batches before it were never committed
    assert _provenances(app) == ["declared"] * 6
    assert _count(app, AuditEvent, AuditEvent.action == "health.extract_matched") == 0
    with app.app_context():
        assert not blob_store(app).exists(key)
    page = officer.get(f"/health/extracts/{extract.id}").get_data(as_text=True)
    assert "nothing was written" in page and "Match this extract" not in page


def test_the_command_line_still_matches_in_one_go_without_a_job(app, world, days, runner, tmp_path):
    path = tmp_path / "trich_xuat.csv"
    path.write_bytes(vaccination_extract(days))
    result = runner.invoke(args=["health", "match", str(path), "--kind", "vaccination", "--as", world.health])
    assert result.exit_code == 0, result.output
    assert "matched=4" in result.output
    assert _count(app, Job) == 0 and _count(app, HealthRecord) == 4


def test_only_health_officers_see_extracts_and_their_jobs(app, world, days, client, auth):
    assert auth.login(world.health).status_code == 302
    upload(client, vaccination_extract(days), "x.csv")
    extract = latest_extract(app)
    assert client.get(f"/health/extracts/{extract.id}/job").status_code == 200
    # The officer follows the job on the extract's page; the generic job page is for HR, officials and admin.
    assert client.get(f"/jobs/{extract.job_id}").status_code == 403
    auth.logout()
    pages = [f"/health/extracts/{extract.id}", f"/health/extracts/{extract.id}/job", f"/jobs/{extract.job_id}",
             f"/jobs/{extract.job_id}/download"]
    for url in pages[:2] + [f"/health/extracts/{extract.id}/commit"]:
        response = client.get(url) if not url.endswith("commit") else _commit(client, extract.id)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
    for role in ("hr_a", "official_x", "admin"):
        assert auth.login(getattr(world, role)).status_code == 302
        for url in pages:
            assert client.get(url).status_code in (403, 404), (role, url)
        assert _commit(client, extract.id).status_code == 403, role
        auth.logout()
    assert latest_extract(app).status == "ready" and _count(app, Job) == 1  # nobody but an officer matched it


def test_a_match_given_up_by_the_jobs_sweep_fails_the_extract_and_expire_deletes_its_file(app, world, days, officer,
                                                                                         runner):
    from datetime import timedelta

    from portal.clock import utcnow
    from portal.jobs.recovery import sweep

    upload(officer, vaccination_extract(days), "x.csv")
    extract = latest_extract(app)
    key = extract.blob_key
    with app.app_context():  # a match whose process died on its last allowed run
        job = Job(kind="health.match", params={"extract_id": extract.id}, status="running", attempts=3,
                  lease="dead", started_at=utcnow() - timedelta(hours=1), user_id=extract.created_by_id)
        db.session.add(job)
        db.session.flush()
        row = db.session.get(HealthExtract, extract.id)
        row.status, row.job_id = "matching", job.id
        db.session.commit()
        job_id = job.id
    assert sweep(app).failed == [job_id]
    assert _job(app, job_id).status == "failed"
    extract = latest_extract(app)
    assert extract.status == "failed" and extract.blob_key == key
    assert _said(app, extract.message, "en").startswith("The work on this extract stopped")
    assert _count(app, HealthRecord) == 0
    with app.app_context():
        db.session.get(HealthExtract, extract.id).created_at -= timedelta(days=2)
        db.session.commit()
    result = runner.invoke(args=["health", "expire"])
    assert result.exit_code == 0 and "1 unmatched extract files deleted." in result.output
    extract = latest_extract(app)
    assert (extract.status, extract.blob_key) == ("failed", None)
    with app.app_context():
        assert not blob_store(app).exists(key)
