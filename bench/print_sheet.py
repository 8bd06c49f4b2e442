"""Print sheet of many passes (QR codes included): passes per second against the naive way, and memory.

    .venv/bin/python bench/print_sheet.py [--passes 1000] [--naive-sample 40]

The naive way, measured in the same run on a sample: for each pass, qrcode's defaults (automatic
mask, 10-pixel boxes), then WeasyPrint with default settings, one document per pass, a new
FontConfiguration and freshly parsed stylesheets each time. The portal's way is
``render_print_sheet`` (chunks of whole pages, shared fonts and stylesheet, fixed-mask 1-bit QR
PNGs, chunks in forked workers), run with its default workers and with one process. RSS is printed
every 100 passes: this process, and this process plus its workers. Figures only, no assertions.
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


def rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (FileNotFoundError, ProcessLookupError):
        return 0.0


def descendants(pid: int) -> list[int]:
    """Return every process below ``pid`` (the forkserver and its workers)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), ()):
            found.append(child)
            stack.append(child)
    return found


def prepare(app, count: int):
    """Create an enterprise with ``count`` workers and passes; return the passes' ids."""
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
    return ids


def build_cards(app, ids):
    from sqlalchemy import select
    from sqlalchemy.orm import joinedload

    from portal.extensions import db
    from portal.passes.models import Pass
    from portal.printing.card import build_card

    registry = app.extensions["portal.plugins"].registry
    passes = db.session.scalars(select(Pass).where(Pass.id.in_(ids)).options(
        joinedload(Pass.worker), joinedload(Pass.enterprise), joinedload(Pass.unit))).unique().all()
    return [build_card(p, registry, base_url="https://thexanh.hochiminhcity.gov.vn") for p in passes]


def naive_pass_pdf(card) -> bytes:
    """Render one pass the way the WeasyPrint and qrcode documentation show it, nothing shared."""
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
    html = render.pass_html(card).replace(qr_data_uri(card.verify_url), default_qr)
    fonts = FontConfiguration()
    fetcher = pdf.static_only_fetcher()
    css = [CSS(string=pdf.FONT_FACE_CSS, font_config=fonts, url_fetcher=fetcher),
           CSS(string=render._css(), font_config=fonts, url_fetcher=fetcher)]
    return HTML(string=html, base_url=pdf.STATIC_BASE_URL + "/", url_fetcher=fetcher).write_pdf(
        stylesheets=css, font_config=fonts)


def run_sheet(cards, processes):
    from portal.printing import qr
    from portal.printing.render import render_print_sheet

    qr.qr_matrix.cache_clear()  # every QR code is made during the run, as in a real print job
    qr.qr_data_uri.cache_clear()
    me = os.getpid()
    start = time.perf_counter()

    def progress(done, total):
        workers = sum(rss_mb(pid) for pid in descendants(me))
        print(f"    {done:5d}/{total}  {time.perf_counter() - start:6.1f} s   RSS this process "
              f"{rss_mb(me):6.1f} MB   with workers {rss_mb(me) + workers:6.1f} MB", flush=True)

    data = render_print_sheet(cards, progress=progress, processes=processes)
    return time.perf_counter() - start, data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=1000)
    parser.add_argument("--naive-sample", type=int, default=40)
    args = parser.parse_args()

    from portal import create_app
    from portal.printing import render

    instance = Path(tempfile.mkdtemp(prefix="bench-print-"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'bench.sqlite3'}",
                      "SECRET_KEY": "bench-" + "x" * 40, "SIGNING_KEY_DIR": str(instance / "keys")})
    with app.app_context():
        ids = prepare(app, args.passes)
        start = time.perf_counter()
        cards = build_cards(app, ids)
        built = time.perf_counter() - start
        print(f"cpus: {os.cpu_count()}, load average now: {os.getloadavg()[0]:.2f}")
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
        print(f"naive (one default document per pass, sample of {len(sample)}): "
              f"{naive_rate:6.1f} passes/s (median {statistics.median(times) * 1000:.0f} ms per pass)")

        results = {}
        for processes in (None, 1):
            label = "default workers" if processes is None else "one process"
            print(f"  render_print_sheet, {label}:")
            elapsed, data = run_sheet(cards, processes)
            results[label] = len(cards) / elapsed
            print(f"  → {len(cards)} passes in {elapsed:.1f} s: {results[label]:6.1f} passes/s, "
                  f"{len(data) / 2**20:.1f} MB PDF")
        for label, rate in results.items():
            print(f"speed-up against the naive way ({label}): {rate / naive_rate:.1f}×  (target ≥ 5×)")
        out = instance / "sheet.pdf"
        out.write_bytes(data)
        print(f"last sheet written to {out}")


if __name__ == "__main__":
    main()
