"""The print-sheet job: from the HR page to a downloaded sheet, progress in cards, reprints of chosen cards."""
from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from portal.extensions import db
from portal.passes import sheet
from portal.printing import render
from portal.printing.testing import decode_qr_codes, pdf_text, rasterise
from portal.testing.fixtures import make_worker
from portal.verify.testing import make_pass
from portal.workers.models import Worker

NAMES = ("Trương Thị Ánh", "Lý Văn Đạt", "Huỳnh Ngọc Ẩn", "Quách Thị Ổn", "Nguyễn Thị Hường")


def issue(app, enterprise_worker_id: int, names, first: int = 0) -> list[int]:
    """Give a pass to a new worker of the enterprise of ``enterprise_worker_id`` for each name; return pass ids."""
    with app.app_context():
        enterprise = db.session.get(Worker, enterprise_worker_id).enterprise
        passes = [make_pass(db.session, make_worker(db.session, enterprise, citizen_id=f"07909240{n:04d}", name=name))
                  for n, name in enumerate(names, start=first)]
        db.session.commit()
        return [pass_.id for pass_ in passes]


class RecordingContext:
    """What a job handler gets, keeping every progress report and the file it writes."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.reports: list[tuple[int, int, str]] = []
        self.output: Path | None = None
        self.job_id = self.user_id = None  # a job nobody asked for: no "ready" mail

    @property
    def session(self):
        return db.session

    def progress(self, done, total, message=None):
        self.reports.append((done, total, str(message)))

    def save_output(self, filename: str, data: bytes, *, content_type: str = "application/octet-stream") -> str:
        self.output = self.folder / filename
        self.output.write_bytes(data)
        return filename


def test_hr_prints_every_active_card_index_first_and_each_qr_code_scans(client, auth, app, world, tmp_path):
    from portal.tokens.codec import decode_token
    from portal.tokens.keys import current_keyring

    issue(app, world.worker_a, NAMES)
    issue(app, world.worker_b, ["Võ Thị Khác"], first=50)  # another enterprise's card is not on this sheet
    auth.login(world.hr_a)
    response = client.submit("/passes/print-sheet")
    job_url = response.headers["Location"]
    assert re.fullmatch(r"/jobs/\d+", job_url)
    status = client.get(job_url, headers={"Accept": "application/json"}).get_json()
    assert status["status"] == "done" and status["percent"] == 100
    assert status["result"] == {"count": 5, "pages": 3, "index_pages": 1}
    assert (status["done"], status["total"]) == (5, 5)
    assert ("Đã sẵn sàng 5 thẻ xanh trên 2 trang A4, sau 1 trang danh sách ký nhận. Bước tiếp theo: tải tờ in về"
            in status["text"])
    download = client.get(status["download_url"])
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    data = download.data
    download.close()
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]
    assert len(pages) == 3
    assert "Thẻ xanh: danh sách ký nhận" in pages[0] and "Chữ ký người nhận" in pages[0]
    assert all(name in pages[0] for name in NAMES) and "Võ Thị Khác" not in pdf_text(data)
    scanned = [url for image in rasterise(data, 200) for url in decode_qr_codes(image)]
    assert len(scanned) == 5
    with app.app_context():
        keys = current_keyring().verifying_keys()
        decoded = {decode_token(url.rsplit("/v/", 1)[1], keys).serial for url in scanned}
    assert decoded == set(re.findall(r"Q7-\d{10}", pages[0]))
    auth.logout()  # the sheet is the HR user's alone
    auth.login(world.hr_b)
    assert client.get(status["download_url"]).status_code == 404


def test_progress_counts_cards_and_the_job_ends_with_counts(app, world, tmp_path, monkeypatch):
    monkeypatch.setattr(render, "INDEX_ROWS", 4)
    issue(app, world.worker_a, NAMES)
    context = RecordingContext(tmp_path)
    with app.app_context():
        result = sheet.print_sheet_job(context, enterprise_id=world.enterprise_a, base_url="https://x.test")
    assert result.data == {"count": 5, "pages": 2 + 2, "index_pages": 2}
    done = [report[0] for report in context.reports]
    assert done == sorted(done) and done[0] == 0 and done[-1] == 5
    assert {report[1] for report in context.reports} == {5}  # the total is the number of cards, from the start
    assert context.reports[-1][2].startswith("Đã sẵn sàng 5 thẻ xanh trên 2 trang A4, sau 2 trang danh sách ký nhận.")
    assert context.output.name.startswith("the-xanh-") and context.output.read_bytes().startswith(b"%PDF")


def test_a_sheet_of_chosen_cards_prints_only_those_of_the_enterprise(app, world, tmp_path):
    ids = issue(app, world.worker_a, NAMES)
    [foreign] = issue(app, world.worker_b, ["Võ Thị Khác"], first=50)
    context = RecordingContext(tmp_path)
    with app.app_context():
        result = sheet.print_sheet_job(context, enterprise_id=world.enterprise_a, base_url="https://x.test",
                                       pass_ids=[ids[3], ids[1], foreign, 999_999])
    assert result.data == {"count": 2, "pages": 2, "index_pages": 1}
    text = pdf_text(context.output.read_bytes())
    assert "Lý Văn Đạt" in text and "Quách Thị Ổn" in text
    assert not any(name in text for name in ("Trương Thị Ánh", "Huỳnh Ngọc Ẩn", "Nguyễn Thị Hường", "Võ Thị Khác"))


def test_a_job_with_nothing_to_print_says_so(app, world, tmp_path):
    context = RecordingContext(tmp_path)
    with app.app_context():
        assert sheet.print_sheet_job(context, enterprise_id=world.enterprise_b, base_url="https://x.test",
                                     pass_ids=[]) == {"count": 0, "pages": 0, "index_pages": 0}
    assert context.reports == [(0, 0, "Không có thẻ xanh nào còn hiệu lực để in.")] and context.output is None


def test_print_sheet_without_active_cards_says_so(client, auth, world):
    auth.login(world.hr_a)
    page = client.submit("/passes/print-sheet", follow_redirects=True).get_data(as_text=True)
    assert "Không có thẻ xanh nào còn hiệu lực để in." in page


@pytest.mark.parametrize("who", ["official_x", "admin"])
def test_print_sheets_are_for_hr(client, auth, world, who):
    auth.login(getattr(world, who))
    assert client.submit("/passes/print-sheet").status_code == 403


def test_pdftotext_reads_every_name_of_the_sheet(app, world, tmp_path):
    issue(app, world.worker_a, NAMES)
    context = RecordingContext(tmp_path)
    with app.app_context():
        sheet.print_sheet_job(context, enterprise_id=world.enterprise_a, base_url="https://x.test")
    text = subprocess.run(["pdftotext", str(context.output), "-"], check=True, capture_output=True,
                          text=True).stdout
    for name in NAMES:
        assert text.count(name) == 2  # in the index and on the card
