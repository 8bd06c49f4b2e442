"""Production checks at start-up what every node must share (portal.config.check_shared)."""
from __future__ import annotations

import pytest

from portal import create_app
from portal.config import SHARED_SETTINGS, ConfigError, check_shared
from portal.testing.fixtures import PRODUCTION_SETTINGS, TEST_KEY_ENCRYPTION_KEY

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/portal"
SHARED = {"SQLALCHEMY_DATABASE_URI": POSTGRES, "REDIS_URL": "redis://10.0.0.5:6379/0",
          "PUBLIC_BASE_URL": "https://thexanh.example.gov.vn", "STORAGE_BACKEND": "database"}


def test_a_production_shaped_like_the_readme_passes():
    assert check_shared(SHARED, production=True) == []
    assert check_shared({**SHARED, "STORAGE_BACKEND": "s3", "S3_BUCKET": "files"}, production=True) == []


@pytest.mark.parametrize("change, problem", [
    ({"REDIS_URL": None}, "needs REDIS_URL"),
    ({"STORAGE_BACKEND": "disk"}, "STORAGE_BACKEND is 'disk'"),
    ({"STORAGE_BACKEND": "s3"}, "STORAGE_BACKEND=s3 needs S3_BUCKET"),
])
def test_production_on_a_database_server_needs_each_shared_setting(change, problem):
    [found] = check_shared({**SHARED, **change}, production=True)
    assert problem in found


def test_every_problem_is_named_at_once_and_the_portal_refuses_to_start(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    for name in ("REDIS_URL", "PUBLIC_BASE_URL", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError) as refused:
        create_app({"PORTAL_ENV": "production", "SECRET_KEY": PRODUCTION_SETTINGS["SECRET_KEY"],
                    "PORTAL_KEY_ENCRYPTION_KEY": TEST_KEY_ENCRYPTION_KEY, "SQLALCHEMY_DATABASE_URI": POSTGRES})
    message = str(refused.value)
    assert message.startswith("Refusing to start:") and "REDIS_URL" in message and "PUBLIC_BASE_URL" in message


def test_development_and_single_machine_production_on_sqlite_are_left_alone():
    sqlite = {"SQLALCHEMY_DATABASE_URI": "sqlite:////srv/portal/portal.sqlite3"}
    assert check_shared(sqlite, production=True) == []
    assert check_shared({**SHARED, "REDIS_URL": None, "PUBLIC_BASE_URL": None}, production=False) == []


def test_a_wrong_storage_backend_is_refused_in_every_environment():
    assert check_shared({**SHARED, "STORAGE_BACKEND": "s3"}, production=False) != []


def test_the_shared_settings_are_the_ones_the_readme_names():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Production"):]
    for name, _why in SHARED_SETTINGS:
        assert f"`{name}`" in section, name
