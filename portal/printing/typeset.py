"""Text and QR codes drawn straight into PDF content streams: what changes from one card to the next.

Text is set in the vendored Noto Sans, glyph by glyph with the font's own advances (no kerning
or ligatures: the variable parts of a card are names, addresses, dates and serials), and
embedded as a subset CID font with a ``ToUnicode`` map, so a PDF's text can be searched and
copied like WeasyPrint's. Lines wrap at spaces; a text too long for its box is set smaller, down
to :data:`MIN_SCALE` of its size, and only then cut with "…".

QR codes are filled rectangles (one per run of dark modules in a row), so they stay sharp at any
print or screen resolution.
"""
from __future__ import annotations

import io
import re
import unicodedata
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from portal.pdf import STATIC_ROOT

FONT_FILES = {False: STATIC_ROOT / "fonts" / "NotoSans-Regular.ttf", True: STATIC_ROOT / "fonts" / "NotoSans-Bold.ttf"}
#: Resource names of the two faces in every page's resources.
FONT_NAMES = {False: "R", True: "B"}
#: The smallest a text is set to fit its box, as a share of its size.
MIN_SCALE = 0.5
ELLIPSIS = "…"
POINTS_PER_MM = 72 / 25.4


@dataclass(frozen=True)
class Face:
    """One TrueType face: what is needed to measure text and embed the glyphs used."""

    path: Path
    postscript_name: str
    cmap: dict[int, int]
    advances: tuple[int, ...]
    units_per_em: int
    ascent: int
    descent: int
    cap_height: int
    bbox: tuple[int, int, int, int]

    def width(self, glyphs: Sequence[int], size: float) -> float:
        advances = self.advances
        return sum(advances[glyph] for glyph in glyphs) * size / self.units_per_em


@cache
def face(bold: bool) -> Face:
    """Return the regular or bold Noto Sans, read once."""
    from fontTools.ttLib import TTFont

    path = FONT_FILES[bold]
    with TTFont(path) as font:
        head, hhea, os2 = font["head"], font["hhea"], font["OS/2"]
        metrics = font["hmtx"].metrics
        advances = tuple(metrics[name][0] for name in font.getGlyphOrder())
        order = {name: index for index, name in enumerate(font.getGlyphOrder())}
        cmap = {code: order[name] for code, name in font.getBestCmap().items()}
        return Face(path=path, postscript_name=font["name"].getDebugName(6) or path.stem, cmap=cmap,
                    advances=advances, units_per_em=head.unitsPerEm, ascent=hhea.ascent, descent=hhea.descent,
                    cap_height=getattr(os2, "sCapHeight", hhea.ascent),
                    bbox=(head.xMin, head.yMin, head.xMax, head.yMax))


@dataclass(frozen=True)
class Style:
    """How a box's text is set: size in points, weight, line height (a factor of the size), colour."""

    size: float
    bold: bool = False
    line_height: float = 1.3
    color: tuple[float, float, float] = (0.0, 0.0, 0.0)
    align: str = "left"


@dataclass(frozen=True)
class Box:
    """A rectangle on the page, in points from the page's bottom-left corner; ``top`` is its upper edge."""

    x: float
    top: float
    width: float
    height: float

    def moved(self, dx: float, dy: float) -> Box:
        return Box(self.x + dx, self.top + dy, self.width, self.height)


@dataclass
class Glyphs:
    """The glyphs a document uses in each face, with the text each stands for (its ToUnicode entry)."""

    used: dict[bool, dict[int, str]] = field(default_factory=lambda: {False: {}, True: {}})

    def shape(self, text: str, bold: bool) -> list[int]:
        """Return the glyphs of ``text`` (NFC; a character without a glyph falls back to its decomposition)."""
        font = face(bold)
        cmap, used = font.cmap, self.used[bold]
        glyphs = []
        for char in unicodedata.normalize("NFC", text):
            glyph = cmap.get(ord(char))
            if glyph is None:
                parts = [cmap.get(ord(part)) for part in unicodedata.normalize("NFD", char)]
                if len(parts) > 1 and all(parts):
                    for part_glyph, part in zip(parts, unicodedata.normalize("NFD", char), strict=True):
                        used.setdefault(part_glyph, part)
                        glyphs.append(part_glyph)
                    continue
                glyph = 0  # .notdef: a visible box, never a silent gap
            elif glyph not in used:
                used[glyph] = char
            glyphs.append(glyph)
        return glyphs


# ---------------------------------------------------------------------------
# Setting text in a box
# ---------------------------------------------------------------------------

