"""The card's PDF: rendered once per content and cached, dropped on change; print sheets as a job."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from portal.extensions import db
from portal.passes import pdf

needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext") or not shutil.which("pdftoppm"),
                                   reason="poppler-utils are not installed")
needs_zbar = pytest.mark.skipif(not shutil.which("zbarimg"), reason="zbar-tools are not installed")


def _pdftotext(data: bytes, tmp_path: Path) -> str:
    source = tmp_path / "card.pdf"
    source.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(source), "-"], check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture
def renders(monkeypatch):
    """Count the real renders (the renderer still runs)."""
    calls = []
    real = pdf.render_pass_pdf

    def counting(card):
        calls.append(card.serial)
        return real(card)

    monkeypatch.setattr(pdf, "render_pass_pdf", counting)
    return calls


def _cached(app, serial: str) -> list[Path]:
    return sorted((Path(app.config["PASS_CACHE_DIR"]) / serial).glob("*.pdf"))


@needs_poppler
def test_the_pdf_is_rendered_once_then_served_from_the_cache(client, auth, app, world, helpers, renders, tmp_path):
    pass_id = helpers.issue(world.worker_a, world.hr_a)
    pass_ = helpers.pass_of(world.worker_a)
    auth.login(world.hr_a)
    response = client.get(f"/passes/{pass_id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="the-xanh-{pass_.serial}.pdf"'
    assert "no-store" in response.headers["Cache-Control"]
    text = _pdftotext(response.data, tmp_path)
    assert "Nguyễn Văn An" in text and pass_.serial in text and "Công ty TNHH Ánh Dương" in text
    assert "079090001234" not in text and "1234" in text  # the ID only as its last four digits
    [cached] = _cached(app, pass_.serial)
    first_mtime = cached.stat().st_mtime_ns
    again = client.get(f"/passes/{pass_id}.pdf")
    assert again.data == response.data
    assert renders == [pass_.serial]  # the second download did not render
    assert cached.stat().st_mtime_ns == first_mtime


def test_a_new_version_drops_the_cached_pdf(client, auth, app, world, helpers, renders):
    from portal.events import workers_changed
    from portal.workers.models import Worker

    pass_id = helpers.issue(world.worker_a, world.hr_a)
    serial = helpers.pass_of(world.worker_a).serial
    auth.login(world.hr_a)
    client.get(f"/passes/{pass_id}.pdf")
    [old] = _cached(app, serial)
    with app.app_context():
        worker = db.session.get(Worker, world.worker_a)
        worker.home_ward = "Tân Phú"
        workers_changed.send(worker.enterprise, session=db.session, actor=None,
                             registry=app.extensions["portal.plugins"].registry, worker_ids=[worker.id])
        assert old.exists()  # nothing is dropped before the commit
        db.session.commit()
    assert not old.exists()
    client.get(f"/passes/{pass_id}.pdf")
    [new] = _cached(app, serial)
    assert new.name.startswith("v2-") and renders == [serial, serial]


def test_a_revoked_card_is_not_downloadable_and_its_cache_is_gone(client, auth, app, world, helpers):
    pass_id = helpers.issue(world.worker_a, world.hr_a)
    serial = helpers.pass_of(world.worker_a).serial
    auth.login(world.hr_a)
    client.get(f"/passes/{pass_id}.pdf")
    assert _cached(app, serial)
    client.submit(f"/passes/{pass_id}/revoke", {"reason": "left"})
    response = client.get(f"/passes/{pass_id}.pdf")
    assert response.status_code == 410
    assert "Thẻ xanh này đã bị thu hồi nên không thể tải xuống." in response.get_data(as_text=True)
    assert _cached(app, serial) == []


@pytest.mark.parametrize("who, status", [("hr_a", 200), ("official_x", 200), ("admin", 200),
                                         ("hr_b", 404), ("official_y", 404)])
def test_who_may_download(client, auth, world, helpers, who, status):
    pass_id = helpers.issue(world.worker_a, world.hr_a)
    auth.login(getattr(world, who))
    assert client.get(f"/passes/{pass_id}.pdf").status_code == status


def test_anonymous_cannot_download(client, world, helpers):
    pass_id = helpers.issue(world.worker_a, world.hr_a)
    response = client.get(f"/passes/{pass_id}.pdf")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@needs_poppler
@needs_zbar
def test_print_sheet_job_end_to_end_with_scannable_qr_codes(client, auth, app, world, helpers, tmp_path):
    from portal.tokens.codec import decode_token
    from portal.tokens.keys import current_keyring

    others = [helpers.add_worker(world.enterprise_a, f"07909240{n:04d}", name)
              for n, name in enumerate(["Trương Thị Ánh", "Lý Văn Đạt", "Huỳnh Ngọc Ẩn", "Quách Thị Ổn"])]
    serials = set()
    for worker_id in [world.worker_a, *others]:
        helpers.issue(worker_id, world.hr_a)
        serials.add(helpers.pass_of(worker_id).serial)
    auth.login(world.hr_a)
    page = client.get("/passes").get_data(as_text=True)
    assert "In tờ thẻ của tất cả thẻ còn hiệu lực (5)" in page
    response = client.submit("/passes/print-sheet")
    job_url = response.headers["Location"]
    assert re.fullmatch(r"/jobs/\d+", job_url)
    status = client.get(job_url, headers={"Accept": "application/json"}).get_json()
    assert status["status"] == "done" and status["percent"] == 100 and status["result"] == {"count": 5}
    assert (status["done"], status["total"]) == (10, 10)
    assert "Đã sẵn sàng 5 thẻ xanh để in." in status["text"]
    sheet = client.get(status["download_url"])
    assert sheet.status_code == 200 and sheet.mimetype == "application/pdf"
    pdf = tmp_path / "sheet.pdf"
    pdf.write_bytes(sheet.data)
    sheet.close()
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    for name in ("Nguyễn Văn An", "Trương Thị Ánh", "Lý Văn Đạt", "Huỳnh Ngọc Ẩn", "Quách Thị Ổn"):
        assert name in text
    subprocess.run(["pdftoppm", "-r", "200", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) == 2  # four cards to an A4 page
    scanned = subprocess.run(["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", *map(str, pages)],
                             capture_output=True, text=True).stdout.split()
    assert len(scanned) == 5
    with app.app_context():
        keys = current_keyring().verifying_keys()
        decoded = {decode_token(url.rsplit("/v/", 1)[1], keys).serial for url in scanned}
    assert decoded == serials
    # The sheet is the HR user's alone.
    auth.logout()
    auth.login(world.hr_b)
    assert client.get(status["download_url"]).status_code == 404


def test_print_sheet_without_active_cards_says_so(client, auth, world):
    auth.login(world.hr_a)
    page = client.submit("/passes/print-sheet", follow_redirects=True).get_data(as_text=True)
    assert "Không có thẻ xanh nào còn hiệu lực để in." in page


@pytest.mark.parametrize("who", ["official_x", "admin"])
def test_print_sheets_are_for_hr(client, auth, world, who):
    auth.login(getattr(world, who))
    assert client.submit("/passes/print-sheet").status_code == 403
