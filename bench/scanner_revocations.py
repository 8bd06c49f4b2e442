"""The phones' revocation list at city scale: bytes (raw, gzip) and load times, beside verify's JSON list.

    .venv/bin/python bench/scanner_revocations.py [--passes 300000] [--share 0.05] [--changes 300]

Builds the list of a city of ``--passes`` cards of which ``--share`` are revoked or superseded (half
each), with serials as the portal makes them (unit short code, dash, 10 Crockford characters). Prints:

* sizes: /api/v1/revocations (verify's JSON, the baseline), the compact full list, a delta of
  ``--changes`` changes (a busy day's revocations), each raw and gzip-compressed (level 6, as a proxy);
* server: packing verify's document into the compact one and serialising it (ms), beside serialising
  verify's document alone;
* phone (Debian's Chromium): JSON.parse plus the lookup structures the scanner builds, from the
  compact list and (baseline) from verify's list; and the IndexedDB write and read of the kept list.

verify's database query (``revocation_list``) is not timed here: it is unchanged, and the scanner runs
it at most once per ``SCANNER_LIST_TTL`` seconds per process whatever the number of phones.
"""
from __future__ import annotations

import argparse
import gzip
import json
import random
import statistics
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
UNITS = ("Q7", "CC", "CG", "KCN", "CNC")


def verify_document(passes: int, share: float, rng: random.Random) -> dict:
    listed = int(passes * share)
    serials = {f"{rng.choice(UNITS)}-{''.join(rng.choice(CROCKFORD) for _ in range(10))}" for _ in range(listed)}
    start = datetime(2021, 9, 15, tzinfo=UTC)
    revoked, superseded = [], []
    for index, serial in enumerate(sorted(serials)):
        at = (start + timedelta(seconds=rng.randrange(60 * 86400))).isoformat()
        if index % 2:
            revoked.append({"serial": serial, "version": rng.randint(1, 3), "revoked_at": at, "reason": None})
        else:
            superseded.append({"serial": serial, "current_version": rng.randint(2, 4), "changed_at": at})
    return {"revoked": revoked, "superseded": superseded, "last_modified": start.isoformat()}


def size(text: str) -> tuple[int, int]:
    data = text.encode("utf-8")
    return len(data), len(gzip.compress(data, compresslevel=6))


def timed(function, repeat: int = 5) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


PHONE = """async ({compact, verify}) => {
  const { revocationState } = await import('/static/scanner/verifier.js');
  const store = await import('/static/scanner/store.js');
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const run = async (f) => {
    const xs = [];
    for (let i = 0; i < 7; i++) { const t = performance.now(); await f(); xs.push(performance.now() - t); }
    return median(xs);
  };
  const kept = revocationState(JSON.parse(compact));
  const record = { version: 1, revoked: [...kept.revoked], superseded: [...kept.superseded] };
  return {
    compact: await run(() => revocationState(JSON.parse(compact))),
    verify: await run(() => { const d = JSON.parse(verify); return { revoked: new Set(d.revoked.map((r) => r.serial)),
      superseded: new Map(d.superseded.map((s) => [s.serial, s.current_version])) }; }),
    idb_write: await run(() => store.write('bench-list', record)),
    idb_read: await run(async () => revocationState(await store.read('bench-list'))),
  };
}"""


def phone_times(compact: str, verify: str) -> dict:
    import os
    import tempfile

    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from portal import create_app

    folder = Path(tempfile.mkdtemp(prefix="scanner-bench-"))
    os.environ["PORTAL_INSTANCE_PATH"] = str(folder)  # keys and secrets of the run stay in its folder
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'db.sqlite3'}", "SECRET_KEY": "b" * 40,
                      "SIGNING_KEY_DIR": str(folder / "keys")})
    with app.app_context():  # the app's in-process job runner looks at its table at the first request
        from portal.extensions import db

        db.create_all()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/lib/chromium/chromium", headless=True, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"])
            try:
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{server.server_port}/static/img/favicon.svg")
                return page.evaluate(PHONE, {"compact": compact, "verify": verify})
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=300_000)
    parser.add_argument("--share", type=float, default=0.05)
    parser.add_argument("--changes", type=int, default=300)
    args = parser.parse_args()

    from portal.scanner.services import compact_list

    rng = random.Random(2021)
    document = verify_document(args.passes, args.share, rng)
    listed = len(document["revoked"]) + len(document["superseded"])
    verify_text = json.dumps(document, ensure_ascii=False, sort_keys=True)
    packed = compact_list(document)
    compact_text = json.dumps(packed.document(), separators=(",", ":"), ensure_ascii=False)
    # A day's changes: the newest entries, asked for by a phone that synced just before them.
    newest = sorted(entry.changed_ms for entry in packed.entries)
    since = newest[-args.changes - 1] + 10 * 60 * 1000  # the overlap of 10 minutes takes a few more
    delta = packed.document(since)
    delta_text = json.dumps(delta, separators=(",", ":"), ensure_ascii=False)

    print(f"{args.passes:,} passes, {listed:,} listed ({len(document['revoked']):,} revoked, "
          f"{len(document['superseded']):,} superseded)")
    print(f"{'list':44} {'bytes':>10} {'gzip':>10}")
    for name, text in (("/api/v1/revocations (verify's JSON, baseline)", verify_text),
                       ("/api/v1/scanner/revocations, full", compact_text),
                       (f"... delta of {len(delta['revoked']) + len(delta['superseded'])} entries (?since=)",
                        delta_text)):
        raw, packed_size = size(text)
        print(f"{name:44} {raw:>10,} {packed_size:>10,}")

    baseline = timed(lambda: json.dumps(document, ensure_ascii=False, sort_keys=True))
    scanner = timed(lambda: json.dumps(compact_list(document).document(), separators=(",", ":"),
                                       ensure_ascii=False))
    print(f"server: serialise verify's list {baseline:.1f} ms; pack + serialise the compact list {scanner:.1f} ms "
          f"(once per SCANNER_LIST_TTL per process; 304 answers reuse it)")

    phone = phone_times(compact_text, verify_text)
    print(f"phone (Chromium, median of 7): parse + lookups: compact {phone['compact']:.1f} ms, "
          f"verify's JSON {phone['verify']:.1f} ms; IndexedDB write {phone['idb_write']:.1f} ms, "
          f"read + lookups {phone['idb_read']:.1f} ms")


if __name__ == "__main__":
    main()
