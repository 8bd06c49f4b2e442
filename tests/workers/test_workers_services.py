"""Writing workers: events, audit, the one-active-registration rule (race included), bulk upsert."""
from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from portal.audit.models import AuditEvent
from portal.events import workers_changed, workers_deactivated
from portal.extensions import db
from portal.messages import Message, Refusal
from portal.text import fold
from portal.workers import services
from portal.workers.identity import make_cccd
from portal.workers.models import VaccineDose, Worker
from portal.workers.validation import CleanWorker

A_NAME, A_TAX = "Công ty TNHH Ánh Dương", "0301234562"


def clean(citizen_id: str = "079090005678", name: str = "Nguyễn Văn An", doses=(("pfizer", date(2021, 8, 1)),),
          **changes) -> CleanWorker:
    worker = CleanWorker(
        full_name=name, name_key=fold(name), date_of_birth=date(1990, 5, 17), sex="M", citizen_id=citizen_id,
        phone="0909123456", home_address="45 Lê Văn Lương", home_ward="Tân Hưng", home_district="Quận 7",
        job_title="Công nhân", shift="office", doses=tuple(doses), recovered_on=None, test_kind=None,
        tested_on=None,
    )
    return replace(worker, **changes)


@pytest.fixture
def ctx(app, world):
    """An app context with the two enterprises and HR A loaded."""
    from portal.auth.models import User
    from portal.enterprises.models import Enterprise

    with app.test_request_context():
        session = db.session
        yield {
            "session": session,
            "a": session.get(Enterprise, world.enterprise_a),
            "b": session.get(Enterprise, world.enterprise_b),
            "hr_a": session.scalar(select(User).where(User.email == world.hr_a)),
            "hr_b": session.scalar(select(User).where(User.email == world.hr_b)),
            "registry": registry(app),
        }


@pytest.fixture
def heard():
    """Record what workers_changed and workers_deactivated send."""
    calls = []

    def changed(sender, **kwargs):
        calls.append(("changed", sender.id, kwargs["actor"], sorted(kwargs["worker_ids"]), kwargs["session"]))

    def deactivated(sender, **kwargs):
        calls.append(("deactivated", sender.id, kwargs["actor"], sorted(kwargs["worker_ids"]), kwargs["reason"]))

    workers_changed.connect(changed)
    workers_deactivated.connect(deactivated)
    try:
        yield calls
    finally:
        workers_changed.disconnect(changed)
        workers_deactivated.disconnect(deactivated)


def registry(app):
    return app.extensions["portal.plugins"].registry


