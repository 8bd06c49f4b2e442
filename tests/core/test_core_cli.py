import re

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.auth.models import User
from portal.clock import local_today
from portal.eligibility.facts import evaluate
from portal.enterprises.models import Enterprise
from portal.extensions import db
from portal.testing.fixtures import PRODUCTION_SETTINGS, TEST_KEY_ENCRYPTION_KEY
from portal.units.models import PilotUnit
from portal.workers.forms import worker_form_data
from portal.workers.models import Worker
from portal.workers.validation import clean_worker


def test_units_list_shows_the_five_pilot_units(runner):
    output = runner.invoke(args=["units", "list"]).output
    for code in ("district7", "cugi", "cangio", "industrial_zones", "hitech_park"):
        assert code in output


@pytest.fixture
def fresh_app(tmp_path):
    """An app on an empty SQLite database, so that `portal demo` runs the real migrations."""
    return create_app({"TESTING": True, "SECRET_KEY": "k" * 48,
                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
                       "SIGNING_KEY_DIR": str(tmp_path / "keys"),
                       "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})


def test_demo_seeds_every_unit_state_and_role_and_prints_working_logins(fresh_app):
    runner = fresh_app.test_cli_runner()
    result = runner.invoke(args=["demo", "--password", "demo-password-1", "--workers", "12"])
    assert result.exit_code == 0, result.output
    logins = re.findall(r"^\s+(hr|official|admin)\s+(\S+@\S+)\s+(\S+)", result.output, re.M)
    assert {role for role, _e, _p in logins} == {"hr", "official", "admin"}
    with fresh_app.app_context():
        registry = fresh_app.extensions["portal.plugins"].registry
        assert db.session.scalar(select(func.count()).select_from(PilotUnit)) == 5
        for unit in db.session.scalars(select(PilotUnit)):
            statuses = set(db.session.scalars(select(Enterprise.status).where(Enterprise.unit_id == unit.id)))
            assert statuses == {"pending", "approved", "rejected", "suspended"}, unit.code
            assert db.session.scalar(select(func.count()).select_from(User).where(User.unit_id == unit.id)) == 1
        assert db.session.scalar(select(func.count()).select_from(User).where(User.role == "hr")) == 25
        bases = {evaluate(registry, worker, local_today()).basis.value
                 for worker in db.session.scalars(select(Worker))}
        assert {"vaccinated", "recovered", "not_vaccinated", "partially_vaccinated", "waiting_period"} <= bases
    # Every demo worker's phone and ID pass the portal's own validation (their list exports and imports back).
    with fresh_app.test_request_context():
        refused = {}
        for worker in db.session.scalars(select(Worker)):
            _clean, problems = clean_worker(worker_form_data(worker), registry, today=local_today())
            refused.update({(worker.phone, problem.field): str(problem) for problem in problems
                            if problem.field in ("phone", "citizen_id", "full_name", "date_of_birth")})
        assert refused == {}
    client = fresh_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    _role, email, password = next(login for login in logins if login[0] == "official")
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 302


def test_demo_twice_adds_nothing_and_resets_passwords(fresh_app):
    runner = fresh_app.test_cli_runner()
    runner.invoke(args=["demo", "--workers", "4"])
    with fresh_app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Worker))
    again = runner.invoke(args=["demo", "--workers", "4", "--password", "another-password"])
    assert again.exit_code == 0 and "another-password" in again.output
    with fresh_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Worker)) == before


def test_demo_refuses_production(tmp_path):
    app = create_app({**PRODUCTION_SETTINGS, "PORTAL_KEY_ENCRYPTION_KEY": TEST_KEY_ENCRYPTION_KEY,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}"})
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code != 0 and "production" in result.output
