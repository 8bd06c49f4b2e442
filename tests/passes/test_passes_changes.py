"""A card follows its worker: edits give a new version, leaving or losing eligibility revokes it,
and an enterprise's suspension revokes them all, inside the transaction that made the change."""
from __future__ import annotations

import dataclasses
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.clock import HCMC, local_today
from portal.enterprises.models import Enterprise
from portal.events import enterprise_status_changed, workers_changed
from portal.extensions import db
from portal.passes.models import Pass
from portal.text import fold
from portal.workers.models import Worker


def _clean(worker, **changes):
    from portal.workers.validation import CleanWorker

    values = {field.name: getattr(worker, field.name, None) for field in dataclasses.fields(CleanWorker)}
    values["doses"] = tuple((dose.product, dose.given_on) for dose in worker.doses)
    values.update(changes)
    if "full_name" in changes:
        values["name_key"] = fold(changes["full_name"])
    return CleanWorker(**values)


def _token(app, pass_id: int) -> str:
    from portal.printing.card import build_card

    with app.app_context():
        pass_ = db.session.get(Pass, pass_id)
        return build_card(pass_, app.extensions["portal.plugins"].registry, base_url="https://thexanh.test").token


def _token_outcome(app, token: str) -> str:
    """Return what a checkpoint sees for ``token`` at 07:00 today (inside the to-work window)."""
    from portal.verify.services import verify

    at_seven = datetime.combine(local_today(), time(7, 0), tzinfo=HCMC)
    with app.app_context():
        result = verify(db.session, token, now=at_seven)
        return result.outcome.value


def test_editing_the_workers_name_issues_a_new_version_and_supersedes_the_old_qr(app, world, helpers):
    from portal.workers.services import update_worker

    pass_id = helpers.issue(world.worker_a, world.hr_a)
    before = helpers.pass_of(world.worker_a)
    old_token = _token(app, pass_id)
    assert _token_outcome(app, old_token) == "valid"
    with app.app_context():
        worker = db.session.get(Worker, world.worker_a)
        update_worker(db.session, helpers.registry, worker, _clean(worker, full_name="Nguyễn Văn Anh"),
                      helpers.user(world.hr_a))
        db.session.commit()
    after = helpers.pass_of(world.worker_a)
    assert (after.id, after.serial, after.version) == (before.id, before.serial, 2)
    assert after.content_digest != before.content_digest
    assert (after.valid_from, after.valid_until) == (before.valid_from, before.valid_until)  # an edit does not extend
    assert _token_outcome(app, old_token) == "superseded"
    assert _token_outcome(app, _token(app, pass_id)) == "valid"
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "pass.new_version"))
        assert event.before["version"] == 1 and event.after["version"] == 2


def test_a_change_the_card_does_not_carry_keeps_the_version(app, world, helpers):
    from portal.workers.services import update_worker

    helpers.issue(world.worker_a, world.hr_a)
    with app.app_context():
        worker = db.session.get(Worker, world.worker_a)
        update_worker(db.session, helpers.registry, worker, _clean(worker, job_title="Thủ kho", phone="0912345678"),
                      helpers.user(world.hr_a))
        db.session.commit()
    assert helpers.pass_of(world.worker_a).version == 1


def test_a_new_shift_changes_the_windows(app, world, helpers):
    """Sent the way the workers feature sends it, for a change made by other means (an import)."""
    from portal.testing.fixtures import make_enterprise

    with app.app_context():
        plant = make_enterprise(db.session, helpers.registry, "hitech_park", "Công ty TNHH Vi Mạch", "0309876543")
        db.session.commit()
        plant_id = plant.id
    worker_id = helpers.add_worker(plant_id, "079092005555", "Đinh Văn Lực", shift="shift1")
    helpers.issue(worker_id, world.admin)
    before = helpers.pass_of(worker_id)
    with app.app_context():
        worker = db.session.get(Worker, worker_id)
        worker.shift = "shift3"
        workers_changed.send(worker.enterprise, session=db.session, registry=helpers.registry, actor=None,
                             worker_ids=[worker.id])
        db.session.commit()
    after = helpers.pass_of(worker_id)
    assert after.version == 2 and after.windows != before.windows
    assert after.windows == [{"start": "21:00", "end": "22:15", "direction": "to_work"},
                             {"start": "05:45", "end": "07:30", "direction": "to_home"}]


