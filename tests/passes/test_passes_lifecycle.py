"""A card's lifecycle: typed revocation reasons, the hold after a positive test, confirmations, the card history."""
from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.clock import HCMC, format_date, local_today, start_of_local_day
from portal.eligibility.models import EligibilitySnapshot
from portal.extensions import db
from portal.passes.models import Pass, PassVersion
from portal.plugins.api import WorkerFacts, default_eligibility
from portal.plugins.types import Basis
from portal.workers.models import Worker

HOLD = "Dương tính ngày {day}; cần ghi nhận khỏi bệnh hoặc xét nghiệm âm tính sau ngày đó."


def _revoke(client, pass_id: int, reason: str, note: str = ""):
    return client.submit(f"/passes/{pass_id}/revoke", {"reason": reason, "note": note})


def _clean(worker, **changes):
    from portal.workers.validation import CleanWorker

    values = {field.name: getattr(worker, field.name, None) for field in dataclasses.fields(CleanWorker)}
    values["doses"] = tuple((dose.product, dose.given_on) for dose in worker.doses)
    values.update(changes)
    return CleanWorker(**values)


def _update(app, helpers, worker_id: int, actor: str, **changes) -> None:
    from portal.workers.services import update_worker

    with app.app_context():
        worker = db.session.get(Worker, worker_id)
        update_worker(db.session, helpers.registry, worker, _clean(worker, **changes), helpers.user(actor))
        db.session.commit()


def _backdate_hold(app, worker_id: int, days: int) -> date:
    """Move the positive-test revocation ``days`` back (a test dated after it can then lie in the past)."""
    day = local_today() - timedelta(days=days)
    with app.app_context():
        db.session.get(Worker, worker_id).tested_positive_on = day
        for pass_ in db.session.scalars(select(Pass).where(Pass.worker_id == worker_id, Pass.status == "revoked")):
            pass_.revoked_at = start_of_local_day(day) + timedelta(hours=9)
        db.session.commit()
    return day


def _snapshot(app, worker_id: int) -> EligibilitySnapshot:
    with app.app_context():
        row = db.session.get(EligibilitySnapshot, worker_id)
        db.session.expunge(row)
        return row


# ---------------------------------------------------------------------------
# Reasons
# ---------------------------------------------------------------------------

def test_hr_picks_a_typed_reason_from_the_issues_list(client, auth, world, helpers):
    pass_id = helpers.issue(world.worker_a, world.hr_a)
    auth.login(world.hr_a)
    page = client.get("/passes").get_data(as_text=True)
    form = page.split(f'action="/passes/{pass_id}/revoke"')[1].split("</form>")[0]
    offered = [part.split('"')[0] for part in form.split('<option value="')[1:]]
    assert offered == ["left", "f0", "data_error", "lost_card", "other"]
    assert "Thẻ có thông tin sai" in form and "Thẻ bị mất" in form
    assert _revoke(client, pass_id, "lost_card").status_code == 302
    revoked = helpers.pass_of(world.worker_a, active_only=False)
    assert revoked.revocation_code == "lost_card" and helpers.revocation_of(world.worker_a) == "Thẻ bị mất"
    # A lost card puts nobody on hold.
    assert _snapshot(helpers.app, world.worker_a).eligible


def test_the_old_code_mistake_is_stored_as_a_data_error(client, auth, world, helpers):
    pass_id = helpers.issue(world.worker_a, world.hr_a)
    auth.login(world.hr_a)
    assert _revoke(client, pass_id, "mistake").status_code == 302
    assert helpers.pass_of(world.worker_a, active_only=False).revocation_code == "data_error"
    assert helpers.revocation_of(world.worker_a) == "Thẻ có thông tin sai"


# ---------------------------------------------------------------------------
# The hold after a positive test
# ---------------------------------------------------------------------------

def test_the_rule_refuses_a_worker_on_hold_whatever_else_holds():
    facts = WorkerFacts(date_of_birth=date(1990, 1, 1), sex="F", shift="office", job_title="",
                        recovered_on=date(2026, 11, 1), positive_hold_since=date(2026, 11, 20))
    answer = default_eligibility(facts, date(2026, 12, 1))
    assert not answer.eligible and answer.basis == Basis.POSITIVE_HOLD
    assert "20/11/2026" in str(answer.reason)
    assert default_eligibility(dataclasses.replace(facts, positive_hold_since=None), date(2026, 12, 1)).eligible


