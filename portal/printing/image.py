"""A pass as a PNG a worker keeps in their phone's photos: the printed card's words and its QR code.

Pillow lives here only. The words are the PDF's (:func:`portal.printing.render.card_text`), so the
image never says more or less than the printed card; the QR code is drawn module by module at a whole
number of pixels, so that a phone's camera reads it from another phone's screen.
"""
from __future__ import annotations

import io
from functools import cache

from portal.printing.card import PassCard
from portal.printing.qr import qr_matrix
from portal.printing.render import card_text, labels
from portal.printing.typeset import FONT_FILES

WIDTH = 720
MARGIN = 36
#: Pixels per QR module: a version-10 code (65 modules with its quiet zone) is 520 px wide.
MODULE_PIXELS = 8
GREEN = (11, 122, 62)
INK = (27, 31, 35)
MUTED = (85, 92, 99)


@cache
def _font(bold: bool, size: int):
    from PIL import ImageFont

    return ImageFont.truetype(str(FONT_FILES[bold]), size)


def _wrap(draw, text: str, font, width: int) -> list[str]:
    """Split ``text`` into lines no wider than ``width`` pixels, at spaces."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if line and draw.textlength(candidate, font=font) > width:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return lines


def render_pass_png(card: PassCard) -> bytes:
    """Return ``card`` as a PNG: the band, the QR code, the holder and every line the printed card shows."""
    from PIL import Image, ImageDraw

    text = labels(card.locale)
    slots = card_text(card, text)
    rows = qr_matrix(card.verify_url)
    qr_side = len(rows) * MODULE_PIXELS
    inner = WIDTH - 2 * MARGIN

    # Lay out first (to know the height), then draw.
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    blocks: list[tuple[str, object, tuple[int, int, int], int]] = []  # line, font, colour, space after

    def add(paragraph: str, *, bold: bool = False, size: int = 26, colour=INK, after: int = 8) -> None:
        font = _font(bold, size)
        lines = _wrap(measure, paragraph, font, inner)
        for index, line in enumerate(lines):
            blocks.append((line, font, colour, after if index == len(lines) - 1 else 4))

    add(slots["holder"][0], bold=True, size=38, after=10)
    for key in ("identity", "enterprise", "workplace", "route"):
        for paragraph in slots[key]:
            add(paragraph)
    for paragraph in slots["windows"]:
        add(paragraph, bold=True)
    add(f"{text['valid_from']}: {slots['valid_from'][0]}", bold=True)
    add(f"{text['valid_until']}: {slots['valid_until'][0]}", bold=True, size=30)
    for paragraph in slots["extra"]:
        add(paragraph, colour=GREEN, bold=True)
    add(slots["serial"][0], colour=MUTED, size=22, after=4)
    add(slots["foot"][0], colour=MUTED, size=22, after=4)
    add(text["scan"], colour=MUTED, size=22)

    band_height = 112
    line_heights = [font.getbbox("ÁẬgy")[3] + after for _line, font, _colour, after in blocks]
    height = band_height + MARGIN + qr_side + MARGIN + sum(line_heights) + MARGIN
    image = Image.new("RGB", (WIDTH, height), "white")
    draw = ImageDraw.Draw(image)

    draw.rectangle((0, 0, WIDTH, band_height), fill=GREEN)
    draw.text((MARGIN, 18), text["title"], font=_font(True, 36), fill="white")
    band_line = card.unit_name + (f" · {card.unit_authority}" if card.unit_authority else "")
    draw.text((MARGIN, 66), _wrap(draw, band_line, _font(False, 24), inner)[0], font=_font(False, 24), fill="white")

    left, top = (WIDTH - qr_side) // 2, band_height + MARGIN
    for y, row in enumerate(rows):
        for x, dark in enumerate(row):
            if dark:
                draw.rectangle((left + x * MODULE_PIXELS, top + y * MODULE_PIXELS,
                                left + (x + 1) * MODULE_PIXELS - 1, top + (y + 1) * MODULE_PIXELS - 1), fill="black")

    y = top + qr_side + MARGIN
    for (line, font, colour, _after), line_height in zip(blocks, line_heights, strict=True):
        draw.text((MARGIN, y), line, font=font, fill=colour)
        y += line_height
    draw.rectangle((0, 0, WIDTH - 1, height - 1), outline=GREEN, width=4)

    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def png_filename(card: PassCard) -> str:
    return f"the-xanh-{card.serial}.png"
