"""When the database is away, a signed-in page answers the portal's own 503 page, never a bare 500.

The app is pointed at a port where no database listens after the user has signed in (what a
crashed or restarting server looks like to the portal); tests/core/test_core_database_crash.py
kills a real PostgreSQL server of its own.
"""
from __future__ import annotations

import socket

import pytest
from sqlalchemy import create_engine

from portal.extensions import db
from portal.testing.fixtures import _CSRF_META


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PROPAGATE_EXCEPTIONS": False}  # answer as production does, not raise into the test


def _dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again: nothing listens there


@pytest.fixture
def database_away(app):
    """Return a switch that points the app at a dead database (and back again)."""
    engines = db._app_engines[app]
    real = engines[None]
    dead = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{_dead_port()}/gone",
                         connect_args={"connect_timeout": 2})

    def switch(away: bool = True) -> None:
        engines[None] = dead if away else real

    yield switch
    engines[None] = real
    dead.dispose()


def _page(response) -> str:
    return response.get_data(as_text=True)


def test_a_signed_in_page_answers_503_in_the_portals_layout(client, auth, world, database_away):
    auth.login(world.hr_a)
    assert client.get("/passes").status_code == 200
    database_away()
    response = client.get("/passes")
    page = _page(response)
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert "Cổng thông tin chưa kết nối được với cơ sở dữ liệu. Vui lòng thử lại sau vài phút." in page
    assert 'class="topbar"' in page and "portal.css" in page  # the layout, not a bare error
    assert "Internal Server Error" not in page and "Đăng xuất" not in page  # no user was loaded to draw the menu
    assert 'href="/login"' not in page  # nor told to sign in again: they are signed in
    assert "không bị thay đổi" not in page


def test_the_page_speaks_english_when_chosen(client, auth, world, database_away):
    auth.login(world.hr_a)
    client.set_cookie("lang", "en")
    database_away()
    response = client.get("/workers")
    assert response.status_code == 503
    assert "The portal cannot reach its database at the moment." in _page(response)


def test_a_change_sent_while_the_database_is_away_is_not_said_to_be_unchanged(app, client, auth, world, database_away):
    from portal.verify.testing import make_pass
    from portal.workers.models import Worker

    with app.app_context():
        pass_id = make_pass(db.session, db.session.get(Worker, world.worker_a)).id
        db.session.commit()
    auth.login(world.hr_a)
    token = _CSRF_META.search(_page(client.get("/passes"))).group(1)
    database_away()
    response = client.post(f"/passes/{pass_id}/revoke", data={"reason": "left", "csrf_token": token})
    assert response.status_code == 503
    assert "không biết được thay đổi của bạn đã được lưu hay chưa" in _page(response)


def test_json_errors_do_not_claim_the_data_was_not_changed(client, auth, world, database_away):
    auth.login(world.hr_a)
    database_away()
    response = client.get("/jobs/1", headers={"Accept": "application/json"})
    assert response.status_code == 503 and response.is_json
    message = response.get_json()["error"]["message"]
    assert "cơ sở dữ liệu" in message and "không bị thay đổi" not in message
    api = client.get("/api/v1/workers", headers={"Authorization": "Bearer gct_" + "x" * 43, "Accept-Language": "en"})
    assert api.status_code == 503 and "cannot reach its database" in api.get_json()["error"]["message"]


def test_pages_come_back_by_themselves_when_the_database_does(client, auth, world, database_away):
    auth.login(world.hr_a)
    database_away()
    assert client.get("/passes").status_code == 503
    database_away(False)
    response = client.get("/passes")
    assert response.status_code == 200 and "Đăng xuất" in _page(response)  # still signed in


# ---------------------------------------------------------------------------
# What an unexpected error says about the user's data
# ---------------------------------------------------------------------------

@pytest.fixture
def failing_routes(app):
    """Two routes that fail after reading or after committing, as a bug would."""
    from portal.auth.models import User

    def read_then_fail():
        db.session.get(User, 1)
        raise RuntimeError("a bug")

    def commit_then_fail():
        user = db.session.scalars(db.select(User)).first()
        user.full_name = user.full_name + " (changed)"
        db.session.commit()
        raise RuntimeError("a bug after the commit")

    def fail_before_writing():
        raise RuntimeError("a bug before any write")

    app.add_url_rule("/test/read-then-fail", view_func=read_then_fail)
    app.add_url_rule("/test/commit-then-fail", view_func=commit_then_fail, methods=["POST"])
    app.add_url_rule("/test/fail-before-writing", view_func=fail_before_writing, methods=["POST"])
    app.config["WTF_CSRF_ENABLED"] = False


def test_an_unexpected_error_says_only_what_the_portal_knows(client, world, failing_routes):
    read = client.get("/test/read-then-fail")
    assert read.status_code == 500
    assert "Hệ thống gặp sự cố. Vui lòng thử lại sau." in _page(read) and "lưu" not in _page(read)
    nothing = client.post("/test/fail-before-writing")
    assert nothing.status_code == 500 and "Thay đổi của bạn chưa được lưu." in _page(nothing)
    part = client.post("/test/commit-then-fail")
    assert part.status_code == 500 and "Hệ thống gặp sự cố sau khi một phần thay đổi của bạn đã được lưu" in _page(part)
    assert 'class="topbar"' in _page(part)
