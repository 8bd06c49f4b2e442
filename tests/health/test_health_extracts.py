"""A registry extract, uploaded as a real file, gives each declared fact its provenance; unmatched rows leave
only a count."""
from __future__ import annotations

import json

from sqlalchemy import select, text

from portal.extensions import db
from portal.health.models import HealthRecord
from portal.storage import blob_store
from portal.workers.models import VaccineDose, Worker
from tests.health.conftest import UNKNOWN_ID, latest_extract, upload, vaccination_extract, xlsx_file


def _provenance(app, worker_id: int) -> dict:
    with app.app_context():
        doses = db.session.scalars(select(VaccineDose).where(VaccineDose.worker_id == worker_id)
                                   .order_by(VaccineDose.number)).all()
        return {dose.number: (dose.provenance, tuple((dose.registry_data or {}).get("differences", ())))
                for dose in doses}


def test_an_extract_gives_each_dose_its_provenance(app, world, worker_c, days, officer):
    response = upload(officer, vaccination_extract(days), "trich_xuat_tiem_chung.csv")
    extract = latest_extract(app)
    assert response.headers["Location"].endswith(f"/health/extracts/{extract.id}")
    assert extract.status == "ready"
    assert {key: extract.counts[key] for key in ("rows", "errors", "matched", "unmatched", "birth_date_differs",
                                                 "name_differs")} == {
        "rows": 7, "errors": 0, "matched": 5, "unmatched": 2, "birth_date_differs": 1, "name_differs": 1}
    # The preview wrote nothing about the workers.
    assert _provenance(app, world.worker_a) == {1: ("declared", ()), 2: ("declared", ())}
    page = officer.get(f"/health/extracts/{extract.id}").get_data(as_text=True)
    assert "Match this extract" in page

    response = officer.post(f"/health/extracts/{extract.id}/commit", data={"csrf_token": officer.csrf_token()})
    assert response.status_code == 302
    assert _provenance(app, world.worker_a) == {1: ("confirmed", ()), 2: ("confirmed", ())}
    assert _provenance(app, world.worker_b) == {1: ("confirmed", ()), 2: ("conflicting", ("given_on",))}
    assert _provenance(app, worker_c) == {1: ("conflicting", ("product",)), 2: ("not_found", ())}
    with app.app_context():
        held = db.session.scalars(select(VaccineDose).where(VaccineDose.worker_id == world.worker_b,
                                                            VaccineDose.number == 2)).one().registry_data
        assert held["given_on"] == (days.today.fromordinal(days.today.toordinal() - 5)).isoformat()
        names = db.session.scalars(select(HealthRecord.registry_name).where(HealthRecord.worker_id == worker_c)).all()
        assert names == ["Trần Văn Cảnh"]  # shown beside the worker, since it differs once folded


def test_unmatched_rows_leave_no_trace_but_a_count(app, world, worker_c, days, officer):
    upload(officer, vaccination_extract(days), "trich_xuat.csv")
    extract = latest_extract(app)
    key = extract.blob_key
    with app.app_context():
        assert blob_store(app).exists(key)
    officer.post(f"/health/extracts/{extract.id}/commit", data={"csrf_token": officer.csrf_token()})
    extract = latest_extract(app)
    assert extract.status == "committed" and extract.blob_key is None
    assert extract.counts["unmatched"] == 2 and extract.counts["matched"] == 5
    with app.app_context():
        assert not blob_store(app).exists(key)  # the file is deleted once matched
        records = db.session.scalars(select(HealthRecord)).all()
        assert len(records) == 5
        assert {record.worker_id for record in records} == {world.worker_a, world.worker_b, worker_c}
        # Worker A's ID with another date of birth (dose 3) is not theirs: not kept.
        assert {record.number for record in records if record.worker_id == world.worker_a} == {1, 2}
        # Nowhere in the database: the unknown ID, the unknown person's name.
        for table in ("health_extracts", "health_records", "audit_events", "blobs"):
            dump = json.dumps([list(map(str, row)) for row in db.session.execute(text(f"SELECT * FROM {table}"))],
                              ensure_ascii=False)
            assert UNKNOWN_ID not in dump and "Lê Thị Lạ" not in dump, table


def test_an_extract_with_a_bad_row_is_matched_whole_or_not_at_all(app, world, days, officer):
    data = vaccination_extract(days).replace(b"AstraZeneca", b"", 1)  # row 1 loses its vaccine
    upload(officer, data, "bad.csv")
    extract = latest_extract(app)
    assert extract.counts["errors"] == 1
    assert extract.problems[0]["row"] == 3  # the title line and the header come first
    page = officer.get(f"/health/extracts/{extract.id}").get_data(as_text=True)
    assert "Vaccine is missing." in page
    assert extract.status == "failed" and extract.blob_key is None  # the file is gone already
    officer.post(f"/health/extracts/{extract.id}/commit", data={"csrf_token": officer.csrf_token()})
    assert latest_extract(app).status == "failed"
    with app.app_context():
        assert db.session.scalar(select(HealthRecord.id)) is None
        assert not list(blob_store(app).list("health/"))