def audit(session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def active_count(session, citizen_id: str) -> int:
    return session.scalar(select(func.count()).select_from(Worker)
                          .where(Worker.citizen_id == citizen_id, Worker.active.is_(True)))


def test_create_worker_sends_event_and_audits(ctx, heard):
    session = ctx["session"]
    worker = services.create_worker(session, ctx["registry"], ctx["a"], clean(), ctx["hr_a"])
    session.commit()
    assert worker.id and worker.active and worker.enterprise_id == ctx["a"].id
    assert [(d.number, d.product, d.given_on) for d in worker.doses] == [(1, "pfizer", date(2021, 8, 1))]
    assert heard == [("changed", ctx["a"].id, ctx["hr_a"], [worker.id], session)]
    [created] = audit(session, "worker.created")
    assert created.object_id == worker.id and created.actor_id == ctx["hr_a"].id
    assert created.enterprise_id == ctx["a"].id and created.unit_id == ctx["a"].unit_id
    assert created.after["citizen_id"] == "••••••••5678"  # the trail keeps no full ID


def test_an_id_active_elsewhere_is_refused_without_saying_where(ctx, heard):
    session = ctx["session"]
    services.create_worker(session, ctx["registry"], ctx["a"], clean(), ctx["hr_a"])
    session.commit()
    heard.clear()
    with pytest.raises(Refusal) as refused:
        services.create_worker(session, ctx["registry"], ctx["b"], clean(name="Trần Văn Bình"), ctx["hr_b"])
    session.rollback()
    message = str(refused.value)
    assert message == "Số CCCD/CMND này đã được một doanh nghiệp khác đăng ký."
    for secret in (A_NAME, A_TAX, "Ánh Dương", "Nguyễn Văn An"):
        assert secret not in message
    assert refused.value.field == "citizen_id" and refused.value.message == Message.of(services.TAKEN_MESSAGE)
    assert heard == []
    assert session.scalar(select(func.count()).select_from(Worker).where(Worker.enterprise_id == ctx["b"].id)) == 1


def test_after_leaving_the_id_may_be_registered_again(ctx, heard):
    session = ctx["session"]
    worker = services.create_worker(session, ctx["registry"], ctx["a"], clean(), ctx["hr_a"])
    session.commit()
    services.deactivate_worker(session, ctx["registry"], worker, ctx["hr_a"], left_on=date(2021, 9, 30),
                               reason="Nghỉ việc")
    session.commit()
    assert (worker.active, worker.left_on) == (False, date(2021, 9, 30))
    assert heard[-1] == ("deactivated", ctx["a"].id, ctx["hr_a"], [worker.id], "Nghỉ việc")
    [left] = audit(session, "worker.deactivated")
    assert left.reason == "Nghỉ việc" and left.after == {"active": False, "left_on": "2021-09-30"}

    again = services.create_worker(session, ctx["registry"], ctx["b"], clean(), ctx["hr_b"])
    session.commit()
    assert again.enterprise_id == ctx["b"].id
    assert active_count(session, "079090005678") == 1
    with pytest.raises(Refusal, match="đã nghỉ việc"):
        services.deactivate_worker(session, ctx["registry"], worker, ctx["hr_a"], left_on=date(2021, 9, 30), reason="x")
    with pytest.raises(Refusal, match="đã nghỉ việc"):
        services.update_worker(session, ctx["registry"], worker, clean(), ctx["hr_a"])


def test_same_enterprise_twice_is_refused(ctx):
    session = ctx["session"]
    first = services.create_worker(session, ctx["registry"], ctx["a"], clean(), ctx["hr_a"])
    session.commit()
    with pytest.raises(Refusal) as refused:
        services.create_worker(session, ctx["registry"], ctx["a"], clean(), ctx["hr_a"])
    assert refused.value.field == "citizen_id" and active_count(session, first.citizen_id) == 1
    assert str(refused.value) == "Doanh nghiệp của bạn đã đăng ký một người lao động với số CCCD/CMND này."


def test_race_with_another_enterprise_ends_in_the_same_message(app, ctx, heard):
    """B registers the ID in another transaction while A checks and inserts it.

    On PostgreSQL A's check cannot see B's uncommitted row: A's insert waits on the unique index, fails
    when B commits, and the savepoint turns that into the usual refusal. SQLite serialises writers, so
    there A waits at its first statement and its check sees B's row.
    """
    session = ctx["session"]
    b_id, hr_b_id = ctx["b"].id, ctx["hr_b"].id
    flushed, failures = threading.Event(), []

    def register_in_b():
        from portal.auth.models import User
        from portal.enterprises.models import Enterprise

        try:
            with app.app_context():
                other = db.session
                services.create_worker(other, registry(app), other.get(Enterprise, b_id), clean(name="Người khác"),
                                       other.get(User, hr_b_id))
                flushed.set()
                time.sleep(0.5)
                other.commit()
        except Exception as error:  # reported by the main thread
            failures.append(error)
            flushed.set()

    session.commit()
    thread = threading.Thread(target=register_in_b)
    thread.start()
    assert flushed.wait(10)
    try:
        with pytest.raises(Refusal) as refused:
            services.create_worker(session, ctx["registry"], ctx["a"], clean(), ctx["hr_a"])
    finally:
        thread.join(10)
    assert failures == []
    assert str(refused.value) == "Số CCCD/CMND này đã được một doanh nghiệp khác đăng ký."
    if session.get_bind().dialect.name == "postgresql":
        assert isinstance(refused.value.__cause__, IntegrityError)  # the index, not the check, caught it
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Worker).where(Worker.enterprise_id == ctx["a"].id)) == 1
    assert active_count(session, "079090005678") == 1
    assert [call[1] for call in heard] == [b_id]  # only B's registration was announced
    assert [e.enterprise_id for e in audit(session, "worker.created")] == [b_id]


