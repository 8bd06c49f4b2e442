"""Jobs on Redis: a real consumer runs them, and a job queued while Redis was away runs when it returns."""
from __future__ import annotations

import os
import uuid

import pytest
from flask_babel import lazy_gettext as _l

from portal.extensions import db
from portal.jobs.models import Job
from portal.jobs.queue import job_queue
from portal.jobs.services import enqueue, register_handler
from portal.testing.consumers import FAST_JOBS

from .conftest import wait_for_job


def _echo(ctx, *, text: str):
    ctx.progress(1, 2, _l("Preparing the cards"))
    ctx.save_output("echo.txt", text.encode())
    return {"text": text}


@pytest.fixture
def app_config(app_config):
    return {**app_config, **FAST_JOBS, "JOBS_QUEUE": f"test-{uuid.uuid4().hex}"}


@pytest.fixture(autouse=True)
def _handlers(app):
    register_handler(app, "t.echo", _echo)


def _enqueue(app, **params) -> int:
    with app.app_context():
        job = enqueue(db.session, "t.echo", params)
        db.session.commit()
        return job.id


@pytest.fixture
def redis_url(request):
    """The suite's Redis (PORTAL_TEST_REDIS_URL, as CI's second run has) or a redis-server of our own."""
    url = os.environ.get("PORTAL_TEST_REDIS_URL")
    if url:
        return url
    return request.getfixturevalue("redis_server").url


def test_a_consumer_on_redis_runs_the_job_and_the_row_stays_the_source_of_truth(app, redis_url,
                                                                                  embedded_consumer):
    app.config["REDIS_URL"] = redis_url
    queue = job_queue(app)
    try:
        assert queue.backend == "redis"
        job_id = _enqueue(app, text="qua Redis")
        assert queue.waiting_ids() == {job_id}
        with app.app_context():
            assert db.session.get(Job, job_id).status == "queued"
        embedded_consumer(app)
        job = wait_for_job(app, job_id)
        assert (job.status, job.done, job.total, job.result) == ("done", 2, 2, {"text": "qua Redis"})
        assert queue.waiting_ids() == set()
    finally:
        queue.huey.flush()


def test_a_job_queued_while_redis_was_away_runs_when_it_returns_with_no_page_view(app, redis_server,
                                                                                   embedded_consumer):
    app.config["REDIS_URL"] = redis_server.url
    embedded_consumer(app)
    redis_server.stop()
    job_id = _enqueue(app, text="sent later")  # the commit stands; sending to Redis fails and is logged
    with app.app_context():
        assert db.session.get(Job, job_id).status == "queued"
    redis_server.start()  # an empty Redis: the message never reached it
    job = wait_for_job(app, job_id)  # the consumer's periodic sweep sends it; nobody opens a page
    assert (job.status, job.result, job.attempts) == ("done", {"text": "sent later"}, 1)
