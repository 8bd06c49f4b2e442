"""Fixtures of the scanner tests: a live portal on loopback and Debian's Chromium (as tests/browser uses)."""
from __future__ import annotations

from pathlib import Path

import pytest

from portal.testing.live import live_server as serve

CHROMIUM = "/usr/lib/chromium/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


class RequestCounter:
    """WSGI middleware counting the requests that reach the portal (to prove a phase sent none).

    While ``unreachable`` is set, every request is refused (503, nothing reaches the portal), as a dead link
    would fail it: Chromium's offline emulation does not always cover a document just reloaded behind a
    service worker, whose first sync can still go out.
    """

    def __init__(self, app):
        self.app = app
        self.paths: list[str] = []
        self.unreachable = False

    def __call__(self, environ, start_response):
        self.paths.append(environ.get("PATH_INFO", ""))
        if self.unreachable:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain"), ("Content-Length", "0")])
            return [b""]
        return self.app(environ, start_response)


@pytest.fixture
def live_server(app):
    """Serve ``app`` on a free loopback port in a thread; yield its base URL (``.requests`` counts requests)."""
    counter = RequestCounter(app)
    with serve(counter) as base:
        url = LiveURL(base)
        url.requests, url.counter = counter.paths, counter
        yield url


class LiveURL(str):
    requests: list[str]
    counter: RequestCounter


@pytest.fixture
def in_chromium():
    """Return ``run(body)``: call ``body(launch)`` on a thread of its own, where ``launch(*args)`` starts
    Debian's Chromium headless with the handbook's flags plus ``args``; return what ``body`` returns.

    Playwright's sync API drives one driver per thread, and tests/browser keeps a session-wide one on
    the main thread; a thread of our own lets these tests start Chromium with a fake camera of their
    own without touching theirs. Every browser started is closed when ``body`` ends; its exceptions
    (failed assertions included) are raised here.
    """
    from concurrent.futures import ThreadPoolExecutor

    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: install Debian's chromium (scripts/bootstrap.sh test)"

    def on_thread(body):
        with sync_playwright() as playwright:
            browsers = []

            def launch(*extra_args: str):
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args],
                                                     headless=True)
                browsers.append(browser)
                return browser

            try:
                return body(launch)
            finally:
                for browser in browsers:
                    browser.close()

    def run(body):
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="scanner-chromium") as pool:
            return pool.submit(on_thread, body).result()

    return run


@pytest.fixture
def app_config(app_config):
    """The suite's configuration, with the compact list rebuilt at every request (tests change it between two)."""
    return {**app_config, "SCANNER_LIST_TTL": 0}


@pytest.fixture
def screenshot_dir() -> Path:
    """Where screenshots of what officers see are kept (test-artifacts/screenshots/, as tests/browser)."""
    from portal import PROJECT_ROOT

    folder = PROJECT_ROOT / "test-artifacts" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
