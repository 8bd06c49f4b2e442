"""A 1,000-card print sheet run as a real job: its progress, as written to the job's row, moves in cards.

Every write of the job's progress is recorded as it reaches the database (an engine event, nothing
replaced); the test counts them against the job's duration rather than timing the job itself.
"""
from __future__ import annotations

import math
import time

import pytest
from sqlalchemy import event
from sqlalchemy.sql.dml import Update

from portal.extensions import db
from portal.jobs.services import warm_up_handlers
from portal.passes.models import Pass
from portal.testing.fixtures import make_worker
from portal.workers.models import Worker

CARDS = 1000
#: The longest a status page may show the same progress while the sheet is being set (issue 9).
MAX_SILENCE = 2.0


def _many_cards(app, worker_id: int, count: int) -> None:
    from portal.verify.testing import make_pass

    with app.app_context():
        enterprise = db.session.get(Worker, worker_id).enterprise
        for n in range(count):
            make_pass(db.session, make_worker(db.session, enterprise, citizen_id=f"0790925{n:05d}",
                                              name=f"Người Lao Động {n:04d}"))
        db.session.commit()
        assert db.session.query(Pass).count() == count


@pytest.mark.slow
def test_a_thousand_card_sheet_reports_progress_in_cards_at_least_every_two_seconds(client, auth, app, world):
    _many_cards(app, world.worker_a, CARDS)
    writes: list[tuple[float, int, int]] = []

    def record(connection, clause, multiparams, params, execution_options, result):
        if isinstance(clause, Update) and clause.table.name == "jobs":
            values = clause.compile().params
            if "done" in values and "total" in values:
                writes.append((time.monotonic(), values["done"], values["total"]))

    with app.app_context():
        engine = db.engine
    # A consumer warms its handlers up when it starts (portal.jobs.queue.start_consumer); here the job runs in
    # the test's thread, so do what the consumer does. The first sheet of a cold process lays its frames out
    # with WeasyPrint first (about 1.5 s on a quiet machine), silently.
    assert "print_sheet" in warm_up_handlers(app)
    event.listen(engine, "after_execute", record)
    try:
        auth.login(world.hr_a)
        started = time.monotonic()
        response = client.submit("/passes/print-sheet")  # the job runs in the committing thread under TESTING
        finished = time.monotonic()
    finally:
        event.remove(engine, "after_execute", record)
    status = client.get(response.headers["Location"], headers={"Accept": "application/json"}).get_json()
    assert status["status"] == "done" and (status["done"], status["total"]) == (CARDS, CARDS)

    assert writes, "the job never wrote its progress"
    assert {total for _at, _done, total in writes} == {CARDS}  # counted in cards from the first write
    done = [value for _at, value, _total in writes]
    assert done == sorted(done) and done[-1] == CARDS
    moments = [started, *(at for at, _done, _total in writes), finished]
    gaps = [later - earlier for earlier, later in zip(moments, moments[1:], strict=False)]
    duration = finished - started
    timeline = ", ".join(f"+{at - started:.2f}s:{value}" for at, value, _total in writes)
    print(f"\n{CARDS} cards in {duration:.1f} s: {len(writes)} progress writes, "
          f"longest silence {max(gaps):.2f} s; timeline {timeline}")
    # At least one write, and one new count of cards, per two seconds of the job.
    assert len(writes) >= math.floor(duration / MAX_SILENCE)
    assert len({value for value in done if 0 < value < CARDS}) >= math.floor(duration / MAX_SILENCE) - 2
