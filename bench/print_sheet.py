"""Print sheet of many passes (QR codes included): cards per second against the naive way, progress, memory.

    .venv/bin/python bench/print_sheet.py [--passes 1000] [--naive-sample 40] [--check]

The naive way, measured in the same run on a sample: for each card, qrcode's defaults (automatic
mask, 10-pixel boxes), then WeasyPrint with default settings, one document per card laid out
entirely by WeasyPrint from the card template (``render.reference_card_html``, the same design),
a new FontConfiguration and freshly parsed stylesheets each time.

The portal's way, measured twice on the same cards:

* ``render_print_sheet`` of the cards already built (the figure the issue's table compares; one
  process: the sheet no longer forks workers, so the default is one process);
* the whole job (``print_sheet_job`` with a recording context): reading the passes, signing each
  card's token, the index, the sheet and the file written. Its progress reports are timed: the
  longest gap between two reports, and the gaps between the reports the job runner would write
  (at most one per ``JOB_PROGRESS_INTERVAL``, default 0.5 s).

RSS of this process is printed after each run; the load average before and after. ``--check``
also rasterises a few pages and decodes their QR codes. Figures only, no assertions.
"""
from __future__ import annotations

import argparse
import base64
import io
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ")
MIDDLE = ("Văn", "Thị", "Thị Thanh", "Minh", "Ngọc", "Hoàng")
GIVEN = ("An", "Bình", "Cường", "Dũng", "Hương", "Khánh", "Lan", "Phương", "Thảo", "Trường")
BASE_URL = "https://thexanh.hochiminhcity.gov.vn"


