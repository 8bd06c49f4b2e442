"""End of the pilot: ``portal privacy erase`` leaves no personal value anywhere, and every figure as it was.

A realistic pilot is seeded through the pages (a worker by form, a list imported from a file, another
left waiting, cards issued, one downloaded, a print sheet, a revocation with a note, checkpoint
scans). Every table (every column of every row: compressed import rows unpacked, JSON read) and
every file in the blob store (PDFs read back with pdftotext) is scanned for the names, ID numbers,
phones, addresses, dates of birth and dose dates the seed used. The scan finds them before the erase (it can
fail) and nothing after; the dashboard's and the report's figures are the same. Both blob-store
backends: the database, and an S3-compatible server (moto_server) started on loopback.
"""
from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import unicodedata
import zlib
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.storage import blob_store
from portal.workers.identity import make_cccd

needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils are not installed")
pytestmark = [pytest.mark.slow, needs_poppler]

FORM_WORKER = {
    "full_name": "Lâm Thị Hoà Bình", "date_of_birth": "03/02/1995", "sex": "F", "citizen_id": "079195000111",
    "phone": "0909111222", "home_address": "88 Huỳnh Tấn Phát", "home_ward": "Tân Phong", "home_district": "Quận 7",
    "job_title": "Kế toán", "shift": "office", "dose1_product": "pfizer", "dose1_date": "01/08/2021",
    "dose2_product": "pfizer", "dose2_date": "01/09/2021", "dose3_product": "", "dose3_date": "",
    "recovered_on": "", "test_kind": "", "tested_on": "",
}
IMPORTED = ["Trịnh Văn Khải", "Mai Thị Thu Trang", "Quách Gia Huy", "Tạ Thị Kim Liên", "Kiều Minh Nhật",
            "Lý Thị Cẩm Vân"]
WAITING = ["Châu Ngọc Sương", "Hứa Văn Định"]  # uploaded, never committed: their rows wait in the batch
HEADERS = ["Họ và tên", "Ngày sinh", "Giới tính", "Số CCCD/CMND", "Số điện thoại", "Địa chỉ thường trú", "Phường/Xã",
           "Quận/Huyện", "Chức vụ", "Ca làm việc", "Vắc xin mũi 1", "Ngày tiêm mũi 1", "Vắc xin mũi 2",
           "Ngày tiêm mũi 2"]


def _row(index: int, name: str) -> dict[str, str]:
    born = date(1972 + index * 3, 1 + index, 2 + index * 2)
    sex = "F" if "Thị" in name else "M"
    first = clock.local_today() - timedelta(days=150 + index)
    return {"Họ và tên": name, "Ngày sinh": born.strftime("%d/%m/%Y"), "Giới tính": "Nữ" if sex == "F" else "Nam",
            "Số CCCD/CMND": make_cccd(79, born, sex, 424200 + index), "Số điện thoại": f"09384{index:02d}{index:02d}7",
            "Địa chỉ thường trú": f"{17 + index}/3 Trần Xuân Soạn", "Phường/Xã": "Tân Kiểng",
            "Quận/Huyện": "Quận 7", "Chức vụ": "Công nhân", "Ca làm việc": "Hành chính",
            "Vắc xin mũi 1": "AstraZeneca", "Ngày tiêm mũi 1": first.strftime("%d/%m/%Y"),
            "Vắc xin mũi 2": "AstraZeneca", "Ngày tiêm mũi 2": (first + timedelta(days=60)).strftime("%d/%m/%Y")}


