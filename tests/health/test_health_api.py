"""The registry pushes records through /api/v1/health-records with a health-data officer's token."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from portal.extensions import db
from portal.health.models import HealthExtract, HealthRecord
from portal.workers.models import Worker


def _token(app, world) -> str:
    from portal.auth.models import User
    from portal.health.tokens import create_token

    with app.app_context():
        officer = db.session.scalar(select(User).where(User.email == world.health))
        _token, secret = create_token(db.session, "HCDC", officer)
        db.session.commit()
        return secret


def test_pushed_records_are_matched_and_unknown_ones_only_counted(app, world, client, days):
    secret = _token(app, world)
    body = [
        {"kind": "vaccination", "citizen_id": "079090001234", "date_of_birth": "1990-05-17", "dose_number": 1,
         "given_on": days.a1.isoformat(), "product": "AstraZeneca", "place": "TYT Tân Hưng"},
        {"kind": "vaccination", "citizen_id": "079099999999", "date_of_birth": "1985-01-01", "dose_number": 1,
         "given_on": days.a1.isoformat(), "product": "Pfizer"},
        {"kind": "test", "citizen_id": "079190004321", "test_kind": "PCR", "tested_on": days.b2.isoformat(),
         "result": "âm tính"},
    ]
    response = client.post("/api/v1/health-records", json=body, headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"vaccination": {"rows": 2, "matched": 1, "unmatched": 1},
                                   "test": {"rows": 1, "matched": 1, "unmatched": 0}}
    with app.app_context():
        worker = db.session.get(Worker, world.worker_a)
        assert [dose.provenance for dose in worker.doses] == ["confirmed", "not_found"]
        assert db.session.scalar(select(HealthRecord.id).where(HealthRecord.worker_id != world.worker_a,
                                                               HealthRecord.kind == "dose")) is None
        assert {extract.source for extract in db.session.scalars(select(HealthExtract))} == {"api"}


def test_invalid_records_are_refused_whole_with_a_message_each(app, world, client, days):
    secret = _token(app, world)
    body = [
        {"kind": "vaccination", "citizen_id": "079090001234", "date_of_birth": "1990-05-17", "dose_number": 1,
         "given_on": days.a1.isoformat(), "product": "AstraZeneca"},
        {"kind": "vaccination", "citizen_id": "12", "date_of_birth": "1990-05-17", "dose_number": 1,
         "given_on": "2021-08-01", "product": "Pfizer"},
        {"kind": "recovery", "citizen_id": "079090001234", "positive_on": "2021-08-20"},
        {"kind": "flu"},
    ]
    response = client.post("/api/v1/health-records", json=body,
                           headers={"Authorization": f"Bearer {secret}", "Accept-Language": "en"})
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert fields == [
        {"row": 2, "field": "citizen_id", "message": "The citizen ID must have 9 or 12 digits."},
        {"row": 3, "field": "recovered_on", "message": "Recovery date is missing."},
        {"row": 4, "field": "kind", "message": "“kind” must be vaccination, recovery or test."},
    ]
    with app.app_context():
        assert db.session.scalar(select(HealthRecord.id)) is None


def test_an_enterprise_token_or_none_gets_401(app, world, client):
    from portal.api.services import create_token
    from portal.auth.models import User
    from portal.enterprises.models import Enterprise

    with app.app_context():
        hr = db.session.scalar(select(User).where(User.email == world.hr_a))
        _token, secret = create_token(db.session, db.session.get(Enterprise, world.enterprise_a), "ERP", hr)
        db.session.commit()
    assert client.post("/api/v1/health-records", json=[], headers={"Authorization": f"Bearer {secret}"}
                       ).status_code == 401
    assert client.post("/api/v1/health-records", json=[]).status_code == 401


def test_hook_portal_health_registry_connector(app, world, days):
    from portal.auth.models import User
    from portal.health.connectors import pull
    from portal.plugins import api, hookimpl

    asked = []

    class Connector:
        @staticmethod
        @hookimpl
        def portal_health_registry_connector():
            def fetch(kind, citizen_ids):
                asked.append((kind, sorted(citizen_ids)))
                if kind != "vaccination":
                    return []
                return [api.RegistryRecord(kind="vaccination", citizen_id="079190004321",
                                           date_of_birth=date(1990, 5, 17), on_date=days.b1, dose_number=1,
                                           product="pfizer")]

            return [api.RegistryConnector(code="hcdc", name="HCDC", fetch=fetch)]

    pm = app.extensions["portal.plugins"]
    pm.register(Connector, name="connector")
    try:
        with app.test_request_context():
            officer = db.session.scalar(select(User).where(User.email == world.health))
            extracts = pull(db.session, pm, "hcdc", officer)
            db.session.commit()
            assert [extract.counts["matched"] for extract in extracts] == [1, 0, 0]
            worker = db.session.get(Worker, world.worker_b)
            assert [dose.provenance for dose in worker.doses] == ["confirmed", "not_found"]
    finally:
        pm.unregister(name="connector")
    assert [kind for kind, _ids in asked] == ["vaccination", "recovery", "test"]
    assert asked[0][1] == ["079090001234", "079190004321"]


def test_officials_see_conflicts_of_their_units_enterprises(app, world, days, client, auth):
    from tests.health.conftest import latest_extract, upload, vaccination_extract

    assert auth.login(world.health).status_code == 302
    upload(client, vaccination_extract(days), "x.csv")
    client.post(f"/health/extracts/{latest_extract(app).id}/commit", data={"csrf_token": client.csrf_token()})
    page = client.get("/health/conflicts").get_data(as_text=True)
    assert "Hợp tác xã Bình Minh" in page  # worker B's enterprise, city-wide for the officer
    auth.logout()
    assert auth.login(world.official_x).status_code == 302  # District 7: enterprise A has no conflict
    page = client.get("/health/conflicts").get_data(as_text=True)
    assert "Hợp tác xã Bình Minh" not in page and "No conflicts with the registry." in page
    client.delete_cookie("lang")
    assert "Không có sai lệch với dữ liệu y tế." in client.get("/health/conflicts").get_data(as_text=True)
    auth.logout()
    assert auth.login(world.official_y).status_code == 302
    assert "Hợp tác xã Bình Minh" in client.get("/health/conflicts").get_data(as_text=True)


def test_the_dashboard_shows_the_confirmed_share_per_unit(app, world, days, client, auth):
    from tests.health.conftest import latest_extract, upload, vaccination_extract

    assert auth.login(world.health).status_code == 302
    upload(client, vaccination_extract(days), "x.csv")
    client.post(f"/health/extracts/{latest_extract(app).id}/commit", data={"csrf_token": client.csrf_token()})
    auth.logout()
    assert auth.login(world.admin).status_code == 302
    page = client.get("/dashboard").get_data(as_text=True)
    table = page[page.index('id="table-confirmed_by_unit"'):]
    table = table[:table.index("</table>")]
    # District 7: worker A, both doses confirmed; Củ Chi: worker B, dose 2 conflicting.
    assert ('<th scope="row">District 7</th><td class="num">1</td><td class="num">1</td><td class="num">100.0 %</td>'
            '<td class="num">0</td>') in table
    assert ('<th scope="row">Củ Chi District</th><td class="num">1</td><td class="num">0</td><td class="num">0.0 %</td>'
            '<td class="num">1</td>') in table
