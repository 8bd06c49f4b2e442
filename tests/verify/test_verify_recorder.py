"""Scans are counted in batches: none is lost, and the scan does not wait for the write."""
import time

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.verify.models import VerificationRecord
from portal.verify.recorder import recorder_for


@pytest.fixture
def app_config(app_config):
    return {**app_config, "VERIFY_RECORD_DELAY": 60, "VERIFY_RECORD_BATCH": 5}


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(VerificationRecord))


def test_a_full_batch_is_written_by_the_scan_that_fills_it(app, client):
    for _ in range(4):
        assert client.get("/api/v1/verify/not-a-token").get_json()["outcome"] == "invalid"
    assert _count(app) == 0  # in the buffer: the scans did not wait for the database
    client.get("/v/not-a-token")
    assert _count(app) == 5
    assert recorder_for(app).flush() == 0


def test_a_partial_batch_is_written_when_it_is_old_enough(app, client):
    recorder = recorder_for(app)
    recorder.delay = 0.2  # the flushing thread starts with the first row
    client.get("/api/v1/verify/not-a-token")
    client.get("/api/v1/verify/not-a-token")
    deadline = time.monotonic() + 10
    while _count(app) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _count(app) == 2


def test_rows_are_kept_when_the_database_refuses_them(app):
    recorder = recorder_for(app)
    recorder.add({"at": "not a datetime", "outcome": "invalid", "unit_id": None, "sector": None})
    assert recorder.flush() == 0
    assert len(recorder._rows) == 1
    recorder._rows.clear()


def test_without_a_delay_each_scan_is_written_in_its_request(app_config):
    from portal import create_app

    app = create_app({**app_config, "VERIFY_RECORD_DELAY": 0})
    assert recorder_for(app) is None
    before = _count(app)
    app.test_client().get("/api/v1/verify/not-a-token")
    assert _count(app) == before + 1
