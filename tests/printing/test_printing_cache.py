"""A card's cached PDF is keyed by everything that changes it: content, the unit's lines, address, language, design."""
from __future__ import annotations

import dataclasses

import pytest

from portal.extensions import db
from portal.plugins import hookimpl
from portal.printing import render
from portal.printing.card import build_card
from portal.printing.testing import pdf_text
from portal.storage import blob_store
from portal.storage.cache import PASS_PDFS
from portal.verify.testing import make_pass
from portal.workers.models import Worker


class Hotline:
    """A stub plugin adding a line to every card; its text can change between two downloads."""

    def __init__(self, line: str):
        self.line = line

    @hookimpl
    def portal_pass_extra_lines(self, unit, pass_):
        return [self.line]


@pytest.fixture
def hotline(app):
    plugin = Hotline("Đường dây nóng 1022")
    manager = app.extensions["portal.plugins"]
    manager.register(plugin)
    try:
        yield plugin
    finally:
        manager.unregister(plugin)


@pytest.fixture
def pass_id(app, world):
    with app.app_context():
        pass_ = make_pass(db.session, db.session.get(Worker, world.worker_a))
        db.session.commit()
        return pass_.id


def cached(app) -> list[str]:
    return [info.key for info in blob_store(app).list(PASS_PDFS.prefix)]


def test_a_plugins_changed_extra_line_gives_a_new_pdf_not_the_cached_one(client, auth, app, world, pass_id, hotline):
    auth.login(world.hr_a)
    first = client.get(f"/passes/{pass_id}.pdf").data
    assert "Đường dây nóng 1022" in pdf_text(first)
    assert client.get(f"/passes/{pass_id}.pdf").data == first and len(cached(app)) == 1  # served from the cache
    hotline.line = "Đường dây nóng 1800 1022"
    second = client.get(f"/passes/{pass_id}.pdf").data
    assert second != first
    assert "Đường dây nóng 1800 1022" in pdf_text(second)
    assert len(cached(app)) == 2


def test_the_fingerprint_changes_with_every_input_of_the_pdf(app, world, pass_id, monkeypatch):
    with app.app_context():
        from portal.passes.models import Pass

        card = build_card(db.session.get(Pass, pass_id), app.extensions["portal.plugins"].registry,
                          base_url="https://thexanh.example.vn")
        same = build_card(db.session.get(Pass, pass_id), app.extensions["portal.plugins"].registry,
                          base_url="https://thexanh.example.vn")
    assert render.card_fingerprint(card) == render.card_fingerprint(same)  # nothing random in it
    changed = [
        dataclasses.replace(card, extra_lines=("Một dòng mới",)),
        dataclasses.replace(card, verify_url=card.verify_url.replace("thexanh.example.vn", "the.example.vn")),
        # another signature (a token that happens to end in "A" must still change)
        dataclasses.replace(card, token=card.token[:-1] + ("B" if card.token.endswith("A") else "A"),
                            verify_url=card.verify_url[:-1] + ("B" if card.verify_url.endswith("A") else "A")),
        dataclasses.replace(card, locale="en"),
        dataclasses.replace(card, version=2),
        dataclasses.replace(card, holder_name="Nguyễn Văn Bình"),
    ]
    prints = {render.card_fingerprint(variant) for variant in [card, *changed]}
    assert len(prints) == len(changed) + 1
    monkeypatch.setattr(render, "design_fingerprint", lambda: "another stylesheet")
    assert render.card_fingerprint(card) not in prints


def test_the_design_fingerprint_covers_the_templates_stylesheet_fonts_and_code():
    names = {path.name for path in render.design_files()}
    assert {"_card.html", "card.html", "index.html", "sheet_page.html", "pass.css", "NotoSans-Regular.ttf",
            "NotoSans-Bold.ttf", "render.py", "typeset.py", "frames.py", "qr.py", "messages.mo"} <= names
