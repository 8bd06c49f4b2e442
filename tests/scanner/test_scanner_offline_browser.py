"""The checkpoint scanner in a real browser, with a fake camera filming a printed pass, and no network.

The officer opens /quet online (keys and revocation list sync), the network goes, the page reloads from
its service worker, the camera reads a genuine card: HỢP LỆ at 07:15 in Ho Chi Minh City. A card revoked
before the sync, shown as a photo: ĐÃ THU HỒI. A forged token, pasted: KHÔNG HỢP LỆ. No request reaches
the portal meanwhile. Back online, the three offline scans reach the dashboard's count of today's scans.
"""
from __future__ import annotations

import base64
import re
from datetime import datetime, time
from pathlib import Path

import pytest
import time_machine
from PIL import Image

from portal.clock import HCMC, local_today
from portal.extensions import db
from portal.printing.testing import rasterise
from portal.verify.models import VerificationRecord

pytestmark = pytest.mark.browser

FRAME = (640, 480)


def write_y4m(picture: Path, target: Path, frames: int = 10) -> None:
    """Write a YUV4MPEG2 clip (4:2:0, 10 frames a second) of ``picture`` letterboxed in a 640×480 frame."""
    image = Image.open(picture).convert("RGB")
    image.thumbnail(FRAME)
    frame = Image.new("RGB", FRAME, "white")
    frame.paste(image, ((FRAME[0] - image.width) // 2, (FRAME[1] - image.height) // 2))
    y, cb, cr = frame.convert("YCbCr").split()
    half = (FRAME[0] // 2, FRAME[1] // 2)
    planes = y.tobytes() + cb.resize(half, Image.BILINEAR).tobytes() + cr.resize(half, Image.BILINEAR).tobytes()
    with target.open("wb") as out:
        out.write(f"YUV4MPEG2 W{FRAME[0]} H{FRAME[1]} F10:1 Ip A1:1 C420jpeg\n".encode("ascii"))
        for _ in range(frames):
            out.write(b"FRAME\n" + planes)


def qr_region(png: Path, target: Path) -> Path:
    """Keep the part of a rendered pass around its QR code, as a camera held over the card sees it.

    The QR code is the square of the page with the most black (the card's text is sparse in comparison,
    its green band is not black): found on an eighth-size mask with an integral image.
    """
    image = Image.open(png).convert("L")
    step = 8
    mask = image.point(lambda value: 255 if value < 60 else 0).resize(
        (image.width // step, image.height // step), Image.BOX)
    columns, rows = mask.size
    values = mask.tobytes()
    total = [[0] * (columns + 1) for _ in range(rows + 1)]
    for y in range(rows):
        for x in range(columns):
            total[y + 1][x + 1] = values[y * columns + x] + total[y][x + 1] + total[y + 1][x] - total[y][x]
    side = int(columns * 0.35)
    best = max((total[y + side][x + side] - total[y][x + side] - total[y + side][x] + total[y][x], x, y)
                for y in range(rows - side) for x in range(columns - side))
    _, x, y = best
    margin = side // 3
    box = ((x - margin) * step, (y - margin) * step, (x + side + margin) * step, (y + side + margin) * step)
    frame = Image.new("L", (box[2] - box[0], box[3] - box[1]), 255)
    frame.paste(image.crop((max(0, box[0]), max(0, box[1]), box[2], box[3])),
                (max(0, -box[0]), max(0, -box[1])))
    frame.save(target)
    return target


def _issue_cards(app, world, base_url):
    """Issue two cards of enterprise A (printed as PDFs), then revoke the second: (valid token, pdfs)."""
    from portal.enterprises.models import Enterprise
    from portal.passes.pdf import pass_pdf
    from portal.passes.revoking import revoke_pass, typed_note
    from portal.plugins import current_registry
    from portal.testing.fixtures import make_worker
    from portal.tokens.codec import sign_pass_token
    from portal.verify.testing import make_pass
    from portal.workers.models import Worker

    with app.test_request_context("/"):
        session = db.session
        registry = current_registry()
        good = make_pass(session, session.get(Worker, world.worker_a), serial="Q7-0000000101")
        other = make_worker(session, session.get(Enterprise, world.enterprise_a), citizen_id="079090005678",
                            name="Trần Thị Bích Ngọc")
        revoked = make_pass(session, other, serial="Q7-0000000102")
        session.commit()
        token = sign_pass_token(good)
        pdfs = [pass_pdf(good, registry, base_url=base_url), pass_pdf(revoked, registry, base_url=base_url)]
        revoke_pass(session, registry, revoked, None, "left", typed_note("Nghỉ việc"))
        session.commit()
    return token, pdfs


def _forged(token: str) -> str:
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[12] ^= 0x01  # one byte of the payload changed, the signature kept
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode("ascii")


def _scans_today(client) -> int:
    page = client.get("/dashboard").get_data(as_text=True)
    found = re.search(r'id="kpi-scans">\s*<span class="kpi-value">([^<]+)</span>', page)
    assert found, page[:2000]
    return int(re.sub(r"\D", "", found.group(1)))


def _verdict(page) -> str:
    return page.locator("#verdict-word").inner_text().strip()


def test_offline_checkpoint_valid_revoked_forged_then_counts_reach_the_dashboard(
        app, client, auth, world, live_server, in_chromium, tmp_path, screenshot_dir):
    morning = datetime.combine(local_today(), time(7, 15), tzinfo=HCMC)
    with time_machine.travel(morning, tick=True):
        token, (valid_pdf, revoked_pdf) = _issue_cards(app, world, live_server)
        valid_png = qr_region(rasterise(valid_pdf, 200)[0], tmp_path / "valid-qr.png")
        revoked_png = rasterise(revoked_pdf, 150)[0]
        camera_file = tmp_path / "card.y4m"
        write_y4m(valid_png, camera_file)
        auth.login(world.admin)

        def officer(launch):
            browser = launch("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                             f"--use-file-for-fake-video-capture={camera_file}")
            context = browser.new_context(base_url=live_server, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh",
                                          viewport={"width": 390, "height": 844})
            context.clock.set_fixed_time(morning)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            # Online: the page syncs the keys and the list (the revoked card is on it) and keeps itself.
            page.goto("/quet")
            page.wait_for_selector("body[data-sync=done]")
            assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
            page.wait_for_function("caches.keys().then((names) => names.length === 1)")
            assert "Danh sách thu hồi cập nhật cách đây 0 phút (1 thẻ)" in page.locator("#list-age").inner_text()
            assert page.locator("#stale-warning").is_hidden() and page.locator("#skew-warning").is_hidden()
            # The camera already reads the card: online, the portal answers (and counts the scan itself).
            page.wait_for_selector("#holder-source:has-text('Đã được cổng thông tin xác nhận')", timeout=20_000)
            assert _verdict(page) == "HỢP LỆ"
            with app.app_context():
                online_records = db.session.query(VerificationRecord).count()

            # No network: the page comes back from its service worker and the camera reads the card.
            context.set_offline(True)
            live_server.counter.unreachable = True
            requests_before = len(live_server.requests)
            page.reload()
            page.wait_for_selector("body[data-ready=true]")
            assert page.locator("#network").inner_text() == "Không có mạng: thẻ được kiểm tra trên điện thoại"
            assert page.evaluate("document.body.dataset.decoder") in ("jsQR", "BarcodeDetector")
            page.wait_for_selector("#verdict[data-outcome=valid]", timeout=20_000)
            assert _verdict(page) == "HỢP LỆ"
            assert page.locator("#holder-name").inner_text() == "NGUYEN V. AN"
            assert "Đã kiểm tra trên điện thoại" in page.locator("#holder-source").inner_text()
            page.screenshot(path=str(screenshot_dir / "scanner-offline-valid.png"), full_page=True)

            # A photo of the card revoked before the sync.
            page.set_input_files("#photo", str(revoked_png))
            page.wait_for_selector("#verdict[data-outcome=revoked]", timeout=20_000)
            assert _verdict(page) == "ĐÃ THU HỒI"
            page.screenshot(path=str(screenshot_dir / "scanner-offline-revoked.png"), full_page=True)

            # A forged token: one byte changed.
            page.fill("#paste", f"{live_server}/v/{_forged(token)}")
            page.click("#paste-form button[type=submit]")
            page.wait_for_selector("#verdict[data-outcome=invalid]")
            assert _verdict(page) == "KHÔNG HỢP LỆ"
            assert page.locator("#holder").is_hidden()
            page.screenshot(path=str(screenshot_dir / "scanner-offline-forged.png"), full_page=True)

            # Nothing but a sync may have been tried (a document just reloaded can believe itself online for a
            # moment), and it failed: no card was asked about, no count sent; every verdict came from the phone.
            tried = set(live_server.requests[requests_before:])
            assert tried <= {"/.well-known/greencard-keys.json", "/api/v1/scanner/revocations"}, tried
            page.wait_for_selector("#pending:has-text('Lượt quét chờ gửi: 3')")
            assert _scans_today(client) == online_records

            # Back online: the counts go to the portal and into the dashboard's figures.
            live_server.counter.unreachable = False
            context.set_offline(False)
            page.wait_for_selector("#pending", state="hidden", timeout=20_000)
            assert _scans_today(client) == online_records + 3
            assert errors == []

        in_chromium(officer)