def _wrap(glyphs: list[int], space: int, font: Face, size: float, width: float) -> list[list[int]]:
    """Break ``glyphs`` into lines no wider than ``width`` at spaces (inside a word when it alone is wider)."""
    lines: list[list[int]] = []
    line: list[int] = []
    line_width = 0.0
    space_width = font.advances[space] * size / font.units_per_em
    word: list[int] = []
    words = []
    for glyph in glyphs:
        if glyph == space:
            words.append(word)
            word = []
        else:
            word.append(glyph)
    words.append(word)
    for word in words:
        word_width = font.width(word, size)
        if line and line_width + space_width + word_width <= width:
            line += [space, *word]
            line_width += space_width + word_width
            continue
        if line:
            lines.append(line)
        line, line_width = [], 0.0
        while word_width > width and len(word) > 1:  # a word wider than the box: cut it where it must
            cut, taken = 1, font.width(word[:1], size)
            while cut < len(word) and taken + font.width(word[cut:cut + 1], size) <= width:
                taken += font.width(word[cut:cut + 1], size)
                cut += 1
            lines.append(word[:cut])
            word = word[cut:]
            word_width = font.width(word, size)
        line, line_width = list(word), word_width
    lines.append(line)
    return lines


def _hex(glyphs: Iterable[int]) -> bytes:
    return b"<" + b"".join(b"%04x" % glyph for glyph in glyphs) + b">"


