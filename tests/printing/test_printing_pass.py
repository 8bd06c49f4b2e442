"""A printed pass read back like a checkpoint does: pdftoppm, zbarimg, then the verify page."""
from __future__ import annotations

import base64
import http.server
import re
import threading
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from portal import pdf
from portal.clock import utcnow
from portal.extensions import db
from portal.passes.models import Pass
from portal.printing.card import build_card
from portal.printing.render import render_pass_pdf
from portal.printing.testing import decode_qr_codes, pdf_text, rasterise
from portal.testing.fixtures import make_worker
from portal.tokens.codec import payload_for_pass, sign_payload
from portal.tokens.keys import current_keyring
from portal.verify.testing import ALL_DAY, make_pass
from portal.workers.models import Worker

BASE_URL = "https://thexanh.example.vn"


def outcome_on_page(client, url: str) -> str:
    """Open the QR's URL with the test client; return the verdict the page shows."""
    assert url.startswith(BASE_URL + "/v/")
    response = client.get(url[len(BASE_URL):])
    assert response.status_code == 200
    return re.search(r'class="verdict verdict-(\w+)"', response.get_data(as_text=True)).group(1)


@pytest.fixture
def issued(app, world):
    """A pass of worker A valid every second of today, its card and its PDF."""
    with app.app_context():
        pass_ = make_pass(db.session, db.session.get(Worker, world.worker_a), windows=ALL_DAY)
        db.session.commit()
        card = build_card(pass_, app.extensions["portal.plugins"].registry, base_url=BASE_URL)
        return pass_.id, card, render_pass_pdf(card)


def change_pass(app, pass_id: int, **values) -> None:
    with app.app_context():
        pass_ = db.session.get(Pass, pass_id)
        for name, value in values.items():
            setattr(pass_, name, value)
        db.session.commit()


@pytest.mark.parametrize("dpi", [300, 100], ids=["printed", "phone-screen"])
def test_the_printed_qr_code_opens_the_verify_page_and_follows_the_pass_state(app, client, issued, dpi):
    pass_id, card, data = issued
    pages = rasterise(data, dpi)
    assert len(pages) == 1
    urls = decode_qr_codes(pages[0])
    assert urls == [card.verify_url]
    assert outcome_on_page(client, urls[0]) == "valid"

    change_pass(app, pass_id, version=2)
    assert outcome_on_page(client, urls[0]) == "superseded"

    change_pass(app, pass_id, version=1, status="revoked", revoked_at=utcnow(), revocation_code="left")
    assert outcome_on_page(client, urls[0]) == "revoked"


def test_a_tampered_foreign_or_unknown_token_is_not_valid(app, client, issued):
    pass_id, card, _data = issued
    raw = bytearray(base64.urlsafe_b64decode(card.token + "=" * (-len(card.token) % 4)))
    raw[len(raw) // 2] ^= 0x01
    flipped = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    assert outcome_on_page(client, f"{BASE_URL}/v/{flipped}") == "invalid"
    with app.app_context():
        pass_ = db.session.get(Pass, pass_id)
        kid = current_keyring().active().kid
        payload = payload_for_pass(pass_)
        other_key = sign_payload(payload, kid, Ed25519PrivateKey.generate())
        _real_kid, real_key = current_keyring().signing_key()
        unknown_serial = sign_payload(payload.__class__(**{**payload.__dict__, "serial": "Q7-NOSUCHCARD"}),
                                      kid, real_key)
    assert outcome_on_page(client, f"{BASE_URL}/v/{other_key}") == "invalid"
    assert outcome_on_page(client, f"{BASE_URL}/v/{unknown_serial}") == "invalid"
    assert outcome_on_page(client, card.verify_url) == "valid"  # the genuine one still is


def test_the_pass_text_is_extractable_with_exact_vietnamese_diacritics(app, world):
    with app.app_context():
        enterprise = db.session.get(Worker, world.worker_a).enterprise
        worker = make_worker(db.session, enterprise, citizen_id="079190009876", name="Trương Thị Ngọc Hường",
                             sex="F")
        pass_ = make_pass(db.session, worker)
        db.session.commit()
        card = build_card(pass_, app.extensions["portal.plugins"].registry, base_url=BASE_URL)
        text = pdf_text(render_pass_pdf(card))
    assert "Trương Thị Ngọc Hường" in text
    assert "THẺ XANH COVID" in text
    assert "Công ty TNHH Ánh Dương" in text
    assert "••••••••9876" in text and "079190009876" not in text
    assert card.valid_until.strftime("%d/%m/%Y") in text
    assert "06:30–08:00" in text and "16:30–18:00" in text
    assert str(card.birth_year) in text and card.serial in text


def test_user_text_prints_literally_and_makes_weasyprint_fetch_nothing(app, world, local_server):
    url, requests = local_server
    typed = f'<b>x</b> <img src="{url}/typed.png"> <img src="file:///etc/passwd"> <style>@import "{url}/a.css";'
    with app.app_context():
        worker = db.session.get(Worker, world.worker_a)
        worker.enterprise.name = typed
        worker.full_name = "Lê <i>An</i>"
        pass_ = make_pass(db.session, worker)
        pass_.route_from = f"url({url}/bg.png)"
        db.session.commit()
        card = build_card(pass_, app.extensions["portal.plugins"].registry, base_url=BASE_URL)
        text = pdf_text(render_pass_pdf(card))
    flat = "".join(text.split())  # long typed text wraps anywhere; compare without the spaces
    assert "<b>x</b>" in flat
    assert f'<imgsrc="{url}/typed.png">' in flat
    assert "Lê<i>An</i>" in flat
    assert requests == []


def test_the_fetcher_refuses_network_and_files_outside_static(local_server):
    url, requests = local_server
    html = (f'<link rel="stylesheet" href="{url}/style.css"><p>ok</p><img src="{url}/img.png">'
            f'<img src="file:///etc/passwd"><img src="file:///work/../etc/hostname">'
            f'<div class="b">x</div>')
    css = f'@import url("{url}/imported.css"); .b {{ background: url("{url}/bg.png"); }}'
    data = pdf.write_pdf(pdf.render_html(html, (css,)))
    assert data.startswith(b"%PDF")
    assert "root:" not in pdf_text(data)
    assert requests == []
    fetch = pdf.static_only_fetcher()
    for refused in (f"{url}/x", "file:///etc/passwd", f"file://{pdf.STATIC_ROOT}/../portal/config.py"):
        with pytest.raises(pdf.ForbiddenResource):
            fetch.fetch(refused)
    assert requests == []


@pytest.fixture
def local_server():
    """A loopback HTTP server that records every request it gets (it should get none)."""
    requests: list[str] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the stdlib's name)
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_a_card_shows_the_units_extra_lines_in_vietnamese(app, world):
    with app.app_context():
        registry = app.extensions["portal.plugins"].registry
        if "cangio" not in registry.units:
            pytest.skip("the Cần Giờ plugin is not installed")
        from portal.testing.fixtures import make_enterprise

        enterprise = make_enterprise(db.session, registry, "cangio", "HTX Cần Thạnh", "0309999991")
        worker = make_worker(db.session, enterprise, citizen_id="079090005555")
        pass_ = make_pass(db.session, worker, first_day=utcnow().date() - timedelta(days=2))
        db.session.commit()
        card = build_card(pass_, registry, base_url=BASE_URL)
        text = " ".join(pdf_text(render_pass_pdf(card)).split())
    assert card.extra_lines
    assert " ".join(card.extra_lines[0].split()) in text