def test_a_positive_test_revocation_holds_the_worker_until_a_later_negative_test(app, client, auth, world, helpers):
    pass_id = helpers.issue(world.worker_a, world.hr_a)
    auth.login(world.hr_a)
    assert _revoke(client, pass_id, "f0").status_code == 302
    today = local_today()
    snapshot = _snapshot(app, world.worker_a)
    assert not snapshot.eligible and snapshot.basis == "positive_hold"
    page = client.get("/passes").get_data(as_text=True)
    assert HOLD.format(day=format_date(today)) in page
    # No card by hand: the reason is the hold, in Vietnamese.
    response = client.submit(f"/passes/workers/{world.worker_a}/issue", {"confirm": "y"}, follow_redirects=True)
    assert HOLD.format(day=format_date(today)) in response.get_data(as_text=True)
    assert helpers.pass_of(world.worker_a) is None
    # Nor by "issue all": it says how many it skipped and why, before and after.
    other = helpers.add_worker(world.enterprise_a, "079092006666", "Mai Văn Tú")
    confirm = client.get("/passes/issue-all").get_data(as_text=True)
    assert "Bỏ qua 1 người lao động vì đã dương tính" in confirm and "Sẽ cấp 1 thẻ xanh mới." in confirm
    done = client.submit("/passes/issue-all", {"confirm": "y"}, follow_redirects=True).get_data(as_text=True)
    assert "Đã cấp 1 thẻ xanh" in done and "Trong đó 1 người bị bỏ qua vì đã dương tính" in done
    assert helpers.pass_of(world.worker_a) is None and helpers.pass_of(other) is not None

    held_on = _backdate_hold(app, world.worker_a, 5)
    # A negative test dated on the day of the revocation (or before) does not end the hold ...
    _update(app, helpers, world.worker_a, world.hr_a, test_kind="pcr", tested_on=held_on)
    snapshot = _snapshot(app, world.worker_a)
    assert not snapshot.eligible and snapshot.basis == "positive_hold"
    # ... one dated after it does.
    _update(app, helpers, world.worker_a, world.hr_a, test_kind="pcr", tested_on=held_on + timedelta(days=2))
    assert _snapshot(app, world.worker_a).eligible


def test_a_recovery_dated_after_the_revocation_ends_the_hold(app, client, auth, world, helpers):
    pass_id = helpers.issue(world.worker_a, world.hr_a)
    auth.login(world.hr_a)
    _revoke(client, pass_id, "f0")
    held_on = _backdate_hold(app, world.worker_a, 12)
    _update(app, helpers, world.worker_a, world.hr_a, recovered_on=held_on - timedelta(days=1))
    assert _snapshot(app, world.worker_a).basis == "positive_hold"
    _update(app, helpers, world.worker_a, world.hr_a, recovered_on=held_on + timedelta(days=10))
    assert _snapshot(app, world.worker_a).eligible


def test_a_unit_plugin_cannot_loosen_the_hold(app, world, helpers):
    from portal.eligibility.facts import evaluate
    from portal.plugins import hookimpl
    from portal.plugins.types import Eligibility

    class Lenient:
        @hookimpl(tryfirst=True)
        def portal_worker_eligibility(self, unit, worker, on_date):
            return Eligibility(True, Basis.VACCINATED, "everyone")

    with app.app_context():
        worker = db.session.get(Worker, world.worker_a)
        worker.tested_positive_on = local_today()
        plugin = Lenient()
        pm = helpers.registry.pm
        pm.register(plugin)
        try:
            answer = evaluate(helpers.registry, worker, local_today())
            worker.tested_positive_on = None
            assert str(evaluate(helpers.registry, worker, local_today()).reason) == "everyone"  # it is asked
        finally:
            pm.unregister(plugin)
        db.session.rollback()
    assert not answer.eligible and answer.basis == Basis.POSITIVE_HOLD


# ---------------------------------------------------------------------------
# Confirmations
# ---------------------------------------------------------------------------

def test_issuing_again_after_a_revocation_asks_for_confirmation_and_is_audited(app, client, auth, world, helpers):
    pass_id = helpers.issue(world.worker_a, world.hr_a)
    auth.login(world.hr_a)
    _revoke(client, pass_id, "data_error")
    response = client.submit(f"/passes/workers/{world.worker_a}/issue", {"next": "/passes?show=all"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/passes/workers/{world.worker_a}/issue")
    assert helpers.pass_of(world.worker_a) is None
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    revoked = helpers.pass_of(world.worker_a, active_only=False)
    assert f"Thẻ {revoked.serial} của người lao động này đã bị thu hồi ngày {format_date(local_today())}." in page
    assert "Thẻ có thông tin sai" in page and 'name="confirm"' in page
    assert 'name="next" value="/passes?show=all"' in page
    response = client.submit(f"/passes/workers/{world.worker_a}/issue", {"confirm": "y", "next": "/passes?show=all"})
    assert response.headers["Location"] == "/passes?show=all"
    new = helpers.pass_of(world.worker_a)
    assert new is not None and new.serial != revoked.serial
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "pass.reissued"))
        assert event.actor_label == world.hr_a and event.object_id == new.id and event.reason == "data_error"
        assert event.before["serial"] == revoked.serial and event.after["confirmed"] is True
    # Without a revocation there is nothing to confirm: the page sends HR back.
    assert client.get(f"/passes/workers/{world.worker_a}/issue").headers["Location"] == "/passes"


