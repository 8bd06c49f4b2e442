"""Two-factor sign-in: enrolment through the pages (the QR code read back with zbar), codes, recovery codes."""
from __future__ import annotations

import base64
import re
import time
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import pytest
import time_machine
from sqlalchemy import select

from portal.auth.models import TWO_FACTOR_ROLES, RecoveryCode, Role, User
from portal.extensions import db
from portal.printing.testing import decode_qr_codes
from portal.testing.fixtures import TEST_PASSWORD


def _user(app, email) -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        db.session.expunge_all()
        return user


def _enrol_through_the_pages(client, tmp_path) -> tuple[str, list[str]]:
    """Scan the QR code the way a phone would, type the app's code; return the secret and the recovery codes."""
    page = client.get("/account/two-factor").get_data(as_text=True)
    match = re.search(r'src="data:image/png;base64,([^"]+)"', page)
    assert match, "the page shows a QR code"
    image = tmp_path / "qr.png"
    image.write_bytes(base64.b64decode(match.group(1)))
    [uri] = decode_qr_codes(image)
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth" and parts.netloc == "totp"
    secret = parse_qs(parts.query)["secret"][0]
    assert " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)) in page  # the key to type by hand
    assert "@example.vn" in unquote(parts.path)
    not_now = "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
    wrong = client.submit("/account/two-factor", {"code": not_now})
    assert "Mã không đúng" in wrong.get_data(as_text=True)
    done = client.submit("/account/two-factor", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", done.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10
    return secret, codes


def test_enrolment_then_every_sign_in_asks_for_a_code(app, client, auth, world, tmp_path):
    auth.login(world.official_x)
    secret, codes = _enrol_through_the_pages(client, tmp_path)
    user = _user(app, world.official_x)
    assert user.has_two_factor and secret not in user.totp_secret  # encrypted at rest
    with app.app_context():
        hashes = db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)).all()
    assert len(hashes) == 10 and not any(code.replace("-", "") in h for code in codes for h in hashes)
    assert client.get("/account").status_code == 200  # this device goes on
    auth.logout()

    response = auth.login(world.official_x)
    assert response.headers["Location"] == "/login/two-factor"
    # The password alone is not enough.
    assert client.get("/officials/enterprises").headers["Location"].startswith("/login")
    wrong = client.submit("/login/two-factor", {"code": "12345"})
    assert "Mã không đúng hoặc đã được dùng" in wrong.get_data(as_text=True)
    step = int(time.time()) // 30 + 1  # the enrolment used this step's code: the next one is new
    code = pyotp.TOTP(secret).generate_otp(step)
    ok = client.submit("/login/two-factor", {"code": code[:3] + " " + code[3:]})
    assert ok.status_code == 302 and ok.headers["Location"] == "/home"
    assert client.get("/officials/enterprises").status_code == 200
    auth.logout()

    # The same code again (someone who saw it over a shoulder): refused.
    auth.login(world.official_x)
    replay = client.submit("/login/two-factor", {"code": code})
    assert "đã được dùng" in replay.get_data(as_text=True)
    # A recovery code signs in once.
    used = client.submit("/login/two-factor", {"code": codes[0].upper()})
    assert used.status_code == 302
    assert "còn lại 9 mã" in client.get("/home", follow_redirects=True).get_data(as_text=True)
    auth.logout()
    auth.login(world.official_x)
    assert "đã được dùng" in client.submit("/login/two-factor", {"code": codes[0]}).get_data(as_text=True)


def test_enabling_two_factor_signs_out_other_devices(app, client, auth, world, tmp_path):
    from portal.testing.fixtures import PortalClient

    app.test_client_class = PortalClient
    old = app.test_client()
    response = old.submit("/login", {"email": world.hr_a, "password": TEST_PASSWORD, "remember": "y"})
    remember = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("remember_token="))
    auth.login(world.hr_a)
    _enrol_through_the_pages(client, tmp_path)
    assert old.get("/account").headers["Location"].startswith("/login")
    replay = app.test_client()
    replay.set_cookie("remember_token", remember.split(";")[0].split("=", 1)[1], domain="localhost")
    assert replay.get("/account").headers["Location"].startswith("/login")


def test_code_attempts_are_rate_limited(app, client, auth, world, totp):
    app.config["TWO_FACTOR_RATE_LIMIT"] = "3 per minute"
    totp.enrol(world.admin)
    auth.login(world.admin)
    for _ in range(3):
        assert client.submit("/login/two-factor", {"code": "999999"}).status_code == 200
    blocked = client.submit("/login/two-factor", {"code": totp.code(world.admin)})
    assert blocked.status_code == 429


