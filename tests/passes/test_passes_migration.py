"""The card-lifecycle migration on a database with cards: holds from past positive-test revocations, versions kept."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from portal import create_app
from portal.clock import local_today, utcnow
from portal.extensions import db
from portal.testing.fixtures import scratch_database_url

BEFORE = "7c1d2e3f4a5b"


@pytest.fixture
def database_url(tmp_path):
    with scratch_database_url(tmp_path, "lifecycle") as url:
        yield url


def test_upgrading_holds_workers_revoked_as_positive_and_keeps_each_cards_current_version(database_url):
    from portal.passes.issuing import issue_pass
    from portal.passes.revoking import revoke_pass
    from portal.testing.fixtures import make_enterprise, make_worker

    app = create_app({"TESTING": True, "SECRET_KEY": "k" * 48, "SQLALCHEMY_DATABASE_URI": database_url})
    registry = app.extensions["portal.plugins"].registry
    today = local_today()
    doses = [("pfizer", today - timedelta(days=60)), ("pfizer", today - timedelta(days=30))]
    with app.test_request_context():
        upgrade()
        session = db.session
        enterprise = make_enterprise(session, registry, "district7", "Công ty TNHH Ánh Dương", "0301234562")
        ids = {}
        for name, citizen_id in (("positive", "079090001234"), ("mistake", "079090001235"),
                                 ("active", "079090001236")):
            worker = make_worker(session, enterprise, citizen_id=citizen_id, name=name.title(), doses=doses)
            ids[name] = (worker.id, issue_pass(session, registry, worker, None).id)
        session.commit()
        for name, code in (("positive", "f0"), ("mistake", "data_error")):
            from portal.passes.models import Pass

            revoke_pass(session, registry, session.get(Pass, ids[name][1]), None, code)
        session.commit()
        downgrade(revision=BEFORE)
        ten_days_ago = utcnow() - timedelta(days=10)
        with db.engine.begin() as connection:
            connection.execute(text("UPDATE passes SET revocation_code = 'mistake' WHERE id = :id"),
                               {"id": ids["mistake"][1]})
            connection.execute(text("UPDATE passes SET revoked_at = :at WHERE id = :id"),
                               {"id": ids["positive"][1], "at": ten_days_ago})
        upgrade()
        with db.engine.connect() as connection:
            held = dict(connection.execute(text("SELECT id, tested_positive_on FROM workers")).all())
            codes = dict(connection.execute(text("SELECT id, revocation_code FROM passes")).all())
            versions = connection.execute(text(
                "SELECT pass_id, version, holder_name, end_kind, end_code FROM pass_versions ORDER BY pass_id")).all()
        db.engine.dispose()
    assert str(held[ids["positive"][0]]) == str((ten_days_ago + timedelta(hours=7)).date())
    assert held[ids["mistake"][0]] is None and held[ids["active"][0]] is None
    assert codes[ids["mistake"][1]] == "data_error" and codes[ids["positive"][1]] == "f0"
    assert [(row[0], row[1], row[2], row[3], row[4]) for row in versions] == [
        (ids["positive"][1], 1, "Positive", "revoked", "f0"),
        (ids["mistake"][1], 1, "Mistake", "revoked", "data_error"),
        (ids["active"][1], 1, "Active", None, None),
    ]
