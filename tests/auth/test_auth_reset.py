"""Password reset by mail: a link that works once and expires, the same answer for every address, rate limits."""
from __future__ import annotations

import logging
import re
import time

import time_machine
from sqlalchemy import select

from portal.auth.models import User
from portal.extensions import db
from portal.mail.testing import link_in
from portal.testing.fixtures import TEST_PASSWORD

NEW = "mat-khau-moi-rat-dai"


def _without_csrf(page):
    page, found = re.subn(r'name="csrf_token" type="hidden" value="[^"]+"', 'name="csrf_token"', page)
    assert found == 1
    return page


def _ask(client, email, **kwargs):
    return client.submit("/password/forgot", {"email": email}, **kwargs)


def _reset_link(outbox, email) -> str:
    mails = [mail for mail in outbox(email) if mail.kind == "auth.reset"]
    assert mails, f"no reset mail to {email}"
    return link_in(mails[0].body, "/password/reset/")


def _choose(client, link, password=NEW):
    client.get(link)
    return client.submit("/password/reset", {"password": password, "confirm": password})


def test_a_reset_link_works_once_and_ends_every_session(app, client, auth, outbox, world, caplog):
    caplog.set_level(logging.DEBUG)
    from portal.testing.fixtures import PortalClient

    app.test_client_class = PortalClient
    laptop = app.test_client()
    assert laptop.submit("/login", {"email": world.hr_a, "password": TEST_PASSWORD, "remember": "y"}).status_code == 302

    response = _ask(client, world.hr_a)
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    link = _reset_link(outbox, world.hr_a)
    mail = outbox(world.hr_a)[0]
    assert mail.subject == "Đặt mật khẩu mới trên cổng thẻ xanh TP.HCM" and "trong 60 phút" in mail.body

    landed = client.get(link)
    assert landed.status_code == 302 and landed.headers["Location"] == "/password/reset"
    page = client.get("/password/reset").get_data(as_text=True)
    assert "Cho tài khoản hr.a@example.vn" in page
    mismatch = client.submit("/password/reset", {"password": NEW, "confirm": NEW + "x"})
    assert "Hai mật khẩu không giống nhau." in mismatch.get_data(as_text=True)
    done = client.submit("/password/reset", {"password": NEW, "confirm": NEW})
    assert done.status_code == 302 and done.headers["Location"] == "/login"

    assert laptop.get("/account").headers["Location"].startswith("/login")  # every session ended
    assert "Email hoặc mật khẩu không đúng." in auth.login(world.hr_a).get_data(as_text=True)
    assert auth.login(world.hr_a, password=NEW).status_code == 302
    auth.logout()

    again = _choose(client, link, "con-mot-mat-khau-khac")
    assert "Đường dẫn này đã được dùng" in again.get_data(as_text=True)
    assert auth.login(world.hr_a, password=NEW).status_code == 302

    token = link.rsplit("/", 1)[1]
    assert token not in caplog.text  # tokens never reach the logs


def test_a_reset_link_expires_after_the_configured_time(app, client, auth, outbox, world):
    app.config["PASSWORD_RESET_MAX_AGE"] = 600
    _ask(client, world.official_x)
    link = _reset_link(outbox, world.official_x)
    assert "trong 10 phút" in outbox(world.official_x)[0].body
    with time_machine.travel(time.time() + 601, tick=False):
        response = _choose(client, link)
    assert "Đường dẫn đã hết hạn" in response.get_data(as_text=True)
    assert auth.login(world.official_x).status_code == 302  # the old password still works


def test_changing_the_password_voids_an_unused_reset_link(app, client, auth, outbox, world):
    _ask(client, world.hr_a)
    link = _reset_link(outbox, world.hr_a)
    auth.login(world.hr_a)
    client.submit("/account/password", {"current_password": TEST_PASSWORD, "password": NEW, "confirm": NEW})
    auth.logout()
    response = _choose(client, link, "con-mot-mat-khau-khac")
    assert "Đường dẫn này đã được dùng, hoặc mật khẩu đã được đổi" in response.get_data(as_text=True)


def test_the_answer_is_the_same_whether_the_address_exists_or_not(app, client, outbox, world):
    known = _ask(client, world.hr_a)
    known_page = client.get("/login").get_data(as_text=True)
    unknown = _ask(client, "khong.co@example.vn")
    unknown_page = client.get("/login").get_data(as_text=True)
    assert (known.status_code, known.headers["Location"]) == (unknown.status_code, unknown.headers["Location"])
    # The CSRF token carries the second it was made: two renders a second apart differ there and only there.
    assert _without_csrf(known_page).replace(world.hr_a, "X") == _without_csrf(unknown_page).replace(
        "khong.co@example.vn", "X"
    )
    assert "chúng tôi đã gửi đến đó đường dẫn" in known_page
    assert [mail.to_address for mail in outbox()] == [world.hr_a]


def test_a_disabled_account_gets_no_link(app, client, outbox, world):
    with app.app_context():
        db.session.scalar(select(User).where(User.email == world.hr_b)).is_enabled = False
        db.session.commit()
    assert _ask(client, world.hr_b).status_code == 302
    assert outbox() == []


def test_reset_requests_are_limited_per_address_across_clients(app, client, outbox, world):
    app.config["PASSWORD_RESET_RATE_LIMIT"] = "2 per hour"
    for index in range(2):
        assert _ask(client, world.hr_a, environ_base={"REMOTE_ADDR": f"10.0.0.{index + 1}"}).status_code == 302
    blocked = _ask(client, world.hr_a.upper(), environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert blocked.status_code == 429
    # Unknown addresses are limited the same way: a 429 tells nothing about the account.
    for _ in range(2):
        _ask(client, "khong.co@example.vn", environ_base={"REMOTE_ADDR": "10.0.1.1"})
    assert _ask(client, "khong.co@example.vn", environ_base={"REMOTE_ADDR": "10.0.1.2"}).status_code == 429
    assert len(outbox(world.hr_a)) == 2
    # Another address from the same client still gets its mail.
    assert _ask(client, world.hr_b, environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 302


def test_reset_requests_are_limited_per_client_across_addresses(app, client, outbox, world):
    app.config["PASSWORD_RESET_CLIENT_RATE_LIMIT"] = "3 per hour"
    for index in range(3):
        assert _ask(client, f"nguoi{index}@example.vn").status_code == 302
    blocked = _ask(client, world.hr_a)
    assert blocked.status_code == 429 and "Bạn đã thử quá nhiều lần" in blocked.get_data(as_text=True)
    assert outbox() == []


def test_a_reset_link_confirms_an_unconfirmed_address(app, client, outbox, world):
    with app.app_context():
        db.session.scalar(select(User).where(User.email == world.hr_a)).email_confirmed_at = None
        db.session.commit()
    _ask(client, world.hr_a)
    assert _choose(client, _reset_link(outbox, world.hr_a)).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == world.hr_a)).email_confirmed


def test_the_reset_page_without_a_link_says_what_to_do(client):
    page = client.get("/password/reset").get_data(as_text=True)
    assert "Vui lòng mở đường dẫn trong thư đặt lại mật khẩu" in page
    assert "Xin đường dẫn mới" in page
