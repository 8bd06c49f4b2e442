"""Sessions end on the server: a replayed cookie after logout, a password change or a reset gets the login page.

Run on SQLite by default and on PostgreSQL with PORTAL_TEST_DATABASE_URL: the state is the user's
session version in the database, which every node reads on each request.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.auth.models import User
from portal.extensions import db
from portal.testing.fixtures import TEST_PASSWORD


def _cookies(response) -> dict[str, str]:
    """Return name → value of every cookie a response sets."""
    found = {}
    for header in response.headers.getlist("Set-Cookie"):
        name, _, rest = header.partition("=")
        found[name] = rest.split(";", 1)[0]
    return found


def _fresh_client(app, **cookies):
    """A new browser that carries only the given raw cookies."""
    client = app.test_client()
    for name, value in cookies.items():
        client.set_cookie(name, value, domain="localhost")
    return client


def _signed_in(client) -> bool:
    response = client.get("/account")
    return response.status_code == 200 and "Đăng xuất" in response.get_data(as_text=True)


def _sent_to_login(client) -> bool:
    response = client.get("/account")
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


@pytest.fixture
def remembered(app, client, world):
    """Sign HR of A in with "keep me signed in"; return the raw session and remember-me cookies."""
    response = client.submit("/login", {"email": world.hr_a, "password": TEST_PASSWORD, "remember": "y"})
    assert response.status_code == 302
    cookies = _cookies(response)
    assert {"session", "remember_token"} <= cookies.keys()
    # Before anything ends, both cookies work on their own in another browser.
    assert _signed_in(_fresh_client(app, session=cookies["session"]))
    assert _signed_in(_fresh_client(app, remember_token=cookies["remember_token"]))
    return cookies


@pytest.mark.parametrize("cookie", ["session", "remember_token", "both"])
def test_a_replayed_cookie_after_logout_gets_the_login_page(app, client, auth, remembered, cookie):
    assert auth.logout().status_code == 302
    replay = remembered if cookie == "both" else {cookie: remembered[cookie]}
    assert _sent_to_login(_fresh_client(app, **replay))


def test_logout_ends_the_sessions_on_other_devices_too(app, client, auth, world):
    from portal.testing.fixtures import PortalClient

    app.test_client_class = PortalClient
    phone = app.test_client()
    assert phone.submit("/login", {"email": world.hr_a, "password": TEST_PASSWORD, "remember": "y"}).status_code == 302
    auth.login(world.hr_a)
    assert _signed_in(phone) and _signed_in(client)
    auth.logout()
    assert _sent_to_login(phone)


def test_sign_out_of_all_devices_ends_every_session_and_remember_me_cookie(app, client, world, remembered):
    from portal.testing.fixtures import PortalClient

    app.test_client_class = PortalClient
    laptop = app.test_client()
    assert laptop.submit("/login", {"email": world.hr_a, "password": TEST_PASSWORD}).status_code == 302
    response = client.submit("/account/sign-out-everywhere")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Bạn đã đăng xuất trên mọi thiết bị" in client.get("/").get_data(as_text=True)
    assert _sent_to_login(client) and _sent_to_login(laptop)
    assert _sent_to_login(_fresh_client(app, **remembered))
    assert _sent_to_login(_fresh_client(app, remember_token=remembered["remember_token"]))


def test_changing_the_password_ends_other_sessions_and_keeps_this_one(app, client, world, remembered):
    from portal.testing.fixtures import PortalClient

    app.test_client_class = PortalClient
    laptop = app.test_client()
    assert laptop.submit("/login", {"email": world.hr_a, "password": TEST_PASSWORD}).status_code == 302
    new = "mot-mat-khau-moi-dai"
    response = client.submit("/account/password", {"current_password": TEST_PASSWORD, "password": new,
                                                   "confirm": new})
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    assert _signed_in(client)
    assert _sent_to_login(laptop)
    assert _sent_to_login(_fresh_client(app, **remembered))
    assert _sent_to_login(_fresh_client(app, remember_token=remembered["remember_token"]))


def test_a_password_changed_behind_the_users_back_ends_their_session(app, client, auth, world):
    auth.login(world.hr_a)
    assert _signed_in(client)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == world.hr_a))
        user.set_password("a-brand-new-password")
        db.session.commit()
    assert _sent_to_login(client)


def test_a_disabled_account_loses_its_session_at_once(app, client, auth, world):
    auth.login(world.official_x)
    assert _signed_in(client)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == world.official_x))
        user.is_enabled = False
        db.session.commit()
    assert _sent_to_login(client)