def test_issue_all_counts_and_audits_the_workers_issued_again(app, client, auth, world, helpers):
    pass_id = helpers.issue(world.worker_a, world.hr_a)
    auth.login(world.hr_a)
    _revoke(client, pass_id, "lost_card")
    confirm = client.get("/passes/issue-all").get_data(as_text=True)
    assert "Trong đó 1 thẻ cấp cho người lao động có thẻ gần nhất đã bị thu hồi." in confirm
    client.submit("/passes/issue-all", {"confirm": "y"})
    assert helpers.pass_of(world.worker_a) is not None
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "pass.reissued")).reason == "lost_card"


# ---------------------------------------------------------------------------
# The card history, and the checkpoint's view of an older card
# ---------------------------------------------------------------------------

def test_every_version_is_kept_as_printed_with_how_it_ended(app, client, auth, world, helpers):
    pass_id = helpers.issue(world.worker_a, world.hr_a)
    first = helpers.pass_of(world.worker_a)
    _update(app, helpers, world.worker_a, world.hr_a, home_ward="Phường Tân Phong")
    auth.login(world.hr_a)
    _revoke(client, pass_id, "left", "chuyển công tác")
    with app.app_context():
        versions = db.session.scalars(select(PassVersion).where(PassVersion.pass_id == pass_id)
                                      .order_by(PassVersion.version)).all()
        assert [v.version for v in versions] == [1, 2]
        one, two = versions
        assert one.route_from == first.route_from and "Tân Phong" not in one.route_from
        assert "Phường Tân Phong" in two.route_from
        assert one.holder_name == "Nguyễn Văn An" and one.windows == first.windows
        assert one.end_kind == "superseded" and one.ended_at is not None and one.end_code == "worker_data_changed"
        assert one.ended_by.email == world.hr_a and two.issued_at == one.ended_at
        assert two.end_kind == "revoked" and two.end_code == "left" and two.ended_by.email == world.hr_a
    page = client.get(f"/passes/workers/{world.worker_a}/history").get_data(as_text=True)
    assert page.count(f'data-serial="{first.serial}"') == 2
    assert "Đã được thay bằng phiên bản mới" in page and "Thông tin người lao động thay đổi" in page
    assert "— chuyển công tác" in page
    assert first.route_from in page
    # The cards page links to it, even once the worker holds no card.
    assert f'href="/passes/workers/{world.worker_a}/history"' in client.get("/passes").get_data(as_text=True)


@pytest.mark.parametrize("who, outcome", [("hr_a", 200), ("official_x", 200), ("admin", 200), ("hr_b", 404),
                                          ("official_y", 404), ("anonymous", 302)])
def test_who_sees_a_workers_card_history(client, auth, world, helpers, who, outcome):
    helpers.issue(world.worker_a, world.hr_a)
    if who != "anonymous":
        auth.login(getattr(world, who))
    response = client.get(f"/passes/workers/{world.worker_a}/history")
    assert response.status_code == outcome
    if outcome == 302:
        assert "/login" in response.headers["Location"]
    if outcome == 200:
        assert "Nguyễn Văn An" in response.get_data(as_text=True)


@pytest.mark.parametrize("who, outcome", [("hr_a", 200), ("hr_b", 404), ("official_x", 403), ("official_y", 403),
                                          ("admin", 403), ("anonymous", 302)])
def test_who_sees_the_confirmation_pages(client, auth, world, helpers, who, outcome):
    pass_id = helpers.issue(world.worker_a, world.hr_a)
    auth.login(world.hr_a)
    _revoke(client, pass_id, "other", "thử")
    auth.logout()
    if who != "anonymous":
        auth.login(getattr(world, who))
    reissue = client.get(f"/passes/workers/{world.worker_a}/issue")
    assert reissue.status_code == outcome
    everyone = client.get("/passes/issue-all")
    assert everyone.status_code == (200 if who in ("hr_a", "hr_b") else outcome)


