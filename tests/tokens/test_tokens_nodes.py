"""Several processes, one key ring: web nodes and a job worker with their own instance folders, one database.

Each "node" is a portal built as production builds it on another machine: its own instance folder
(``PORTAL_INSTANCE_PATH``), the shared database (the suite's SQLite file or PostgreSQL server) and
the same key-encryption key. The ring is read again at every use here (``KEYRING_REFRESH_SECONDS``
0); one test moves the clock to show what the interval means.
"""
from __future__ import annotations

import base64
import hashlib
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.config import ConfigError
from portal.extensions import db
from portal.testing.fixtures import PRODUCTION_SETTINGS, TEST_PASSWORD
from portal.tokens import keys as keys_module
from portal.tokens.codec import sign_pass_token
from portal.tokens.keys import NoSigningKey, current_keyring
from portal.tokens.models import SigningKey
from portal.verify.testing import ALL_DAY, make_pass
from portal.workers.models import Worker

KEK = base64.b64encode(hashlib.sha256(b"the portal's test key-encryption key").digest()).decode()
STRONG_SECRET = "production-secret-" + "k3Yq7Wz" * 5


def node_config(base: dict, instance, **overrides) -> dict:
    return {**base, "PORTAL_KEY_ENCRYPTION_KEY": KEK, "KEYRING_REFRESH_SECONDS": 0,
            "SIGNING_KEY_DIR": str(instance / "keys"),
            "JOB_OUTPUT_DIR": str(instance / "jobs"), "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
            **overrides}


@pytest.fixture
def app_config(app_config, monkeypatch, tmp_path):
    """Node A, the ``app`` fixture (which empties the tables before and after each test)."""
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path / "node-a"))
    return node_config(app_config, tmp_path / "node-a")


@pytest.fixture
def make_node(app, app_config, monkeypatch, tmp_path):
    """Build another process of the same portal, with its own instance folder."""

    def make(name: str, **overrides):
        monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path / name))
        node = create_app(node_config(app_config, tmp_path / name, **overrides))
        assert node.instance_path != app.instance_path
        return node

    return make


@pytest.fixture
def node_b(make_node):
    return make_node("node-b")


@pytest.fixture
def pass_id(app, world):
    with app.app_context():
        pass_ = make_pass(db.session, db.session.get(Worker, world.worker_a), windows=ALL_DAY)
        db.session.commit()
        return pass_.id


def signed_on(node, pass_id: int) -> str:
    from portal.passes.models import Pass

    with node.app_context():
        return sign_pass_token(db.session.get(Pass, pass_id))


def outcome_on(node, token: str) -> str:
    return node.test_client().get(f"/api/v1/verify/{token}").get_json()["outcome"]


def kid_of(token: str) -> str:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))[1:3].hex()


def run(node, *args: str):
    result = node.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result


def test_a_card_signed_on_one_node_or_by_the_worker_verifies_on_every_node(app, make_node, pass_id):
    node_b, worker = make_node("node-b"), make_node("job-worker")
    from_a, from_worker = signed_on(app, pass_id), signed_on(worker, pass_id)
    assert kid_of(from_a) == kid_of(from_worker)  # one key, although each has its own instance folder
    for node in (app, node_b, worker):
        assert outcome_on(node, from_a) == "valid"
        assert outcome_on(node, from_worker) == "valid"
    page = node_b.test_client().get(f"/v/{from_a}").get_data(as_text=True)
    assert "verdict-valid" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SigningKey)) == 1
    for node in (app, node_b, worker):  # nothing of the keys on any node's disk
        assert not list(Path(node.instance_path).rglob("*.key")) and not Path(node.config["SIGNING_KEY_DIR"]).exists()


def test_a_rotation_through_b_is_what_a_signs_with(app, node_b, pass_id):
    before = signed_on(app, pass_id)
    result = run(node_b, "keys", "rotate")
    with node_b.app_context():
        new_kid = current_keyring().active().kid
    assert new_kid in result.output and new_kid != kid_of(before)
    after = signed_on(app, pass_id)
    assert kid_of(after) == new_kid
    for node in (app, node_b):
        assert outcome_on(node, after) == "valid"
        assert outcome_on(node, before) == "valid"  # the previous key verifies until it is retired


def test_a_retirement_on_a_is_refused_on_b(app, node_b, pass_id):
    old = signed_on(app, pass_id)
    assert outcome_on(node_b, old) == "valid"  # B has read the ring
    run(app, "keys", "rotate")
    run(app, "keys", "retire", kid_of(old))
    assert outcome_on(node_b, old) == "invalid"
    assert outcome_on(node_b, signed_on(app, pass_id)) == "valid"