def _csv(rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for row in rows:
        writer.writerow([row[column] for column in HEADERS])
    return buffer.getvalue().encode("utf-8-sig")


@pytest.fixture(params=["database", "s3"])
def app_config(request, app_config):
    if request.param == "database":
        return app_config
    server = request.getfixturevalue("s3_server")
    return {**app_config, **server.config(server.new_bucket())}


@pytest.fixture
def store(app):
    store = blob_store(app)
    yield store
    store.close()


def _upload(client, data: bytes, filename: str) -> int:
    response = client.submit("/workers/import", {"file": (io.BytesIO(data), filename)},
                             content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    return int(re.search(r"/workers/import/(\d+)$", response.headers["Location"]).group(1))


def seed(app, client, auth, world) -> None:
    """Run a small pilot through the pages, as HR, a checkpoint and the admin would."""
    from portal.passes.models import Pass
    from portal.tokens.codec import sign_pass_token

    auth.login(world.hr_a)
    assert client.submit("/workers/new", FORM_WORKER).status_code == 302
    batch = _upload(client, _csv([_row(i, name) for i, name in enumerate(IMPORTED)]),
                    "danh-sach-trinh-van-khai.csv")
    assert client.submit(f"/workers/import/{batch}/commit").status_code == 302
    _upload(client, _csv([_row(10 + i, name) for i, name in enumerate(WAITING)]), "bo-sung.csv")
    assert client.submit("/passes/issue-all", {"confirm": "y"}).status_code == 302
    with app.app_context():
        passes = db.session.scalars(select(Pass).order_by(Pass.id)).all()
        assert len(passes) >= 6, "the seed's workers must be eligible"
        ids = [pass_.id for pass_ in passes]
        tokens = [sign_pass_token(pass_) for pass_ in passes[:3]]
    assert client.get(f"/passes/{ids[0]}.pdf").status_code == 200  # a cached card PDF
    job = client.submit("/passes/print-sheet")  # runs at once under TESTING: a print sheet in the store
    assert job.status_code == 302
    assert client.submit(f"/passes/{ids[1]}/revoke",
                         {"reason": "other", "note": "Anh Trịnh Văn Khải xin nghỉ, SĐT 0938400007"}).status_code == 302
    for token in tokens:  # checkpoint scans: counted by unit and outcome, never who
        assert client.get(f"/api/v1/verify/{token}").status_code == 200
    auth.logout()


# ---------------------------------------------------------------------------
# What a scan looks for, and where
# ---------------------------------------------------------------------------

def personal_values(app) -> set[str]:
    """Every name, ID number, phone, home address, date of birth and dose date of the seeded workers (and the waiting
    list)."""
    from portal.workers.models import Worker

    values = set()
    with app.app_context():
        for worker in db.session.scalars(select(Worker)):
            born = worker.date_of_birth
            values |= {worker.full_name, worker.name_key, worker.citizen_id, worker.phone, worker.home_address,
                       born.isoformat(), born.strftime("%d/%m/%Y")}
            # Health data: the dates of doses (the eligibility snapshot's reason quotes them).
            values |= {text for dose in worker.doses if dose.given_on
                       for text in (dose.given_on.isoformat(), dose.given_on.strftime("%d/%m/%Y"))}
    for i, name in enumerate(WAITING):
        row = _row(10 + i, name)
        values |= {name, row["Số CCCD/CMND"], row["Số điện thoại"], row["Ngày sinh"], row["Địa chỉ thường trú"]}
    return {value for value in values if value and len(value) >= 6}


def _texts(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        found = [data.decode("utf-8", "ignore")]
        try:
            found.append(zlib.decompress(data).decode("utf-8", "ignore"))  # stored import rows
        except zlib.error:
            pass
        return found
    if isinstance(value, datetime):
        return [value.isoformat()]
    if isinstance(value, date):
        return [value.isoformat(), value.strftime("%d/%m/%Y")]
    if isinstance(value, (dict, list)):
        return [json.dumps(value, ensure_ascii=False)]
    return [str(value)]


def _pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "scanned.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout


def scan(app, store, needles: set[str], tmp_path) -> dict[str, set[str]]:
    """Return {personal value: where it was found}, looking in every row of every table and every stored file."""
    found: dict[str, set[str]] = {}

    def look(place: str, text: str) -> None:
        text = unicodedata.normalize("NFC", text)
        for needle in needles:
            if needle in text:
                found.setdefault(needle, set()).add(place)

    with app.app_context():
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(select(table)):
                for column, value in zip(table.columns, row, strict=True):
                    for text in _texts(value):
                        look(f"{table.name}.{column.name}", text)
        db.session.rollback()
    for info in store.list():
        with store.open(info.key) as stream:
            data = stream.read()
        look(f"blob:{info.key}", data.decode("utf-8", "ignore"))
        if data.startswith(b"%PDF"):
            look(f"blob:{info.key}", _pdf_text(data, tmp_path))
    return found


# ---------------------------------------------------------------------------
# The figures
# ---------------------------------------------------------------------------

def figures_shown(app, now: datetime) -> dict:
    """The dashboard's and the report's counts for the whole city (as the admin sees them) at ``now``."""
    from portal.dashboard import report
    from portal.dashboard.figures import collect_figures
    from portal.dashboard.scope import Scope

    registry = app.extensions["portal.plugins"].registry
    today = clock.local_today(now)
    with app.app_context():
        shown = {}
        for by_sector in (False, True):
            figures = collect_figures(db.session, registry, Scope(None), now=now, first_day=today - timedelta(days=13),
                                      last_day=today, by_sector=by_sector, flows=by_sector)
            for name in ("enterprises", "workers", "eligibility", "passes", "pass_flows", "scans"):
                shown[(by_sector, name)] = dict(getattr(figures, name))
            shown[(by_sector, "stale")] = [item.stale for item in figures.freshness]
            if by_sector:
                shown["tables"] = [(table.key, table.rows, table.totals)
                                   for table in report.report_tables(figures, registry)]
        db.session.rollback()
    return shown


def assert_enterprise_pages_current(app, world, today: date) -> None:
    """The enterprise page's eligibility panel and HR's cards page say their figures are current on ``today``."""
    from portal.eligibility.summaries import enterprise_eligibility
    from portal.enterprises.models import Enterprise
    from portal.passes.listing import row_counts

    with app.app_context():
        for enterprise_id in (world.enterprise_a, world.enterprise_b):
            enterprise = db.session.get(Enterprise, enterprise_id)
            panel = enterprise_eligibility(db.session, app.extensions["portal.plugins"].registry, enterprise, today)
            assert panel.active and panel.current, panel
            counts = row_counts(db.session, enterprise_id, today)
            assert counts.all and counts.current, counts
        db.session.rollback()


def report_page_cells(client, auth, world) -> list[str]:
    auth.login(world.admin)
    page = client.get("/dashboard/report").get_data(as_text=True)
    auth.logout()
    tables = re.findall(r"<table.*?</table>", page, re.S)
    assert tables
    cells = [cell for table in tables for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", table, re.S)]
    return [re.sub(r"<[^>]+>|\s+", " ", cell).strip() for cell in cells]


# ---------------------------------------------------------------------------
# The erase
# ---------------------------------------------------------------------------

def test_the_erase_leaves_no_personal_value_anywhere_and_every_figure_as_it_was(app, client, auth, world, store,
                                                                               tmp_path):
    seed(app, client, auth, world)
    runner = app.test_cli_runner()
    # The snapshot as the nightly refresh leaves it (pages never write: the fixture's workers have no row yet).
    refreshed = runner.invoke(args=["eligibility", "refresh"])
    assert refreshed.exit_code == 0, refreshed.output
    needles = personal_values(app)
    before = scan(app, store, needles, tmp_path)
    places = {place.split(".")[0].split(":")[0] for where in before.values() for place in where}
    # The scan works: it finds the seed's values in each kind of place the erase must clean.
    assert {"workers", "import_batches", "audit_events", "passes", "eligibility_snapshots", "blob"} <= places, places
    assert any(place.startswith("blob:jobs/") for where in before.values() for place in where)
    assert any(place.startswith("blob:cache/pass-pdf/") for where in before.values() for place in where)
    now = clock.utcnow()
    shown = figures_shown(app, now)
    assert all(stale == 0 for stale in shown[(False, "stale")])
    cells = report_page_cells(client, auth, world)

    tomorrow = clock.format_date(clock.local_today() + timedelta(days=1))
    dry = runner.invoke(args=["privacy", "erase", "--before", tomorrow])
    assert dry.exit_code == 0, dry.output
    assert "dry run: nothing is changed" in dry.output and re.search(r"workers:\s+9\b", dry.output), dry.output
    assert scan(app, store, needles, tmp_path) == before  # a dry run changes nothing

    result = runner.invoke(args=["privacy", "erase", "--before", tomorrow, "--yes", "--batch-size", "10"])
    assert result.exit_code == 0, result.output
    assert re.search(r"workers: 9 / 9", result.output) and "Removed all of this" in result.output
    assert re.search(r"files: [1-9]\d* deleted", result.output), result.output

    assert scan(app, store, needles, tmp_path) == {}
    assert figures_shown(app, now) == shown
    assert report_page_cells(client, auth, world) == cells
    # Erased eligibility is final: tomorrow's refresh asks the rules nothing about them (without their doses
    # they would all be ineligible), and nothing is stale, for the city or on an enterprise's pages.
    refreshed = runner.invoke(args=["eligibility", "refresh", "--on", tomorrow])
    assert refreshed.exit_code == 0, refreshed.output
    later = figures_shown(app, now + timedelta(days=1))
    assert later[(False, "eligibility")] == shown[(False, "eligibility")]
    assert all(stale == 0 for stale in later[(False, "stale")])
    assert_enterprise_pages_current(app, world, clock.local_today(now) + timedelta(days=1))

    again = runner.invoke(args=["privacy", "erase", "--before", tomorrow, "--yes"])
    assert again.exit_code == 0 and re.search(r"workers:\s+0\b", again.output), again.output


def test_the_erase_keeps_workers_registered_on_or_after_the_day(app, client, auth, world, store, tmp_path):
    from portal.workers.models import Worker

    with app.app_context():
        old = db.session.get(Worker, world.worker_a)
        old.created_at = clock.start_of_local_day(date(2021, 9, 1)) - timedelta(hours=1)
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["privacy", "erase", "--before", "01/09/2021", "--yes"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        erased, kept = db.session.get(Worker, world.worker_a), db.session.get(Worker, world.worker_b)
        assert erased.erased_at is not None and erased.full_name == "—" and erased.citizen_id == f"E{erased.id}"
        assert erased.date_of_birth == date(1900, 1, 1) and erased.doses == [] and erased.active
        assert kept.erased_at is None and kept.full_name != "—"


def test_the_erase_waits_for_running_jobs(app, world):
    from portal.jobs.models import Job, JobStatus
    from portal.workers.models import Worker

    with app.app_context():
        db.session.add(Job(kind="print_sheet", params={}, status=JobStatus.RUNNING.value))
        db.session.commit()
    tomorrow = clock.format_date(clock.local_today() + timedelta(days=1))
    result = app.test_cli_runner().invoke(args=["privacy", "erase", "--before", tomorrow, "--yes"])
    assert result.exit_code != 0 and "Nothing was erased: 1 background jobs are queued or running" in result.output
    with app.app_context():
        assert db.session.scalar(select(Worker).where(Worker.erased_at.is_not(None))) is None


@pytest.mark.parametrize("day, problem", [("32/13/2021", "dd/mm/yyyy"), ("31/12/2999", "after tomorrow")])
def test_the_day_is_checked(app, day, problem):
    result = app.test_cli_runner().invoke(args=["privacy", "erase", "--before", day])
    assert result.exit_code != 0 and problem in result.output
