"""Pass PDFs: one A6 pass, or print sheets of four A6 passes per A4 page with cut marks, after an index.

Why A6 and not the ID-1 card size: every field the checkpoint needs (full name, enterprise,
workplace, route, windows, validity, the unit's lines) must be legible to an officer at arm's
length, and the QR code (up to version 10, 57 modules plus the quiet zone) is printed 44 mm wide
to keep modules of about 0.7 mm that any phone scans from paper or from a screen. That does not
fit 85.6 × 54 mm; A6 does, and four A6 passes fill an A4 sheet that any office printer prints and
scissors cut.

How (measured in bench/print_sheet.py): what is the same on every card (the band, the labels,
the border; the sheet's cut marks; the index's table) is laid out once by WeasyPrint from the
templates and the stylesheet (:mod:`portal.printing.frames`) and drawn on each page as a form
XObject; what changes (names, serials, dates, the QR code) is set straight into the page
(:mod:`portal.printing.typeset`). A thousand cards take a few seconds in one process, where
laying each card out with WeasyPrint took half a minute. :func:`reference_card_pdf` still lays a
card out entirely with WeasyPrint, from the same template, for comparison.
"""
from __future__ import annotations

import hashlib
import io
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import cache, lru_cache
from pathlib import Path

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from portal import clock, pdf
from portal.printing.card import PassCard
from portal.printing.frames import Frame, frame, import_frame
from portal.printing.qr import QUIET_ZONE, qr_data_uri, qr_modules
from portal.printing.typeset import (
    FONT_FILES,
    POINTS_PER_MM,
    Glyphs,
    compressed_stream,
    embed_fonts,
    qr_code,
    set_barred,
    set_text,
)

TEMPLATES = Path(__file__).parent / "templates"
CARDS_PER_PAGE = 4
#: Rows of the index per page (each high enough to sign in).
INDEX_ROWS = 26
A4 = (210 * POINTS_PER_MM, 297 * POINTS_PER_MM)
A6 = (105 * POINTS_PER_MM, 148 * POINTS_PER_MM)
#: Where the four cards of an A4 page start (their top-left corners, mm from the page's top-left).
CARD_ORIGINS = ((10, 10), (105, 10), (10, 148.5), (105, 148.5))
#: Where the card starts on an A6 page of its own (mm from the page's top-left).
SINGLE_ORIGIN = (5, 4.75)
#: The bar beside each of the unit's lines: as wide and as far from the text as in pass.css, and its green.
EXTRA_BAR = (1 * POINTS_PER_MM, 1.5 * POINTS_PER_MM, (11 / 255, 122 / 255, 62 / 255))


#: The printed labels (the pass is a Vietnamese document unless a card asks for another language).
LABELS = {
    "title": _l("COVID GREEN CARD"),
    "sheet_title": _l("Green cards"),
    "serial": _l("Card no."),
    "birth_year": _l("Year of birth"),
    "id": _l("ID no."),
    "enterprise": _l("Enterprise"),
    "workplace": _l("Workplace"),
    "route": _l("Route"),
    # Words, not an arrow: an arrow is not in every font a reader may copy the text into.
    "route_text": _l("from %(origin)s to %(destination)s"),
    "windows": _l("Travel hours (HCMC time)"),
    "to_work": _l("to work"),
    "to_home": _l("home"),
    "valid_from": _l("Valid from"),
    "valid_until": _l("Valid until the end of"),
    "scan": _l("Police: scan the code to check this card."),
    "issued": _l("Issued on %(date)s · version %(version)s"),
    "index_title": _l("Green cards: list for handing out"),
    "index_about": _l("%(enterprises)s · printed on %(date)s · %(count)s cards"),
    "index_how": _l("Hand each card to its holder, who signs beside their name and writes the date. "
                    "Keep this list with the enterprise's records."),
    "index_number": _l("No."),
    "index_name": _l("Full name"),
    "index_signature": _l("Holder's signature"),
    "index_received": _l("Date received"),
    "index_page": _l("List page %(page)s of %(pages)s"),
}