def test_a_recovery_extract_in_excel_confirms_or_contradicts_the_declared_recovery(app, world, days, officer):
    from datetime import timedelta

    recovered = days.today - timedelta(days=40)
    with app.app_context():
        worker = db.session.get(Worker, world.worker_a)
        worker.recovered_on = recovered
        db.session.get(Worker, world.worker_b).recovered_on = recovered
        db.session.commit()
    headers = ["Số CCCD", "Họ tên", "Ngày dương tính", "Ngày khỏi bệnh", "Cơ sở cấp"]
    rows = [["079090001234", "Nguyễn Văn An", recovered - timedelta(days=12), recovered, "TYT Tân Hưng"],
            ["079190004321", "Đỗ Thị Bích", recovered - timedelta(days=20), recovered - timedelta(days=8),
             "BV dã chiến"]]
    upload(officer, xlsx_file(rows, headers), "f0_khoi_benh.xlsx", kind="recovery")
    extract = latest_extract(app)
    assert extract.counts["matched"] == 2, extract.problems
    officer.post(f"/health/extracts/{extract.id}/commit", data={"csrf_token": officer.csrf_token()})
    with app.app_context():
        a, b = db.session.get(Worker, world.worker_a), db.session.get(Worker, world.worker_b)
        assert a.recovery_provenance == "confirmed"
        assert b.recovery_provenance == "conflicting"
        assert b.recovery_registry["differences"] == ["recovered_on"]
        assert b.recovery_registry["recovered_on"] == (recovered - timedelta(days=8)).isoformat()


def test_hr_correcting_a_dose_to_the_registrys_makes_it_confirmed(app, world, worker_c, days, officer):
    import dataclasses

    from portal.auth.models import User
    from portal.workers.services import update_worker
    from portal.workers.validation import CleanWorker

    upload(officer, vaccination_extract(days), "x.csv")
    officer.post(f"/health/extracts/{latest_extract(app).id}/commit", data={"csrf_token": officer.csrf_token()})
    assert _provenance(app, worker_c)[1] == ("conflicting", ("product",))
    with app.app_context():
        worker = db.session.get(Worker, worker_c)
        values = {field.name: getattr(worker, field.name, None) for field in dataclasses.fields(CleanWorker)}
        values["doses"] = (("moderna", days.b1), ("pfizer", days.b2))
        registry = app.extensions["portal.plugins"].registry
        actor = db.session.scalar(select(User).where(User.email == world.hr_a))
        update_worker(db.session, registry, worker, CleanWorker(**values), actor)
        db.session.commit()
    assert _provenance(app, worker_c)[1] == ("confirmed", ())


def test_a_checked_extract_never_matched_expires_with_its_file(app, world, days, officer, runner):
    from datetime import timedelta

    from portal.health.models import HealthExtract

    upload(officer, vaccination_extract(days), "x.csv")
    extract = latest_extract(app)
    with app.app_context():
        db.session.get(HealthExtract, extract.id).created_at -= timedelta(days=2)
        db.session.commit()
    result = runner.invoke(args=["health", "expire"])
    assert result.exit_code == 0, result.output
    assert "1 unmatched extract files deleted." in result.output
    assert latest_extract(app).status == "expired"
    with app.app_context():
        assert not blob_store(app).exists(extract.blob_key)


def test_an_extract_over_the_size_limit_is_refused_before_it_is_stored(app, world, days, officer):
    app.config["HEALTH_EXTRACT_MAX_BYTES"] = 200
    response = upload(officer, vaccination_extract(days), "x.csv")
    assert response.status_code == 302 and latest_extract(app) is None
    page = officer.get("/health/").get_data(as_text=True)
    assert "The file is larger than 1 KB." in page
    with app.app_context():
        assert not list(blob_store(app).list("health/"))


def test_the_command_line_matches_a_large_extract_and_admin_creates_the_officer(app, world, worker_c, days, runner,
                                                                              tmp_path):
    path = tmp_path / "trich_xuat.csv"
    path.write_bytes(vaccination_extract(days))
    result = runner.invoke(args=["health", "match", str(path), "--kind", "vaccination", "--as", world.hr_a])
    assert result.exit_code != 0 and "is not a health-data officer's account" in result.output
    result = runner.invoke(args=["users", "create", "--role", "health", "--email", "yte2@example.vn",
                                 "--name", "Lý Thị Y", "--password", "a-long-password-123"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["health", "match", str(path), "--kind", "vaccination", "--as", "yte2@example.vn"])
    assert result.exit_code == 0, result.output
    assert "matched=5" in result.output and "unmatched=2" in result.output
    assert _provenance(app, world.worker_b) == {1: ("confirmed", ()), 2: ("conflicting", ("given_on",))}
    assert path.exists()  # the command leaves the officer's own file where it is