def test_an_edit_that_makes_the_worker_ineligible_revokes_the_card(app, world, helpers):
    from portal.workers.services import update_worker

    helpers.issue(world.worker_a, world.hr_a)
    with app.app_context():
        worker = db.session.get(Worker, world.worker_a)
        # The second dose was registered by mistake: one dose is not enough.
        one_dose = (("astrazeneca", local_today() - timedelta(days=60)),)
        update_worker(db.session, helpers.registry, worker, _clean(worker, doses=one_dose), helpers.user(world.hr_a))
        db.session.commit()
    assert helpers.pass_of(world.worker_a) is None
    revoked = helpers.pass_of(world.worker_a, active_only=False)
    assert (revoked.status, revoked.revocation_code) == ("revoked", "not_eligible")
    assert helpers.revocation_of(world.worker_a) == ("Không còn đủ điều kiện — Đã tiêm 1 trên 2 mũi vắc xin "
                                                     "AstraZeneca.")


def test_a_worker_who_leaves_loses_the_card(app, world, helpers):
    from portal.workers.services import deactivate_worker

    helpers.issue(world.worker_a, world.hr_a)
    with app.app_context():
        worker = db.session.get(Worker, world.worker_a)
        deactivate_worker(db.session, helpers.registry, worker, helpers.user(world.hr_a), left_on=local_today(),
                          reason="Chuyển công ty")
        db.session.commit()
    revoked = helpers.pass_of(world.worker_a, active_only=False)
    assert (revoked.status, revoked.revocation_code) == ("revoked", "left")
    assert helpers.revocation_of(world.worker_a) == "Người lao động đã nghỉ việc — Chuyển công ty"


def _set_status_as_the_enterprises_feature_does(app, enterprise_id: int, status: str, reason: str, *, commit=True):
    with app.app_context():
        enterprise = db.session.get(Enterprise, enterprise_id)
        before = enterprise.status
        enterprise.status, enterprise.status_reason = status, reason
        registry = app.extensions["portal.plugins"].registry
        enterprise_status_changed.send(enterprise, session=db.session, registry=registry, actor=None, before=before,
                                       after=status, reason=reason)
        if commit:
            db.session.commit()
        else:
            db.session.rollback()


def test_suspending_the_enterprise_revokes_all_its_cards(app, world, helpers):
    others = [helpers.add_worker(world.enterprise_a, f"07909230{n:04d}", f"Nhân Viên {n}") for n in range(3)]
    for worker_id in [world.worker_a, *others]:
        helpers.issue(worker_id, world.hr_a)
    helpers.set_status(world.enterprise_b, "approved")
    helpers.issue(world.worker_b, world.hr_b)
    _set_status_as_the_enterprises_feature_does(app, world.enterprise_a, "suspended", "Có ca F0 trong xưởng")
    for worker_id in [world.worker_a, *others]:
        pass_ = helpers.pass_of(worker_id, active_only=False)
        assert (pass_.status, pass_.revocation_code) == ("revoked", "enterprise_suspended")
        assert helpers.revocation_of(worker_id) == "Doanh nghiệp bị tạm dừng tham gia thí điểm — Có ca F0 trong xưởng"
    assert helpers.pass_of(world.worker_b).status == "active"  # another enterprise


def test_a_suspension_that_rolls_back_leaves_the_cards_active(app, world, helpers):
    helpers.issue(world.worker_a, world.hr_a)
    _set_status_as_the_enterprises_feature_does(app, world.enterprise_a, "suspended", "thử", commit=False)
    assert helpers.pass_of(world.worker_a).status == "active"


def test_a_real_suspension_by_an_official_revokes_the_cards(app, world, helpers):
    from portal.enterprises.decisions import decide

    helpers.issue(world.worker_a, world.hr_a)
    with app.app_context():
        enterprise = db.session.get(Enterprise, world.enterprise_a)
        decide(db.session, app.extensions["portal.plugins"].registry, enterprise.id, "suspend",
               helpers.user(world.official_x), "Vi phạm 5K", enterprise.version)
        db.session.commit()  # as the view does
    pass_ = helpers.pass_of(world.worker_a, active_only=False)
    assert pass_.status == "revoked"
    assert helpers.revocation_of(world.worker_a) == "Doanh nghiệp bị tạm dừng tham gia thí điểm — Vi phạm 5K"


def test_a_reinstated_enterprise_issues_new_cards(client, auth, app, world, helpers):
    helpers.issue(world.worker_a, world.hr_a)
    old = helpers.pass_of(world.worker_a)
    _set_status_as_the_enterprises_feature_does(app, world.enterprise_a, "suspended", "tạm dừng")
    _set_status_as_the_enterprises_feature_does(app, world.enterprise_a, "approved", None)
    # Issuing again after a revocation (here, the suspension's) needs HR's confirmation.
    from portal.passes.issuing import ReissueNotConfirmed

    with pytest.raises(ReissueNotConfirmed):
        helpers.issue(world.worker_a, world.hr_a)
    new_id = helpers.issue(world.worker_a, world.hr_a, confirmed=True)
    new = helpers.pass_of(world.worker_a)
    assert new.id == new_id != old.id and new.serial != old.serial and new.version == 1
