"""Two officials deciding at once, in real concurrent transactions (threads, each with its own session)."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, insert, select

from portal import events
from portal.audit.models import AuditEvent
from portal.auth.models import User
from portal.enterprises.decisions import Decision, decide
from portal.enterprises.models import Enterprise
from portal.messages import Conflict, Refusal
from portal.plugins import hookimpl
from portal.testing.fixtures import make_enterprise
from portal.units.services import unit_row

#: How long each transaction lingers inside its critical section, so that the two really overlap.
LINGER_SECONDS = 0.4


class SlowAdmission:
    """A plugin that takes its time before leaving admission to the unit (as a remote check would)."""

    @hookimpl(tryfirst=True)
    def portal_admit_enterprise(self, unit, enterprise, approved_count):
        time.sleep(LINGER_SECONDS)
        return None


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PORTAL_EXTRA_PLUGINS": [SlowAdmission()]}


def _linger(_enterprise, **_kwargs):
    time.sleep(LINGER_SECONDS)


def _race(app, registry, *calls):
    """Run each (enterprise id, action, official email, reason, version) in its own thread and app context."""
    from portal.extensions import db

    start = threading.Barrier(len(calls))

    def run(call):
        enterprise_id, action, email, reason, version = call
        with app.app_context():
            actor = db.session.scalar(select(User).where(User.email == email))
            db.session.commit()  # end the read so that each decision starts its own transaction
            start.wait()
            try:
                decision = decide(db.session, registry, enterprise_id, action, actor, reason, version)
                db.session.commit()  # as the view does
                return decision
            except Refusal as refusal:
                db.session.rollback()
                return refusal

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def _pending(app, registry, name: str, tax_code: str) -> int:
    from portal.extensions import db

    with app.app_context():
        enterprise = make_enterprise(db.session, registry, "district7", name, tax_code, status="pending")
        db.session.commit()
        return enterprise.id


def test_approve_and_reject_at_once_end_in_one_state_with_one_event(app, world, registry):
    from portal.extensions import db

    enterprise_id = _pending(app, registry, "Công ty CP Logistics Phú Mỹ", "0311112225")
    with events.enterprise_status_changed.connected_to(_linger):
        outcomes = _race(app, registry,
                         (enterprise_id, "approve", world.official_x, None, 1),
                         (enterprise_id, "reject", world.admin, "Thiếu hồ sơ", 1))

    decisions = [o for o in outcomes if isinstance(o, Decision)]
    conflicts = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(decisions) == 1 and len(conflicts) == 1, outcomes
    with app.app_context():
        enterprise = db.session.get(Enterprise, enterprise_id)
        trail = db.session.scalars(select(AuditEvent).where(AuditEvent.object_id == enterprise_id,
                                                            AuditEvent.object_type == "enterprises")).all()
        assert enterprise.status == decisions[0].after and enterprise.version == 2
        assert [(e.action, e.after["status"]) for e in trail] == [
            (f"enterprise.{'approved' if decisions[0].action == 'approve' else 'rejected'}", enterprise.status)]


def test_two_approvals_racing_for_the_150th_place_admit_only_one(app, world, registry):
    from portal.extensions import db

    with app.app_context():
        unit = unit_row(db.session, registry, "district7")
        db.session.execute(insert(Enterprise), [
            {"name": f"Doanh nghiệp {n}", "tax_code": f"9{n:09d}", "address": "1 Nguyễn Văn Linh",
             "ward": "Tân Phong", "district": "Quận 7", "unit_id": unit.id, "business_type": "essential_trading",
             "sector": "food_retail", "headcount": 10, "contact_name": "Lê Văn A", "phone": "0909000000",
             "email": "a@example.vn", "status": "approved"}
            for n in range(148)])  # with the world's enterprise A: 149 approved
        db.session.commit()
    first = _pending(app, registry, "Công ty CP Logistics Phú Mỹ", "0311112225")
    second = _pending(app, registry, "Công ty TNHH Dược phẩm Tân Phong", "0311113336")

    outcomes = _race(app, registry,
                     (first, "approve", world.official_x, None, 1),
                     (second, "approve", world.admin, None, 1))

    admitted = [o for o in outcomes if isinstance(o, Decision)]
    refused = [o for o in outcomes if isinstance(o, Refusal)]
    assert len(admitted) == 1 and len(refused) == 1, outcomes
    with app.test_request_context():
        assert "Quận 7 đã duyệt đủ 150 doanh nghiệp thí điểm" in str(refused[0].message)
    with app.app_context():
        approved = db.session.scalar(select(func.count()).select_from(Enterprise).where(
            Enterprise.unit_id == unit_row(db.session, registry, "district7").id, Enterprise.status == "approved"))
        assert approved == 150
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "enterprise.approved")) == 1
