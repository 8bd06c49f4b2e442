"""Pytest fixtures for the portal and its plugins (loaded by the root ``conftest.py``).

* ``app`` – a portal on a real database: SQLite in a temporary folder, or the PostgreSQL server
  named by ``PORTAL_TEST_DATABASE_URL``; Redis for rate limits when ``PORTAL_TEST_REDIS_URL`` is set.
  Every test starts with empty tables.
* ``client`` – a test client; ``client.submit(url, data)`` posts a form with its CSRF token.
* ``runner`` – the CLI runner.
* ``auth`` – ``auth.login(user)`` / ``auth.logout()``.
* ``world`` – one of each role: HR of enterprise A (District 7) and of B (Củ Chi), an official of
  each unit, a city admin, and a worker of A.
* ``pm`` – a fresh plugin manager (built-in rules plus installed unit plugins), outside any app.
"""
from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

TEST_PASSWORD = "correct-horse-battery"
TEST_SECRET_KEY = "test-secret-key-that-is-long-enough-0123456789"
#: What production insists on beside a key-encryption key (portal.config.check_production), for tests that
#: build a production app: a strong key, a public address, rate limits on a shared store (here one that
#: never answers: Flask-Limiter then counts in the process, as it does when Redis is away).
PRODUCTION_SETTINGS = {"PORTAL_ENV": "production", "SECRET_KEY": "Yq7-wZ3k_pL9xT2mNv8RcB4hJ6sDfG1a",
                       "PUBLIC_BASE_URL": "https://thexanh.example.gov.vn",
                       "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0"}
#: A key-encryption key for the signing keys (production refuses to start without one).
TEST_KEY_ENCRYPTION_KEY = "dGVzdCBrZXktZW5jcnlwdGlvbiBrZXksIDMyIGJ5dGU="
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def test_database_url(tmp_path_factory) -> str:
    url = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if url:
        from portal.config import normalise_database_url

        return normalise_database_url(url)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """Create the schema once per session (dropping what an earlier run left on PostgreSQL).

    No app is built for this: an app checks the data at start-up (a unit's printed short code),
    and what a killed run left behind must not stop the next one.
    """
    import portal.models  # noqa: F401  (every table in the metadata)
    from portal.extensions import db

    url = test_database_url(tmp_path_factory)
    engine = create_engine(url)
    try:
        db.metadata.drop_all(engine)
        if engine.dialect.name == "postgresql":
            with engine.begin() as connection:
                connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.metadata.create_all(engine)
    finally:
        engine.dispose()
    return url


def _test_config(url: str, instance_path, **overrides) -> dict:
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": TEST_SECRET_KEY,
        # Given, so that test apps never write a key-encryption key into the checkout's instance folder.
        "PORTAL_KEY_ENCRYPTION_KEY": TEST_KEY_ENCRYPTION_KEY,
        "SIGNING_KEY_DIR": str(instance_path / "keys"),
        "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        # scrypt costs ~0.3 s a hash here; the suite hashes thousands (production keeps scrypt).
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "SERVER_NAME": None,
    }
    redis_url = os.environ.get("PORTAL_TEST_REDIS_URL")
    if redis_url:
        config["RATELIMIT_STORAGE_URI"] = redis_url
        config["REDIS_URL"] = redis_url
    config.update(overrides)
    return config