def test_the_checkpoint_shows_a_superseded_card_with_its_printed_route(app, client, world, helpers):
    from portal.printing.card import build_card
    from portal.verify.services import verify

    pass_id = helpers.issue(world.worker_a, world.hr_a)
    printed = helpers.pass_of(world.worker_a).route_from
    with app.app_context():
        old_token = build_card(db.session.get(Pass, pass_id), helpers.registry, base_url="https://x.test").token
    _update(app, helpers, world.worker_a, world.hr_a, home_ward="Phường Tân Phong")
    now = datetime.combine(local_today(), time(7), tzinfo=HCMC)
    with app.app_context():
        result = verify(db.session, old_token, now=now)
    assert result.outcome.value == "superseded" and result.version == 1
    assert result.route_from == printed and "Tân Phong" not in result.route_from
    page = client.get(f"/v/{old_token}").get_data(as_text=True)
    assert printed in page and "Phường Tân Phong" not in page
    answer = client.get(f"/api/v1/verify/{old_token}").get_json()
    assert answer["outcome"] == "superseded" and answer["pass"]["route_from"] == printed
    assert answer["pass"]["as_printed"] is True


def test_suspending_an_enterprise_asks_first_with_the_number_of_cards_it_revokes(app, client, auth, world, helpers):
    helpers.issue(world.worker_a, world.hr_a)
    other = helpers.add_worker(world.enterprise_a, "079092006666", "Mai Văn Tú")
    helpers.issue(other, world.hr_a)
    auth.login(world.official_x)
    decision = {"action": "suspend", "reason": "Phát hiện ca F0", "version": "1"}
    response = client.submit(f"/enterprises/{world.enterprise_a}/decision", decision)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-cards="2"' in page
    assert "Thao tác này thu hồi ngay 2 thẻ xanh đang hiệu lực của doanh nghiệp." in page
    assert 'name="confirm"' in page and 'name="reason" value="Phát hiện ca F0"' in page
    assert helpers.pass_of(world.worker_a) is not None  # nothing changed yet
    with app.app_context():
        from portal.enterprises.models import Enterprise

        assert db.session.get(Enterprise, world.enterprise_a).status == "approved"
    response = client.submit(f"/enterprises/{world.enterprise_a}/decision", {**decision, "confirm": "y"})
    assert response.status_code == 302
    assert helpers.pass_of(world.worker_a) is None and helpers.pass_of(other) is None
    assert helpers.pass_of(world.worker_a, active_only=False).revocation_code == "enterprise_suspended"


def test_the_count_is_the_services_and_only_active_cards_count(app, world, helpers):
    from portal.enterprises.decisions import cards_at_stake
    from portal.enterprises.models import Enterprise
    from portal.passes.revoking import revoke_pass

    pass_id = helpers.issue(world.worker_a, world.hr_a)
    helpers.issue(helpers.add_worker(world.enterprise_a, "079092006666", "Mai Văn Tú"), world.hr_a)
    with app.test_request_context():
        enterprise = db.session.get(Enterprise, world.enterprise_a)
        assert cards_at_stake(db.session, enterprise) == 2
        revoke_pass(db.session, helpers.registry, db.session.get(Pass, pass_id), None, "lost_card")
        assert cards_at_stake(db.session, enterprise) == 1
        assert cards_at_stake(db.session, db.session.get(Enterprise, world.enterprise_b)) == 0
        db.session.rollback()


def test_the_report_counts_each_supersession_when_it_happened(app, world, helpers):
    from portal.clock import utcnow
    from portal.dashboard.figures import collect_figures
    from portal.dashboard.scope import Scope
    from portal.dashboard.tally import total

    pass_id = helpers.issue(world.worker_a, world.hr_a)
    _update(app, helpers, world.worker_a, world.hr_a, home_ward="Phường Tân Phong")
    _update(app, helpers, world.worker_a, world.hr_a, home_ward="Phường Tân Hưng")
    with app.app_context():
        first = db.session.scalar(select(PassVersion).where(PassVersion.pass_id == pass_id, PassVersion.version == 1))
        first.ended_at = start_of_local_day(local_today() - timedelta(days=20)) + timedelta(hours=10)
        db.session.commit()
        today = local_today()

        def superseded(first_day, last_day):
            figures = collect_figures(db.session, helpers.registry, Scope(None), now=utcnow(), first_day=first_day,
                                      last_day=last_day, flows=True)
            return total(figures.pass_flows, state="superseded")

        assert superseded(today - timedelta(days=6), today) == 1  # version 2, replaced today
        assert superseded(today - timedelta(days=30), today) == 2
        assert superseded(today - timedelta(days=30), today - timedelta(days=10)) == 1  # version 1, 20 days ago


@pytest.mark.parametrize("value, expected", [("y", True), ("1", True), ("on", True), (" Yes ", True), ("", False),
                                             ("0", False), ("n", False), (None, False)])
def test_what_counts_as_a_ticked_confirmation_box(value, expected):
    from portal.forms import confirmed

    assert confirmed({} if value is None else {"confirm": value}) is expected