def test_code_attempts_are_limited_per_account_across_clients(app, world, totp):
    from portal.testing.fixtures import PortalClient

    app.config["TWO_FACTOR_RATE_LIMIT"] = "3 per minute"
    totp.enrol(world.admin)
    app.test_client_class = PortalClient
    for index in range(4):
        browser = app.test_client()
        address = {"REMOTE_ADDR": f"10.0.2.{index + 1}"}
        assert browser.submit("/login", {"email": world.admin, "password": TEST_PASSWORD},
                              environ_base=address).status_code == 302
        answer = browser.submit("/login/two-factor", {"code": "999999"}, environ_base=address)
        assert answer.status_code == (429 if index == 3 else 200)


def test_the_code_must_follow_the_password_within_minutes(app, client, auth, world, totp):
    totp.enrol(world.admin)
    auth.login(world.admin)
    with time_machine.travel(time.time() + 301, tick=False):
        response = client.submit("/login/two-factor", {"code": totp.code(world.admin)})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/account").headers["Location"].startswith("/login")


def test_the_second_step_without_a_password_goes_to_the_login_page(client):
    assert client.get("/login/two-factor").headers["Location"] == "/login"
    assert client.submit("/login/two-factor", {"code": "123456"}).headers["Location"] == "/login"


@pytest.fixture
def enforced(app):
    app.config["TWO_FACTOR_REQUIRED"] = True


@pytest.mark.parametrize("who", ["official_x", "admin"])
def test_where_enforced_officials_and_the_admin_enrol_before_anything_else(app, client, auth, world, tmp_path,
                                                                           enforced, who):
    assert auth.login(getattr(world, who)).status_code == 302
    for page in ("/home", "/officials/enterprises", "/account", "/account/password", "/dashboard"):
        response = client.get(page)
        assert response.status_code == 302 and response.headers["Location"] == "/account/two-factor", page
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "phải đăng nhập bằng mật khẩu và mã trên điện thoại" in page
    _enrol_through_the_pages(client, tmp_path)
    assert client.get("/officials/enterprises").status_code == 200
    # Required: it cannot be turned off.
    account = client.get("/account").get_data(as_text=True)
    assert "Tắt đăng nhập hai lớp" not in account and "Vai trò của bạn phải đăng nhập kèm mã" not in account
    refused = client.submit("/account/two-factor/disable", {"disable-password": TEST_PASSWORD},
                            follow_redirects=True)
    assert "không thể tắt" in refused.get_data(as_text=True)
    assert _user(app, getattr(world, who)).has_two_factor


def test_where_enforced_hr_may_still_sign_in_without_it_and_turn_it_off(app, client, auth, world, totp, enforced):
    auth.login(world.hr_a)
    assert client.get("/workers").status_code == 200
    totp.enrol(world.hr_a)  # (ends the session above)
    auth.login(world.hr_a)
    client.submit("/login/two-factor", {"code": totp.code(world.hr_a)})
    wrong = client.submit("/account/two-factor/disable", {"disable-password": "sai-mat-khau"})
    assert "Mật khẩu không đúng." in wrong.get_data(as_text=True)
    assert client.submit("/account/two-factor/disable", {"disable-password": TEST_PASSWORD}).status_code == 302
    assert not _user(app, world.hr_a).has_two_factor


def test_new_recovery_codes_replace_the_old_ones(app, client, auth, world, totp):
    old = totp.enrol(world.hr_a)
    auth.login(world.hr_a)
    client.submit("/login/two-factor", {"code": totp.code(world.hr_a)})
    response = client.submit("/account/two-factor/recovery-codes", {"codes-password": TEST_PASSWORD})
    new = re.findall(r"<li><code>([a-z0-9-]{11})</code></li>", response.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    auth.logout()
    auth.login(world.hr_a)
    assert "đã được dùng" in client.submit("/login/two-factor", {"code": old[1]}).get_data(as_text=True)
    assert client.submit("/login/two-factor", {"code": new[1]}).status_code == 302


def test_two_factor_is_enforced_in_production_unless_configured_otherwise():
    from flask import Flask

    from portal.auth.twofactor import enforced

    app = Flask(__name__)
    app.config.update(PORTAL_ENV="production")
    assert enforced(app)
    app.config.update(PORTAL_ENV="development")
    assert not enforced(app)
    app.config.update(TWO_FACTOR_REQUIRED=True)
    assert enforced(app)


def test_the_roles_that_need_a_second_factor_are_named_in_one_place():
    assert TWO_FACTOR_ROLES == {Role.OFFICIAL, Role.ADMIN, Role.HEALTH}
    assert User(role="official").two_factor_role and User(role="admin").two_factor_role
    assert User(role="health").two_factor_role
    assert not User(role="hr").two_factor_role