def test_update_changes_doses_in_place_and_audits_the_difference(ctx, heard):
    session = ctx["session"]
    worker = services.create_worker(session, ctx["registry"], ctx["a"],
                                    clean(doses=[("astrazeneca", date(2021, 7, 1))]), ctx["hr_a"])
    session.commit()
    heard.clear()
    three = [("astrazeneca", date(2021, 7, 1)), ("astrazeneca", date(2021, 8, 1)), ("pfizer", date(2021, 9, 1))]
    services.update_worker(session, ctx["registry"], worker, clean(doses=three, phone="0912345678"), ctx["hr_a"])
    session.commit()
    session.expire_all()
    assert [(d.number, d.product, d.given_on) for d in worker.doses] == [
        (1, "astrazeneca", date(2021, 7, 1)), (2, "astrazeneca", date(2021, 8, 1)), (3, "pfizer", date(2021, 9, 1))]
    [updated] = audit(session, "worker.updated")
    assert updated.before == {"doses": [["astrazeneca", "2021-07-01"]], "phone": "0909123456"}
    assert updated.after["phone"] == "0912345678" and len(updated.after["doses"]) == 3
    assert heard == [("changed", ctx["a"].id, ctx["hr_a"], [worker.id], session)]

    services.update_worker(session, ctx["registry"], worker,
                           clean(doses=[("moderna", date(2021, 9, 15))], phone="0912345678"), ctx["hr_a"])
    session.commit()
    session.expire_all()
    assert [(d.number, d.product) for d in worker.doses] == [(1, "moderna")]
    assert session.scalar(select(func.count()).select_from(VaccineDose)
                          .where(VaccineDose.worker_id == worker.id)) == 1


def test_update_without_change_writes_nothing(ctx, heard):
    session = ctx["session"]
    worker = services.create_worker(session, ctx["registry"], ctx["a"], clean(), ctx["hr_a"])
    session.commit()
    heard.clear()
    services.update_worker(session, ctx["registry"], worker, clean(), ctx["hr_a"])
    session.commit()
    assert heard == [] and audit(session, "worker.updated") == []


def test_changing_the_id_to_one_taken_elsewhere_is_refused(ctx):
    session = ctx["session"]
    worker = services.create_worker(session, ctx["registry"], ctx["a"], clean(citizen_id="079090005555"), ctx["hr_a"])
    session.commit()
    with pytest.raises(Refusal):
        # 079190004321 is worker B's (the world fixture).
        services.update_worker(session, ctx["registry"], worker, clean(citizen_id="079190004321", sex="F"), ctx["hr_a"])
    session.rollback()
    session.refresh(worker)
    assert worker.citizen_id == "079090005555"


def test_active_elsewhere(ctx):
    session = ctx["session"]
    assert services.active_elsewhere(session, ["079190004321", "079090005678", "1"], ctx["a"].id) == {"079190004321"}
    assert services.active_elsewhere(session, ["079190004321"], ctx["b"].id) == set()


def _many(count: int, start: int = 0, **changes) -> list[CleanWorker]:
    born = date(1990, 5, 17)
    return [clean(citizen_id=make_cccd(79, born, "M", 500_000 + start + n), name=f"Lê Văn Số {chr(65 + n % 26)}",
                  **changes) for n in range(count)]


