"""The pilot's whole journey in a real browser.

HR registers an enterprise, the unit's official approves it, HR imports a worker list and issues
green cards, a worker downloads their PDF, a checkpoint scans its QR (decoded from the PDF with
zbar) and sees VALID, the official revokes the card and the checkpoint sees REVOKED. The clock is
set to 07:15 in Ho Chi Minh City (inside the morning commute window) so the verdict is stable.
Screenshots of each role's main page are kept in test-artifacts/screenshots/.
"""
from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta

import pytest
import time_machine

from portal.clock import HCMC, format_date, local_today
from portal.printing.testing import decode_qr_codes, pdf_text, rasterise
from portal.testing.fixtures import TEST_PASSWORD
from portal.workers.columns import HEADERS
from portal.workers.identity import make_cccd

pytestmark = pytest.mark.browser

HR_EMAIL = "nhansu@saigonxanh.vn"
HR_PASSWORD = "mat-khau-that-dai-2021"


def _worker_list(today) -> bytes:
    """A worker list as an office exports it: two fully vaccinated workers and one with a single dose."""
    people = [
        ("Nguyễn Thị Ánh", "12/03/1990", "Nữ", make_cccd(79, datetime(1990, 3, 12), "F", 101), "0901234567", 60),
        ("Trần Văn Bình", "01/07/1985", "Nam", make_cccd(79, datetime(1985, 7, 1), "M", 102), "0912345678", 40),
        ("Lê Hoàng Cường", "20/11/1999", "Nam", make_cccd(79, datetime(1999, 11, 20), "M", 103), "0987654321", None),
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["DANH SÁCH NGƯỜI LAO ĐỘNG ĐĂNG KÝ THẺ XANH COVID"])
    writer.writerow(HEADERS)
    for number, (name, born, sex, citizen_id, phone, second_dose_days) in enumerate(people, start=1):
        first = today - timedelta(days=(second_dose_days or 20) + 30)
        row = dict.fromkeys(HEADERS, "")
        row.update({HEADERS[0]: str(number), "Họ và tên": name, "Ngày sinh": born, "Giới tính": sex,
                    "Số CCCD/CMND": citizen_id, "Số điện thoại": phone, "Địa chỉ thường trú": "12 Lê Văn Lương",
                    "Phường/Xã": "Tân Hưng", "Quận/Huyện": "Quận 7", "Chức vụ": "Công nhân",
                    "Ca làm việc": "Hành chính", "Vắc xin mũi 1": "AstraZeneca", "Ngày tiêm mũi 1": format_date(first)})
        if second_dose_days:
            row.update({"Vắc xin mũi 2": "AstraZeneca",
                        "Ngày tiêm mũi 2": format_date(today - timedelta(days=second_dose_days))})
        writer.writerow([row[header] for header in HEADERS])
    return buffer.getvalue().encode("utf-8-sig")


def _sign_in(context, email, password):
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, page.content()[:2000]
    return page


def test_register_approve_import_issue_download_verify_revoke(app, browser, live_server, world, screenshot, tmp_path):
    today = local_today()
    morning = datetime.combine(today, time(7, 15), tzinfo=HCMC)
    with time_machine.travel(morning, tick=True):
        contexts = {role: browser.new_context(locale="vi-VN", base_url=live_server, timezone_id="Asia/Ho_Chi_Minh",
                                              accept_downloads=True, viewport={"width": 414, "height": 896})
                    for role in ("hr", "official", "worker", "checkpoint", "admin")}
        try:
            _journey(contexts, world, today, screenshot, tmp_path, live_server, app)
        finally:
            for context in contexts.values():
                context.close()


def _confirmation_link(app, email: str) -> str:
    """Return the path of the confirmation link mailed to ``email`` (the outbox of the embedded default)."""
    import re

    from sqlalchemy import select

    from portal.extensions import db
    from portal.mail.models import OutboxMail

    with app.app_context():
        body = db.session.scalar(select(OutboxMail.body).where(OutboxMail.to_address == email))
    return re.search(r"https?://[^/\s]+(/email/confirm/\S+)", body).group(1)


