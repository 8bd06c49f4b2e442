"""Running a job: progress, stored messages, outcomes, failures, database outages, give-up callbacks.

Under TESTING jobs run in Huey's immediate mode: right after the enqueuing commit, in that thread.
"""
from __future__ import annotations

import pytest
from flask_babel import lazy_gettext as _l
from sqlalchemy import create_engine, select, text

from portal.db import after_commit
from portal.extensions import db
from portal.jobs.models import Job
from portal.jobs.services import Outcome, enqueue, register_handler
from portal.messages import Message, Refusal
from portal.storage import blob_store

FAILURES: list[tuple] = []


def _steps(ctx, *, steps: int = 3):
    for step in range(steps + 1):
        ctx.progress(step, steps, _l("Laying out the pages"))
    ctx.save_output("kết quả.txt", "Nguyễn Văn An".encode(), content_type="text/plain")
    return Outcome({"steps": steps}, summary=_l("%(count)s green cards ready to print.", count=steps),
                   next_endpoint="jobs.status", next_params={"job_id": ctx.job_id},
                   next_label=_l("Preparing the cards"))


def _observe_progress(ctx):
    """Report progress, then read the row from another connection, as the progress page would."""
    ctx.progress(1, 4, Message.of("first quarter"))
    with db.engine.connect() as connection:
        row = connection.execute(select(Job.status, Job.done, Job.total, Job.progress_message)
                                 .where(Job.id == ctx.job_id)).one()
    return {"seen": [row.status, row.done, row.total, row.progress_message["id"]]}


def _boom(ctx):
    ctx.progress(2, 5)
    ctx.save_output("half.pdf", b"%PDF half")
    raise RuntimeError("the printer caught fire")


def _refuse(ctx):
    raise Refusal(_l("There is no active green card to print."))


def _database_away(ctx):
    # A real driver error: nothing listens on this port.
    engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:9/none", connect_args={"connect_timeout": 1})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    finally:
        engine.dispose()


def _remember_failure(session, params, reason):
    FAILURES.append((params, reason.id if reason else None))


@pytest.fixture(autouse=True)
def _handlers(app):
    FAILURES.clear()
    register_handler(app, "t.steps", _steps)
    register_handler(app, "t.observe", _observe_progress)
    register_handler(app, "t.boom", _boom, on_failure=_remember_failure)
    register_handler(app, "t.refuse", _refuse, on_failure=_remember_failure)
    register_handler(app, "t.away", _database_away, on_failure=_remember_failure)


def _run(app, kind: str, **params) -> Job:
    with app.app_context():
        job = enqueue(db.session, kind, params)
        db.session.commit()
        job_id = job.id
        db.session.remove()
        job = db.session.get(Job, job_id)
        db.session.expunge(job)
        return job


def test_a_job_runs_after_the_commit_and_keeps_its_outcome(app):
    job = _run(app, "t.steps", steps=3)
    assert (job.status, job.done, job.total, job.attempts, job.lease) == ("done", 3, 3, 1, None)
    assert job.result == {"steps": 3}
    # Stored as message ids and parameters, never as sentences.
    assert job.progress_message == {"id": "Laying out the pages", "params": {}}
    assert job.summary == {"id": "%(count)s green cards ready to print.", "params": {"count": 3}}
    assert job.next_step == {"endpoint": "jobs.status", "params": {"job_id": job.id},
                             "label": {"id": "Preparing the cards", "params": {}}}
    assert job.output_name == "ket_qua.txt" and job.output_key.startswith(f"jobs/{job.id}/")
    with blob_store(app).open(job.output_key) as stream:
        assert stream.read().decode() == "Nguyễn Văn An" and stream.content_type == "text/plain"


def test_progress_is_visible_to_other_connections_while_the_job_runs(app):
    job = _run(app, "t.observe")
    assert job.result == {"seen": ["running", 1, 4, "first quarter"]}


def test_a_rolled_back_enqueue_never_runs(app):
    with app.app_context():
        enqueue(db.session, "t.boom", {})
        db.session.rollback()
        db.session.commit()  # the next commit of the same session must not send the forgotten job either
        assert db.session.scalar(select(Job)) is None
    assert FAILURES == []


def test_a_failing_handler_fails_its_job_keeps_no_file_and_calls_on_failure(app):
    job = _run(app, "t.boom")
    assert (job.status, job.done, job.total) == ("failed", 2, 5)
    assert "the printer caught fire" in job.error and job.summary is None
    assert job.output_key is None
    with app.app_context():
        from portal.storage.models import Blob

        assert db.session.scalar(select(Blob)) is None
    assert FAILURES == [({}, None)]


def test_a_refusal_fails_the_job_with_its_message(app):
    job = _run(app, "t.refuse")
    assert job.status == "failed" and job.summary == {"id": "There is no active green card to print.",
                                                      "params": {}}
    assert FAILURES == [({}, "There is no active green card to print.")]


def test_a_job_whose_database_went_away_is_retried_then_failed_clearly(app):
    app.config["JOB_MAX_ATTEMPTS"] = 2
    job = _run(app, "t.away")
    # Immediate mode: the retry ran at once and met the same outage; the second run gave up.
    assert (job.status, job.attempts) == ("failed", 2)
    assert job.summary["id"].startswith("The database was unavailable while this job ran")
    assert "OperationalError" in job.error
    assert FAILURES == [({}, job.summary["id"])]


def test_enqueue_refuses_unknown_kinds_and_params_that_are_not_json(app):
    with app.app_context():
        with pytest.raises(KeyError):
            enqueue(db.session, "t.nope", {})
        with pytest.raises(TypeError):
            enqueue(db.session, "t.steps", {"steps": object()})
        db.session.rollback()


def test_a_second_handler_for_a_kind_is_refused(app):
    with pytest.raises(ValueError, match="already has a handler"):
        register_handler(app, "t.steps", _boom)


def test_after_commit_callbacks_wait_for_the_outer_transaction(app):
    ran = []
    with app.app_context():
        db.session.execute(select(1))
        with db.session.begin_nested():
            after_commit(db.session, lambda: ran.append("outer"))
        assert ran == []  # releasing a savepoint is not the commit
        db.session.commit()
        assert ran == ["outer"]
        after_commit(db.session, lambda: ran.append("rolled back"))
        db.session.rollback()
        db.session.commit()
        assert ran == ["outer"]
