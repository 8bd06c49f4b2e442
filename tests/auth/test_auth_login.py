import re

import pytest
from sqlalchemy import select

from portal.auth.models import User
from portal.extensions import db
from portal.testing.fixtures import TEST_PASSWORD


@pytest.mark.parametrize("who", ["hr_a", "official_x", "admin"])
def test_every_role_signs_in_and_reaches_a_home_page(client, auth, world, who):
    response = auth.login(getattr(world, who))
    assert response.status_code == 302
    page = client.get("/home", follow_redirects=True)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Đăng xuất" in html  # signed in, in Vietnamese


def test_wrong_password_and_unknown_email_get_the_same_vietnamese_message(client, auth, world):
    wrong = auth.login(world.hr_a, password="not-the-password").get_data(as_text=True)
    unknown = auth.login("nobody@example.vn").get_data(as_text=True)
    message = "Email hoặc mật khẩu không đúng."
    assert message in wrong and message in unknown
    assert client.get("/home").status_code == 302  # still anonymous: sent to the login page


def test_passwords_are_stored_hashed(app, world):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == world.hr_a))
        assert TEST_PASSWORD not in user.password_hash
        assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))
        assert user.check_password(TEST_PASSWORD) and not user.check_password(TEST_PASSWORD + "x")


def test_a_disabled_account_cannot_sign_in(app, client, auth, world):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == world.official_x))
        user.is_enabled = False
        db.session.commit()
    assert "Email hoặc mật khẩu không đúng." in auth.login(world.official_x).get_data(as_text=True)


def test_changing_the_password_ends_other_sessions(app, client, auth, world):
    auth.login(world.hr_a)
    assert client.get("/home").status_code in (200, 302)
    assert "Đăng xuất" in client.get("/home", follow_redirects=True).get_data(as_text=True)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == world.hr_a))
        user.set_password("a-brand-new-password")
        db.session.commit()
    response = client.get("/home")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_login_is_rate_limited_per_address(app, client, world):
    app.config["LOGIN_ADDRESS_RATE_LIMIT"] = "3 per minute"
    for _ in range(3):
        assert client.submit("/login", {"email": world.hr_a, "password": "wrong-password"}).status_code == 200
    blocked = client.submit("/login", {"email": world.hr_b, "password": TEST_PASSWORD})
    assert blocked.status_code == 429
    assert "Bạn đã thử quá nhiều lần" in blocked.get_data(as_text=True)


def test_login_slows_down_per_account_across_addresses(app, client, world):
    app.config["SLOWDOWN_FREE"] = 3
    for index in range(3):
        client.submit("/login", {"email": world.hr_a, "password": "wrong"},
                      environ_base={"REMOTE_ADDR": f"10.0.0.{index + 1}"})
    blocked = client.submit("/login", {"email": world.hr_a, "password": TEST_PASSWORD},
                            environ_base={"REMOTE_ADDR": "10.0.0.99"})
    assert blocked.status_code == 429
    assert "Vui lòng thử lại sau 1 phút." in blocked.get_data(as_text=True)
    other = client.submit("/login", {"email": world.hr_b, "password": TEST_PASSWORD},
                          environ_base={"REMOTE_ADDR": "10.0.0.99"})
    assert other.status_code == 302  # another account from the same address


def test_login_without_csrf_token_is_refused(client, world):
    response = client.post("/login", data={"email": world.hr_a, "password": TEST_PASSWORD})
    assert response.status_code == 400
    assert "Biểu mẫu đã hết hạn" in response.get_data(as_text=True)


def test_logout_needs_post_with_csrf(client, auth, world):
    auth.login(world.hr_a)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert auth.logout().status_code == 302
    assert client.get("/home").status_code == 302


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)",
])
def test_next_parameter_never_leaves_the_site(client, world, target):
    response = client.submit(f"/login?next={target}", {"email": world.hr_a, "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/home"


def test_session_cookie_is_http_only_and_same_site(client, auth, world):
    response = auth.login(world.hr_a)
    cookie = next(value for value in response.headers.getlist("Set-Cookie") if value.startswith("session="))
    assert "HttpOnly" in cookie and re.search("SameSite=Lax", cookie, re.I)


def test_production_hashes_with_scrypt(tmp_path):
    from portal import create_app
    from portal.auth.models import password_hash_method

    app = create_app({"SECRET_KEY": "k" * 48, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})
    with app.app_context():
        assert password_hash_method() == "scrypt"
        user = User(email="x@example.vn", full_name="X", role="admin")
        user.set_password("a-long-password")
        assert user.password_hash.startswith("scrypt:32768:")