def labels(locale: str = "vi") -> dict[str, str]:
    """Return the printed labels translated into ``locale`` (looked up once per document, not per card)."""
    with force_locale(locale):
        return {"lang": locale, **{key: str(text) for key, text in LABELS.items()}}


@cache
def _environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                       auto_reload=False)


@cache
def _css() -> str:
    return (TEMPLATES / "printing" / "pass.css").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------
# What each card says, slot by slot
# ---------------------------------------------------------------------------

def card_text(card: PassCard, text: dict[str, str]) -> dict[str, tuple[str, ...]]:
    """Return the paragraphs of each slot of ``card`` (``text``: its language's :func:`labels`)."""
    windows = ", ".join(f"{clock.format_time(window.start)}–{clock.format_time(window.end)} "
                        f"({text.get(window.direction, window.direction)})" for window in card.windows)
    route = text["route_text"] % {"origin": card.route_from, "destination": card.route_to}
    return {
        "serial": (f"{text['serial']}: {card.serial}",),
        "holder": (card.holder_name,),
        "identity": (f"{text['birth_year']}: {card.birth_year} · {text['id']}: {card.masked_id}",),
        "enterprise": (f"{text['enterprise']}: {card.enterprise_name}",),
        "workplace": (f"{text['workplace']}: {card.workplace_address}",),
        "route": (f"{text['route']}: {route}",),
        "windows": (f"{text['windows']}: {windows}",),
        "valid_from": (clock.format_date(card.valid_from),),
        "valid_until": (clock.format_date(card.valid_until),),
        "extra": tuple(card.extra_lines),
        "foot": (text["issued"] % {"date": clock.format_date(card.issued_on), "version": card.version},),
    }


# ---------------------------------------------------------------------------
# Frames: laid out once per process and language (and unit, for the card's band)
# ---------------------------------------------------------------------------

@lru_cache(maxsize=32)
def card_frame(locale: str, unit_name: str, unit_authority: str) -> Frame:
    html = _environment().get_template("printing/card.html").render(
        labels=labels(locale), unit_name=unit_name, unit_authority=unit_authority, fill=defaultdict(str))
    return frame(("card", locale, unit_name, unit_authority), html, _css())


@lru_cache(maxsize=8)
def sheet_frame(locale: str) -> Frame:
    html = _environment().get_template("printing/sheet_page.html").render(labels=labels(locale))
    return frame(("sheet", locale), html, _css())


@lru_cache(maxsize=8)
def index_frame(locale: str) -> Frame:
    html = _environment().get_template("printing/index.html").render(labels=labels(locale), rows=INDEX_ROWS)
    return frame(("index", locale), html, _css())


# ---------------------------------------------------------------------------
# Building a PDF
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class IndexRow:
    """One line of a sheet's index."""

    serial: str
    name: str
    birth_year: int
    enterprise: str


