"""The scanner's server side: the page and its app files, the compact revocation list, offline counts."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from flask import render_template
from sqlalchemy import func, select

from portal import PROJECT_ROOT
from portal.clock import local_today, start_of_local_day, utcnow
from portal.extensions import db
from portal.scanner import services
from portal.scanner.models import OfflineScanUpload
from portal.scanner.views import OFFLINE_ASSETS
from portal.verify.models import VerificationRecord
from portal.verify.testing import make_pass


def _settings(response) -> dict:
    page = response.get_data(as_text=True)
    start = page.index('id="scanner-settings">') + len('id="scanner-settings">')
    return json.loads(page[start:page.index("</script>", start)])


# -- the page ------------------------------------------------------------------------------------

def test_the_page_speaks_vietnamese_with_verifys_wording_and_may_use_the_camera(client):
    response = client.get("/quet")
    assert response.status_code == 200
    assert "camera=(self)" in response.headers["Permissions-Policy"]
    settings = _settings(response)
    assert settings["labels"]["valid"]["word"] == "HỢP LỆ"
    assert settings["labels"]["revoked"]["word"] == "ĐÃ THU HỒI"
    assert settings["labels"]["invalid"]["word"] == "KHÔNG HỢP LỆ"
    assert settings["stale_after_hours"] == 12 and settings["clock_skew_seconds"] == 120
    assert settings["units"]["Q7"] and settings["strings"]["to_work"] == "đi làm"
    assert 'rel="manifest"' in response.get_data(as_text=True)


def test_the_page_switches_to_english(client):
    client.get("/lang/en")
    settings = _settings(client.get("/quet"))
    assert settings["labels"]["valid"]["word"] == "VALID"
    assert settings["language"] == "en"
    assert settings["strings"]["to_work"] == "to work"


def test_the_page_takes_its_wording_from_verifys_single_definition(client, app):
    labels = _settings(client.get("/quet"))["labels"]
    with app.test_request_context("/quet"):
        try:
            from portal.verify.outcomes import OUTCOMES
        except ImportError:
            from portal.verify.views import outcome_labels

            expected = {code: (word, icon, text) for code, (word, icon, text) in outcome_labels().items()}
        else:
            expected = {item.code: (str(item.word), item.icon, str(item.meaning)) for item in OUTCOMES}
    assert {code: (label["word"], label["icon"], label["text"]) for code, label in labels.items()} == expected


def test_the_stale_age_is_a_setting(app_config):
    from portal import create_app

    app = create_app({**app_config, "SCANNER_STALE_HOURS": 6})
    assert _settings(app.test_client().get("/quet"))["stale_after_hours"] == 6


def test_the_service_worker_keeps_the_page_and_every_file_it_needs(client):
    response = client.get("/quet/sw.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/quet"
    body = response.get_data(as_text=True)
    for name in OFFLINE_ASSETS:
        assert f'"/static/{name}"' in body
        with client.get(f"/static/{name}") as served:
            assert served.status_code == 200
    assert '"/quet/manifest.webmanifest"' in body
    for vendored in ("vendor/jsqr-1.4.0", "vendor/noble-curves-1.6.0"):
        assert (PROJECT_ROOT / "static" / vendored / "LICENSE").is_file()


def test_the_manifest_makes_it_installable(client):
    manifest = client.get("/quet/manifest.webmanifest").get_json(force=True)
    assert manifest["start_url"] == "/quet" and manifest["display"] == "standalone"
    assert {icon["sizes"] for icon in manifest["icons"]} == {"192x192", "512x512"}
    assert manifest["name"] == "Máy quét thẻ xanh tại chốt kiểm soát"


def test_the_offer_snippet_for_the_online_page_links_to_the_scanner(app):
    with app.test_request_context("/v/x"):
        html = render_template("scanner/_offer_app.html")
    assert 'href="/quet"' in html and "không có mạng" in html


# -- the compact revocation list ------------------------------------------------------------------

def _card(session, enterprise_id: int, serial: str, **kwargs):
    """Add a worker of the enterprise and a card of theirs (a worker holds one active card)."""
    from portal.enterprises.models import Enterprise
    from portal.testing.fixtures import make_worker

    number = int(serial[-4:])
    worker = make_worker(session, session.get(Enterprise, enterprise_id), citizen_id=f"07909000{number:04d}",
                         name=f"Người Thứ {number}")
    return make_pass(session, worker, serial=serial, **kwargs)


def _passes(app, world):
    """Three cards of enterprise A: one revoked, one in its third version, one untouched."""
    with app.app_context():
        session = db.session
        revoked = _card(session, world.enterprise_a, "Q7-0000000003", status="revoked")
        revoked.revoked_at = utcnow() - timedelta(hours=2)
        newer = _card(session, world.enterprise_a, "Q7-0000000002", version=3)
        _card(session, world.enterprise_a, "Q7-0000000001")
        session.commit()
        return revoked.revoked_at, newer.updated_at


def test_the_whole_list_is_sorted_serials_with_versions(app, client, world):
    revoked_at, _changed = _passes(app, world)
    response = client.get("/api/v1/scanner/revocations")
    document = response.get_json()
    assert document["full"] is True and document["format"] == 1
    assert document["revoked"] == ["Q7-0000000003"]
    assert document["superseded"] == [["Q7-0000000002", 3]]
    assert document["version"] >= int(revoked_at.timestamp() * 1000)
    assert "public" in response.headers["Cache-Control"] and "no-cache" in response.headers["Cache-Control"]
    again = client.get("/api/v1/scanner/revocations", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""


def test_a_delta_carries_only_the_changes_since_a_version(app, client, world):
    _passes(app, world)
    version = client.get("/api/v1/scanner/revocations").get_json()["version"]
    with app.app_context():
        # Revoked three hours after the list's version: only this one is new.
        later = _card(db.session, world.enterprise_b, "CC-0000000009", status="revoked")
        later.revoked_at = datetime.fromtimestamp(version / 1000, UTC) + timedelta(hours=3)
        db.session.commit()
    delta = client.get(f"/api/v1/scanner/revocations?since={version}").get_json()
    assert delta["full"] is False and delta["since"] == version
    # Q7-3 (revoked two hours before the version) is not sent again; Q7-2 (changed at the version) is,
    # within the overlap that covers late commits.
    assert delta["revoked"] == ["CC-0000000009"]
    assert delta["superseded"] == [["Q7-0000000002", 3]]
    assert delta["version"] > version


def test_a_version_too_old_or_from_elsewhere_gets_the_whole_list(app, client, world):
    _passes(app, world)
    version = client.get("/api/v1/scanner/revocations").get_json()["version"]
    too_old = version - int(services.DELTA_HORIZON.total_seconds() * 1000) - 1
    assert client.get(f"/api/v1/scanner/revocations?since={too_old}").get_json()["full"] is True
    assert client.get(f"/api/v1/scanner/revocations?since={version + 1}").get_json()["full"] is True


@pytest.mark.parametrize("since", ["abc", "-1", "1.5", "9" * 16])
def test_a_bad_version_is_refused_with_a_message(client, since):
    response = client.get(f"/api/v1/scanner/revocations?since={since}")
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "since"


def test_the_compact_list_says_what_verifys_list_says(app, client, world):
    _passes(app, world)
    full = client.get("/api/v1/revocations").get_json()
    compact = client.get("/api/v1/scanner/revocations").get_json()
    assert compact["revoked"] == sorted(item["serial"] for item in full["revoked"])
    assert compact["superseded"] == sorted([item["serial"], item["current_version"]] for item in full["superseded"])


# -- offline counts -------------------------------------------------------------------------------

def _hour(hours_ago: int = 0) -> int:
    return (int(utcnow().timestamp()) // 3600 - hours_ago) * 3600


def _post(client, counts, batch="phone-batch-000000001", **kwargs):
    return client.post("/api/v1/scanner/counts", json={"batch": batch, "counts": counts}, **kwargs)


def _records(app) -> list[tuple]:
    with app.app_context():
        return db.session.execute(select(VerificationRecord.at, VerificationRecord.outcome,
                                         VerificationRecord.unit_id, VerificationRecord.sector)
                                  .order_by(VerificationRecord.outcome)).all()


def test_counts_become_verification_records_without_who(app, client, world):
    hour = _hour(1)
    response = _post(client, [{"hour": hour, "unit": "Q7", "outcome": "valid", "scans": 2},
                              {"hour": hour, "unit": None, "outcome": "invalid", "scans": 1}])
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"accepted": 3, "buckets": 2, "duplicate": False}
    records = _records(app)
    with app.app_context():
        q7 = services.unit_ids(db.session)["Q7"]
    at = datetime.fromtimestamp(hour, UTC)
    assert records == [(at, "invalid", None, None), (at, "valid", q7, None), (at, "valid", q7, None)]


def test_a_batch_sent_twice_counts_once(app, client, world):
    counts = [{"hour": _hour(), "unit": "Q7", "outcome": "revoked", "scans": 4}]
    assert _post(client, counts).get_json()["accepted"] == 4
    assert _post(client, counts).get_json() == {"accepted": 0, "buckets": 0, "duplicate": True}
    assert len(_records(app)) == 4
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OfflineScanUpload)) == 1


@pytest.mark.parametrize("bad", [
    {"hour": 123, "unit": "Q7", "outcome": "valid", "scans": 1},                        # not an hour's start
    {"hour": "now", "unit": "Q7", "outcome": "valid", "scans": 1},
    {"hour": _hour(24 * 8), "unit": "Q7", "outcome": "valid", "scans": 1},              # too old
    {"hour": _hour(-3), "unit": "Q7", "outcome": "valid", "scans": 1},                  # in the future
    {"hour": _hour(), "unit": "XX", "outcome": "valid", "scans": 1},                    # unknown unit
    {"hour": _hour(), "unit": None, "outcome": "valid", "scans": 1},                    # valid without a unit
    {"hour": _hour(), "unit": "Q7", "outcome": "invalid", "scans": 1},                  # invalid with a unit
    {"hour": _hour(), "unit": "Q7", "outcome": "hacked", "scans": 1},                   # unknown outcome
    {"hour": _hour(), "unit": "Q7", "outcome": "valid", "scans": 0},
    {"hour": _hour(), "unit": "Q7", "outcome": "valid", "scans": 2001},
    {"hour": _hour(), "unit": "Q7", "outcome": "valid", "scans": True},
    {"hour": _hour(), "unit": "Q7", "outcome": "valid", "scans": 1, "serial": "Q7-0000000001"},  # never who
])
def test_a_bad_count_refuses_the_whole_batch_with_a_message(app, client, world, bad):
    good = {"hour": _hour(), "unit": "Q7", "outcome": "valid", "scans": 1}
    response = _post(client, [good, bad])
    assert response.status_code == 400
    assert response.get_json()["error"]["message"]
    assert _records(app) == []


@pytest.mark.parametrize("body", [
    {"batch": "short", "counts": [{"hour": 0, "unit": None, "outcome": "invalid", "scans": 1}]},
    {"batch": "phone-batch-000000001", "counts": []},
    {"batch": "phone-batch-000000001"},
    ["not", "an", "object"],
])
def test_a_malformed_batch_is_refused(app, client, world, body):
    response = client.post("/api/v1/scanner/counts", json=body)
    assert response.status_code == 400
    assert _records(app) == []


def test_a_request_is_bounded_in_size_and_scans(app, client, world):
    too_many = [{"hour": _hour(h % 100), "unit": "Q7", "outcome": "valid", "scans": 2000} for h in range(3)]
    assert _post(client, too_many).status_code == 400  # 6,000 scans > 5,000 a batch
    padding = "x" * (33 * 1024)
    response = client.post("/api/v1/scanner/counts", data=padding, content_type="application/json")
    assert response.status_code == 413
    assert client.post("/api/v1/scanner/counts", data="{", content_type="application/json").status_code == 400
    assert _records(app) == []


def test_counts_are_rate_limited_per_address(app_config, world):
    from portal import create_app

    app = create_app({**app_config, "SCANNER_COUNTS_RATE_LIMIT": "2 per minute"})
    client = app.test_client()
    counts = [{"hour": _hour(), "unit": None, "outcome": "invalid", "scans": 1}]
    codes = [_post(client, counts, batch=f"phone-batch-00000000{n}").status_code for n in range(3)]
    assert codes == [200, 200, 429]


def test_the_scans_one_address_may_add_are_bounded(app_config, world):
    from portal import create_app

    app = create_app({**app_config, "SCANNER_COUNTS_SCAN_LIMIT": "5 per day"})
    client = app.test_client()
    counts = [{"hour": _hour(), "unit": "Q7", "outcome": "valid", "scans": 3}]
    assert _post(client, counts, batch="phone-batch-000000001").status_code == 200
    assert _post(client, counts, batch="phone-batch-000000002").status_code == 429
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(VerificationRecord)) == 3


def test_offline_scans_of_a_day_already_rolled_up_reach_the_dashboard(app, client, world):
    from portal.dashboard.scans import scan_counts
    from portal.dashboard.scope import Scope

    day = local_today() - timedelta(days=2)  # closed whatever the hour the test runs at
    morning = start_of_local_day(day) + timedelta(hours=9)
    with app.app_context():
        db.session.add_all([VerificationRecord(at=morning, outcome="valid") for _ in range(2)])
        db.session.commit()
        assert sum(scan_counts(db.session, Scope(None), day, day, utcnow()).values()) == 2  # rolled up now
        db.session.commit()
    counts = [{"hour": int(morning.timestamp()), "unit": "Q7", "outcome": "valid", "scans": 5}]
    assert _post(client, counts).status_code == 200
    with app.app_context():
        assert sum(scan_counts(db.session, Scope(None), day, day, utcnow()).values()) == 7
