"""Production refuses what would expose the portal: debug mode, a weak key, per-process limits, no public address."""
from __future__ import annotations

import io

import pytest

from portal import create_app
from portal.config import ConfigError, check_production, strong_secret
from portal.testing.fixtures import PRODUCTION_SETTINGS, TEST_KEY_ENCRYPTION_KEY


def production(tmp_path, **overrides) -> dict:
    config = {**PRODUCTION_SETTINGS, "PORTAL_KEY_ENCRYPTION_KEY": TEST_KEY_ENCRYPTION_KEY,
              "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}", **overrides}
    return {key: value for key, value in config.items() if value is not None}


def test_the_production_settings_start(tmp_path, monkeypatch):
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    app = create_app(production(tmp_path))
    assert app.config["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize("secret", ["k" * 48, "ab" * 24, "0123456789abcde" * 3, "short-but-Varied-9!"])
def test_a_low_entropy_secret_key_is_refused(tmp_path, secret):
    assert not strong_secret(secret)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app(production(tmp_path, SECRET_KEY=secret))


def test_a_random_secret_key_passes():
    import secrets

    assert strong_secret(secrets.token_urlsafe(48))


def test_debug_mode_is_refused(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="debug"):
        create_app(production(tmp_path, DEBUG=True))
    monkeypatch.setenv("FLASK_DEBUG", "1")
    with pytest.raises(ConfigError, match="debug"):
        create_app(production(tmp_path))


def test_per_process_rate_limits_are_refused_even_on_sqlite(tmp_path, monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    with pytest.raises(ConfigError, match="REDIS_URL") as refused:
        create_app(production(tmp_path, RATELIMIT_STORAGE_URI="memory://"))
    assert "rate limits" in str(refused.value)


@pytest.mark.parametrize("public", [None, "http://thexanh.example.gov.vn"])
def test_a_missing_public_base_url_is_refused_even_on_sqlite(tmp_path, monkeypatch, public):
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        create_app(production(tmp_path, PUBLIC_BASE_URL=public))


def test_development_is_left_alone():
    assert check_production({"RATELIMIT_STORAGE_URI": "redis://x", "PUBLIC_BASE_URL": "https://x",
                             "PORTAL_TRUSTED_PROXIES": 1}) == []


def test_trusted_proxies_come_from_the_environment_as_a_number(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_TRUSTED_PROXIES", "2")
    app = create_app(production(tmp_path))
    assert app.config["PORTAL_TRUSTED_PROXIES"] == 2
    monkeypatch.setenv("PORTAL_TRUSTED_PROXIES", "yes")
    with pytest.raises(ConfigError, match="PORTAL_TRUSTED_PROXIES"):
        create_app(production(tmp_path))


def test_the_qr_address_never_comes_from_the_host_header_in_production(app):
    from portal.printing.card import public_base_url

    app.config.update(PORTAL_ENV="production", PUBLIC_BASE_URL=None)
    with app.test_request_context("/", headers={"Host": "evil.example"}):
        with pytest.raises(RuntimeError, match="PUBLIC_BASE_URL"):
            public_base_url()
    app.config.update(PORTAL_ENV="development")
    with app.test_request_context("/", headers={"Host": "dev.example"}):
        assert public_base_url() == "http://dev.example/"


# -- uploads, API writes ------------------------------------------------------------------------------


@pytest.fixture
def app_config(app_config):
    return {**app_config, "IMPORT_UPLOAD_RATE_LIMIT": "2 per minute", "API_WRITE_RATE_LIMIT": "2 per minute"}


def test_uploads_are_rate_limited_per_account(client, auth, world):
    auth.login(world.hr_a)
    answers = [client.submit("/workers/import", {"file": (io.BytesIO(b"not,a,list\r\n"), "list.csv")},
                             content_type="multipart/form-data").status_code for _ in range(3)]
    assert answers[:2] != [429, 429] and answers[2] == 429


def test_api_writes_are_rate_limited_per_token(client, auth, world):
    import re

    auth.login(world.hr_a)
    page = client.submit("/enterprise/api-tokens", {"name": "ERP"}).get_data(as_text=True)
    headers = {"Authorization": "Bearer " + re.search(r'value="(gct_[^"]+)"', page).group(1)}
    auth.logout()
    writes = [client.post("/api/v1/workers", json={}, headers=headers).status_code for _ in range(3)]
    assert writes[:2] == [422, 422] and writes[2] == 429  # refused as incomplete, then not even read
    assert client.get("/api/v1/workers", headers=headers).status_code == 200  # reads have their own budget
