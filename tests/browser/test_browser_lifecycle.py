"""A card's lifecycle in a real browser: a positive test holds the worker until a later negative test."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.clock import format_date, local_today, start_of_local_day
from portal.eligibility.testing import evaluate_everyone
from portal.extensions import db
from portal.testing.fixtures import TEST_PASSWORD, make_worker

pytestmark = pytest.mark.browser


def _setup(app, world) -> tuple[int, int]:
    """Give worker A a card and add a second eligible worker, so that "issue for all eligible" is offered."""
    from portal.auth.models import User
    from portal.enterprises.models import Enterprise
    from portal.passes.issuing import issue_pass
    from portal.workers.models import Worker

    registry = app.extensions["portal.plugins"].registry
    today = local_today()
    with app.test_request_context():
        session = db.session
        hr = session.scalar(select(User).where(User.email == world.hr_a))
        pass_id = issue_pass(session, registry, session.get(Worker, world.worker_a), hr).id
        make_worker(session, session.get(Enterprise, world.enterprise_a), citizen_id="079092006666",
                    name="Mai Văn Tú", doses=[("pfizer", today - timedelta(days=60)),
                                                ("pfizer", today - timedelta(days=30))])
        session.commit()
    evaluate_everyone(app)
    return pass_id, world.worker_a


def _backdate_hold(app, worker_id: int, days: int):
    """Move the positive-test revocation back ``days`` (no clock to turn: a later test must lie in the past)."""
    from portal.passes.models import Pass
    from portal.workers.models import Worker

    day = local_today() - timedelta(days=days)
    with app.app_context():
        db.session.get(Worker, worker_id).tested_positive_on = day
        for pass_ in db.session.scalars(select(Pass).where(Pass.worker_id == worker_id)):
            pass_.revoked_at = start_of_local_day(day) + timedelta(hours=9)
        db.session.commit()
    return day


def test_a_positive_test_keeps_the_worker_off_the_road_until_a_later_negative_test(app, page, world, screenshot):
    pass_id, worker_id = _setup(app, world)
    page.goto("/login")
    page.fill("input[name=email]", world.hr_a)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()

    # HR revokes the card: "tested positive".
    page.goto("/passes")
    row = page.locator("tr", has_text="Nguyễn Văn An")
    row.locator("details.revoke summary").click()
    row.locator("select[name=reason]").select_option("f0")
    row.locator("form[action$='/revoke'] button[type=submit]").click()
    page.wait_for_load_state()
    hold = f"Dương tính ngày {format_date(local_today())}; cần ghi nhận khỏi bệnh hoặc xét nghiệm âm tính sau ngày đó."
    assert page.locator("tr", has_text="Nguyễn Văn An").get_by_text(hold).is_visible()

    # "Issue for all eligible" asks first, with the counts, and says whom it skips and why.
    page.click("a[href$='/passes/issue-all']")
    page.wait_for_load_state()
    assert page.get_by_text("Bỏ qua 1 người lao động vì đã dương tính").is_visible()
    assert page.get_by_text("Sẽ cấp 1 thẻ xanh mới.").is_visible()
    screenshot(page, "lifecycle-1-issue-all-confirmation")
    page.check("input[name=confirm]")
    page.click("form[action$='/passes/issue-all'] button[type=submit]")
    page.wait_for_load_state()
    done = page.locator(".flash-success")
    assert "Đã cấp 1 thẻ xanh" in done.inner_text()
    assert "Trong đó 1 người bị bỏ qua vì đã dương tính" in done.inner_text()
    assert page.locator("tr", has_text="Nguyễn Văn An").get_by_text("Chưa có thẻ").is_visible()
    screenshot(page, "lifecycle-2-issue-all-skipped")

    # A negative test dated after the revocation is recorded: the worker is eligible again.
    held_on = _backdate_hold(app, worker_id, 3)
    page.goto(f"/workers/{worker_id}/edit")
    page.select_option("select[name=test_kind]", "pcr")
    page.fill("input[name=tested_on]", format_date(held_on + timedelta(days=1)))
    page.click("main form button[type=submit]:has-text('Lưu')")
    page.wait_for_load_state()
    page.goto("/passes")
    row = page.locator("tr", has_text="Nguyễn Văn An")
    assert row.locator(".badge-eligible").is_visible()

    # Issuing again asks for confirmation, showing why the last card was revoked.
    row.locator("form[action$='/issue'] button[type=submit]").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Cấp lại thẻ?").is_visible()
    assert page.get_by_text("Người lao động dương tính với COVID-19 (F0)").is_visible()
    shot = screenshot(page, "lifecycle-3-reissue-confirmation")
    assert shot.stat().st_size > 10_000
    page.check("input[name=confirm]")
    page.click("form[action$='/issue'] button[type=submit]")
    page.wait_for_load_state()
    issued = page.locator(".flash-success").inner_text()
    assert issued.startswith("Đã cấp thẻ xanh") and issued.endswith("cho Nguyễn Văn An.")
    screenshot(page, "lifecycle-4-reissued")

    # The card history keeps both cards as printed, the first one revoked as "tested positive".
    page.goto(f"/passes/workers/{worker_id}/history")
    assert page.locator("table.card-history tbody tr").count() == 2
    assert page.get_by_text("Người lao động dương tính với COVID-19 (F0)").is_visible()
    screenshot(page, "lifecycle-5-card-history")
    assert not page.console_errors and not page.external_requests