def rss_mb(pid: int | None = None) -> float:
    try:
        with open(f"/proc/{pid or os.getpid()}/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (FileNotFoundError, ProcessLookupError):
        return 0.0


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def prepare(app, count: int):
    """Create an enterprise with ``count`` workers and passes; return the enterprise's id and the passes' ids."""
    from portal.clock import local_today
    from portal.extensions import db
    from portal.testing.fixtures import make_enterprise, make_worker
    from portal.verify.testing import make_pass
    from portal.workers.identity import make_cccd

    registry = app.extensions["portal.plugins"].registry
    db.create_all()
    enterprise = make_enterprise(db.session, registry, "district7", "Công ty TNHH Điện tử Ánh Dương", "0301234562")
    today = local_today()
    ids = []
    for index in range(count):
        name = f"{FAMILY[index % 10]} {MIDDLE[index // 10 % 6]} {GIVEN[index // 60 % 10]}"
        born = today.replace(year=1970 + index % 30)
        worker = make_worker(db.session, enterprise, name=name, born=born,
                             citizen_id=make_cccd(79, born, "M", index + 1))
        ids.append(make_pass(db.session, worker, first_day=today - timedelta(days=1)).id)
    db.session.commit()
    return enterprise.id, ids


def build_cards(app, ids, base_url: str = BASE_URL):
    from sqlalchemy import select
    from sqlalchemy.orm import joinedload

    from portal.extensions import db
    from portal.passes.models import Pass
    from portal.printing.card import build_card

    registry = app.extensions["portal.plugins"].registry
    passes = db.session.scalars(select(Pass).where(Pass.id.in_(ids)).options(
        joinedload(Pass.worker), joinedload(Pass.enterprise), joinedload(Pass.unit))).unique().all()
    return [build_card(p, registry, base_url=base_url) for p in passes]


def naive_pass_pdf(card) -> bytes:
    """Render one card the way the WeasyPrint and qrcode documentation show it, nothing shared."""
    import qrcode
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    from portal import pdf
    from portal.printing import render
    from portal.printing.qr import qr_data_uri

    image = qrcode.make(card.verify_url, error_correction=qrcode.constants.ERROR_CORRECT_M)
    buffer = io.BytesIO()
    image.save(buffer)
    default_qr = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    html = render.reference_card_html(card).replace(qr_data_uri(card.verify_url), default_qr)
    fonts = FontConfiguration()
    fetcher = pdf.static_only_fetcher()
    css = [CSS(string=pdf.FONT_FACE_CSS, font_config=fonts, url_fetcher=fetcher),
           CSS(string=render._css(), font_config=fonts, url_fetcher=fetcher)]
    return HTML(string=html, base_url=pdf.STATIC_BASE_URL + "/", url_fetcher=fetcher).write_pdf(
        stylesheets=css, font_config=fonts)


def clear_caches() -> None:
    """Forget every QR code made so far: a real print job makes each one."""
    from portal.printing import qr

    qr.qr_modules.cache_clear()
    qr.qr_data_uri.cache_clear()


def run_sheet(cards):
    from portal.printing.render import render_print_sheet

    clear_caches()
    start = time.perf_counter()
    data = render_print_sheet(cards)
    return time.perf_counter() - start, data


class TimedContext:
    """A job context that times every progress report and keeps the file in memory."""

    def __init__(self, folder: Path):
        from portal.extensions import db

        self.session = db.session
        self.folder = folder
        self.reports: list[tuple[float, int, int]] = []
        self.output: Path | None = None
        self.start = time.perf_counter()

    def progress(self, done, total, message=None):
        self.reports.append((time.perf_counter() - self.start, done, total))

    def save_output(self, filename: str, data: bytes, *, content_type: str = "application/octet-stream") -> str:
        self.output = self.folder / filename
        self.output.write_bytes(data)
        return filename


def written(reports, interval: float):
    """Return the reports the job runner would write: the first, the last, and one per ``interval`` between."""
    kept, last = [], None
    for at, done, total in reports:
        if last is None or done >= total or at - last >= interval:
            kept.append((at, done, total))
            last = at
    return kept


def gaps(reports) -> list[float]:
    return [later[0] - earlier[0] for earlier, later in zip(reports, reports[1:], strict=False)]


def run_job(app, enterprise_id: int, folder: Path):
    from portal.jobs.services import DEFAULTS
    from portal.passes.sheet import print_sheet_job

    clear_caches()
    context = TimedContext(folder)
    result = print_sheet_job(context, enterprise_id=enterprise_id, base_url=BASE_URL)
    elapsed = time.perf_counter() - context.start
    return elapsed, result, context, float(app.config.get("JOB_PROGRESS_INTERVAL", DEFAULTS["JOB_PROGRESS_INTERVAL"]))


def check(data: bytes, cards) -> str:
    """Decode the QR codes of the first three pages of cards (at 100 dpi) and look for every name and serial."""
    import subprocess

    from portal.printing.render import sheet_pages
    from portal.printing.testing import decode_qr_codes, pdf_text

    first = sheet_pages(len(cards))[0] + 1
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sheet.pdf"
        path.write_bytes(data)
        subprocess.run(["pdftoppm", "-r", "100", "-f", str(first), "-l", str(first + 2), "-png", str(path),
                        f"{folder}/page"], check=True, capture_output=True)
        urls = [url for image in sorted(Path(folder).glob("page-*.png")) for url in decode_qr_codes(image)]
    expected = [card.verify_url for card in cards[:12]]
    text = pdf_text(data)
    found = sum(card.holder_name in text and card.serial in text for card in cards)
    return (f"check: QR codes of the first 3 card pages decoded at 100 dpi, each to its own card's URL: "
            f"{sum(url in urls for url in expected)}/{len(expected)} ({len(urls)} found); "
            f"cards whose name and serial pdftotext finds: {found}/{len(cards)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=1000)
    parser.add_argument("--naive-sample", type=int, default=40)
    parser.add_argument("--check", action="store_true", help="decode QR codes and extract text of the result")
    args = parser.parse_args()

    from portal import create_app
    from portal.printing import render

    instance = Path(tempfile.mkdtemp(prefix="bench-print-"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'bench.sqlite3'}",
                      "SECRET_KEY": "bench-" + "x" * 40, "SIGNING_KEY_DIR": str(instance / "keys")})
    with app.app_context():
        enterprise_id, ids = prepare(app, args.passes)
        start = time.perf_counter()
        cards = build_cards(app, ids)
        built = time.perf_counter() - start
        print(f"cpus: {os.cpu_count()}, load average (1, 5, 15 min) before: {load()}")
        print(f"built {len(cards)} cards (DB read, token signed): {built:.2f} s ({len(cards) / built:.0f} per s)")

        render.warm_up()
        naive_pass_pdf(cards[-1])  # both ways start warm: imports done, system fonts scanned
        sample = cards[:args.naive_sample]
        times = []
        for card in sample:
            start = time.perf_counter()
            naive_pass_pdf(card)
            times.append(time.perf_counter() - start)
        naive_rate = len(times) / sum(times)
        print(f"naive (one default WeasyPrint document per card, sample of {len(sample)}): "
              f"{naive_rate:6.1f} cards/s (median {statistics.median(times) * 1000:.0f} ms per card)")

        elapsed, data = run_sheet(cards)
        sheet_rate = len(cards) / elapsed
        print(f"render_print_sheet (one process, the default): {len(cards)} cards in {elapsed:.2f} s: "
              f"{sheet_rate:6.1f} cards/s, {len(data) / 2**20:.1f} MB PDF, RSS {rss_mb():.0f} MB")

        elapsed, result, context, interval = run_job(app, enterprise_id, instance)
        job_rate = len(cards) / elapsed
        reports = context.reports
        kept = written(reports, interval)
        last_card = max(at for at, done, total in reports if done < total)
        finishing = min(at for at, done, total in reports if done == total) - last_card
        print(f"print_sheet_job (passes read, tokens signed, index, sheet, file): {elapsed:.2f} s: "
              f"{job_rate:6.1f} cards/s, result {getattr(result, 'data', result)}, RSS {rss_mb():.0f} MB")
        print(f"  progress: {len(reports)} reports, total {sorted({r[2] for r in reports})}, first at "
              f"{reports[0][0]:.2f} s, done {reports[0][1]}→{reports[-1][1]}, longest gap "
              f"{max(gaps(reports)):.2f} s (from the last card but one to the finished file: {finishing:.2f} s)")
        written_gaps = gaps(kept)
        print(f"  as the runner writes them (every {interval:g} s at most): {len(kept)} updates, gaps "
              f"min {min(written_gaps):.2f} / median {statistics.median(written_gaps):.2f} / "
              f"max {max(written_gaps):.2f} s")
        print("  written updates (s: done/total): " + ", ".join(f"{at:.1f}: {done}/{total}"
                                                            for at, done, total in kept))
        print(f"speed-up against the naive way: render_print_sheet {sheet_rate / naive_rate:.1f}×, "
              f"whole job {job_rate / naive_rate:.1f}×  (target ≥ 10×)")
        print(f"load average (1, 5, 15 min) after: {load()}")
        if args.check:
            print(check(data, cards))
        out = instance / "sheet.pdf"
        out.write_bytes(data)
        print(f"sheet written to {out}")


if __name__ == "__main__":
    main()
