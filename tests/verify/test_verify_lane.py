"""The checkpoint's lane answers the JSON like the view would, records each scan once, and loses none."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import select

from portal.clock import utcnow
from portal.enterprises.models import Enterprise
from portal.extensions import db
from portal.passes.models import Pass
from portal.tokens.codec import sign_pass_token
from portal.verify.lane import CheckpointLane, language
from portal.verify.models import VerificationRecord
from portal.verify.testing import ALL_DAY, make_pass
from portal.workers.models import Worker


@pytest.fixture
def token(app, world):
    with app.app_context():
        pass_ = make_pass(db.session, db.session.get(Worker, world.worker_a), windows=ALL_DAY)
        db.session.commit()
        return sign_pass_token(pass_)


def _records(app) -> list[tuple]:
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            select(VerificationRecord.outcome, VerificationRecord.unit_id, VerificationRecord.sector)
            .order_by(VerificationRecord.id))]


def _without_times(answer: dict) -> dict:
    return {key: value for key, value in answer.items() if not key.startswith("checked_at")}


def test_the_lane_answers_what_the_view_answers_with_the_portals_headers_and_no_cookie(app, client, token):
    assert isinstance(app.wsgi_app, CheckpointLane)
    lane = client.get(f"/api/v1/verify/{token}")
    assert lane.status_code == 200 and lane.mimetype == "application/json"
    assert lane.headers["Cache-Control"] == "no-store"
    assert "default-src 'self'" in lane.headers["Content-Security-Policy"]
    assert lane.headers["X-Frame-Options"] == "DENY" and "Set-Cookie" not in lane.headers
    app.wsgi_app = app.wsgi_app.inner  # the Flask view alone
    view = client.get(f"/api/v1/verify/{token}")
    assert _without_times(view.get_json()) == _without_times(lane.get_json())
    assert _records(app) == [("valid", *_records(app)[0][1:])] * 2


@pytest.mark.parametrize("cookie, accept, expected", [
    (None, None, "vi"), (None, "en-US,en;q=0.9", "en"), (None, "fr", "vi"), ("lang=en", None, "en"),
    ("lang=vi", "en", "vi"), ("session=abc; lang=en", "vi", "en"), ("lang=xx", "en", "en"),
])
def test_the_answers_language_follows_the_portals_rule(app, client, token, cookie, accept, expected):
    from portal.i18n import select_locale

    headers = {key: value for key, value in (("Cookie", cookie), ("Accept-Language", accept)) if value}
    with app.test_request_context(f"/api/v1/verify/{token}", headers=headers):
        assert select_locale() == expected  # the portal's own rule for /api/ paths...
    assert language(cookie, accept, ("vi", "en"), "vi") == expected  # ...is the lane's
    for pair in (cookie or "").split(";"):
        if pair.strip():
            client.set_cookie(*pair.strip().split("=", 1))
    answer = client.get(f"/api/v1/verify/{token}", headers={"Accept-Language": accept} if accept else {}).get_json()
    assert answer["language"] == expected
    assert answer["word"] == {"vi": "HỢP LỆ", "en": "VALID"}[expected]
    assert answer["instruction"].startswith({"vi": "Đối chiếu", "en": "Compare"}[expected])


def test_a_scan_the_lane_cannot_answer_goes_to_the_view_and_is_recorded_once(app, client, token, monkeypatch):
    from portal.verify import store

    calls = []
    real_scan = store.ScanStore.scan

    def flaky(self, payload, now):
        calls.append(now)
        if len(calls) == 1:
            raise RuntimeError("database hiccup")
        return real_scan(self, payload, now)

    monkeypatch.setattr(store.ScanStore, "scan", flaky)
    answer = client.get(f"/api/v1/verify/{token}")
    assert answer.status_code == 200 and answer.get_json()["outcome"] == "valid"
    assert len(calls) == 2 and [row[0] for row in _records(app)] == ["valid"]


@pytest.mark.parametrize("change, outcome", [
    (None, "valid"),
    ("revoke", "revoked"),
    ("suspend", "revoked"),
    ("supersede", "superseded"),
    ("unknown_version", "invalid"),
])
def test_each_scans_record_has_the_answers_outcome_unit_and_sector(app, client, world, token, change, outcome):
    with app.app_context():
        pass_ = db.session.scalars(select(Pass)).one()
        enterprise = db.session.get(Enterprise, pass_.enterprise_id)
        expected_unit = (pass_.unit_id, enterprise.sector)
        if change == "revoke":
            pass_.status, pass_.revoked_at = "revoked", utcnow()
        elif change == "suspend":
            enterprise.status = "suspended"
        elif change in ("supersede", "unknown_version"):
            pass_.version = 2 if change == "supersede" else 1
            if change == "unknown_version":
                pass_.version = 3
                later = sign_pass_token(pass_)
                pass_.version = 1
        db.session.commit()
    scanned = later if change == "unknown_version" else token
    assert client.get(f"/api/v1/verify/{scanned}").get_json()["outcome"] == outcome
    assert _records(app) == [(outcome, *expected_unit)]
    assert client.get("/api/v1/verify/AAAA").get_json()["outcome"] == "invalid"
    assert _records(app)[-1] == ("invalid", None, None)


def test_every_answered_scan_is_recorded_when_the_process_is_killed_right_after(app_config, tmp_path, world, app):
    """A process answers 30 scans and is killed with SIGKILL at once: all 30 are in the database."""
    with app.app_context():
        pass_ = make_pass(db.session, db.session.get(Worker, world.worker_a), windows=ALL_DAY)
        db.session.commit()
        token = sign_pass_token(pass_)
    script = textwrap.dedent(f"""
        import os, signal, sys
        from portal import create_app
        app = create_app({app_config!r})
        client = app.test_client()
        for _ in range(30):
            assert client.get("/api/v1/verify/{token}").get_json()["outcome"] == "valid"
        sys.stdout.write("answered\\n"); sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert done.returncode == -9 and done.stdout == "answered\n", done.stderr[-2000:]
    assert [row[0] for row in _records(app)] == ["valid"] * 30
