"""Every account form needs its CSRF token; odd input gets a clear answer, never a 500."""
from __future__ import annotations

import pytest

from portal.testing.fixtures import TEST_PASSWORD

SIGNED_IN_POSTS = ["/logout", "/account/password", "/account/sign-out-everywhere", "/account/language",
                   "/account/two-factor", "/account/two-factor/recovery-codes", "/account/two-factor/disable",
                   "/account/confirm/resend", "/account/confirm/address"]
PUBLIC_POSTS = ["/login", "/login/two-factor", "/password/forgot", "/password/reset", "/email/confirm"]


@pytest.mark.parametrize("url", SIGNED_IN_POSTS + PUBLIC_POSTS)
def test_every_account_form_refuses_a_post_without_its_csrf_token(client, auth, world, url):
    auth.login(world.hr_a)
    response = client.post(url, data={"password": TEST_PASSWORD, "email": world.hr_a, "code": "123456",
                                      "current_password": TEST_PASSWORD, "confirm": "x", "locale": "en"})
    assert response.status_code == 400
    assert "Biểu mẫu đã hết hạn" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 200  # nothing happened: still signed in


@pytest.mark.parametrize("token", [
    "x" * 5000, "%0d%0aSet-Cookie:%20a=b", "..%2F..%2Fetc%2Fpasswd", "ŧøķēñ", "a.b.c", "e30.e30.e30",
])
@pytest.mark.parametrize("kind", ["email/confirm", "password/reset"])
def test_odd_tokens_get_a_clear_answer(client, world, token, kind):
    landed = client.get(f"/{kind}/{token}")
    assert landed.status_code in (302, 404)
    page = client.get(f"/{kind}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Đường dẫn không hợp lệ" in text or "Vui lòng mở đường dẫn" in text
    answer = client.submit(f"/{kind}", {"password": "mat-khau-rat-dai", "confirm": "mat-khau-rat-dai"})
    assert answer.status_code == 200


@pytest.mark.parametrize("code", ["", " ", "１２３４５６", "12345678901234567890123456789012345", "' OR 1=1 --",
                                  "abcde-fghij", "\x00\x01"])
def test_odd_codes_are_refused_plainly(client, auth, world, totp, code):
    totp.enrol(world.admin)
    auth.login(world.admin)
    response = client.submit("/login/two-factor", {"code": code})
    assert response.status_code == 200
    assert client.get("/account").headers["Location"].startswith("/login")


def test_account_pages_are_not_cached(client, auth, world):
    auth.login(world.hr_a)
    for url in ("/account", "/account/password", "/account/two-factor"):
        assert client.get(url).headers["Cache-Control"] == "no-store", url


def test_a_session_cookie_with_a_forged_user_id_is_anonymous(app, client):
    with client.session_transaction() as session:
        session["_user_id"] = f"{2**70}:1"
        session["_fresh"] = True
    assert client.get("/account").headers["Location"].startswith("/login")
