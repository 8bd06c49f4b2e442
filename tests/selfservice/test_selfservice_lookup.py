"""A worker downloads their own card with ID, date of birth and phone digits; mismatches all look alike."""
from __future__ import annotations

import base64
import re
import shutil
import subprocess
import time
from datetime import date, timedelta

import pytest

from portal.clock import local_today
from portal.extensions import db

needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils are not installed")
needs_zbar = pytest.mark.skipif(not shutil.which("zbarimg"), reason="zbar-tools are not installed")

# worker_a of the world: Nguyễn Văn An, CCCD 079090001234, born 17/05/1990, phone 0909123456.
RIGHT = {"citizen_id": "079090001234", "date_of_birth": "17/05/1990", "phone_last4": "3456"}


@pytest.fixture
def app_config(app_config):
    # Generous limits here; the rate-limit tests set their own.
    return {**app_config, "SELFSERVICE_RATE_LIMIT": "100 per minute", "SELFSERVICE_ID_RATE_LIMIT": "100 per minute"}


def _issue(app, world, worker_id=None):
    from portal.passes.issuing import issue_pass
    from portal.workers.models import Worker

    with app.app_context():
        worker = db.session.get(Worker, worker_id or world.worker_a)
        pass_ = issue_pass(db.session, app.extensions["portal.plugins"].registry, worker, None)
        db.session.commit()
        return pass_.id


def _normalised(response) -> str:
    """The page without what legitimately differs: the CSRF token and the values typed back."""
    page = response.get_data(as_text=True)
    page = re.sub(r'name="csrf-token" content="[^"]*"', 'name="csrf-token" content=""', page)
    return re.sub(r'value="[^"]*"', 'value=""', page)  # the form's token and the values typed back


def _card_page(client, data=None):
    response = client.submit("/the-xanh", data or RIGHT)
    assert response.status_code == 303 and response.headers["Location"] == "/the-xanh/the-cua-toi"
    response = client.get(response.headers["Location"])
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "no-store" in response.headers["Cache-Control"]
    return response.get_data(as_text=True)


def _qr_text(png: bytes, tmp_path) -> str:
    path = tmp_path / "card.png"
    path.write_bytes(png)
    result = subprocess.run(["zbarimg", "--quiet", "--raw", str(path)], capture_output=True, text=True, check=True)
    return result.stdout.strip()


