"""Reprinting: a change that replaces a card says so on the spot, lists it to reprint, and prints only those cards."""
from __future__ import annotations

import re

import pytest

from portal.extensions import db
from portal.passes.models import Pass, PassVersion
from portal.workers.models import Worker


def _form_of(client, worker_id: int, **changes) -> dict:
    from portal.workers.forms import worker_form_data

    with client.application.app_context():
        data = worker_form_data(db.session.get(Worker, worker_id))
    return {key: value for key, value in {**data, **changes}.items() if value is not None}


def _job_result(client, response) -> dict:
    assert response.status_code == 302 and re.fullmatch(r"/jobs/\d+", response.headers["Location"])
    status = client.get(response.headers["Location"], headers={"Accept": "application/json"}).get_json()
    assert status["status"] == "done", status
    return status["result"]


def _printed_at(app, pass_id: int):
    with app.app_context():
        pass_ = db.session.get(Pass, pass_id)
        return db.session.query(PassVersion).filter_by(pass_id=pass_id, version=pass_.version).one().printed_at


def test_editing_the_home_ward_says_to_reprint_and_prints_only_that_card(app, client, auth, world, helpers):
    pass_id = helpers.issue(world.worker_a, world.hr_a)
    other = helpers.issue(helpers.add_worker(world.enterprise_a, "079092006666", "Mai Văn Tú"), world.hr_a)
    auth.login(world.hr_a)
    assert "/passes/reprint" not in client.get("/passes").get_data(as_text=True)
    page = client.submit(f"/workers/{world.worker_a}/edit", _form_of(client, world.worker_a, home_ward="Tân Phong"),
                         follow_redirects=True).get_data(as_text=True)
    serial = helpers.pass_of(world.worker_a).serial
    assert (f"Thẻ xanh {serial} của Nguyễn Văn An đã được thay bằng phiên bản 2: hãy in lại và thu hồi thẻ cũ. "
            '<a href="/passes/reprint">Thẻ cần in lại</a>') in page
    assert "Thẻ cần in lại (1)" in client.get("/passes").get_data(as_text=True)
    listed = client.get("/passes/reprint").get_data(as_text=True)
    assert f'name="pass_id" value="{pass_id}"' in listed and f'value="{other}"' not in listed
    assert _printed_at(app, pass_id) is None
    result = _job_result(client, client.submit("/passes/reprint", {"pass_id": str(pass_id)}))
    assert result["count"] == 1
    assert _printed_at(app, pass_id) is not None
    assert "Không có thẻ nào cần in lại." in client.get("/passes/reprint").get_data(as_text=True)
    assert "/passes/reprint" not in client.get("/passes").get_data(as_text=True)
    # Reprinting a version replaced again lists it again.
    client.submit(f"/workers/{world.worker_a}/edit", _form_of(client, world.worker_a, home_ward="Tân Hưng"))
    assert f'value="{pass_id}"' in client.get("/passes/reprint").get_data(as_text=True)


def test_a_change_the_card_does_not_print_says_nothing_about_reprinting(client, auth, world, helpers):
    helpers.issue(world.worker_a, world.hr_a)
    auth.login(world.hr_a)
    page = client.submit(f"/workers/{world.worker_a}/edit", _form_of(client, world.worker_a, phone="0912345678"),
                         follow_redirects=True).get_data(as_text=True)
    assert "in lại" not in page and "/passes/reprint" not in page


def test_chosen_cards_by_serial_and_only_the_enterprises_own(app, client, auth, world, helpers):
    pass_a = helpers.issue(world.worker_a, world.hr_a)
    pass_b = helpers.issue(world.worker_b, world.hr_b)
    serial_a = helpers.pass_of(world.worker_a).serial
    serial_b = helpers.pass_of(world.worker_b).serial
    auth.login(world.hr_a)
    result = _job_result(client, client.submit("/passes/reprint", {"serials": f" {serial_a.lower()}, {serial_b} "}))
    assert result["count"] == 1  # B's card is not A's to print
    assert _printed_at(app, pass_a) is not None and _printed_at(app, pass_b) is None
    response = client.submit("/passes/reprint", {"pass_id": str(pass_b)}, follow_redirects=True)
    assert "Hãy chọn ít nhất một thẻ xanh còn hiệu lực để in." in response.get_data(as_text=True)


