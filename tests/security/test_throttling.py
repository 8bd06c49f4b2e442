"""Guesses from many addresses slow the attacker down and never keep the owner out for more than 15 minutes.

Time moves through the portal's clock seam (``portal.clock.utcnow``), never by sleeping.
"""
from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest

from portal import clock
from portal.testing.fixtures import TEST_PASSWORD

PROXY = "127.0.0.1"
FIFTEEN_MINUTES = 15 * 60


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PORTAL_TRUSTED_PROXIES": 1}


@pytest.fixture
def moving_clock(monkeypatch):
    """Replace the clock seam; ``moving_clock.advance(seconds)`` moves time on."""
    class Clock:
        now = clock.utcnow()

        def advance(self, seconds: float) -> None:
            self.now += timedelta(seconds=seconds)

    fake = Clock()
    monkeypatch.setattr(clock, "utcnow", lambda: fake.now)
    return fake


def said_wait(answer) -> int:
    """Return the minutes the page tells the user to wait (rounded up: moving on by them opens the account)."""
    assert answer.status_code == 429
    return int(re.search(r"(?:thử lại sau|try again in) (\d+) (?:phút|minute)", answer.get_data(as_text=True)).group(1))


def _login(client, email, password, address, lang=None):
    headers = {"X-Forwarded-For": address}
    if lang:
        client.set_cookie("lang", lang)
    return client.submit("/login", {"email": email, "password": password},
                         environ_base={"REMOTE_ADDR": PROXY}, headers=headers)


def test_sixty_wrong_logins_from_rotating_addresses_keep_the_owner_out_at_most_15_minutes(client, world, moving_clock):
    # A burst: 60 guesses at once, each from its own address.
    answers = [_login(client, world.hr_a, f"guess-{n}", f"203.0.113.{n}") for n in range(60)]
    checked = [a for a in answers if a.status_code == 200]
    waiting = [a for a in answers if a.status_code == 429]
    assert len(checked) == 5 and len(waiting) == 55  # five passwords were checked, then the account waits
    assert "Vui lòng thử lại sau 1 phút" in waiting[-1].get_data(as_text=True)
    assert int(waiting[-1].headers["Retry-After"]) <= 60
    # The owner, from their own address, a minute later:
    moving_clock.advance(60)
    assert _login(client, world.hr_a, TEST_PASSWORD, "198.51.100.7").status_code == 302
    client.submit("/logout")

    # The worst case: the attacker guesses again every time the account opens, 60 more times.
    waits = []
    for n in range(60):
        answer = _login(client, world.hr_a, f"again-{n}", f"192.0.2.{n}")
        if answer.status_code == 429:
            waits.append(said_wait(answer))
            moving_clock.advance(waits[-1] * 60)
            answer = _login(client, world.hr_a, f"again-{n}", f"192.0.2.{n}")
        assert answer.status_code == 200
    print(f"waits (minutes) before each checked guess: {waits}; 60 guesses took {sum(waits)} minutes")
    assert max(waits) == 15  # minutes: the cap
    refused = _login(client, world.hr_a, TEST_PASSWORD, "198.51.100.7")
    assert refused.status_code == 429
    assert "Vui lòng thử lại sau 15 phút" in refused.get_data(as_text=True)
    moving_clock.advance(FIFTEEN_MINUTES)
    assert _login(client, world.hr_a, TEST_PASSWORD, "198.51.100.7").status_code == 302


def test_the_wait_is_said_in_the_readers_language(client, world, moving_clock):
    for n in range(5):
        _login(client, world.hr_b, "wrong", f"203.0.113.{n}")
    english = _login(client, world.hr_b, "wrong", "203.0.113.99", lang="en")
    assert english.status_code == 429
    assert "Too many attempts. Please try again in 1 minute." in english.get_data(as_text=True)


def test_one_address_is_limited_with_the_real_wait(app, client, world):
    app.config["LOGIN_ADDRESS_RATE_LIMIT"] = "2 per hour"
    for n in range(2):
        assert _login(client, f"nobody{n}@example.vn", "wrong", "203.0.113.5").status_code == 200
    refused = _login(client, world.hr_a, TEST_PASSWORD, "203.0.113.5")
    assert refused.status_code == 429
    assert 3500 <= int(refused.headers["Retry-After"]) <= 3600
    assert "Vui lòng thử lại sau 60 phút" in refused.get_data(as_text=True)
    assert _login(client, world.hr_a, TEST_PASSWORD, "203.0.113.6").status_code == 302  # another address