def test_a_node_sees_a_retirement_within_its_refresh_interval(app, make_node, pass_id, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(keys_module, "monotonic", lambda: clock[0])
    node_b = make_node("node-b", KEYRING_REFRESH_SECONDS=5)
    old = signed_on(app, pass_id)
    assert outcome_on(node_b, old) == "valid"
    run(app, "keys", "rotate")
    run(app, "keys", "retire", kid_of(old))
    clock[0] += 4.9
    assert outcome_on(node_b, old) == "valid"  # B's ring is 4.9 s old: it has not looked yet
    clock[0] += 0.1
    assert outcome_on(node_b, old) == "invalid"


def test_the_published_keys_are_byte_identical_on_every_node(app, make_node, pass_id):
    signed_on(app, pass_id)
    node_b = make_node("node-b")
    run(node_b, "keys", "rotate")
    run(app, "keys", "rotate")
    first = current_kid = None
    with app.app_context():
        first = current_keyring().entries()[0].kid
        current_kid = current_keyring().active().kid
    run(node_b, "keys", "retire", first)
    answers = [node.test_client().get("/.well-known/greencard-keys.json") for node in (app, node_b, make_node("c"))]
    assert len({answer.data for answer in answers}) == 1
    assert len({answer.headers["ETag"] for answer in answers}) == 1
    document = answers[0].get_json()
    assert [key["status"] for key in document["keys"]] == ["retired", "verify", "active"]
    assert document["keys"][-1]["kid"] == current_kid
    assert b"sealed" not in answers[0].data and b"private" not in answers[0].data.lower()


# ---------------------------------------------------------------------------
# Production
# ---------------------------------------------------------------------------

def production(base: dict, **overrides) -> dict:
    config = {**base, "PORTAL_ENV": "production", "SECRET_KEY": STRONG_SECRET,
              "PUBLIC_BASE_URL": "https://thexanh.example.gov.vn", **overrides}
    if str(config.get("RATELIMIT_STORAGE_URI", "memory://")).startswith("memory"):
        config["RATELIMIT_STORAGE_URI"] = PRODUCTION_SETTINGS["RATELIMIT_STORAGE_URI"]
    return {key: value for key, value in config.items() if value is not None}


@pytest.mark.parametrize("overrides, problem", [
    ({"PORTAL_KEY_ENCRYPTION_KEY": None}, "no key-encryption key: set PORTAL_KEY_ENCRYPTION_KEY"),
    ({"PORTAL_KEY_ENCRYPTION_KEY": "c2hvcnQ="}, "holds 5 bytes, not 32"),
    ({"PORTAL_KEY_ENCRYPTION_KEY": None, "PORTAL_KEY_ENCRYPTION_KEY_FILE": "/nonexistent/kek"}, "cannot be read"),
    ({"PORTAL_KEY_ENCRYPTION_KEY_FILE": "/nonexistent/kek"}, "both PORTAL_KEY_ENCRYPTION_KEY and"),
    ({"KEYRING_REFRESH_SECONDS": "soon"}, "KEYRING_REFRESH_SECONDS must be a number"),
])
def test_production_refuses_to_start_without_a_usable_kek(app_config, monkeypatch, tmp_path, overrides, problem):
    for name in ("PORTAL_KEY_ENCRYPTION_KEY", "PORTAL_KEY_ENCRYPTION_KEY_FILE", "KEYRING_REFRESH_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path / "production"))
    with pytest.raises(ConfigError, match="Refusing to start") as refused:
        create_app(production(app_config, **overrides))
    assert problem in str(refused.value)
    assert KEK not in str(refused.value)
    assert not (tmp_path / "production" / keys_module.KEK_FILE_NAME).exists()  # and made none of its own


def test_production_reads_its_kek_from_the_environment(app_config, monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path / "production"))
    monkeypatch.setenv("PORTAL_KEY_ENCRYPTION_KEY", KEK)
    monkeypatch.setenv("KEYRING_REFRESH_SECONDS", "2.5")
    node = create_app(production(app_config, PORTAL_KEY_ENCRYPTION_KEY=None, KEYRING_REFRESH_SECONDS=None))
    with node.app_context():
        assert current_keyring().refresh_seconds == 2.5 and not current_keyring().may_create


def test_production_never_makes_a_key_and_says_so_on_the_page(app, app_config, world, pass_id, monkeypatch,
                                                               tmp_path):
    kek_file = tmp_path / "kek"
    kek_file.write_text(KEK + "\n")
    kek_file.chmod(0o600)
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path / "production"))
    node = create_app(production(node_config(app_config, tmp_path / "production"), PORTAL_KEY_ENCRYPTION_KEY=None,
                                 PORTAL_KEY_ENCRYPTION_KEY_FILE=str(kek_file)))
    with node.app_context():
        with pytest.raises(NoSigningKey) as refused:
            current_keyring().signing_key()
        assert "portal keys create" in refused.value.detail
    client = node.test_client()
    https = {"base_url": "https://localhost"}  # production cookies are Secure
    login = client.get("/login", **https).get_data(as_text=True)
    csrf = login.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    # Over HTTPS, Flask-WTF also wants the Referer of the same site.
    client.post("/login", data={"email": world.hr_a, "password": TEST_PASSWORD, "csrf_token": csrf},
                headers={"Referer": "https://localhost/login"}, **https)
    response = client.get(f"/passes/{pass_id}.pdf", **https)
    assert response.status_code == 503
    assert "Chưa thể ký thẻ xanh: cổng chưa có khóa ký nào đang hoạt động" in response.get_data(as_text=True)
    assert "portal keys create" in response.get_data(as_text=True)
    with node.app_context():
        assert db.session.scalar(select(func.count()).select_from(SigningKey)) == 0
    assert "No key yet: run 'portal keys create'." in node.test_cli_runner().invoke(args=["keys", "list"]).output

    run(node, "keys", "create")
    token = signed_on(node, pass_id)
    assert outcome_on(app, token) == "valid"
    assert not (tmp_path / "production" / keys_module.KEK_FILE_NAME).exists()
