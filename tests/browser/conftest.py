"""Browser tests: Debian's Chromium driven by Playwright against a live portal on loopback.

Screenshots of what users see are kept in test-artifacts/screenshots/.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from portal import PROJECT_ROOT
from portal.testing.live import live_server as serve

CHROMIUM = "/usr/lib/chromium/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "screenshots"


@pytest.fixture
def live_server(app):
    """Serve ``app`` on a free loopback port in a thread; yield its base URL."""
    with serve(app) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: install Debian's chromium (scripts/bootstrap.sh test)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(params=["phone", "desktop"])
def viewport(request):
    return {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}[request.param]


@pytest.fixture
def page(browser, live_server):
    """A fresh browser tab (Vietnamese, phone-sized) whose requests may only reach the live server."""
    context = browser.new_context(locale="vi-VN", viewport={"width": 390, "height": 844},
                                  timezone_id="Asia/Ho_Chi_Minh", base_url=live_server)
    blocked: list[str] = []

    def guard(route):
        if route.request.url.startswith(live_server) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.external_requests = blocked
    tab.console_errors = errors
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture
def screenshot():
    """Return a function keeping a full-page screenshot as a test artifact (and returning its path)."""

    def take(page, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
