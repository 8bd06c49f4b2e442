"""The health-data officer's extract in a real browser: the page follows its job and reloads to the preview, the
match is queued from it; HR sees what to correct; the dashboard shows the confirmed share."""
from __future__ import annotations

import pytest

from portal.extensions import db
from portal.testing.fixtures import TEST_PASSWORD
from tests.health.conftest import Days, latest_extract, vaccination_extract

pytestmark = pytest.mark.browser


def _login(page, email: str) -> None:
    page.context.clear_cookies()
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()


def _as_if_still_checking(app, extract_id: int) -> int:
    """Put the extract back where a consumer leaves it a moment into a long file: a running check at 3 of 12."""
    from portal.health.models import HealthExtract
    from portal.jobs.models import Job

    with app.app_context():
        extract = db.session.get(HealthExtract, extract_id)
        job = Job(kind="health.check", params={"extract_id": extract_id}, status="running", done=3, total=12,
                  user_id=extract.created_by_id)
        db.session.add(job)
        db.session.flush()
        extract.status, extract.job_id = "checking", job.id
        db.session.commit()
        return job.id


def _finish_check(app, extract_id: int, job_id: int) -> None:
    from portal.health.models import HealthExtract
    from portal.jobs.models import Job

    with app.app_context():
        job = db.session.get(Job, job_id)
        job.status, job.done = "done", 12
        db.session.get(HealthExtract, extract_id).status = "ready"
        db.session.commit()


def test_an_extract_page_follows_its_job_then_hr_and_officials_see_the_outcome(app, page, world, tmp_path,
                                                                                screenshot):
    days = Days()
    extract_file = tmp_path / "trich_xuat_tiem_chung.csv"
    extract_file.write_bytes(vaccination_extract(days))

    _login(page, world.health)
    page.goto("/health/")
    page.select_option("select[name=kind]", "vaccination")
    page.set_input_files("input[type=file]", str(extract_file))
    page.click("main form[enctype] button[type=submit]")
    page.wait_for_load_state()
    extract = latest_extract(app)
    assert page.url.endswith(f"/health/extracts/{extract.id}") and extract.status == "ready"

    # A long check: the page shows the job's progress, and reloads by itself to the preview when it ends.
    job_id = _as_if_still_checking(app, extract.id)
    page.goto(f"/health/extracts/{extract.id}")
    assert page.locator("progress.job-progress").get_attribute("value") == "25"
    screenshot(page, "health-extract-checking")
    _finish_check(app, extract.id, job_id)
    page.wait_for_selector("text=Đối chiếu tệp này", timeout=10_000)
    assert page.locator("progress.job-progress").count() == 0
    screenshot(page, "health-extract-preview")

    page.click("text=Đối chiếu tệp này")
    page.wait_for_load_state()
    assert latest_extract(app).status == "committed"
    screenshot(page, "health-extract-matched")

    # Worker B's second dose is dated otherwise in the registry: her HR sees it and the button to accept it.
    _login(page, world.hr_b)
    page.goto("/health/workers")
    assert page.locator("main tbody tr", has_text="Đỗ Thị Bích").count() >= 1
    assert page.locator("main button", has_text="Dùng dữ liệu y tế").count() == 1
    screenshot(page, "health-hr-workers")

    _login(page, world.official_x)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/dashboard")
    share = page.locator("main section[aria-labelledby=h-confirmed]")
    assert share.locator("table").count() >= 2
    share.screenshot(path=str(screenshot(page, "health-dashboard").with_name("health-dashboard-share.png")))
    assert page.console_errors == [] and page.external_requests == []