def _journey(contexts, world, today, screenshot, tmp_path, live_server, app):
    # 1. HR registers the enterprise and its own account.
    hr = contexts["hr"].new_page()
    hr.goto("/enterprises/register")
    hr.fill("input[name=full_name]", "Phạm Thị Thu")
    hr.fill("input[name=account_email]", HR_EMAIL)
    hr.fill("input[name=password]", HR_PASSWORD)
    hr.fill("input[name=confirm]", HR_PASSWORD)
    hr.fill("input[name=name]", "Công ty TNHH Thực phẩm Sài Gòn Xanh")
    hr.fill("input[name=tax_code]", "0309876547")
    hr.fill("input[name=address]", "25 Nguyễn Văn Linh")
    hr.fill("input[name=ward]", "Tân Phong")
    hr.fill("input[name=district]", "Quận 7")
    hr.select_option("select[name=unit]", "district7")
    hr.select_option("select[name=business_type]", "district7:essential_production")
    hr.select_option("select[name=sector]", "district7:food_processing")
    hr.fill("input[name=headcount]", "120")
    hr.fill("input[name=contact_name]", "Phạm Thị Thu")
    hr.fill("input[name=phone]", "0909123456")
    hr.fill("input[name=email]", "lienhe@saigonxanh.vn")
    hr.click("form button[type=submit]")
    hr.wait_for_load_state()
    # Signed in only to confirm the email: the mailed link, then a button.
    assert hr.url.endswith("/account/confirm"), hr.url
    assert hr.get_by_text(HR_EMAIL).first.is_visible()
    hr.goto(_confirmation_link(app, HR_EMAIL))
    hr.click("button:has-text('Xác nhận email của tôi')")
    hr.wait_for_load_state()
    hr.goto("/enterprise")
    assert hr.url.endswith("/enterprise"), hr.url
    assert hr.get_by_text("Chờ duyệt").first.is_visible()
    screenshot(hr, "journey-1-hr-pending")

    # 2. The District 7 official approves it from the queue; the official of Củ Chi never sees it.
    official = _sign_in(contexts["official"], world.official_x, TEST_PASSWORD)
    official.goto("/officials/enterprises")
    official.click("text=Công ty TNHH Thực phẩm Sài Gòn Xanh")
    official.wait_for_load_state()
    enterprise_url = official.url
    official.click("button[name=action][value=approve]")
    official.wait_for_load_state()
    assert official.get_by_text("Đã duyệt").first.is_visible()
    screenshot(official, "journey-2-official-approved")
    elsewhere = _sign_in(contexts["checkpoint"], world.official_y, TEST_PASSWORD)
    assert elsewhere.goto(enterprise_url).status == 404
    elsewhere.goto("/officials/enterprises?status=approved")
    assert "Sài Gòn Xanh" not in elsewhere.content()
    elsewhere.context.clear_cookies()

    # 3. HR imports the worker list: preview, then commit.
    hr.goto("/workers/import")
    path = tmp_path / "danh_sach.csv"
    path.write_bytes(_worker_list(today))
    hr.set_input_files("input[name=file]", str(path))
    hr.click("form[enctype] [type=submit]")
    hr.wait_for_load_state()
    assert "Lê Hoàng Cường" in hr.content() and "Nguyễn Thị Ánh" in hr.content()
    screenshot(hr, "journey-3-hr-import-preview")
    hr.click("form[action$='/commit'] button[type=submit]")
    hr.wait_for_load_state()

    # 4. HR issues green cards for everyone eligible: two of the three.
    hr.goto("/passes")
    hr.click("a[href$='/passes/issue-all']")
    hr.wait_for_load_state()
    hr.check("input[name=confirm]")  # the confirmation says how many cards it touches
    hr.click("form[action$='/passes/issue-all'] button[type=submit]")
    hr.wait_for_load_state()
    screenshot(hr, "journey-4-hr-cards")
    content = hr.content()
    assert content.count("/passes/") >= 2
    assert "Lê Hoàng Cường" in content  # listed, with the reason he is not eligible yet

    # 5. A worker downloads her own card with her ID, date of birth and phone's last four digits.
    worker = contexts["worker"].new_page()
    worker.goto("/the-xanh")
    screenshot(worker, "journey-5-worker-lookup")
    worker.fill("input[name=citizen_id]", make_cccd(79, datetime(1990, 3, 12), "F", 101))
    worker.fill("input[name=date_of_birth]", "12/03/1990")
    worker.fill("input[name=phone_last4]", "4567")
    worker.click("form button[type=submit]")
    worker.wait_for_url("**/the-xanh/the-cua-toi")
    screenshot(worker, "journey-5-worker-card-on-screen")
    with worker.expect_download() as download_info:
        worker.click("a[href$='the-xanh.pdf']")
    pdf = (download_info.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    assert "Nguyễn Thị Ánh" in pdf_text(pdf)
    urls = [url for image in rasterise(pdf, 150) for url in decode_qr_codes(image)]
    assert len(urls) == 1 and urls[0].startswith(f"{live_server}/v/"), urls

    # 6. The checkpoint scans the QR: valid now (07:15 is inside 06:30–08:00).
    checkpoint = contexts["checkpoint"].new_page()
    checkpoint.goto(urls[0])
    assert checkpoint.locator("h1").inner_text().strip() == "HỢP LỆ"
    assert "Nguyễn Thị Ánh" in checkpoint.content() and "1990" in checkpoint.content()
    screenshot(checkpoint, "journey-6-checkpoint-valid")

    # 7. The official revokes the card; the checkpoint sees it at the next scan.
    official.goto(enterprise_url + "?card=anh")
    official.click("details.revoke summary")
    official.select_option("details.revoke select", "f0")
    official.click("details.revoke button[type=submit]")
    official.wait_for_load_state()
    checkpoint.reload()
    assert checkpoint.locator("h1").inner_text().strip() == "ĐÃ THU HỒI"
    screenshot(checkpoint, "journey-7-checkpoint-revoked")

    # Each role's main page, kept as artifacts.
    hr.goto("/home")
    screenshot(hr, "main-hr")
    official.goto("/home")
    screenshot(official, "main-official")
    admin = _sign_in(contexts["admin"], world.admin, TEST_PASSWORD)
    admin.goto("/home")
    screenshot(admin, "main-admin")
    assert admin.get_by_role("link", name="Bảng theo dõi thí điểm").first.is_visible()