@pytest.mark.parametrize("who, outcome", [("hr_a", 200), ("hr_b", 200), ("official_x", 403), ("official_y", 403),
                                          ("admin", 403), ("anonymous", 302)])
def test_who_reaches_the_reprint_list(client, auth, world, helpers, who, outcome):
    helpers.issue(world.worker_a, world.hr_a)
    if who != "anonymous":
        auth.login(getattr(world, who))
    response = client.get("/passes/reprint")
    assert response.status_code == outcome
    if who == "hr_b":
        assert "Nguyễn Văn An" not in response.get_data(as_text=True)
    assert client.submit("/passes/reprint", {}).status_code == (302 if outcome != 403 else 403)


def test_an_import_that_replaces_a_card_says_to_reprint_it(client, auth, world, helpers):
    import csv
    import io

    helpers.issue(world.worker_a, world.hr_a)
    auth.login(world.hr_a)
    exported = client.submit("/workers/export.csv", {}).data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(exported)))
    header = next(index for index, row in enumerate(rows) if "Phường/Xã" in row)
    ward = rows[header].index("Phường/Xã")
    for row in rows[header + 1:]:
        if row and row[ward]:
            row[ward] = "Phường Tân Phong"  # the worker moved: the card's route changes
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    upload = client.submit("/workers/import", {"file": (io.BytesIO(out.getvalue().encode("utf-8-sig")), "moi.csv")},
                           content_type="multipart/form-data")
    assert upload.status_code == 302, upload.get_data(as_text=True)[:1000]
    page = client.submit(upload.headers["Location"] + "/commit", {}, follow_redirects=True).get_data(as_text=True)
    serial = helpers.pass_of(world.worker_a).serial
    assert helpers.pass_of(world.worker_a).version == 2
    assert (f"Thẻ xanh {serial} của Nguyễn Văn An đã được thay bằng phiên bản 2: hãy in lại và thu hồi thẻ cũ. "
            '<a href="/passes/reprint">Thẻ cần in lại</a>') in page


def test_an_api_write_that_replaces_a_card_says_to_reprint_it(client, auth, world, helpers):
    from tests.api.test_api_workers import Api, new_token

    helpers.issue(world.worker_a, world.hr_a)
    api = Api(client, new_token(client, auth, world.hr_a))
    # A phone number is not printed: no new card, nothing to say.
    answer = api("patch", f"/api/v1/workers/{world.worker_a}", json={"phone": "0912345678"}).get_json()
    assert "notices" not in answer and helpers.pass_of(world.worker_a).version == 1
    answer = api("patch", f"/api/v1/workers/{world.worker_a}", "en", json={"home_ward": "Tân Phong"}).get_json()
    serial = helpers.pass_of(world.worker_a).serial
    assert answer["notices"] == [{
        "message": f"The green card {serial} of Nguyễn Văn An was replaced by version 2: print it again and take "
                   "back the old card.", "url": "/passes/reprint"}]
    # The answer can be sent back as it is: the notices are read-only.
    again = api("put", f"/api/v1/workers/{world.worker_a}", json={**answer, "home_ward": "Tân Hưng"})
    assert again.status_code == 200 and helpers.pass_of(world.worker_a).version == 3
    assert "thay bằng phiên bản 3" in again.get_json()["notices"][0]["message"]
    bulk = api("post", "/api/v1/workers/bulk", json={"workers": [{**answer, "home_ward": "Tân Phong"}]}).get_json()
    assert bulk["updated"] == 1 and len(bulk["notices"]) == 1
    # The reading answers never carry one.
    assert "notices" not in api("get", f"/api/v1/workers/{world.worker_a}").get_json()
