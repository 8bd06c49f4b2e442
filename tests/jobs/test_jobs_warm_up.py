"""A consumer warms its job handlers up when it starts, so a first job does not start silent."""
from __future__ import annotations

import pytest

from portal.jobs.services import register_handler, warm_up_handlers
from portal.testing.consumers import FAST_JOBS


@pytest.fixture
def app_config(app_config, tmp_path):
    return {**app_config, **FAST_JOBS, "REDIS_URL": None, "JOBS_QUEUE_PATH": str(tmp_path / "queue" / "queue.sqlite3")}


def test_a_starting_consumer_warms_every_handler_up_and_survives_a_failing_one(app, embedded_consumer):
    from flask import current_app

    warmed = []

    def warm():
        warmed.append(current_app.name)  # in an app context

    def broken():
        raise OSError("fonts missing")

    register_handler(app, "t.warm", lambda ctx: None, warm_up=warm)
    register_handler(app, "t.broken", lambda ctx: None, warm_up=broken)
    embedded_consumer(app)
    assert warmed == [app.name]


def test_the_print_sheet_handler_lays_its_frames_out_when_warmed(app):
    from portal.printing import render

    render.sheet_frame.cache_clear()
    render.index_frame.cache_clear()
    assert "print_sheet" in warm_up_handlers(app)
    assert render.sheet_frame.cache_info().currsize == 1 and render.index_frame.cache_info().currsize == 1