class _Document:
    """A PDF being written: pages of frames with text and QR codes set over them, sharing one resources."""

    def __init__(self, title: str):
        import pydyf

        self.pdf = pydyf.PDF()
        self.pdf.info["Title"] = pydyf.String(title)
        self.pdf.info["Producer"] = pydyf.String("HCMC green-card portal")
        self.glyphs = Glyphs()
        self.fonts = {False: pydyf.Dictionary(), True: pydyf.Dictionary()}
        for font in self.fonts.values():
            self.pdf.add_object(font)
        self.xobjects = pydyf.Dictionary()
        self.resources = pydyf.Dictionary({
            "Font": pydyf.Dictionary({"R": self.fonts[False].reference, "B": self.fonts[True].reference}),
            "XObject": self.xobjects,
        })
        self.pdf.add_object(self.resources)
        self._names: dict[tuple, str] = {}
        self._front: list[int] = []
        self._pages: list[int] = []

    def place(self, frame_: Frame, left: float, top: float) -> bytes:
        """Return the operators drawing ``frame_`` with its top-left corner at (``left``, ``top``)."""
        name = self._names.get(frame_.key)
        if name is None:
            name = self._names[frame_.key] = f"Frame{len(self._names)}"
            self.xobjects[name] = import_frame(self.pdf, frame_).reference
        return b"q 1 0 0 1 %.2f %.2f cm /%s Do Q" % (left, top - frame_.height, name.encode())

    def add_page(self, size: tuple[float, float], content: Sequence[bytes], *, front: bool = False) -> None:
        """Add a page of ``content``; ``front`` pages come before all others (the index, written last)."""
        import pydyf

        stream = compressed_stream(b"\n".join(part for part in content if part))
        self.pdf.add_object(stream)
        page = pydyf.Dictionary({
            "Type": "/Page", "Parent": self.pdf.pages.reference, "MediaBox": pydyf.Array([0, 0, *size]),
            "Resources": self.resources.reference, "Contents": stream.reference,
        })
        self.pdf.add_object(page)
        (self._front if front else self._pages).append(page.number)

    def card(self, card: PassCard, text: dict[str, str], left: float, top: float) -> bytes:
        """Return the operators of one card with its top-left corner at (``left``, ``top``)."""
        frame_ = card_frame(card.locale, card.unit_name, card.unit_authority)
        slots = frame_.slots
        out = [self.place(frame_, left, top)]
        for name, paragraphs in card_text(card, text).items():
            slot = slots[name]
            if name == "extra":
                width, gap, color = EXTRA_BAR
                out.append(set_barred(self.glyphs, slot.style, slot.box(left, top), paragraphs, bar_width=width,
                                      gap=gap, color=color))
            else:
                out.append(set_text(self.glyphs, slot.style, slot.box(left, top), paragraphs))
        out.append(qr_code(*qr_modules(card.verify_url), slots["qr"].box(left, top), QUIET_ZONE))
        return b"\n".join(out)

    def index(self, cards: Sequence[IndexRow], text: dict[str, str], locale: str) -> None:
        """Add the index pages: every card's number, serial, holder and year of birth, with room to sign."""
        frame_ = index_frame(locale)
        slots = frame_.slots
        enterprises = list(dict.fromkeys(card.enterprise for card in cards))
        about = text["index_about"] % {"enterprises": ", ".join(enterprises), "date": clock.format_date(
            clock.local_today()), "count": len(cards)}
        pages = max(1, -(-len(cards) // INDEX_ROWS))
        top = A4[1]
        for page in range(pages):
            out = [self.place(frame_, 0, top),
                   set_text(self.glyphs, slots["about"].style, slots["about"].box(0, top), [about]),
                   set_text(self.glyphs, slots["page"].style, slots["page"].box(0, top),
                            [text["index_page"] % {"page": page + 1, "pages": pages}])]
            for row, card in enumerate(cards[page * INDEX_ROWS:(page + 1) * INDEX_ROWS]):
                number = page * INDEX_ROWS + row + 1
                for column, value in (("number", str(number)), ("serial", card.serial),
                                      ("name", card.name), ("born", str(card.birth_year))):
                    slot = slots[f"{row}-{column}"]
                    out.append(set_text(self.glyphs, slot.style, slot.box(0, top), [value]))
            self.add_page(A4, out, front=True)

    def write(self) -> bytes:
        embed_fonts(self.pdf, self.glyphs, self.fonts)
        numbers = self._front + self._pages
        self.pdf.pages["Kids"].extend(part for number in numbers for part in (number, 0, "R"))
        self.pdf.pages["Count"] = len(numbers)
        output = io.BytesIO()
        self.pdf.write(output, version=b"1.7", identifier=True, compress=True)
        return output.getvalue()


def _at(origin_mm: tuple[float, float], page_height: float) -> tuple[float, float]:
    return origin_mm[0] * POINTS_PER_MM, page_height - origin_mm[1] * POINTS_PER_MM


def render_pass_pdf(card: PassCard) -> bytes:
    """Return the PDF of one A6 pass."""
    text = labels(card.locale)
    document = _Document(f"{text['title']} {card.serial}")
    document.add_page(A6, [document.card(card, text, *_at(SINGLE_ORIGIN, A6[1]))])
    return document.write()


def sheet_pages(cards: int) -> tuple[int, int]:
    """Return how many index pages and how many pages of cards a sheet of ``cards`` cards has."""
    return max(1, -(-cards // INDEX_ROWS)), -(-cards // CARDS_PER_PAGE)


def render_print_sheet(cards: Iterable[PassCard], *, total: int | None = None,
                       progress: Callable[[int, int], None] | None = None, locale: str = "vi") -> bytes:
    """Return a PDF of ``cards``: index pages, then four cards to an A4 page with cut marks.

    ``cards`` may be a generator (each card is built as the sheet needs it; give ``total``).
    ``progress(done, total)`` counts cards: it is called as each card is set, and with ``(total,
    total)`` only once the PDF is complete. ``locale`` is the sheet's language (its index).
    """
    if total is None:
        cards = list(cards)
        total = len(cards)
    text = labels(locale)
    texts = {locale: text}
    document = _Document(text["sheet_title"])
    rows: list[IndexRow] = []
    out: list[bytes] = []
    for number, card in enumerate(cards):
        if number % CARDS_PER_PAGE == 0:
            if out:
                document.add_page(A4, out)
            out = [document.place(sheet_frame(locale), 0, A4[1])]
        card_labels = texts.get(card.locale) or texts.setdefault(card.locale, labels(card.locale))
        out.append(document.card(card, card_labels, *_at(CARD_ORIGINS[number % CARDS_PER_PAGE], A4[1])))
        rows.append(IndexRow(card.serial, card.holder_name, card.birth_year, card.enterprise_name))
        if progress and number + 1 < total:
            progress(number + 1, total)
    if out:
        document.add_page(A4, out)
    document.index(rows, text, locale)
    data = document.write()
    if progress:
        progress(len(rows), len(rows))
    return data


# ---------------------------------------------------------------------------
# The same card laid out entirely by WeasyPrint (for comparison), and what a rendered PDF depends on
# ---------------------------------------------------------------------------

def reference_card_html(card: PassCard) -> str:
    """Return the HTML of ``card`` with every slot filled: WeasyPrint lays it out like the frame."""
    text = labels(card.locale)
    fill = {name: " ".join(paragraphs) for name, paragraphs in card_text(card, text).items()}
    fill["extra"] = list(card.extra_lines)
    fill["qr"] = qr_data_uri(card.verify_url)
    return _environment().get_template("printing/card.html").render(
        labels=text, unit_name=card.unit_name, unit_authority=card.unit_authority, fill=fill)


def reference_card_pdf(card: PassCard) -> bytes:
    """Return ``card`` laid out entirely by WeasyPrint (one page the size of the card)."""
    return pdf.write_pdf(pdf.render_html(reference_card_html(card), (_css(),)))


def design_files() -> list[Path]:
    """Return the files a rendered card depends on: templates, stylesheet, fonts, this package's code, labels."""
    package = Path(__file__).parent
    return sorted([*TEMPLATES.rglob("*.*"), *package.glob("*.py"), *FONT_FILES.values(),
                   *(package / "translations").rglob("*.mo")])


@cache
def design_fingerprint() -> str:
    """Return a digest of everything besides a card's content that a rendered card depends on.

    The files of :func:`design_files` and the versions of the libraries that lay out and write the PDF.
    """
    import pydyf
    import weasyprint

    digest = hashlib.sha256(f"weasyprint {weasyprint.__version__} pydyf {pydyf.__version__}".encode())
    for path in design_files():
        digest.update(str(path.relative_to(path.parents[1])).encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def card_fingerprint(card: PassCard) -> str:
    """Return a digest of everything that changes ``card``'s PDF: its content and :func:`design_fingerprint`.

    The content is every printed field: the holder, the unit's extra lines, the QR's address (the
    base URL and the signed token, which names the signing key and carries the version), the
    language, the dates.
    """
    content = json.dumps(asdict(card), sort_keys=True, ensure_ascii=False, default=str)
    digest = hashlib.sha256(design_fingerprint().encode() + b"\0" + content.encode("utf-8"))
    return digest.hexdigest()[:32]


def warm_up() -> None:
    """Load the fonts and lay the Vietnamese frames out (before serving a first download)."""
    from portal.printing.typeset import face

    face(False), face(True)
    sheet_frame("vi"), index_frame("vi")