def test_upsert_creates_updates_and_leaves_unchanged(ctx, heard):
    session = ctx["session"]
    first = _many(5)
    result = services.upsert_workers(session, ctx["registry"], ctx["a"], first, ctx["hr_a"])
    session.commit()
    assert result.created == [c.citizen_id for c in first]
    assert result.updated == result.unchanged == []
    stored = {w.citizen_id: w for w in session.scalars(select(Worker).where(Worker.citizen_id.in_(result.created)))}
    assert {cid: w.id for cid, w in stored.items()} == result.worker_ids
    assert [(d.product, d.given_on) for d in stored[first[0].citizen_id].doses] == [("pfizer", date(2021, 8, 1))]

    second = first[:2] + [replace(first[2], phone="0912345678", doses=(("moderna", date(2021, 9, 1)),))] + _many(1, 50)
    heard.clear()
    result = services.upsert_workers(session, ctx["registry"], ctx["a"], second, ctx["hr_a"])
    session.commit()
    assert result.unchanged == [first[0].citizen_id, first[1].citizen_id]
    assert result.updated == [first[2].citizen_id]
    assert result.created == [second[3].citizen_id]
    changed = session.get(Worker, result.worker_ids[first[2].citizen_id])
    assert changed.phone == "0912345678"
    assert [(d.number, d.product) for d in changed.doses] == [(1, "moderna")]
    assert heard == [("changed", ctx["a"].id, ctx["hr_a"],
                      sorted([result.worker_ids[first[2].citizen_id], result.worker_ids[second[3].citizen_id]]),
                      session)]
    summaries = audit(session, "workers.bulk_upsert")
    assert [s.after for s in summaries] == [{"created": 5, "updated": 0, "unchanged": 0},
                                            {"created": 1, "updated": 1, "unchanged": 2}]
    assert audit(session, "worker.created") == []  # one summary, not one event per row


def test_upsert_refuses_everything_when_an_id_is_active_elsewhere(ctx, heard):
    session = ctx["session"]
    rows = _many(3) + [clean(citizen_id="079190004321", sex="F")]  # worker B's ID
    with pytest.raises(Refusal) as refused:
        services.upsert_workers(session, ctx["registry"], ctx["a"], rows, ctx["hr_a"])
    session.rollback()
    assert refused.value.field == "citizen_id" and refused.value.message == Message.of(services.TAKEN_MESSAGE)
    assert session.scalar(select(func.count()).select_from(Worker).where(Worker.enterprise_id == ctx["a"].id)) == 1
    assert heard == []


def test_upsert_refuses_a_batch_that_repeats_an_id(ctx):
    with pytest.raises(ValueError):
        services.upsert_workers(ctx["session"], ctx["registry"], ctx["a"], _many(2) + _many(1), ctx["hr_a"])


def test_upsert_after_a_worker_left_registers_them_anew(ctx):
    session = ctx["session"]
    [row] = _many(1)
    result = services.upsert_workers(session, ctx["registry"], ctx["a"], [row], ctx["hr_a"])
    old = session.get(Worker, result.worker_ids[row.citizen_id])
    services.deactivate_worker(session, ctx["registry"], old, ctx["hr_a"], left_on=date(2021, 9, 1),
                               reason="Hết hợp đồng")
    again = services.upsert_workers(session, ctx["registry"], ctx["a"], [row], ctx["hr_a"])
    session.commit()
    assert again.created == [row.citizen_id] and again.worker_ids[row.citizen_id] != old.id


def count_statements(session, run) -> int:
    statements = []
    engine = session.get_bind()

    def count(*_args):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements)


def test_upsert_statement_count_does_not_grow_with_rows(ctx):
    """Bulk means a fixed number of statements per batch (executemany), not one per worker."""
    session = ctx["session"]

    def upsert(rows):
        return lambda: services.upsert_workers(session, ctx["registry"], ctx["a"], rows, ctx["hr_a"])

    small = count_statements(session, upsert(_many(20)))
    large = count_statements(session, upsert(_many(600, 1000)))
    assert large <= small + 2  # the IN (...) lookups are chunked by 1,000 IDs
    session.commit()
    updated_small = count_statements(session, upsert(_many(20, phone="0912345678")))
    updated_large = count_statements(session, upsert(_many(600, 1000, phone="0912345678")))
    assert updated_large <= updated_small + 2
    assert session.scalar(select(func.count()).select_from(Worker).where(Worker.phone == "0912345678")) == 620
