"""The eligibility snapshot follows worker edits (in their transaction) and the daily refresh."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from portal import events
from portal.eligibility.models import EligibilitySnapshot
from portal.extensions import db
from portal.workers.models import VaccineDose, Worker


def _rows(app) -> dict[int, EligibilitySnapshot]:
    with app.app_context():
        rows = db.session.scalars(select(EligibilitySnapshot)).all()
        db.session.expunge_all()
        return {row.worker_id: row for row in rows}


def _refresh(runner, *args):
    result = runner.invoke(args=["eligibility", "refresh", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_refresh_evaluates_every_active_worker_and_prints_progress(app, runner, pilot):
    output = _refresh(runner, "--batch-size", "100")
    assert f"Done: {pilot.count_bases()} workers" in output
    assert f"{pilot.count_bases()} / {pilot.count_bases()} workers" in output
    rows = _rows(app)
    assert len(rows) == pilot.count_bases()
    assert pilot.workers["left"] not in rows  # inactive workers are not counted
    basis = {label: rows[worker_id].basis for label, worker_id in pilot.workers.items() if worker_id in rows}
    assert basis["waiting"] == "waiting_period" and basis["no_test"] == "test_required"
    assert basis["cg_recovered"] == "recovered" and basis["tested"] == "vaccinated"
    assert {row.evaluated_on for row in rows.values()} == {pilot.today}


def test_issues_name_what_hr_must_correct(app, runner, pilot):
    _refresh(runner)
    rows = _rows(app)
    issues = {label: rows[worker_id].issues for label, worker_id in pilot.workers.items() if worker_id in rows}
    assert issues["bad_id"] == "invalid_id"
    assert issues["no_date"] == "dose_data"
    assert issues["no_test"] == "test_missing"
    assert issues["old_test"] == "test_outdated"
    assert issues["worker_a"] == issues["waiting"] == issues["none"] == ""


def test_a_later_date_makes_the_waiting_worker_eligible_and_ends_a_recovery(app, runner, pilot):
    _refresh(runner)
    waiting = _rows(app)[pilot.workers["waiting"]]
    ready = pilot.today + timedelta(days=9)
    assert (waiting.eligible, waiting.basis, waiting.since) == (False, "waiting_period", ready)
    later = pilot.today + timedelta(days=9)
    _refresh(runner, "--on", later.strftime("%d/%m/%Y"))
    rows = _rows(app)
    assert (rows[pilot.workers["waiting"]].eligible, rows[pilot.workers["waiting"]].basis) == (True, "vaccinated")
    assert rows[pilot.workers["waiting"]].evaluated_on == later
    # Recovered 100 days ago: eligible until day 180, not on day 181.
    _refresh(runner, "--on", (pilot.today + timedelta(days=80)).strftime("%d/%m/%Y"))
    assert _rows(app)[pilot.workers["cg_recovered"]].basis == "recovered"
    _refresh(runner, "--on", (pilot.today + timedelta(days=81)).strftime("%d/%m/%Y"))
    row = _rows(app)[pilot.workers["cg_recovered"]]
    assert (row.eligible, row.basis) == (False, "recovery_expired")


def test_refresh_of_one_unit_leaves_the_others(app, runner, pilot):
    later = pilot.today + timedelta(days=3)
    _refresh(runner)
    output = _refresh(runner, "--unit", "cangio", "--on", later.strftime("%d/%m/%Y"))
    assert f"Done: {pilot.count_bases(unit='cangio')} workers" in output
    rows = _rows(app).values()
    assert {row.evaluated_on for row in rows if row.unit_id == pilot.units["cangio"]} == {later}
    assert {row.evaluated_on for row in rows if row.unit_id != pilot.units["cangio"]} == {pilot.today}


def test_refresh_refuses_bad_input(runner, pilot):
    result = runner.invoke(args=["eligibility", "refresh", "--on", "31/02/2021"])
    assert result.exit_code == 2 and "dd/mm/yyyy" in result.output
    result = runner.invoke(args=["eligibility", "refresh", "--unit", "atlantis"])
    assert result.exit_code == 2 and "atlantis" in result.output


def _edit_doses(worker_id: int, doses):
    """Change a worker's doses in place, as an edit form would (numbers are unique per worker)."""
    worker = db.session.get(Worker, worker_id)
    existing = {dose.number: dose for dose in worker.doses}
    for number, (product, given_on) in enumerate(doses, start=1):
        dose = existing.get(number) or VaccineDose(number=number)
        dose.product, dose.given_on = product, given_on
        if number not in existing:
            worker.doses.append(dose)
    return worker


def test_a_worker_edit_updates_the_snapshot_inside_its_transaction(app, runner, client, auth, world, pilot, read):
    _refresh(runner)
    worker_id = pilot.workers["one_dose"]
    with app.app_context():
        worker = _edit_doses(worker_id, [("astrazeneca", pilot.today - timedelta(days=70)),
                                         ("astrazeneca", pilot.today - timedelta(days=28))])
        events.workers_changed.send(worker.enterprise, session=db.session, actor=None,
                                    registry=app.extensions["portal.plugins"].registry, worker_ids=[worker_id])
        row = db.session.get(EligibilitySnapshot, worker_id)
        db.session.refresh(row)
        assert (row.eligible, row.basis) == (True, "vaccinated")  # seen in the same transaction
        db.session.commit()
    assert _rows(app)[worker_id].basis == "vaccinated"
    auth.login(world.official_x)
    page = client.get("/dashboard").get_data(as_text=True)
    assert read.kpi(page, "kpi-eligible") == pilot.count_bases("district7", True) + 1


