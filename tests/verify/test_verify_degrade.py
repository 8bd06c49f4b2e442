"""Redis away: scans and logins still answer 200, limits fall back to the process, and every scan is recorded.

The test starts its own redis-server on a free port and kills it (never the shared one).
"""
from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import time

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.tokens.codec import sign_pass_token
from portal.verify import ratelimit
from portal.verify.models import VerificationRecord
from portal.verify.testing import ALL_DAY, make_pass
from portal.workers.models import Worker

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


class OwnRedis:
    """A redis-server of the test's own, on a free loopback port, stopped and started by its PID."""

    def __init__(self, directory) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as connection:
                    connection.sendall(b"PING\r\n")
                    if connection.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def keys(self, pattern: str) -> list[bytes]:
        import redis

        client = redis.Redis.from_url(self.url)
        try:
            return client.keys(pattern)
        finally:
            client.close()


@pytest.fixture
def own_redis(tmp_path):
    if not shutil.which("redis-server") and not shutil.os.path.exists(REDIS_SERVER):
        pytest.fail("redis-server is needed for the degraded-Redis tests (Debian: redis-server)")
    server = OwnRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def app_config(app_config, own_redis):
    from portal.extensions import limiter

    # Flask-Limiter's instance is module-wide and keeps its fallback switched on once any app turned it
    # on: start from off, so that this app's own configuration decides.
    limiter._in_memory_fallback_enabled = False
    limiter._storage_dead = False
    return {**app_config, "REDIS_URL": own_redis.url, "RATELIMIT_STORAGE_URI": own_redis.url,
            "VERIFY_RATE_LIMIT": "5 per minute"}


@pytest.fixture
def token(app, world):
    with app.app_context():
        pass_ = make_pass(db.session, db.session.get(Worker, world.worker_a), windows=ALL_DAY)
        db.session.commit()
        return sign_pass_token(pass_)


def _records(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(VerificationRecord))


def test_scans_and_logins_answer_while_redis_is_away_and_limits_come_back(app, client, auth, world, token,
                                                                            own_redis, caplog, monkeypatch):
    monkeypatch.setattr(ratelimit, "RETRY_AFTER_FAILURE", 0.2)
    caplog.set_level(logging.WARNING)
    # Up: the limit is counted on Redis, shared by every process.
    assert client.get(f"/api/v1/verify/{token}").get_json()["outcome"] == "valid"
    assert own_redis.keys("*verify*")
    own_redis.kill()

    # Away: every scan and login is answered; the checkpoint limit still holds, counted in this process.
    answers = [client.get(f"/api/v1/verify/{token}", environ_base={"REMOTE_ADDR": "10.0.0.5"})
               for _ in range(6)]
    assert [answer.status_code for answer in answers] == [200] * 5 + [429]
    assert all(answer.get_json()["outcome"] == "valid" for answer in answers[:5])
    page = client.get(f"/v/{token}", environ_base={"REMOTE_ADDR": "10.0.0.6"})
    assert page.status_code == 200 and 'data-outcome="valid"' in page.get_data(as_text=True)
    assert client.get("/login").status_code == 200
    login = auth.login(world.hr_a)
    assert login.status_code == 302, login.get_data(as_text=True)[:300]
    assert any("Redis unreachable for checkpoint rate limits" in r.getMessage() for r in caplog.records)
    assert any("falling back to in-memory storage" in r.getMessage() for r in caplog.records)
    # Records never went through Redis: each answered scan is in the database already.
    assert _records(app) == 1 + 5 + 1

    # Back: the next scans are counted on Redis again, without a restart.
    own_redis.start()
    time.sleep(0.25)
    assert client.get(f"/api/v1/verify/{token}", environ_base={"REMOTE_ADDR": "10.0.0.8"}).status_code == 200
    assert own_redis.keys("*10.0.0.8*")
    assert any("answers again" in r.getMessage() for r in caplog.records)
    assert _records(app) == 1 + 5 + 1 + 1


def test_a_redis_that_never_answers_costs_a_scan_at_most_the_timeout(app, client, token, own_redis, monkeypatch):
    own_redis.process.send_signal(19)  # SIGSTOP: the port is open but nothing answers
    try:
        started = time.monotonic()
        assert client.get(f"/api/v1/verify/{token}").get_json()["outcome"] == "valid"
        first = time.monotonic() - started
        started = time.monotonic()
        assert client.get(f"/api/v1/verify/{token}").get_json()["outcome"] == "valid"
        second = time.monotonic() - started
    finally:
        own_redis.process.send_signal(18)  # SIGCONT
    # The first scan waits for the timeout once; the next ones do not ask Redis until the retry time.
    assert first < ratelimit.REDIS_TIMEOUT * 4 + 1
    assert second < first
    assert _records(app) == 2
