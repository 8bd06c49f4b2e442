"""Pass PDFs: one A6 pass, or print sheets of four A6 passes per A4 page with cut marks.

Why A6 and not the ID-1 card size: every field the checkpoint needs (full name, enterprise,
workplace, route, windows, validity, the unit's lines) must be legible to an officer at arm's
length, and the QR code (up to version 10, 57 modules plus the quiet zone) is printed 44 mm wide
to keep modules of about 0.7 mm that any phone scans from paper or from a screen. That does not
fit 85.6 × 54 mm; A6 does, and four A6 passes fill an A4 sheet that any office printer prints and
scissors cut.

Speed (measured in bench/print_sheet.py): the templates and the stylesheet are parsed once, one
font configuration serves every render, QR codes are small greyscale PNGs (fixed mask), the card
is built from few boxes, and the translated labels are looked up once per sheet. A sheet is laid
out in chunks of :data:`CHUNK_CARDS` passes, each in a short-lived worker process forked from a
warm forkserver (both cores work, and the memory a layout takes goes back to the system when its
worker ends); the chunks' PDFs are joined with pypdf as they arrive.
"""
from __future__ import annotations

import io
import multiprocessing
import os
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from portal import clock, pdf
from portal.printing.card import PassCard
from portal.printing.qr import qr_data_uri

TEMPLATES = Path(__file__).parent / "templates"
CARDS_PER_PAGE = 4
#: Passes laid out per WeasyPrint document when printing a sheet (see bench/print_sheet.py).
CHUNK_CARDS = 100


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
    # Words, not an arrow: Noto Sans has no "→", and a fallback font costs time and a third font.
    "route_text": _l("from %(origin)s to %(destination)s"),
    "windows": _l("Travel hours (HCMC time)"),
    "to_work": _l("to work"),
    "to_home": _l("home"),
    "valid_from": _l("Valid from"),
    "valid_until": _l("Valid until the end of"),
    "scan": _l("Police: scan the code to check this card."),
    "issued": _l("Issued on %(date)s · version %(version)s"),
}


def labels(locale: str = "vi") -> dict[str, str]:
    """Return the printed labels translated into ``locale`` (looked up once per document, not per card)."""
    with force_locale(locale):
        return {"lang": locale, **{key: str(text) for key, text in LABELS.items()}}


@cache
def _environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                      auto_reload=False)
    env.globals["qr"] = qr_data_uri
    env.filters.update(date=clock.format_date, time=clock.format_time)
    return env


@cache
def _css() -> str:
    return (TEMPLATES / "printing" / "pass.css").read_text(encoding="utf-8")


def pass_html(card: PassCard, text: dict[str, str] | None = None) -> str:
    """Return the HTML of one pass."""
    template = _environment().get_template("printing/pass.html")
    return template.render(card=card, labels=text or labels(card.locale))


def sheet_html(cards: list[PassCard], text: dict[str, str]) -> str:
    """Return the HTML of a print sheet of ``cards``, four per page."""
    pages = [cards[start:start + CARDS_PER_PAGE] for start in range(0, len(cards), CARDS_PER_PAGE)]
    return _environment().get_template("printing/sheet.html").render(pages=pages, labels=text)


def render_pass_pdf(card: PassCard) -> bytes:
    """Return the PDF of one A6 pass."""
    return pdf.write_pdf(pdf.render_html(pass_html(card), (_css(),)))


def _render_chunk(job: tuple[list[PassCard], dict[str, str]]) -> bytes:
    cards, text = job
    return pdf.write_pdf(pdf.render_html(sheet_html(cards, text), (_css(),)))


def render_print_sheet(cards: Iterable[PassCard], *, progress: Callable[[int, int], None] | None = None,
                       processes: int | None = None) -> bytes:
    """Return a PDF of ``cards`` four to an A4 page with cut marks; call ``progress(done, total)`` per chunk.

    ``processes`` workers lay the chunks out (default: one per core, at most two, and none for a
    sheet of one chunk); 1 lays them out in this process.
    """
    cards = list(cards)
    total = len(cards)
    text = labels(cards[0].locale if cards else "vi")
    # Chunks of whole pages: the joined sheet has no half-empty page in the middle.
    jobs = [(cards[start:start + CHUNK_CARDS], text) for start in range(0, total, CHUNK_CARDS)] or [([], text)]
    if processes is None:
        processes = min(2, os.cpu_count() or 1, len(jobs))
    if len(jobs) == 1:
        data = _render_chunk(jobs[0])
        if progress:
            progress(total, total)
        return data
    if processes <= 1:
        return _join((_render_chunk(job) for job in jobs), jobs, total, progress)
    with _pool(processes) as pool:
        return _join(pool.imap(_render_chunk, jobs), jobs, total, progress)


def _join(parts: Iterable[bytes], jobs: list, total: int, progress) -> bytes:
    """Append each chunk's PDF as it comes (overlapping the workers' layout) and report progress."""
    from pypdf import PdfWriter

    writer, done = PdfWriter(), 0
    for index, part in enumerate(parts):
        writer.append(io.BytesIO(part))
        done += len(jobs[index][0])
        if progress:
            progress(done, total)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def _pool(processes: int):
    """Return a pool of workers forked from a clean, warmed-up server process, one chunk per worker.

    Not plain ``fork``: the portal runs jobs beside other threads (web requests, the job heartbeat),
    and a fork taken while one of them holds a lock in Fontconfig or Pango could hang the child.
    The forkserver is single-threaded and has WeasyPrint loaded and warm (``sheet_worker``), so a
    worker starts in milliseconds; each exits after its chunk, handing its layout memory back.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["portal.printing.sheet_worker"])
    return context.Pool(processes, maxtasksperchild=1)


def warm_up() -> None:
    """Load fonts, parse the stylesheet and compile the templates once (before serving or forking)."""
    from datetime import date

    card = PassCard(serial="-", version=1, holder_name="Ẩ", birth_year=2000, masked_id="-", enterprise_name="-",
                    workplace_address="-", unit_code="-", unit_name="-", route_from="-", route_to="-", windows=(),
                    valid_from=date(2021, 1, 1), valid_until=date(2021, 1, 1), token="-", verify_url="-",
                    extra_lines=(), issued_on=date(2021, 1, 1))
    text = {"lang": "vi", **{key: key for key in LABELS}, "issued": "%(date)s %(version)s"}
    _render_chunk(([card], text))
