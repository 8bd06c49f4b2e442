"""Each checkpoint outcome on a 390×844 phone in Chromium, in Vietnamese and English, judged from the pixels.

The banner's colour is read from the screenshot: green only for a valid card, amber only for a genuine
card outside its hours, red for the rest. Nothing else on the first screen is green or amber (the
portal's green header would sit above a red verdict), and colour never stands alone: the banner has
its word, an icon of its own shape and the officer's instruction.
"""
from __future__ import annotations

import io

import pytest
from PIL import Image

from portal.extensions import db
from portal.workers.models import Worker
from tests.verify.outcome_cards import NEWER_ROUTE, PRINTED_ROUTE, token_per_outcome
from tests.verify.test_verify_screens import SCREENS, WHAT_TO_DO

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def hue(pixel: tuple[int, int, int]) -> str | None:
    """Name the signal colour of one pixel, or None for white, black, greys and other colours."""
    red, green, blue = pixel
    if green > 80 and green > 1.3 * red and green > 1.3 * blue:
        return "green"
    if red > 180 and green > 140 and blue < 100:
        return "amber"
    if red > 120 and red > 2 * green and red > 2 * blue:
        return "red"
    return None


def first_screen(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png)).convert("RGB").crop((0, 0, PHONE["width"], PHONE["height"]))


def banner_colour(image: Image.Image, box: dict) -> str | None:
    """The most common signal colour along a strip just inside the banner's left edge."""
    x0, y0 = int(box["x"]) + 6, int(box["y"]) + 8
    names = [hue(image.getpixel((x, y))) for x in range(x0, x0 + 6) for y in range(y0, y0 + int(box["height"]) - 16, 4)]
    return max(set(names), key=names.count)


def share(image: Image.Image, colour: str) -> float:
    """The share of the first screen's pixels that are ``colour``."""
    pixels = list(image.get_flattened_data())
    return sum(1 for pixel in pixels if hue(pixel) == colour) / len(pixels)


@pytest.fixture
def tokens(app, world) -> dict[str, str]:
    with app.app_context():
        tokens = token_per_outcome(db.session, db.session.get(Worker, world.worker_a).enterprise)
        db.session.commit()
    return tokens


@pytest.mark.parametrize("language", ["vi", "en"])
def test_each_outcome_screen_on_a_phone(page, tokens, screenshot, language):
    assert page.viewport_size == PHONE
    page.goto(f"/lang/{language}")
    seen, shares = {}, {}
    for outcome, (_signal, icon, words) in SCREENS.items():
        word, instruction = words[language]
        page.goto(f"/v/{tokens[outcome]}")
        banner = page.locator("section.verdict")
        assert banner.locator("h1").inner_text() == word
        assert banner.locator(".verdict-icon").inner_text() == icon
        assert banner.locator(".verdict-instruction").inner_text().startswith(f"{WHAT_TO_DO[language]} {instruction}")
        box = banner.bounding_box()
        assert box["y"] + box["height"] <= PHONE["height"], f"{outcome}: the banner must fit the first screen"
        if outcome == "superseded":  # the route printed on the card in the officer's hand, never the newer one
            details = page.locator("main").inner_text()
            assert PRINTED_ROUTE in details and NEWER_ROUTE not in details
        screenshot(page, f"checkpoint-screens-{language}-{outcome}")
        image = first_screen(page.screenshot())
        seen[outcome] = banner_colour(image, box)
        shares[outcome] = {colour: share(image, colour) for colour in ("green", "amber", "red")}
    assert seen == {outcome: signal for outcome, (signal, _icon, _words) in SCREENS.items()}
    for outcome, (signal, _icon, _words) in SCREENS.items():
        assert shares[outcome][signal] > 0.10, (outcome, shares[outcome])  # the banner is big
        for other in {"green", "amber", "red"} - {signal}:
            assert shares[outcome][other] < 0.005, (outcome, other, shares[outcome])  # and nothing else is a signal
    assert page.console_errors == [] and page.external_requests == []