def test_a_rolled_back_edit_leaves_the_snapshot_as_it_was(app, runner, pilot):
    _refresh(runner)
    worker_id = pilot.workers["none"]
    with app.app_context():
        worker = _edit_doses(worker_id, [("janssen", pilot.today - timedelta(days=30))])
        events.workers_changed.send(worker.enterprise, session=db.session, actor=None,
                                    registry=app.extensions["portal.plugins"].registry, worker_ids=[worker_id])
        db.session.rollback()  # the receiver did not commit: nothing of the edit survives
    assert _rows(app)[worker_id].basis == "not_vaccinated"


def test_new_workers_from_an_import_enter_the_snapshot(app, runner, world, pilot):
    from datetime import date

    from portal.enterprises.models import Enterprise
    from portal.testing.fixtures import make_worker
    from portal.workers.identity import make_cccd

    _refresh(runner)
    with app.app_context():
        enterprise = db.session.get(Enterprise, world.enterprise_a)
        new = [make_worker(db.session, enterprise, citizen_id=make_cccd(79, date(1991, 1, 1), "M", 900_000 + n),
                           born=date(1991, 1, 1), doses=[("janssen", pilot.today - timedelta(days=20))]).id
               for n in range(3)]
        events.workers_changed.send(enterprise, session=db.session, actor=None,
                                    registry=app.extensions["portal.plugins"].registry, worker_ids=new)
        db.session.commit()
    rows = _rows(app)
    assert all(rows[worker_id].eligible for worker_id in new)


def test_deactivated_workers_leave_the_snapshot(app, runner, client, auth, world, pilot, read):
    _refresh(runner)
    worker_id = pilot.workers["log1"]
    with app.app_context():
        worker = db.session.get(Worker, worker_id)
        worker.active = False
        events.workers_deactivated.send(worker.enterprise, session=db.session, actor=None,
                                        registry=app.extensions["portal.plugins"].registry, worker_ids=[worker_id],
                                        reason="left")
        db.session.commit()
    assert worker_id not in _rows(app)
    auth.login(world.official_x)
    page = client.get("/dashboard").get_data(as_text=True)
    assert read.kpi(page, "kpi-workers") == pilot.count_bases("district7") - 1
    assert read.kpi(page, "kpi-eligible") == pilot.count_bases("district7", True) - 1


def test_a_page_view_writes_nothing_and_the_button_re_evaluates_the_unit(app, runner, client, auth, world, pilot):
    _refresh(runner)
    yesterday = pilot.today - timedelta(days=1)
    with app.app_context():
        db.session.execute(update(EligibilitySnapshot).values(
            evaluated_on=yesterday, evaluated_at=pilot.now - timedelta(days=1), basis="other", eligible=False))
        db.session.commit()
    auth.login(world.official_x)
    page = client.get("/dashboard").get_data(as_text=True)
    assert {row.evaluated_on for row in _rows(app).values()} == {yesterday}  # a GET never writes
    assert "chưa được xét lại hôm nay" in page and 'action="/eligibility/refresh"' in page
    response = client.submit("/eligibility/refresh", {"next": "/dashboard"})
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard"
    rows = _rows(app).values()
    assert {row.evaluated_on for row in rows if row.unit_id == pilot.units["district7"]} == {pilot.today}
    # Only the official's own unit was brought up to date; the others wait for the nightly command.
    assert {row.evaluated_on for row in rows if row.unit_id == pilot.units["cangio"]} == {yesterday}
    page = client.get("/dashboard").get_data(as_text=True)
    assert "chưa được xét lại hôm nay" not in page
    assert "Điều kiện được xét lúc " + pilot.today.strftime("%d/%m/%Y") in page


def test_workers_never_evaluated_are_shown_as_such_until_the_nightly_command(app, runner, client, auth, world, pilot,
                                                                            read):
    assert _rows(app) == {}
    auth.login(world.admin)
    page = client.get("/dashboard").get_data(as_text=True)
    assert _rows(app) == {}  # the page evaluates no one: it says who is not evaluated yet
    assert "Chưa xét điều kiện lần nào." in page and "chưa được xét lại hôm nay" in page
    _refresh(runner)
    page = client.get("/dashboard").get_data(as_text=True)
    assert len(_rows(app)) == pilot.count_bases()
    assert read.kpi(page, "kpi-eligible") == pilot.count_bases(eligible=True)


def test_batches_cover_every_worker_once(app, pilot):
    """Small batches (as a 300,000-worker refresh uses 2,000) still evaluate each worker exactly once."""
    from portal.eligibility.upkeep import RefreshScope, refresh_eligibility

    batches = []
    with app.app_context():
        registry = app.extensions["portal.plugins"].registry
        everyone = refresh_eligibility(db.session, registry, RefreshScope(), on_date=pilot.today, now=pilot.now,
                                       batch_size=3, after_batch=lambda done, total: batches.append((done, total)))
        named = list(pilot.workers.values())
        again = refresh_eligibility(db.session, registry, RefreshScope(worker_ids=tuple(named)), on_date=pilot.today,
                                    now=pilot.now, batch_size=4)
        db.session.commit()
    total = pilot.count_bases()
    assert everyone == total and batches[-1] == (total, total) and len(batches) == -(-total // 3)
    assert again == total  # the inactive worker named among them is not evaluated
    assert len(_rows(app)) == total
