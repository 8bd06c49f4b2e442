"""Facts the registry holds that HR did not declare, and recoveries of another illness: pushed through the API."""
from __future__ import annotations

import html
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.eligibility.models import EligibilitySnapshot
from portal.extensions import db
from portal.workers.models import Worker

BORN = "1990-05-17"
CITIZEN_ID = "079090007777"


def _push(app, world, client, records: list[dict]) -> None:
    from portal.auth.models import User
    from portal.health.tokens import create_token

    with app.app_context():
        officer = db.session.scalar(select(User).where(User.email == world.health))
        _token, secret = create_token(db.session, "HCDC", officer)
        db.session.commit()
    response = client.post("/api/v1/health-records", json=records, headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200, response.get_json()


def _dose(number: int, day, product: str = "Pfizer") -> dict:
    return {"kind": "vaccination", "citizen_id": CITIZEN_ID, "date_of_birth": BORN, "dose_number": number,
            "given_on": day.isoformat(), "product": product, "place": "TYT Tân Phong"}


@pytest.fixture
def worker_d(app, world, days) -> int:
    """A worker of enterprise A with one declared Pfizer dose (the registry will hold two)."""
    from portal.enterprises.models import Enterprise
    from portal.testing.fixtures import make_worker

    with app.app_context():
        enterprise = db.session.get(Enterprise, world.enterprise_a)
        worker = make_worker(db.session, enterprise, citizen_id=CITIZEN_ID, name="Phạm Thị Dung",
                             doses=[("pfizer", days.b1)])
        db.session.commit()
        return worker.id


def _accept(client, worker_id: int, fact: str) -> str:
    """Post the accept form; return the page it leads to, its entities (the flash's apostrophes) unescaped."""
    response = client.post(f"/health/workers/{worker_id}/accept",
                           data={"fact": fact, "csrf_token": client.csrf_token()}, follow_redirects=True)
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def test_hr_adds_a_dose_the_registry_holds_in_one_click(app, world, days, client, auth, worker_d):
    _push(app, world, client, [_dose(1, days.b1), _dose(2, days.b2)])
    with app.app_context():
        before = db.session.get(Worker, worker_d).updated_at
        assert db.session.get(EligibilitySnapshot, worker_d).eligible is False  # one dose of two declared
    assert auth.login(world.hr_a).status_code == 302
    page = client.get("/health/workers").get_data(as_text=True)  # only what needs correcting, by default
    assert "Phạm Thị Dung" in page and "In the registry, not declared" in page
    assert "Add the registry's dose" in page and days.b2.strftime("%d/%m/%Y") in page
    assert days.b2.isoformat() not in page  # the registry's dates are shown as dd/mm/yyyy

    assert "Dose 2 from the registry was added to the worker's record." in _accept(client, worker_d,
                                                                                  "registry-dose:2")
    with app.app_context():
        worker = db.session.get(Worker, worker_d)
        assert [(dose.number, dose.product, dose.given_on, dose.provenance) for dose in worker.doses] == [
            (1, "pfizer", days.b1, "confirmed"), (2, "pfizer", days.b2, "confirmed")]
        assert worker.updated_at > before
        snapshot = db.session.get(EligibilitySnapshot, worker_d)
        assert snapshot.eligible is True
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "worker.registry_accepted"))
        assert event.reason == "registry-dose:2" and event.after["added"] is True
        assert event.after["registry"]["source"] == "api"
    # Nothing left to act on; a second click changes nothing.
    assert "Phạm Thị Dung" not in client.get("/health/workers").get_data(as_text=True)
    assert "there is nothing to accept" in _accept(client, worker_d, "registry-dose:2")
    assert "there is nothing to accept" in _accept(client, worker_d, "registry-dose:9")
    assert "there is nothing to accept" in _accept(client, worker_d, "registry-dose:x")
    with app.app_context():
        assert len(db.session.get(Worker, worker_d).doses) == 2


def test_a_registry_dose_of_a_vaccine_the_portal_does_not_know_is_not_added(app, world, days, client, auth,
                                                                           worker_d):
    _push(app, world, client, [_dose(1, days.b1), _dose(2, days.b2, product="Covaxin")])
    assert auth.login(world.hr_a).status_code == 302
    page = _accept(client, worker_d, "registry-dose:2")
    assert "The registry names a vaccine the portal does not know (Covaxin)" in page
    with app.app_context():
        assert len(db.session.get(Worker, worker_d).doses) == 1


def test_another_enterprises_hr_cannot_add_a_registry_dose(app, world, days, client, auth, worker_d):
    _push(app, world, client, [_dose(1, days.b1), _dose(2, days.b2)])
    assert auth.login(world.hr_b).status_code == 302
    response = client.post(f"/health/workers/{worker_d}/accept",
                           data={"fact": "registry-dose:2", "csrf_token": client.csrf_token()})
    assert response.status_code == 404
    with app.app_context():
        assert len(db.session.get(Worker, worker_d).doses) == 1


def test_a_recovery_from_another_illness_leaves_the_declared_one_not_found(app, world, days, client, worker_d):
    declared = days.today - timedelta(days=100)
    with app.app_context():
        db.session.get(Worker, worker_d).recovered_on = declared
        db.session.commit()

    def recovery(positive, recovered) -> dict:
        return {"kind": "recovery", "citizen_id": CITIZEN_ID, "date_of_birth": BORN,
                "positive_on": positive.isoformat(), "recovered_on": recovered.isoformat(), "facility": "TTYT Q7"}

    # An illness half a year earlier: the registry knows the person, not the declared recovery.
    _push(app, world, client, [recovery(declared - timedelta(days=200), declared - timedelta(days=186))])
    with app.app_context():
        worker = db.session.get(Worker, worker_d)
        assert (worker.recovery_provenance, worker.recovery_registry) == ("not_found", None)
    # The same illness, its recovery dated 10 days later: a conflict about the date, which can be accepted.
    _push(app, world, client, [recovery(declared - timedelta(days=4), declared + timedelta(days=10))])
    with app.app_context():
        worker = db.session.get(Worker, worker_d)
        assert worker.recovery_provenance == "conflicting"
        assert worker.recovery_registry["recovered_on"] == (declared + timedelta(days=10)).isoformat()
        assert worker.recovery_registry["differences"] == ["recovered_on"]
