"""Each checkpoint outcome on a phone (390×844) in Chromium: the banner's colour read from the pixels.

Only a valid card is green, only a genuine card outside its hours is amber, every other outcome is
red; each screen also says its big word, shows its icon and tells the officer what to do.
"""
from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from PIL import Image

from portal.clock import local, local_today, utcnow
from portal.extensions import db
from portal.testing.fixtures import make_worker
from portal.tokens.codec import short_name, sign_pass_token
from portal.verify.outcomes import OUTCOMES, Signal
from portal.verify.testing import ALL_DAY, make_pass
from portal.workers.identity import make_cccd
from portal.workers.models import Worker

pytestmark = pytest.mark.browser

#: The big word and the start of the officer's instruction each screen must show (Vietnamese).
EXPECTED = {
    "valid": ("HỢP LỆ", "Đối chiếu"),
    "outside_window": ("NGOÀI KHUNG GIỜ", "Không cho qua"),
    "not_yet_valid": ("CHƯA CÓ HIỆU LỰC", "Không chấp nhận"),
    "expired": ("HẾT HẠN", "Không chấp nhận"),
    "superseded": ("ĐÃ THAY THẾ", "Không chấp nhận"),
    "revoked": ("ĐÃ THU HỒI", "Không chấp nhận"),
    "invalid": ("KHÔNG HỢP LỆ", "Không chấp nhận"),
}


def _windows_away_from_now() -> list[dict]:
    """One daily window three to four hours from now (never containing the present minute)."""
    start = local(utcnow()) + timedelta(hours=3)
    end = start + timedelta(hours=1)
    return [{"start": f"{start:%H:%M}", "end": f"{end:%H:%M}", "direction": "to_work"}]


@pytest.fixture
def tokens(app, world) -> dict[str, str]:
    """A token per outcome, each on its own worker's pass."""
    today = local_today()
    with app.app_context():
        enterprise = db.session.get(Worker, world.worker_a).enterprise
        made = {}

        def card(index: int, **options):
            born = date(1985, 3, index + 1)
            worker = make_worker(db.session, enterprise, name=f"Trần Văn Bảo {index}", born=born,
                                 citizen_id=make_cccd(79, born, "M", 500 + index))
            return make_pass(db.session, worker, **options)

        made["valid"] = card(1, windows=ALL_DAY)
        made["outside_window"] = card(2, windows=_windows_away_from_now())
        made["not_yet_valid"] = card(3, first_day=today + timedelta(days=2), windows=ALL_DAY)
        made["expired"] = card(4, first_day=today - timedelta(days=30), last_day=today - timedelta(days=1),
                               windows=ALL_DAY)
        made["superseded"] = card(5, windows=ALL_DAY)
        made["revoked"] = card(6, windows=ALL_DAY, status="revoked")
        db.session.flush()
        tokens = {outcome: sign_pass_token(pass_) for outcome, pass_ in made.items()}
        made["superseded"].version = 2
        made["superseded"].route_from = "Phường Mới Chuyển Đến, Quận 9"
        made["revoked"].revoked_at = utcnow()
        db.session.commit()
    tokens["invalid"] = tokens["valid"][:-6] + ("AAAAAA" if not tokens["valid"].endswith("AAAAAA") else "BBBBBB")
    return tokens


def banner_signal(png: bytes, box: dict) -> str:
    """Classify the banner's background from the pixels of a strip inside its left edge."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    x0, y0 = int(box["x"]) + 6, int(box["y"]) + 8
    pixels = [image.getpixel((x, y)) for x in range(x0, x0 + 6) for y in range(y0, y0 + int(box["height"]) - 16, 4)]
    red, green, blue = (sorted(channel)[len(channel) // 2] for channel in zip(*pixels, strict=True))
    if green > 1.3 * red and green > 1.3 * blue:
        return Signal.GO.value
    if red > 180 and green > 140 and blue < 100:
        return Signal.HOLD.value
    if red > 2 * green and red > 2 * blue:
        return Signal.STOP.value
    return f"unknown rgb({red}, {green}, {blue})"


def test_each_checkpoint_screen_on_a_phone(page, tokens, screenshot):
    assert page.viewport_size == {"width": 390, "height": 844}
    seen = {}
    for item in OUTCOMES:
        page.goto(f"/v/{tokens[item.code]}")
        banner = page.locator("section.verdict")
        assert banner.get_attribute("data-outcome") == item.code
        word, instruction = EXPECTED[item.code]
        assert banner.locator("h1").inner_text() == word
        assert banner.locator(".verdict-instruction").inner_text().startswith(f"Cần làm: {instruction}")
        assert banner.locator(".verdict-icon").inner_text() == item.icon  # a shape of its own, not only a colour
        path = screenshot(page, f"checkpoint-{item.code}")
        box = banner.bounding_box()
        assert box["y"] + box["height"] <= 844, f"{item.code}: the banner must fit the first screen"
        seen[item.code] = banner_signal(path.read_bytes(), box)
        page_text = page.locator("main").inner_text()
        if item.code == "outside_window":
            assert "Khung giờ đi lại của thẻ:" in page_text and "Khung giờ tiếp theo:" in page_text
        if item.code == "superseded":
            assert "Quận 9" not in page_text  # the newer card's route never shows on the old card
            assert page.locator(".holder-name").inner_text() == short_name("Trần Văn Bảo 5")  # as printed
        if item.code == "expired":
            assert "hoặc chưa" not in page_text  # no more "expired or not yet valid"
    assert seen == {"valid": "green", "outside_window": "amber", "not_yet_valid": "red", "expired": "red",
                    "superseded": "red", "revoked": "red", "invalid": "red"}
    assert page.console_errors == [] and page.external_requests == []


def test_the_outcome_list_is_the_one_the_screens_cover():
    assert set(EXPECTED) == {item.code for item in OUTCOMES}
    assert [item.code for item in OUTCOMES if item.signal is Signal.GO] == ["valid"]
    assert [item.code for item in OUTCOMES if item.signal is Signal.HOLD] == ["outside_window"]
