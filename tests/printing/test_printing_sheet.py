"""Print sheets: four passes per A4 page, every QR code on a page decodes and verifies."""
from __future__ import annotations

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


def cards_for(app, world, count: int):
    """Issue ``count`` passes to new workers of enterprise A; return their cards in that order."""
    with app.app_context():
        enterprise = db.session.get(Worker, world.worker_a).enterprise
        registry = app.extensions["portal.plugins"].registry
        passes = []
        for index in range(count):
            worker = make_worker(db.session, enterprise, citizen_id=f"0790900{index:05d}",
                                 name=f"Phạm Thị Mỹ Duyên {index:02d}", sex="F")
            passes.append(make_pass(db.session, worker, windows=ALL_DAY))
        db.session.commit()
        return [build_card(pass_, registry, base_url=BASE_URL) for pass_ in passes]


def outcome(client, url: str) -> str:
    response = client.get(url[len(BASE_URL):])
    return re.search(r'class="verdict verdict-(\w+)"', response.get_data(as_text=True)).group(1)


def test_every_qr_code_on_every_page_decodes_and_verifies(app, client, world):
    cards = cards_for(app, world, 6)
    calls = []
    data = render.render_print_sheet(cards, progress=lambda done, total: calls.append((done, total)))
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 2
    assert [round(float(v)) for v in reader.pages[0].mediabox[2:]] == list(A4)
    assert calls[-1] == (6, 6)
    pages = rasterise(data, 200)
    found = [decode_qr_codes(page) for page in pages]
    assert sorted(found[0]) == sorted(card.verify_url for card in cards[:4])
    assert sorted(found[1]) == sorted(card.verify_url for card in cards[4:])
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


def test_a_sheet_laid_out_in_chunks_by_worker_processes_keeps_the_order(app, world, monkeypatch):
    monkeypatch.setattr(render, "CHUNK_CARDS", 4)
    cards = cards_for(app, world, 10)
    calls = []
    data = render.render_print_sheet(cards, progress=lambda done, total: calls.append((done, total)), processes=2)
    assert calls == [(4, 10), (8, 10), (10, 10)]
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]
    assert len(pages) == 3
    for number, page in enumerate(pages):
        expected = [card.serial for card in cards[number * 4:number * 4 + 4]]
        assert list(re.findall(r"Q7-\d{10}", page)) == expected
    decoded = {url for image in rasterise(data, 200) for url in decode_qr_codes(image)}
    assert decoded == {card.verify_url for card in cards}
    in_process = render.render_print_sheet(cards, processes=1)
    assert [page.extract_text() for page in PdfReader(io.BytesIO(in_process)).pages] == pages


@pytest.mark.parametrize("processes", [1, 2])
def test_an_empty_sheet_is_a_valid_pdf(processes):
    data = render.render_print_sheet([], processes=processes)
    assert data.startswith(b"%PDF")