def set_text(glyphs: Glyphs, style: Style, box: Box, paragraphs: Sequence[str], *,
             indent: float = 0.0) -> bytes:
    """Return the content-stream operators that set ``paragraphs`` in ``box``, shrunk or cut to fit.

    ``indent`` moves every line right (room for a bar drawn beside the text).
    """
    paragraphs = [text for text in paragraphs if text]
    if not paragraphs:
        return b""
    font = face(style.bold)
    space = font.cmap[32]
    shaped = [glyphs.shape(text, style.bold) for text in paragraphs]
    width = box.width - indent
    scale = 1.0
    while True:
        size = style.size * scale
        leading = size * style.line_height
        lines = [line for paragraph in shaped for line in _wrap(paragraph, space, font, size, width)]
        fits = len(lines) * leading <= box.height + 0.01
        if fits or scale <= MIN_SCALE:
            break
        scale = max(MIN_SCALE, scale * 0.92)
    if not fits:
        keep = max(1, int((box.height + 0.01) // leading))
        if len(lines) > keep:
            lines = lines[:keep]
            lines[-1] = lines[-1] + glyphs.shape(ELLIPSIS, style.bold)
        ellipsis = glyphs.shape(ELLIPSIS, style.bold)
        while len(lines[-1]) > len(ellipsis) and font.width(lines[-1], size) > width:
            lines[-1] = lines[-1][:-len(ellipsis) - 1] + ellipsis
    # CSS's half-leading: the line box is ``leading`` high, the font's ascent and descent centred in it.
    ascent = font.ascent * size / font.units_per_em
    descent = -font.descent * size / font.units_per_em
    first_baseline = box.top - (leading - ascent - descent) / 2 - ascent
    red, green, blue = style.color
    out = [b"BT /%s %.2f Tf %.3f %.3f %.3f rg" % (FONT_NAMES[style.bold].encode(), size, red, green, blue)]
    for number, line in enumerate(lines):
        x = box.x + indent
        if style.align in ("right", "end", "center"):
            room = width - font.width(line, size)
            x += room / 2 if style.align == "center" else room
        out.append(b"1 0 0 1 %.2f %.2f Tm %s Tj" % (x, first_baseline - number * leading, _hex(line)))
    out.append(b"ET")
    return b"\n".join(out)


def set_barred(glyphs: Glyphs, style: Style, box: Box, paragraphs: Sequence[str], *, bar_width: float,
                    gap: float, color: tuple[float, float, float]) -> bytes:
    """Return ``paragraphs`` set one under the other in ``box``, each with a bar of ``color`` at its left."""
    out, top = [], box.top
    font = face(style.bold)
    space = font.cmap[32]
    for text in paragraphs:
        height = max(0.0, top - (box.top - box.height))
        if height <= 0:
            break
        lines = len(_wrap(glyphs.shape(text, style.bold), space, font, style.size, box.width - bar_width - gap))
        used = min(height, lines * style.size * style.line_height)
        out.append(set_text(glyphs, style, Box(box.x, top, box.width, used), [text], indent=bar_width + gap))
        out.append(b"%.3f %.3f %.3f rg %.2f %.2f %.2f %.2f re f" % (*color, box.x, top - used, bar_width, used))
        top -= used + style.size * 0.3
    return b"\n".join(out)


# ---------------------------------------------------------------------------
# QR codes
# ---------------------------------------------------------------------------

_DARK_RUN = re.compile(b"\x01+")


def qr_code(side: int, modules: bytes, box: Box, quiet_zone: int) -> bytes:
    """Return the operators that draw a QR code in ``box`` (square, ``quiet_zone`` modules of margin included).

    ``modules`` holds its ``side`` × ``side`` modules row by row, 1 for dark.
    """
    module = min(box.width, box.height) / (side + 2 * quiet_zone)
    out = [b"q 0 0 0 rg %.4f 0 0 %.4f %.2f %.2f cm" % (module, -module, box.x + quiet_zone * module,
                                                       box.top - quiet_zone * module)]
    append = out.append
    for row in range(side):
        for run in _DARK_RUN.finditer(modules, row * side, (row + 1) * side):
            start, end = run.span()
            append(b"%d %d %d 1 re" % (start - row * side, row, end - start))
    out.append(b"f Q")
    return b"\n".join(out)


# ---------------------------------------------------------------------------
# Embedding the faces
# ---------------------------------------------------------------------------

def _subset(face_: Face, glyph_ids: Iterable[int]) -> bytes:
    """Return the font with only ``glyph_ids`` drawn (glyph numbers kept, so content streams stay valid)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.retain_gids = True
    options.notdef_outline = True
    options.layout_features = []
    options.name_IDs = [1, 2, 3, 4, 5, 6]
    with TTFont(face_.path) as font:
        for tag in ("GSUB", "GPOS", "GDEF", "kern"):  # the glyphs are placed already: no layout tables
            if tag in font:
                del font[tag]  # before the subsetter reads them (a third of a second)
        subsetter = subset.Subsetter(options)
        subsetter.populate(gids=sorted({0, *glyph_ids}))
        subsetter.subset(font)
        buffer = io.BytesIO()
        font.save(buffer)
    return buffer.getvalue()


def _to_unicode(used: dict[int, str]) -> bytes:
    lines = [b"/CIDInit /ProcSet findresource begin", b"12 dict begin", b"begincmap",
             b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
             b"/CMapName /Adobe-Identity-UCS def", b"/CMapType 2 def",
             b"1 begincodespacerange <0000> <ffff> endcodespacerange"]
    entries = sorted(used.items())
    for start in range(0, len(entries), 100):
        chunk = entries[start:start + 100]
        lines.append(b"%d beginbfchar" % len(chunk))
        lines += [b"<%04x> <%s>" % (glyph, text.encode("utf-16-be").hex().encode()) for glyph, text in chunk]
        lines.append(b"endbfchar")
    lines += [b"endcmap", b"CMapName currentdict /CMap defineresource pop", b"end", b"end"]
    return b"\n".join(lines)


def compressed_stream(data: bytes, extra: dict | None = None):
    """Return a pydyf stream of ``data`` deflated (level 6: nine is much slower for a few bytes less)."""
    import pydyf

    return pydyf.Stream([zlib.compress(data, 6)], {**(extra or {}), "Filter": "/FlateDecode"})


def embed_fonts(pdf, glyphs: Glyphs, fonts: dict[bool, object]) -> None:
    """Fill the Type0 font dictionaries ``fonts`` (already in ``pdf``) with the subsets ``glyphs`` used."""
    import pydyf

    for bold, font_dict in fonts.items():
        face_ = face(bold)
        used = glyphs.used[bold]
        tag = "PRTS" + ("B" if bold else "R") + "A"  # a subset's name starts with six capitals and "+"
        base_name = f"/{tag}+{face_.postscript_name}"
        program = _subset(face_, used)
        font_file = compressed_stream(program, {"Length1": len(program)})
        pdf.add_object(font_file)
        scale = 1000 / face_.units_per_em
        descriptor = pydyf.Dictionary({
            "Type": "/FontDescriptor", "FontName": base_name, "Flags": 4,
            "FontBBox": pydyf.Array([round(value * scale) for value in face_.bbox]),
            "ItalicAngle": 0, "Ascent": round(face_.ascent * scale), "Descent": round(face_.descent * scale),
            "CapHeight": round(face_.cap_height * scale), "StemV": 140 if bold else 80,
            "FontFile2": font_file.reference,
        })
        pdf.add_object(descriptor)
        widths = pydyf.Array()
        for glyph in sorted({0, *used}):
            widths += [glyph, pydyf.Array([round(face_.advances[glyph] * scale)])]
        descendant = pydyf.Dictionary({
            "Type": "/Font", "Subtype": "/CIDFontType2", "BaseFont": base_name,
            "CIDSystemInfo": pydyf.Dictionary({"Registry": pydyf.String("Adobe"),
                                               "Ordering": pydyf.String("Identity"), "Supplement": 0}),
            "FontDescriptor": descriptor.reference, "W": widths, "CIDToGIDMap": "/Identity",
        })
        pdf.add_object(descendant)
        to_unicode = compressed_stream(_to_unicode(used))
        pdf.add_object(to_unicode)
        font_dict.update({"Type": "/Font", "Subtype": "/Type0", "BaseFont": base_name, "Encoding": "/Identity-H",
                          "DescendantFonts": pydyf.Array([descendant.reference]),
                          "ToUnicode": to_unicode.reference})