def test_forwarded_addresses_count_only_with_trusted_proxies(app_config, world):
    """Without PORTAL_TRUSTED_PROXIES, X-Forwarded-For is the client's own word: every guess counts for its socket."""
    from portal import create_app
    from portal.testing.fixtures import PortalClient

    app = create_app({**app_config, "PORTAL_TRUSTED_PROXIES": 0, "LOGIN_RATE_LIMIT": "3 per minute",
                      "SLOWDOWN_FREE": 1000})
    app.test_client_class = PortalClient
    client = app.test_client()
    codes = [_login(client, world.hr_a, "wrong", f"203.0.113.{n}").status_code for n in range(4)]
    assert codes == [200, 200, 200, 429]


def test_a_worker_is_never_kept_from_their_card_more_than_15_minutes(app, client, world, moving_clock):
    from sqlalchemy import select

    from portal.auth.models import User
    from portal.extensions import db
    from portal.passes.issuing import issue_pass
    from portal.workers.models import Worker

    with app.test_request_context():
        hr = db.session.scalar(select(User).where(User.email == world.hr_a))
        issue_pass(db.session, app.extensions["portal.plugins"].registry, db.session.get(Worker, world.worker_a), hr)
        db.session.commit()

    def lookup(phone_last4, address):
        return client.submit("/the-xanh", {"citizen_id": "079090001234", "date_of_birth": "17/05/1990",
                                           "phone_last4": phone_last4},
                             environ_base={"REMOTE_ADDR": PROXY}, headers={"X-Forwarded-For": address})

    longest = 0
    for n in range(60):
        answer = lookup(f"{n:04d}", f"203.0.113.{n}")
        if answer.status_code == 429:
            wait = said_wait(answer)
            longest = max(longest, wait)
            moving_clock.advance(wait * 60)
            answer = lookup(f"{n:04d}", f"203.0.113.{n}")
        assert answer.status_code == 200
    assert longest == 15  # minutes: the cap
    assert lookup("3456", "198.51.100.9").status_code == 429
    moving_clock.advance(FIFTEEN_MINUTES)
    found = lookup("3456", "198.51.100.9")
    assert found.status_code == 303 and found.headers["Location"].endswith("/the-xanh/the-cua-toi")


@pytest.mark.skipif(not os.environ.get("PORTAL_TEST_REDIS_URL"), reason="needs PORTAL_TEST_REDIS_URL")
def test_two_app_instances_share_the_limits_on_redis(app_config, world, moving_clock):
    from portal import create_app
    from portal.testing.fixtures import PortalClient

    shared = {**app_config, "LOGIN_RATE_LIMIT": "3 per minute", "SLOWDOWN_FREE": 4}
    one, two = create_app(shared), create_app(shared)
    assert one.config["RATELIMIT_STORAGE_URI"].startswith("redis://")
    for node in (one, two):
        node.test_client_class = PortalClient
    first, second = one.test_client(), two.test_client()
    # Per account and address: 3 a minute whichever node answers.
    assert [_login(c, "nobody@example.vn", "wrong", "203.0.113.1").status_code
            for c in (first, second, first)] == [200, 200, 200]
    assert _login(second, "nobody@example.vn", "wrong", "203.0.113.1").status_code == 429
    # The per-account slow-down: two failures on each node make the account wait on both.
    for n, c in enumerate((first, second, first, second)):
        assert _login(c, world.hr_a, "wrong", f"198.51.100.{n}").status_code == 200
    assert _login(first, world.hr_a, TEST_PASSWORD, "192.0.2.1").status_code == 429
    assert _login(second, world.hr_a, TEST_PASSWORD, "192.0.2.2").status_code == 429
    moving_clock.advance(60)
    assert _login(second, world.hr_a, TEST_PASSWORD, "192.0.2.2").status_code == 302


def test_proxy_fix_wraps_everything_the_checkpoint_lane_included(app):
    from werkzeug.middleware.proxy_fix import ProxyFix

    from portal.verify.lane import CheckpointLane

    assert isinstance(app.wsgi_app, ProxyFix) and app.wsgi_app.x_for == 1
    assert isinstance(app.wsgi_app.app, CheckpointLane)


def test_the_slow_down_counts_in_the_process_while_redis_is_away(app, caplog):
    import time

    from portal.security import SlowDown

    slow = SlowDown("away", redis_url="redis://127.0.0.1:1/0", prefix="test", free=1, base=60)
    started = time.monotonic()
    with app.app_context():
        assert slow.wait("k") == 0
        assert slow.failed("k") == 60
        assert 55 <= slow.wait("k") <= 60
        for _ in range(20):  # Redis is not asked again for a few seconds: no timeout on every sign-in
            slow.wait("k")
    assert time.monotonic() - started < 2
    assert "Redis unreachable for the away slow-down" in caplog.text
