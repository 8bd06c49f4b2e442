"""Every role signs in with the demo logins in a real browser and sees its own main page."""
import pytest

from portal import demo
from portal.extensions import db

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "demo-password-1"


@pytest.fixture
def demo_logins(app):
    with app.app_context():
        logins = demo.seed(db.session, app.extensions["portal.plugins"].registry, password=DEMO_PASSWORD,
                           workers_per_enterprise=4)
        db.session.commit()
    return {login.role: login for login in logins}


@pytest.mark.parametrize("role", ["hr", "official", "admin"])
def test_demo_login_in_a_real_browser(page, demo_logins, screenshot, role):
    login = demo_logins[role]
    page.goto("/login")
    assert page.locator("h1").inner_text() == "Đăng nhập"
    page.fill("input[name=email]", login.email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/login" not in page.url
    assert page.get_by_role("button", name="Đăng xuất").is_visible()
    screenshot(page, f"home-{role}")
    assert page.console_errors == []
    assert page.external_requests == []


def test_a_wrong_password_keeps_the_user_on_the_login_page(page, demo_logins):
    page.goto("/login")
    page.fill("input[name=email]", demo_logins["hr"].email)
    page.fill("input[name=password]", "wrong-password-123")
    page.click("button[type=submit]")
    assert page.get_by_text("Email hoặc mật khẩu không đúng.").is_visible()
    assert page.url.endswith("/login")


def test_the_start_page_switches_to_english(page, screenshot):
    page.goto("/")
    screenshot(page, "start-vi")
    page.click("text=English")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("link", name="Sign in").first.is_visible()
    assert page.console_errors == [] and page.external_requests == []
