"""When too many workers are stale for a page view to re-evaluate, the page says so instead."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from portal.eligibility.models import EligibilitySnapshot
from portal.extensions import db


@pytest.fixture
def app_config(app_config):
    """The conftest's configuration, with a request re-evaluating at most two workers (more: a job)."""
    return {**app_config, "ELIGIBILITY_INLINE_REFRESH_LIMIT": 2}


def test_the_page_says_which_unit_is_out_of_date(app, runner, client, auth, world, pilot, read):
    assert runner.invoke(args=["eligibility", "refresh"]).exit_code == 0
    yesterday = pilot.today - timedelta(days=1)
    with app.app_context():
        db.session.execute(update(EligibilitySnapshot).values(evaluated_on=yesterday,
                                                              evaluated_at=pilot.now - timedelta(days=1)))
        db.session.commit()
    auth.login(world.official_x)
    page = client.get("/dashboard").get_data(as_text=True)
    stale = pilot.count_bases("district7")
    assert f"{stale} người lao động của Quận 7 chưa được xét lại hôm nay" in page
    assert "Điều kiện được xét lúc " + yesterday.strftime("%d/%m/%Y") in page
    assert read.kpi(page, "kpi-eligible") == pilot.count_bases("district7", True)  # as last evaluated
    report = client.get("/dashboard/report").get_data(as_text=True)
    assert "chưa được xét lại hôm nay" in report
    quality = client.get("/dashboard/data-quality").get_data(as_text=True)
    assert f"{stale} người lao động của Quận 7 chưa được xét lại hôm nay" in quality
    # The page offers to evaluate again; District 7 has more workers than a request evaluates: a job does.
    response = client.submit("/eligibility/refresh", {"next": "/dashboard"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/jobs/")
    job = client.get(response.headers["Location"], headers={"Accept": "application/json"}).get_json()
    assert job["status"] == "done" and job["result"]["workers"] == stale
    assert "chưa được xét lại hôm nay" not in client.get("/dashboard").get_data(as_text=True)
    # Within the limit (Củ Chi has one worker), the request itself evaluates again.
    auth.logout()
    auth.login(world.official_y)
    assert "chưa được xét lại hôm nay" in client.get("/dashboard").get_data(as_text=True)
    assert client.submit("/eligibility/refresh", {"next": "/dashboard"}).headers["Location"] == "/dashboard"
    assert "chưa được xét lại hôm nay" not in client.get("/dashboard").get_data(as_text=True)
