"""Accounts in a real browser: an official enrols in two-factor sign-in where it is required, then signs in with it."""
from __future__ import annotations

import re

import pyotp
import pytest

from portal.testing.fixtures import TEST_PASSWORD

pytestmark = pytest.mark.browser


def test_an_official_enrols_in_two_factor_sign_in_then_needs_the_code(app, page, world, screenshot):
    app.config["TWO_FACTOR_REQUIRED"] = True
    page.goto("/login")
    page.fill("input[name=email]", world.official_x)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert page.url.endswith("/account/two-factor"), page.url
    page.goto("/officials/enterprises")
    assert page.url.endswith("/account/two-factor")  # nothing else before enrolling
    qr = page.locator("img.qr")
    assert qr.is_visible() and qr.evaluate("img => img.naturalWidth") > 100
    screenshot(page, "accounts-1-two-factor-setup")
    key = page.locator("code").first.inner_text().replace(" ", "")
    page.fill("input[name=code]", pyotp.TOTP(key).now())
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    codes = re.findall(r"[a-z0-9]{5}-[a-z0-9]{5}", page.locator("ul.codes").inner_text())
    assert len(codes) == 10
    screenshot(page, "accounts-2-recovery-codes")
    page.click("text=Tôi đã lưu lại")
    page.wait_for_load_state()
    assert page.url.endswith("/account")
    page.click("button:has-text('Đăng xuất')")
    page.wait_for_load_state()

    page.goto("/login")
    page.fill("input[name=email]", world.official_x)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert page.url.endswith("/login/two-factor")
    screenshot(page, "accounts-3-code")
    page.fill("input[name=code]", codes[0])
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url
    assert page.get_by_text("Bạn đã đăng nhập bằng mã khôi phục; còn lại 9 mã.").first.is_visible()
    page.goto("/officials/enterprises")
    assert page.url.endswith("/officials/enterprises")
