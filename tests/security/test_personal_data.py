"""Personal data stays out of URLs, caches and other users' reach."""
from __future__ import annotations

import importlib.util
import os
import re
import stat
from pathlib import Path

import pytest


def _sibling(name: str):
    """Load a test module of this folder (the access matrix builds the objects every route needs)."""
    spec = importlib.util.spec_from_file_location(f"_harden_{name}", Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_matrix = _sibling("test_access_matrix")
_objects, _url = _matrix._objects, _matrix._url
FORM = {
    "full_name": "Lê Thị Hoa", "date_of_birth": "03/02/1995", "sex": "F", "citizen_id": "079195000111",
    "phone": "0909111222", "home_address": "12 Nguyễn Thị Thập", "home_ward": "Tân Phong", "home_district": "Quận 7",
    "job_title": "Kế toán", "shift": "office", "dose1_product": "pfizer", "dose1_date": "01/08/2021",
    "dose2_product": "pfizer", "dose2_date": "01/09/2021", "dose3_product": "", "dose3_date": "",
    "recovered_on": "", "test_kind": "", "tested_on": "",
}

ROLES = ("hr_a", "official_x", "admin")
#: What the world's workers and enterprises carry that no cache may keep: ID numbers, phones.
PERSONAL = ("079090001234", "079190004321", "0909123456", "02837750000")
LINK = re.compile(r'(?:href|action|src)="([^"]*)"')


def test_every_page_with_ids_or_phones_is_no_store_and_no_link_carries_an_id(app, client, auth, world):
    ids = _objects(app, world)
    rules = [rule for rule in app.url_map.iter_rules() if "GET" in rule.methods and rule.endpoint != "static"]
    personal_pages = []
    for role in ROLES:
        auth.login(getattr(world, role))
        for rule in rules:
            url = _url(rule, ids)
            response = client.get(url)
            body = response.get_data()
            response.close()
            text = body.decode("utf-8", "replace") if response.mimetype.startswith("text/") else ""
            if response.status_code == 200 and any(value in text for value in PERSONAL):
                personal_pages.append(url)
                assert "no-store" in response.headers.get("Cache-Control", ""), (role, url)
            for link in LINK.findall(text):
                assert not any(value in link for value in PERSONAL[:2]), (role, url, link)
            assert not any(value in response.headers.get("Location", "") for value in PERSONAL[:2]), (role, url)
        auth.logout()
    # The walk did reach the pages that list workers and enterprises.
    assert {"/workers", f"/workers/{ids['worker_id']}/edit",
            f"/enterprises/{ids['enterprise_id']}"} <= set(personal_pages), personal_pages


def test_saving_a_worker_never_puts_the_id_number_in_the_url(client, auth, world):
    auth.login(world.hr_a)
    added = client.submit("/workers/new", FORM)
    assert added.status_code == 302
    assert FORM["citizen_id"] not in added.headers["Location"]
    edited = client.submit(added.headers["Location"], {**FORM, "phone": "0909111333"})
    assert edited.status_code == 302 and FORM["citizen_id"] not in edited.headers["Location"]
    assert "Lê Thị Hoa" in client.get(edited.headers["Location"]).get_data(as_text=True)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_database_queue_and_keys_are_owner_only(app_config, tmp_path, monkeypatch):
    from portal import create_app
    from portal.extensions import db

    instance = tmp_path / "instance"
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(instance))
    database = tmp_path / "data" / "portal.sqlite3"
    database.parent.mkdir()
    database.touch(mode=0o644)  # a file an older version left readable
    os.chmod(database, 0o644)
    config = {key: value for key, value in app_config.items() if key not in ("SECRET_KEY", "SIGNING_KEY_DIR")}
    app = create_app({**config, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}"})
    with app.app_context():
        db.create_all()
        db.session.execute(db.text("SELECT 1"))
        db.session.commit()
    assert _mode(instance) == 0o700
    assert _mode(instance / "secret_key") == 0o600
    assert _mode(database) == 0o600
    for suffix in ("-wal", "-shm"):
        if (tmp_path / "data" / f"portal.sqlite3{suffix}").exists():
            assert _mode(tmp_path / "data" / f"portal.sqlite3{suffix}") == 0o600
    made = tmp_path / "later.bin"
    made.write_bytes(b"x")  # anything the process writes from now on
    assert _mode(made) == 0o600
    (tmp_path / "cache").mkdir()
    assert _mode(tmp_path / "cache") == 0o700


@pytest.mark.parametrize("path", ["/workers", "/home"])
def test_signed_in_pages_say_no_store(client, auth, world, path):
    auth.login(world.hr_a)
    assert client.get(path).headers["Cache-Control"] == "no-store"