@needs_poppler
@needs_zbar
def test_the_right_details_show_the_card_with_an_image_and_a_pdf(client, app, world, tmp_path):
    _issue(app, world)
    response = client.get("/the-xanh")
    assert response.status_code == 200 and "Lấy thẻ xanh của tôi" in response.get_data(as_text=True)
    page = _card_page(client, {**RIGHT, "citizen_id": "0790 9000 1234", "date_of_birth": "17-5-1990"})
    assert "Đã tìm thấy: thẻ xanh của bạn đang có hiệu lực." in page  # the confirmation
    assert "Nguyễn Văn An" in page and "Công ty TNHH Ánh Dương" in page and "••••••••1234" in page
    assert "079090001234" not in page  # only the masked ID is ever shown
    on_screen = re.search(r'<img class="own-card-qr" src="data:image/png;base64,([^"]+)"', page).group(1)
    verify_url = _qr_text(base64.b64decode(on_screen), tmp_path)
    assert verify_url.startswith("http://localhost/v/")
    # No link of the page carries anything of the worker: the session holds the proof.
    links = re.findall(r'(?:href|src|action)="([^"]*)"', page)
    assert "/the-xanh/the-xanh.png?save=1" in links and "/the-xanh/the-xanh.pdf" in links
    assert not [link for link in links if "1234" in link or "1990" in link or "3456" in link]

    image = client.get("/the-xanh/the-xanh.png?save=1")
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert image.headers["Content-Disposition"].startswith("attachment;")
    assert "no-store" in image.headers["Cache-Control"]
    assert _qr_text(image.data, tmp_path) == verify_url  # the saved image scans to the card's own checkpoint page
    checkpoint = client.get(verify_url.removeprefix("http://localhost")).get_data(as_text=True)
    # A genuine card: valid inside its hours, "outside hours" otherwise (the test runs at any time of day).
    assert re.search(r'data-outcome="(valid|outside_window)"', checkpoint)

    response = client.get("/the-xanh/the-xanh.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response.headers["Cache-Control"]
    pdf = tmp_path / "mine.pdf"
    pdf.write_bytes(response.data)
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    assert "Nguyễn Văn An" in text and "Công ty TNHH Ánh Dương" in text


@pytest.mark.parametrize("typed", ["17051990", "17/05/1990", "17.05.1990", "17-05-1990", " 17 / 5 / 1990 "])
def test_the_four_date_forms_are_accepted(client, app, world, typed):
    _issue(app, world)
    assert "Đã tìm thấy" in _card_page(client, {**RIGHT, "date_of_birth": typed})


def test_the_date_field_offers_a_keyboard_with_slashes_and_the_birthday_autofill(client):
    page = client.get("/the-xanh").get_data(as_text=True)
    field = re.search(r"<input[^>]*name=\"date_of_birth\"[^>]*>", page).group(0)
    assert 'inputmode="text"' in field and 'autocomplete="bday"' in field and 'maxlength="10"' in field


@pytest.mark.parametrize(("typed", "message"), [
    ("31/02/1990", "Ngày 31/02/1990 không tồn tại: hãy kiểm tra lại ngày và tháng."),
    ("29021991", "Ngày 29/02/1991 không tồn tại: hãy kiểm tra lại ngày và tháng."),
    ("17/13/1990", "Ngày 17/13/1990 không tồn tại: hãy kiểm tra lại ngày và tháng."),
    ("17/05/2990", "17/05/2990 không thể là ngày sinh: hãy kiểm tra lại năm."),
    ("1705199", "Nhập ngày sinh theo dạng dd/mm/yyyy, ví dụ 17/05/1990."),
    ("17/05/90", "Nhập ngày sinh theo dạng dd/mm/yyyy, ví dụ 17/05/1990."),
])
def test_impossible_dates_say_what_is_wrong(client, world, typed, message):
    page = client.submit("/the-xanh", {**RIGHT, "date_of_birth": typed}).get_data(as_text=True)
    assert message in page and "Không tìm thấy thẻ xanh" not in page


def test_only_the_session_that_proved_the_card_gets_it(client, app, world):
    _issue(app, world)
    for path in ("/the-xanh/the-cua-toi", "/the-xanh/the-xanh.png", "/the-xanh/the-xanh.pdf"):
        refused = client.get(path)  # before any proof
        assert refused.status_code == 403 and refused.mimetype == "text/html"
        assert "nhập lại thông tin" in refused.get_data(as_text=True)
    _card_page(client)
    assert client.get("/the-xanh/the-xanh.png").mimetype == "image/png"
    assert "Đã tìm thấy" in client.get("/the-xanh/the-cua-toi").get_data(as_text=True)  # a reload shows it again
    stranger = app.test_client()  # another browser: no cookie, no card
    assert stranger.get("/the-xanh/the-cua-toi").status_code == 403
    assert stranger.get("/the-xanh/the-xanh.png").status_code == 403
    assert stranger.get("/the-xanh/the-xanh.pdf").status_code == 403
    with client.session_transaction() as session:  # the proof is older than its time
        session["selfservice_card"] = {**session["selfservice_card"], "t": int(time.time()) - 16 * 60}
    assert client.get("/the-xanh/the-xanh.png").status_code == 403
    assert client.get("/the-xanh/the-xanh.pdf").status_code == 403  # and it was forgotten
    with client.session_transaction() as session:
        assert "selfservice_card" not in session


def test_a_card_revoked_after_the_proof_is_no_longer_served(client, app, world):
    from portal.passes.models import Pass
    from portal.passes.revoking import revoke_pass

    pass_id = _issue(app, world)
    _card_page(client)
    with app.app_context():
        revoke_pass(db.session, app.extensions["portal.plugins"].registry, db.session.get(Pass, pass_id), None,
                    "mistake")
        db.session.commit()
    assert client.get("/the-xanh/the-xanh.png").status_code == 403
    assert client.get("/the-xanh/the-xanh.pdf").status_code == 403
    assert client.get("/the-xanh/the-cua-toi").status_code == 403


def test_every_kind_of_mismatch_gets_the_same_answer(client, app, world, helpers_world):
    answers = {}
    cases = {
        "unknown ID": {**RIGHT, "citizen_id": "079090009999"},
        "wrong date of birth": {**RIGHT, "date_of_birth": "18/05/1990"},
        "wrong phone digits": {**RIGHT, "phone_last4": "3457"},
        "worker without a card": {"citizen_id": helpers_world["no_card"], "date_of_birth": "08/03/1992",
                                  "phone_last4": "3456"},
        "revoked card": {"citizen_id": helpers_world["revoked"], "date_of_birth": "08/03/1992", "phone_last4": "3456"},
        "worker who left": {"citizen_id": helpers_world["left"], "date_of_birth": "08/03/1992", "phone_last4": "3456"},
        "suspended enterprise": {"citizen_id": "079190004321", "date_of_birth": "17/05/1990", "phone_last4": "3456"},
    }
    for case, data in cases.items():
        response = client.submit("/the-xanh", data)
        assert response.status_code == 200 and response.mimetype == "text/html", case
        answers[case] = (_normalised(response), sorted(k for k in response.headers.keys() if k != "Content-Length"))
    reference = answers["unknown ID"]
    assert "Không tìm thấy thẻ xanh còn hiệu lực với thông tin này." in reference[0]
    for case, answer in answers.items():
        assert answer == reference, case
    # The right details still work: the cases above failed for their own reason only.
    assert "Đã tìm thấy" in _card_page(client)


@pytest.fixture
def helpers_world(app, world):
    """Worker A with a card; workers of A without a card, with a revoked card, and one who left; B suspended."""
    from portal.enterprises.models import Enterprise
    from portal.passes.models import Pass
    from portal.passes.revoking import revoke_pass
    from portal.testing.fixtures import make_worker

    _issue(app, world)
    today = local_today()
    doses = [("pfizer", today - timedelta(days=60)), ("pfizer", today - timedelta(days=30))]
    with app.app_context():
        enterprise = db.session.get(Enterprise, world.enterprise_a)
        ids = {}
        for key, citizen_id in (("no_card", "079092007001"), ("revoked", "079092007002"), ("left", "079092007003")):
            worker = make_worker(db.session, enterprise, citizen_id=citizen_id, name="Tô Thị Lan", sex="F",
                                 born=date(1992, 3, 8), doses=doses)
            ids[key] = worker.id
        db.session.commit()
    for key in ("revoked", "left"):
        _issue(app, world, ids[key])
    with app.app_context():
        revoke_pass(db.session, app.extensions["portal.plugins"].registry,
                    db.session.query(Pass).filter_by(worker_id=ids["revoked"]).one(), None, "mistake")
        from portal.workers.models import Worker

        db.session.get(Worker, ids["left"]).active = False  # left, in a way that did not revoke the card
        b = db.session.get(Enterprise, world.enterprise_b)
        b.status = "approved"
        db.session.commit()
    _issue(app, world, world.worker_b)
    with app.app_context():
        db.session.get(Enterprise, world.enterprise_b).status = "suspended"  # a card somehow left active
        db.session.commit()
    return {"no_card": "079092007001", "revoked": "079092007002", "left": "079092007003"}


def test_typing_mistakes_get_field_messages_not_errors(client, world):
    page = client.submit("/the-xanh", {"citizen_id": "12ab", "date_of_birth": "31/2/1990x",
                                       "phone_last4": "12"}).get_data(as_text=True)
    assert "Số định danh gồm 12 chữ số (CCCD) hoặc 9 chữ số (CMND cũ)." in page
    assert "Nhập ngày sinh theo dạng dd/mm/yyyy, ví dụ 17/05/1990." in page
    assert "Nhập đúng 4 chữ số cuối của số điện thoại mà doanh nghiệp đã đăng ký." in page
    assert "Không tìm thấy thẻ xanh" not in page  # a malformed form is not a lookup


def test_the_form_needs_its_csrf_token(client, app, world):
    _issue(app, world)
    assert client.post("/the-xanh", data=RIGHT).status_code == 400


def test_the_home_page_links_to_it(client):
    assert 'href="/the-xanh"' in client.get("/").get_data(as_text=True)


def test_english(client):
    client.get("/lang/en")
    page = client.get("/the-xanh").get_data(as_text=True)
    assert "Get my green card" in page and "Last 4 digits of your phone number" in page