def _empty_tables(engine) -> None:
    from portal.extensions import db

    tables = [table.name for table in reversed(db.metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # TRUNCATE gives every table a new file (a disk sync each): on the handful of rows a test
            # leaves, finding the non-empty tables and deleting their rows costs far less.
            probe = " UNION ALL ".join(f"SELECT '{table}' WHERE EXISTS (SELECT 1 FROM {table})" for table in tables)
            used = set(connection.execute(text(probe)).scalars())
            connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            for table in tables:
                if table in used:
                    connection.execute(text(f"DELETE FROM {table}"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture(autouse=True)
def _close_every_engine():
    """After each test, close the pooled connections of every app it built (fixtures or create_app).

    An app a test makes for itself would otherwise leave its connections to the garbage collector,
    which psycopg reports (as a ResourceWarning) in whichever test happens to run then.
    """
    yield
    from portal.extensions import db

    for engines in list(db._app_engines.values()):
        for engine in engines.values():
            engine.dispose()


@pytest.fixture
def app_config(database_url, tmp_path) -> dict:
    """The configuration ``app`` is built with; override keys in a test module's own fixture."""
    return _test_config(database_url, tmp_path)


@pytest.fixture
def app(app_config):
    from portal import create_app
    from portal.extensions import db

    app = create_app(app_config)
    with app.app_context():
        _empty_tables(db.engine)
    yield app
    with app.app_context():
        db.session.remove()
        _empty_tables(db.engine)
        db.engine.dispose()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """An S3-compatible server (moto's ``moto_server``) on loopback for the session, stopped by its PID."""
    from portal.testing.s3 import S3Server, moto_server_command

    command = moto_server_command()
    if command is None:
        pytest.skip("moto_server is not installed: the test extras bring it (pip install -e '.[test]')")
    server = S3Server(command, tmp_path_factory.mktemp("s3") / "moto_server.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def postgres_cluster():
    """A PostgreSQL server of the test's own (``initdb`` on a free port), which it may kill and restart."""
    from portal.testing.postgres import PostgresCluster, postgres_binaries

    binaries = postgres_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL's initdb is not installed (apt-get install postgresql)")
    cluster = PostgresCluster(binaries)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


class PortalClient(FlaskClient):
    """A test client that can post forms the way a browser does, CSRF token included."""

    def csrf_token(self) -> str:
        page = self.get("/").get_data(as_text=True)
        match = _CSRF_META.search(page)
        assert match, "the base template must carry <meta name='csrf-token'>"
        return match.group(1)

    def submit(self, url: str, data: dict | None = None, **kwargs):
        """POST ``data`` as a form with a valid CSRF token."""
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        return self.post(url, data=data, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = PortalClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, user_or_email, password: str = TEST_PASSWORD, follow_redirects: bool = False):
        email = getattr(user_or_email, "email", user_or_email)
        return self._client.submit("/login", {"email": email, "password": password},
                                   follow_redirects=follow_redirects)

    def logout(self):
        return self._client.submit("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def pm():
    """A fresh plugin manager: the built-in rules and the installed unit plugins."""
    from portal.plugins.manager import build_plugin_manager

    return build_plugin_manager()


@dataclass
class World:
    """One of each role, as plain ids and emails (safe to use across app contexts)."""

    unit_x: str
    unit_y: str
    enterprise_a: int
    enterprise_b: int
    hr_a: str
    hr_b: str
    official_x: str
    official_y: str
    admin: str
    worker_a: int
    worker_b: int
    health: str = "yte@example.vn"


def make_enterprise(session, registry, unit_code: str, name: str, tax_code: str, status: str = "approved"):
    """Add an enterprise of ``unit_code`` using the first business type, sector and location it declares."""
    from portal.enterprises.models import Enterprise
    from portal.units.services import unit_row

    unit = unit_row(session, registry, unit_code)
    locations = list(registry.locations[unit_code])
    enterprise = Enterprise(
        name=name, tax_code=tax_code, address="12 Nguyễn Văn Linh", ward="Tân Phong", district="Quận 7",
        unit=unit, business_type=next(iter(registry.business_types[unit_code])),
        sector=next(iter(registry.sectors[unit_code])), location=locations[0] if locations else None,
        headcount=50, contact_name="Lê Thị Hoa", phone="02837750000", email="hr@example.vn", status=status,
    )
    session.add(enterprise)
    session.flush()
    return enterprise


def make_worker(session, enterprise, *, citizen_id: str, name: str = "Nguyễn Văn An", sex: str = "M",
                born: date = date(1990, 5, 17), doses=(), recovered_on=None, shift: str = "office"):
    """Add a worker; ``doses`` is a sequence of (product code, date)."""
    from portal.plugins.registry import fold
    from portal.workers.models import VaccineDose, Worker

    worker = Worker(enterprise=enterprise, full_name=name, name_key=fold(name), date_of_birth=born, sex=sex,
                    citizen_id=citizen_id, phone="0909123456", home_address="45 Lê Văn Lương",
                    home_ward="Tân Hưng", home_district="Quận 7", job_title="Công nhân", shift=shift,
                    recovered_on=recovered_on)
    worker.doses = [VaccineDose(number=i, product=p, given_on=d) for i, (p, d) in enumerate(doses, start=1)]
    session.add(worker)
    session.flush()
    return worker


@pytest.fixture
def world(app) -> World:
    from portal.auth.models import Role
    from portal.auth.services import create_user
    from portal.clock import local_today
    from portal.extensions import db
    from portal.units.services import unit_row

    registry = app.extensions["portal.plugins"].registry
    today = local_today()
    with app.app_context():
        session = db.session
        a = make_enterprise(session, registry, "district7", "Công ty TNHH Ánh Dương", "0301234562")
        b = make_enterprise(session, registry, "cugi", "Hợp tác xã Bình Minh", "0312345673")
        users = {
            "hr_a": create_user(session, email="hr.a@example.vn", password=TEST_PASSWORD, full_name="Trần Thị Hạnh",
                                role=Role.HR, enterprise=a),
            "hr_b": create_user(session, email="hr.b@example.vn", password=TEST_PASSWORD, full_name="Phạm Văn Bình",
                                role=Role.HR, enterprise=b),
            "official_x": create_user(session, email="canbo.q7@example.vn", password=TEST_PASSWORD,
                                      full_name="Lê Văn Quận", role=Role.OFFICIAL,
                                      unit=unit_row(session, registry, "district7")),
            "official_y": create_user(session, email="canbo.cuchi@example.vn", password=TEST_PASSWORD,
                                      full_name="Võ Thị Chi", role=Role.OFFICIAL,
                                      unit=unit_row(session, registry, "cugi")),
            "admin": create_user(session, email="admin@example.vn", password=TEST_PASSWORD,
                                 full_name="Quản Trị Viên", role=Role.ADMIN),
            "health": create_user(session, email="yte@example.vn", password=TEST_PASSWORD,
                                  full_name="Phan Thị Y Tế", role=Role.HEALTH),
        }
        worker_a = make_worker(session, a, citizen_id="079090001234", name="Nguyễn Văn An",
                               doses=[("astrazeneca", today - timedelta(days=60)),
                                      ("astrazeneca", today - timedelta(days=30))])
        worker_b = make_worker(session, b, citizen_id="079190004321", name="Đỗ Thị Bích", sex="F",
                               doses=[("pfizer", today - timedelta(days=50)), ("pfizer", today - timedelta(days=20))])
        session.commit()
        return World(unit_x="district7", unit_y="cugi", enterprise_a=a.id, enterprise_b=b.id,
                     worker_a=worker_a.id, worker_b=worker_b.id,
                     **{key: user.email for key, user in users.items()})


@contextmanager
def scratch_database_url(tmp_path, prefix: str) -> Iterator[str]:
    """Yield the URL of an empty database of its own: a SQLite file in ``tmp_path``, or, when the suite runs on
    PostgreSQL (``PORTAL_TEST_DATABASE_URL``), a database made on that server and dropped afterwards."""
    from portal.config import normalise_database_url

    server = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if not server:
        yield f"sqlite:///{tmp_path / f'{prefix}.sqlite3'}"
        return
    server = normalise_database_url(server)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield server.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
