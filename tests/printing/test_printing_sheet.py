"""Print sheets: an index to sign, then four cards per A4 page; every QR code decodes and verifies."""
from __future__ import annotations

import dataclasses
import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from portal.clock import utcnow
from portal.extensions import db
from portal.passes.models import Pass
from portal.printing import render
from portal.printing.card import build_card
from portal.printing.testing import decode_qr_codes, pdf_text, rasterise
from portal.testing.fixtures import make_worker
from portal.verify.testing import ALL_DAY, make_pass
from portal.workers.models import Worker

BASE_URL = "https://thexanh.example.vn"
A4 = (595, 842)  # points, rounded


def cards_for(app, world, count: int, name: str = "Phạm Thị Mỹ Duyên"):
    """Issue ``count`` passes to new workers of enterprise A; return their cards in that order."""
    with app.app_context():
        enterprise = db.session.get(Worker, world.worker_a).enterprise
        registry = app.extensions["portal.plugins"].registry
        passes = []
        for index in range(count):
            worker = make_worker(db.session, enterprise, citizen_id=f"0790900{index:05d}",
                                 name=f"{name} {index:02d}", sex="F")
            passes.append(make_pass(db.session, worker, windows=ALL_DAY))
        db.session.commit()
        return [build_card(pass_, registry, base_url=BASE_URL) for pass_ in passes]


@pytest.fixture(autouse=True)
def in_app(app):
    """Render inside the app, as the portal does: its translations give the printed words."""
    with app.app_context():
        yield


def outcome(client, url: str) -> str:
    response = client.get(url[len(BASE_URL):])
    return re.search(r'class="verdict verdict-(\w+)"', response.get_data(as_text=True)).group(1)


