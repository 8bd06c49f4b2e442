"""Fixtures of the scanner tests: a live portal on loopback and Debian's Chromium (as tests/browser uses)."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/lib/chromium/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


class RequestCounter:
    """WSGI middleware counting the requests that reach the portal (to prove a phase sent none)."""

    def __init__(self, app):
        self.app = app
        self.paths: list[str] = []

    def __call__(self, environ, start_response):
        self.paths.append(environ.get("PATH_INFO", ""))
        return self.app(environ, start_response)


@pytest.fixture
def live_server(app):
    """Serve ``app`` on a free loopback port in a thread; yield its base URL (``.requests`` counts requests)."""
    counter = RequestCounter(app)
    server = make_server("127.0.0.1", 0, counter, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = LiveURL(f"http://127.0.0.1:{server.server_port}")
    url.requests = counter.paths
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class LiveURL(str):
    requests: list[str]


@pytest.fixture(scope="module")
def chromium():
    """Return a function starting Debian's Chromium headless with the handbook's flags plus its arguments.

    Every browser it started is closed after the module's tests.
    """
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: install Debian's chromium (scripts/bootstrap.sh test)"
    browsers = []
    with sync_playwright() as playwright:
        def launch(*extra_args: str):
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args],
                                                 headless=True)
            browsers.append(browser)
            return browser

        try:
            yield launch
        finally:
            for browser in browsers:
                browser.close()


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
