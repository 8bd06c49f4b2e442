"""From a decoded QR code to the verdict on the scanner page, in Chromium; and the requests the portal is spared.

    .venv/bin/python bench/scanner_verdict.py [--scans 300]

Serves the portal (SQLite in a temporary folder, werkzeug on loopback) with a few cards (valid,
revoked, superseded), opens /quet in Debian's Chromium, lets it sync, then turns the network off and
hands the page ``--scans`` decoded QR texts one after another (the path the camera takes: the text goes
to the page's check, the same as a paste). Each is timed in the page from the hand-over to the verdict
word on screen (signature check, revocation list, windows, DOM): median and p95. Beside it, the
baseline measured in the same run: the same page asking the portal (GET /api/v1/verify/<token>, on
loopback, so no radio latency at all) for each text, median and p95.

Then it counts the requests that reached the portal: during the offline scans (none), and for the
sync that follows when the network comes back (keys, list, one batch of counts).
"""
from __future__ import annotations

import argparse
import base64
import sys
import tempfile
import threading
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

MEASURE = """async ({texts, online}) => {
  const word = document.getElementById('verdict-word');
  const form = document.getElementById('paste-form');
  const input = document.getElementById('paste');
  const samples = [];
  for (const text of texts) {
    word.textContent = '';
    const shown = new Promise((resolve) => {
      const observer = new MutationObserver(() => { if (word.textContent) { observer.disconnect(); resolve(); } });
      observer.observe(word, { childList: true, characterData: true, subtree: true });
    });
    const started = performance.now();
    if (online) {
      const answer = await (await fetch('/api/v1/verify/' + text.split('/v/').pop(), { cache: 'no-store' })).json();
      word.textContent = answer.outcome;
    } else {
      input.value = text;
      form.requestSubmit();
    }
    await shown;
    samples.push(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  samples.sort((a, b) => a - b);
  const at = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  return { median: at(0.5), p95: at(0.95), n: samples.length };
}"""


class Counter:
    def __init__(self, app):
        self.app = app
        self.paths: list[str] = []

    def __call__(self, environ, start_response):
        self.paths.append(environ.get("PATH_INFO", ""))
        return self.app(environ, start_response)


def prepare(folder: Path):
    import os

    from portal import create_app
    from portal.extensions import db
    from portal.passes.revoking import revoke_pass
    from portal.testing.fixtures import make_enterprise, make_worker
    from portal.tokens.codec import sign_pass_token
    from portal.verify.testing import ALL_DAY, make_pass

    os.environ["PORTAL_INSTANCE_PATH"] = str(folder)  # keys and secrets of the run stay in its folder
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'db.sqlite3'}", "SECRET_KEY": "b" * 40,
                      "SIGNING_KEY_DIR": str(folder / "keys"), "VERIFY_RATE_LIMIT": "100000 per minute",
                      "SCANNER_LIST_TTL": 0})
    with app.test_request_context("/"):
        db.create_all()
        registry = app.extensions["portal.plugins"].registry
        enterprise = make_enterprise(db.session, registry, "district7", "Công ty TNHH Ánh Dương", "0301234562")
        tokens = []
        for index in range(6):
            worker = make_worker(db.session, enterprise, citizen_id=f"0790900{index:05d}", name=f"Nguyễn Văn {index}")
            pass_ = make_pass(db.session, worker, serial=f"Q7-{index:010d}", windows=ALL_DAY,
                              version=2 if index == 4 else 1)
            tokens.append(sign_pass_token(pass_))
            if index == 5:
                revoke_pass(db.session, app.extensions["portal.plugins"].registry, pass_, None, "mistake")
        db.session.commit()
    raw = bytearray(base64.urlsafe_b64decode(tokens[0] + "=" * (-len(tokens[0]) % 4)))
    raw[12] ^= 1
    tokens.append(base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode("ascii"))  # forged
    return app, tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=300)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    folder = Path(tempfile.mkdtemp(prefix="scanner-verdict-"))
    app, tokens = prepare(folder)
    counter = Counter(app)
    server = make_server("127.0.0.1", 0, counter, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    texts = [f"{base}/v/{tokens[index % len(tokens)]}" for index in range(args.scans)]
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/lib/chromium/chromium", headless=True,
                                                 args=CHROMIUM_ARGS)
            try:
                context = browser.new_context(base_url=base, viewport={"width": 390, "height": 844})
                page = context.new_page()
                page.goto("/quet")
                page.wait_for_selector("body[data-sync=done]", timeout=30_000)
                online = page.evaluate(MEASURE, {"texts": texts, "online": True})
                context.set_offline(True)
                before = len(counter.paths)
                offline = page.evaluate(MEASURE, {"texts": texts, "online": False})
                during = len(counter.paths) - before
                pending = page.locator("#pending").inner_text()
                context.set_offline(False)
                page.wait_for_selector("#pending", state="hidden", timeout=30_000)
                sync = counter.paths[before + during:]
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)

    print(f"{args.scans} scans of {len(tokens)} cards (valid, superseded, revoked, forged)")
    print(f"decoded QR -> verdict on the page, offline (in the phone): median {offline['median']:.2f} ms, "
          f"p95 {offline['p95']:.2f} ms")
    print(f"baseline, asking the portal on loopback:               median {online['median']:.2f} ms, "
          f"p95 {online['p95']:.2f} ms")
    print(f"requests reaching the portal during the {args.scans} offline scans: {during} ({pending})")
    print(f"requests of the sync when the network came back: {len(sync)} ({', '.join(sorted(set(sync)))})")
    every = timedelta(minutes=5)
    print(f"portal load: online checkpoint 1 request a scan; scanner 0 a scan, plus 2 conditional GETs every "
          f"{every.seconds // 60} min while online (mostly 304) and 1 POST of counts after an offline spell")


if __name__ == "__main__":
    main()
