"""Confirmed data, required by a unit or by the built-in rules, and a registry correction that revokes a card."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.auth.models import User
from portal.eligibility.facts import evaluate
from portal.extensions import db
from portal.passes.models import Pass
from portal.plugins import api, hookimpl
from portal.workers.models import Worker
from tests.health.conftest import latest_extract, upload, vaccination_extract


def _evaluate(app, worker_id: int):
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("en"):
        worker = db.session.get(Worker, worker_id)
        answer = evaluate(app.extensions["portal.plugins"].registry, worker, api.local_today())
        return answer.eligible, answer.basis, str(answer.reason)


class RequireConfirmed:
    """A unit's rule (here for District 7) that accepts only doses the health registry confirmed."""

    @staticmethod
    @hookimpl
    def portal_worker_eligibility(unit, worker, on_date):
        if unit.code != "district7":
            return None
        return api.require_confirmed(worker, api.default_eligibility(worker, on_date))


@pytest.fixture
def strict_unit(app):
    pm = app.extensions["portal.plugins"]
    pm.register(RequireConfirmed, name="require-confirmed")
    try:
        yield
    finally:
        pm.unregister(name="require-confirmed")


def test_a_unit_requiring_confirmed_data_refuses_a_declared_only_worker(app, world, strict_unit):
    eligible, basis, reason = _evaluate(app, world.worker_a)
    assert (eligible, basis) == (False, api.Basis.UNCONFIRMED)
    assert reason.startswith("Dose 1 (") and "is not confirmed: it has not been checked against the health " \
                                               "registry yet." in reason
    # Worker B's unit (Củ Chi) asks nothing more: declared doses are enough there.
    assert _evaluate(app, world.worker_b)[0] is True


def test_the_refusal_says_what_the_registry_holds_differently(app, world, worker_c, days, strict_unit, client, auth):
    from portal.enterprises.models import Enterprise
    from portal.testing.fixtures import make_worker

    with app.app_context():
        # A worker of District 7 whose second dose the registry dates differently.
        moved = make_worker(db.session, db.session.get(Enterprise, world.enterprise_a), citizen_id="079190004322",
                            name="Đỗ Thị Bích", sex="F", doses=[("pfizer", days.b1), ("pfizer", days.b2)])
        db.session.commit()
        moved_id = moved.id
    data = vaccination_extract(days).replace(b"079190004321", b"079190004322")
    assert auth.login(world.health).status_code == 302
    upload(client, data, "x.csv")
    client.post(f"/health/extracts/{latest_extract(app).id}/commit", data={"csrf_token": client.csrf_token()})
    assert _evaluate(app, world.worker_a)[0] is True  # both doses confirmed
    eligible, basis, reason = _evaluate(app, moved_id)
    assert (eligible, basis) == (False, api.Basis.UNCONFIRMED)
    assert "Dose 2 (" in reason and "the health registry differs on the date" in reason
    eligible, basis, reason = _evaluate(app, worker_c)
    assert "Dose 1 (" in reason and "the health registry differs on the vaccine" in reason


def test_the_built_in_rules_require_confirmed_data_from_the_configured_day(app, world):
    app.config["PORTAL_REQUIRE_CONFIRMED_FROM"] = api.local_today() + timedelta(days=1)
    assert _evaluate(app, world.worker_a)[0] is True  # not yet
    app.config["PORTAL_REQUIRE_CONFIRMED_FROM"] = api.local_today().isoformat()
    eligible, basis, reason = _evaluate(app, world.worker_a)
    assert (eligible, basis) == (False, api.Basis.UNCONFIRMED)
    assert "Dose 1" in reason


def test_a_conflicting_dose_corrected_by_the_registry_revokes_the_card_with_a_typed_reason(app, world, days, client,
                                                                                           auth):
    from portal.passes.issuing import issue_pass

    registry = app.extensions["portal.plugins"].registry
    with app.test_request_context():
        hr_b = db.session.scalar(select(User).where(User.email == world.hr_b))
        pass_ = issue_pass(db.session, registry, db.session.get(Worker, world.worker_b), hr_b)
        db.session.commit()
        pass_id = pass_.id
    assert auth.login(world.health).status_code == 302
    upload(client, vaccination_extract(days), "x.csv")
    extract_id = latest_extract(app).id
    client.post(f"/health/extracts/{extract_id}/commit", data={"csrf_token": client.csrf_token()})
    with app.app_context():
        assert db.session.get(Pass, pass_id).status == "active"  # a conflict alone changes nothing
    auth.logout()

    # Worker B's HR sees the conflict and accepts the registry's date: dose 2 five days ago, so not 14 days yet.
    assert auth.login(world.hr_b).status_code == 302
    page = client.get("/health/workers").get_data(as_text=True)
    assert "Đỗ Thị Bích" in page and "Conflicting" in page and "Date of the dose" in page
    response = client.post(f"/health/workers/{world.worker_b}/accept",
                           data={"fact": "dose:2", "csrf_token": client.csrf_token()})
    assert response.status_code == 302
    with app.app_context():
        worker = db.session.get(Worker, world.worker_b)
        assert worker.doses[1].given_on == days.today - timedelta(days=5)
        assert worker.doses[1].provenance == "confirmed"
        card = db.session.get(Pass, pass_id)
        assert card.status == "revoked"
        assert card.revocation_code == "registry_conflict"
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "worker.registry_accepted"))
        assert event.reason == "dose:2"
        assert event.before["given_on"] == days.b2.isoformat()
        assert event.after["registry"]["source"] == "file" and event.after["registry"]["extract_id"] == extract_id


def test_accepting_a_fact_that_does_not_conflict_is_refused(app, world, client, auth):
    assert auth.login(world.hr_a).status_code == 302
    response = client.post(f"/health/workers/{world.worker_a}/accept",
                           data={"fact": "dose:1", "csrf_token": client.csrf_token()}, follow_redirects=True)
    assert "there is nothing to accept" in response.get_data(as_text=True)
    # Another enterprise's worker is not HR A's to touch.
    response = client.post(f"/health/workers/{world.worker_b}/accept",
                           data={"fact": "dose:1", "csrf_token": client.csrf_token()})
    assert response.status_code == 404
