"""One pass PDF: warm render median/p95, the naive render beside it, and the cached download.

    .venv/bin/python bench/single_pass.py [--renders 40]

Warm render: ``render_pass_pdf`` of a different, already built card each time (QR made, text
set in the card's frame, fonts subset, PDF written), after one warm-up render. Naive: the same
card laid out entirely by WeasyPrint with its defaults (new FontConfiguration, stylesheets
parsed, qrcode's automatic mask) in the same run. Cached download: ``pass_pdf`` of a pass already
rendered: the card is built (token signed, the unit's extra lines asked) to compute its
fingerprint, then the file is read. Figures only.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from print_sheet import build_cards, naive_pass_pdf, prepare  # noqa: E402


def summary(name: str, seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (f"  {name:34} median {statistics.median(ordered) * 1000:8.2f} ms   p95 {p95 * 1000:8.2f} ms"
            f"   (n={len(ordered)})")


def timed(function, items) -> list[float]:
    times = []
    for item in items:
        start = time.perf_counter()
        function(item)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=40)
    args = parser.parse_args()

    from sqlalchemy import select

    from portal import create_app
    from portal.extensions import db
    from portal.passes.models import Pass
    from portal.printing.render import render_pass_pdf

    instance = Path(tempfile.mkdtemp(prefix="bench-pass-"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'bench.sqlite3'}",
                      "SECRET_KEY": "bench-" + "x" * 40, "SIGNING_KEY_DIR": str(instance / "keys"),
                      "SERVER_NAME": "thexanh.example.vn"})
    with app.app_context():
        _enterprise, ids = prepare(app, args.renders * 2 + 2)
        cards = build_cards(app, ids)
        render_pass_pdf(cards[-1])
        naive_pass_pdf(cards[-2])
        print(f"one A6 pass, {args.renders} different passes each (after one warm-up render):")
        ours = timed(lambda card: render_pass_pdf(card), cards[:args.renders])
        naive = timed(naive_pass_pdf, cards[args.renders:2 * args.renders])
        print(summary("warm render (render_pass_pdf)", ours))
        print(summary("naive render (WeasyPrint defaults)", naive))
        print(f"  warm render is {statistics.median(naive) / statistics.median(ours):.1f}× faster than naive (median)")

        try:
            from portal.passes.pdf import pass_pdf
        except ImportError:
            pass_pdf = None
        registry = app.extensions["portal.plugins"].registry
        passes = db.session.scalars(select(Pass).where(Pass.id.in_(ids[:args.renders]))).all()
        if pass_pdf is not None:
            base = "https://thexanh.example.vn"
            first = timed(lambda p: pass_pdf(p, registry, base_url=base), passes)
            cached = timed(lambda p: pass_pdf(p, registry, base_url=base), passes)
            print(summary("first download (renders, caches)", first))
            print(summary("cached download (pass_pdf)", cached))
        else:
            folder = instance / "pass-cache"
            folder.mkdir()
            for index, card in enumerate(cards[:args.renders]):
                (folder / f"{index}.pdf").write_bytes(render_pass_pdf(card))
            cached = timed(lambda index: (folder / f"{index}.pdf").read_bytes(), range(args.renders))
            print(summary("cached bytes read from disk", cached))


if __name__ == "__main__":
    main()