def page_texts(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def test_every_qr_code_on_every_page_decodes_and_verifies(app, client, world):
    cards = cards_for(app, world, 6)
    data = render.render_print_sheet(cards)
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 3  # the index, then 4 + 2 cards
    assert all([round(float(v)) for v in page.mediabox[2:]] == list(A4) for page in reader.pages)
    pages = rasterise(data, 200)
    found = [decode_qr_codes(page) for page in pages]
    assert found[0] == []
    assert sorted(found[1]) == sorted(card.verify_url for card in cards[:4])
    assert sorted(found[2]) == sorted(card.verify_url for card in cards[4:])
    assert {outcome(client, url) for urls in found for url in urls} == {"valid"}
    text = pdf_text(data)
    assert all(f"Phạm Thị Mỹ Duyên {index:02d}" in text for index in range(6))

    with app.app_context():  # one card revoked, one reissued: the same printed codes now say so
        revoked = db.session.scalars(select(Pass).where(Pass.serial == cards[1].serial)).one()
        revoked.status, revoked.revoked_at = "revoked", utcnow()
        db.session.scalars(select(Pass).where(Pass.serial == cards[4].serial)).one().version = 2
        db.session.commit()
    by_url = {url: outcome(client, url) for urls in found for url in urls}
    assert by_url[cards[1].verify_url] == "revoked"
    assert by_url[cards[4].verify_url] == "superseded"
    assert [by_url[card.verify_url] for card in cards if card not in (cards[1], cards[4])] == ["valid"] * 4


@pytest.mark.parametrize("dpi", [300, 100], ids=["printed", "phone-screen"])
def test_qr_codes_decode_at_print_and_screen_resolutions(app, world, dpi):
    cards = cards_for(app, world, 4)
    pages = rasterise(render.render_print_sheet(cards), dpi)
    assert sorted(decode_qr_codes(pages[1])) == sorted(card.verify_url for card in cards)


def test_cards_are_in_order_four_to_a_page_after_the_index(app, world):
    cards = cards_for(app, world, 10)
    pages = page_texts(render.render_print_sheet(cards))
    assert len(pages) == 1 + 3
    for number, page in enumerate(pages[1:]):
        assert re.findall(r"Q7-\d{10}", page) == [card.serial for card in cards[number * 4:number * 4 + 4]]


def test_the_index_lists_every_card_with_room_to_sign_in_the_sheets_language(app, world, monkeypatch):
    monkeypatch.setattr(render, "INDEX_ROWS", 4)
    cards = cards_for(app, world, 6, name="Trương Thị Ngọc Hường")
    pages = page_texts(render.render_print_sheet(cards))
    assert len(pages) == 2 + 2  # six rows at four a page, then six cards at four a page
    index = pages[0] + pages[1]
    for heading in ("Thẻ xanh: danh sách ký nhận", "STT", "Số thẻ", "Họ và tên", "Chữ ký người nhận",
                    "Ngày nhận", "Công ty TNHH Ánh Dương", "6 thẻ", "Trang danh sách 1/2"):
        assert heading in pages[0], heading
    assert "Trang danh sách 2/2" in pages[1]
    rows = re.findall(r"(\d) (Q7-\d{10}) (Trương Thị Ngọc Hường \d\d) (\d{4})", index)
    assert [(int(number), serial, name) for number, serial, name, _born in rows] == [
        (number, card.serial, card.holder_name) for number, card in enumerate(cards, start=1)]

    english = page_texts(render.render_print_sheet([dataclasses.replace(card, locale="en") for card in cards],
                                                   locale="en"))
    assert "Green cards: list for handing out" in english[0] and "Holder's signature" in english[0]
    assert "COVID GREEN CARD" in english[2]


def test_progress_counts_cards_and_reaches_the_total_only_with_the_pdf(app, world):
    cards = cards_for(app, world, 9)
    calls = []

    def progress(done, total):
        calls.append((done, total, finished.get("data") is not None))

    finished = {}
    finished["data"] = render.render_print_sheet(iter(cards), total=9, progress=progress)
    assert [total for _done, total, _ in calls] == [9] * len(calls)
    assert [done for done, _total, _ in calls] == list(range(1, 10))
    assert [written for *_counts, written in calls] == [False] * 9  # (9, 9) comes once the PDF is whole


def test_a_card_set_in_its_frame_says_what_weasyprint_lays_out_from_the_same_template(app, world):
    [card] = cards_for(app, world, 1, name="Tôn Nữ Thanh Phương")
    card = dataclasses.replace(card, extra_lines=("Chỉ có giá trị đi lại trong huyện Cần Giờ.",))
    stamped = " ".join(pdf_text(render.render_pass_pdf(card)).split())
    laid_out = " ".join(pdf_text(render.reference_card_pdf(card)).split())
    for words in ("THẺ XANH COVID", f"Số thẻ: {card.serial}", card.holder_name, "Năm sinh: 19",
                  "Doanh nghiệp: Công ty TNHH Ánh Dương", "Lộ trình: từ", "Khung giờ được đi lại (giờ TP.HCM):",
                  card.valid_from.strftime("%d/%m/%Y"), card.valid_until.strftime("%d/%m/%Y"),
                  "Chỉ có giá trị đi lại trong huyện Cần Giờ.", "phiên bản 1"):
        assert words in stamped and words in laid_out, words
    assert "…" not in stamped


def test_a_long_name_is_set_smaller_not_cut(app, world):
    name = "Công Tằng Tôn Nữ Hoàng Thị Thanh Phương Thảo"
    [card] = cards_for(app, world, 1, name=name)
    text = " ".join(pdf_text(render.render_pass_pdf(card)).split())
    assert f"{name} 00" in text and "…" not in text


def test_text_beyond_any_reasonable_length_is_cut_with_an_ellipsis(app, world):
    [card] = cards_for(app, world, 1)
    card = dataclasses.replace(card, enterprise_name="Công ty " * 60)
    text = pdf_text(render.render_pass_pdf(card))
    assert "…" in text and text.count("Công ty") < 60


def test_the_fonts_are_the_vendored_noto_sans_only(app, world, tmp_path):
    import subprocess

    [card] = cards_for(app, world, 1, name="Trương Thị Ngọc Hường Ơn Ưng")
    path = tmp_path / "card.pdf"
    path.write_bytes(render.render_print_sheet([card]))
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    names = {line.split()[0].split("+", 1)[1] for line in fonts.splitlines()[2:]}
    assert names <= {"NotoSans-Regular", "NotoSans-Bold", "Noto-Sans", "Noto-Sans-Bold"}, names
    assert "Trương Thị Ngọc Hường Ơn Ưng 00" in pdf_text(path.read_bytes())


def test_an_empty_sheet_is_a_valid_pdf(app):
    data = render.render_print_sheet([])
    assert data.startswith(b"%PDF") and len(PdfReader(io.BytesIO(data)).pages) == 1


def test_cards_of_several_units_each_get_their_units_band(app, world):
    cards = cards_for(app, world, 2)
    cards[1] = dataclasses.replace(cards[1], unit_name="Huyện Cần Giờ", unit_authority="Ủy ban nhân dân huyện Cần Giờ")
    page = " ".join(page_texts(render.render_print_sheet(cards))[1].split())
    assert "Quận 7 · Ủy ban nhân dân Quận 7" in page and "Huyện Cần Giờ · Ủy ban nhân dân huyện Cần Giờ" in page
