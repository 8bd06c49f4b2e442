"""The workers API: every endpoint, the same messages as the form, bulk all-or-nothing or partial, scoping."""
from __future__ import annotations

import html
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.workers.identity import make_cccd
from portal.workers.models import Worker

BAD_PHONE = "Vui lòng nhập số di động hoặc số cố định Việt Nam, ví dụ 0909 123 456 hoặc 028 3775 0000."
NEW = {
    "full_name": "Lê Thị Hoa", "date_of_birth": "1995-02-03", "sex": "F", "citizen_id": "079195000111",
    "phone": "0909111222", "home_address": "12 Nguyễn Thị Thập", "home_ward": "Tân Phong",
    "home_district": "Quận 7", "job_title": "Kế toán", "shift": "office",
    "doses": [{"product": "pfizer", "given_on": "2021-08-01"}, {"product": "Pfizer", "given_on": "01/09/2021"}],
}


class Api:
    """The test client with a bearer token."""

    def __init__(self, client, secret: str):
        self.client, self.secret = client, secret

    def __call__(self, method: str, url: str, language: str | None = None, **kwargs):
        headers = {"Authorization": f"Bearer {self.secret}", **kwargs.pop("headers", {})}
        if language:
            headers["Accept-Language"] = language
        return self.client.open(url, method=method.upper(), headers=headers, **kwargs)


def new_token(client, auth, email: str) -> str:
    auth.login(email)
    page = client.submit("/enterprise/api-tokens", {"name": "ERP"}).get_data(as_text=True)
    auth.logout()
    return re.search(r'value="(gct_[^"]+)"', page).group(1)


@pytest.fixture
def api(client, auth, world) -> Api:
    return Api(client, new_token(client, auth, world.hr_a))


@pytest.fixture
def api_b(client, auth, world) -> Api:
    return Api(client, new_token(client, auth, world.hr_b))


def count(app, enterprise_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Worker).where(Worker.enterprise_id == enterprise_id))


# -- reading ---------------------------------------------------------------------------------


def test_list_workers(api, world):
    response = api("get", "/api/v1/workers")
    assert response.status_code == 200
    body = response.json
    assert (body["page"], body["per_page"], body["total"], body["pages"]) == (1, 50, 1, 1)
    [worker] = body["items"]
    assert worker["id"] == world.worker_a and worker["citizen_id"] == "079090001234"
    assert worker["date_of_birth"] == "1990-05-17" and worker["sex"] == "M" and worker["active"] is True
    assert [dose["number"] for dose in worker["doses"]] == [1, 2]
    assert worker["created_at"].endswith("Z")


def test_list_paginates_and_searches(api, app, world):
    from portal.enterprises.models import Enterprise
    from portal.testing.fixtures import make_worker

    with app.app_context():
        a = db.session.get(Enterprise, world.enterprise_a)
        for n in range(30):
            make_worker(db.session, a, citizen_id=make_cccd(79, date(1990, 5, 17), "M", 800_000 + n),
                        name=f"Phan Văn Tài {n:02d}")
        db.session.commit()
    page = api("get", "/api/v1/workers?per_page=20&page=2").json
    assert (page["total"], page["pages"], len(page["items"])) == (31, 2, 11)
    assert [w["full_name"] for w in api("get", "/api/v1/workers?q=tai 0&per_page=500").json["items"]] == [
        f"Phan Văn Tài 0{n}" for n in range(10)]
    assert api("get", "/api/v1/workers?q=001234").json["total"] == 1
    assert api("get", "/api/v1/workers?status=left").json["total"] == 0


@pytest.mark.parametrize("query, message", [
    ("per_page=501", "per_page phải là số nguyên từ 1 đến 500."),
    ("per_page=0", "per_page phải là số nguyên từ 1 đến 500."),
    ("page=abc", "page phải là số nguyên từ 1 đến 1000000."),
    ("status=all", "status phải là active hoặc left."),
])
def test_bad_list_parameters(api, query, message):
    response = api("get", f"/api/v1/workers?{query}")
    assert response.status_code == 400
    assert response.json == {"error": {"code": 400, "message": message}}


def test_get_one(api, world):
    response = api("get", f"/api/v1/workers/{world.worker_a}")
    assert response.status_code == 200 and response.json["full_name"] == "Nguyễn Văn An"


def test_another_enterprises_worker_is_404(api, world, app):
    b = world.worker_b
    for method, kwargs in (("get", {}), ("put", {"json": NEW}), ("patch", {"json": {"phone": "0912345678"}})):
        response = api(method, f"/api/v1/workers/{b}", **kwargs)
        assert response.status_code == 404, method
        assert response.json == {"error": {"code": 404, "message": "Trang không tồn tại hoặc bạn không có quyền xem."}}
    response = api("post", f"/api/v1/workers/{b}/deactivate", json={"reason": "x"})
    assert response.status_code == 404
    with app.app_context():
        worker = db.session.get(Worker, b)
        assert worker.active and worker.phone == "0909123456"
    assert api("get", "/api/v1/workers/999999").status_code == 404


# -- writing -------------------------------------------------------------------------------------


def test_create(api, app, world):
    response = api("post", "/api/v1/workers", json=NEW)
    assert response.status_code == 201
    body = response.json
    assert response.headers["Location"] == f"/api/v1/workers/{body['id']}"
    assert body["doses"] == [{"number": 1, "product": "pfizer", "given_on": "2021-08-01"},
                             {"number": 2, "product": "pfizer", "given_on": "2021-09-01"}]
    assert body["shift"] == "office" and body["job_title"] == "Kế toán"
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "worker.created"))
        assert event.object_id == body["id"] and event.actor.email == world.hr_a
        assert event.reason.startswith("API: ERP (gct_")


def test_spreadsheet_style_values_are_accepted(api):
    response = api("post", "/api/v1/workers", json={**NEW, "citizen_id": 79195000111, "phone": 909111222,
                                                     "date_of_birth": "03/02/1995", "sex": "Nữ"})
    assert response.status_code == 201
    assert (response.json["citizen_id"], response.json["phone"]) == ("079195000111", "0909111222")


def test_validation_errors(api, app, world):
    response = api("post", "/api/v1/workers", json={**NEW, "phone": "123", "doses": [
        {"product": "pfizer", "given_on": "2021-09-01"}, {"product": "nanocovax", "given_on": "2021-08-01"}]})
    assert response.status_code == 422
    assert response.json == {"error": {"code": 422, "message": "Một số thông tin cần sửa.", "fields": [
        {"field": "phone", "message": BAD_PHONE},
        {"field": "doses[1].product", "message": "Không nhận ra vắc xin “nanocovax”. Các tên được chấp nhận: "
                                                 "AstraZeneca, Pfizer, Moderna, Vero Cell, Sputnik V, Janssen, "
                                                 "Abdala."},
        {"field": "doses[1].given_on", "message": "Ngày tiêm mũi 2 phải sau mũi 1 (01/09/2021)."},
    ]}}
    assert count(app, world.enterprise_a) == 1


def test_validation_errors_in_english(api):
    response = api("post", "/api/v1/workers", language="en", json={**NEW, "full_name": None})
    assert response.json == {"error": {"code": 422, "message": "Some data needs correcting.", "fields": [
        {"field": "full_name", "message": "Full name is required."}]}}
    assert api("get", "/api/v1/workers/999999", language="en").json["error"]["message"] == (
        "This page does not exist, or you may not see it.")


def test_shape_errors(api):
    response = api("post", "/api/v1/workers", json={**NEW, "dob": "1995-02-03", "doses": [{"vaccine": "x"}]})
    assert response.status_code == 422
    assert response.json["error"]["fields"] == [
        {"field": "dob", "message": "Trường không hợp lệ."},
        {"field": "doses[0].vaccine", "message": "Trường không hợp lệ."},
    ]
    assert api("post", "/api/v1/workers", json={**NEW, "doses": "pfizer"}).json["error"]["fields"] == [
        {"field": "doses", "message": "doses phải là danh sách tối đa 3 mũi tiêm."}]
    assert api("post", "/api/v1/workers", json=[NEW]).json["error"]["fields"] == [
        {"field": "", "message": "Mỗi người lao động phải là một đối tượng JSON."}]


@pytest.mark.parametrize("body", [b"{not json", b"", b"\xff\xfe"])
def test_body_that_is_not_json(api, body):
    response = api("post", "/api/v1/workers", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json == {"error": {"code": 400,
                                       "message": "Nội dung phải là JSON (Content-Type: application/json)."}}


def test_id_registered_by_another_enterprise(api, app, world):
    response = api("post", "/api/v1/workers", json={**NEW, "citizen_id": "079190004321", "date_of_birth": "1990-05-17"})
    assert response.status_code == 409
    message = "Số CCCD/CMND này đã được một doanh nghiệp khác đăng ký."
    assert response.json == {"error": {"code": 409, "message": message,
                                       "fields": [{"field": "citizen_id", "message": message}]}}
    assert "Bình Minh" not in response.get_data(as_text=True)
    assert count(app, world.enterprise_a) == 1


def test_put_replaces_and_patch_merges(api, app, world):
    url = f"/api/v1/workers/{world.worker_a}"
    current = api("get", url).json
    response = api("patch", url, json={"phone": "+84912345678", "test_kind": "PCR", "tested_on": "2021-09-28"})
    assert response.status_code == 200
    body = response.json
    assert body["phone"] == "0912345678" and body["test_kind"] == "pcr" and body["tested_on"] == "2021-09-28"
    assert body["doses"] == current["doses"] and body["full_name"] == current["full_name"]

    response = api("put", url, json={**current, "doses": [], "recovered_on": "2021-08-01"})  # read-only keys ignored
    assert response.status_code == 200
    assert response.json["doses"] == [] and response.json["recovered_on"] == "2021-08-01"
    assert response.json["phone"] == "0909123456"  # PUT replaced the PATCHed phone

    response = api("put", url, json={"full_name": "Chỉ tên"})
    assert response.status_code == 422
    assert {f["field"] for f in response.json["error"]["fields"]} == {
        "date_of_birth", "sex", "citizen_id", "phone", "home_address", "home_ward", "home_district"}


def test_deactivate(api, app, world):
    url = f"/api/v1/workers/{world.worker_a}/deactivate"
    response = api("post", url, json={"left_on": "2099-01-01"})
    assert response.status_code == 422
    assert [f["field"] for f in response.json["error"]["fields"]] == ["left_on", "reason"]
    response = api("post", url, json={"left_on": "2021-10-01", "reason": "Nghỉ việc"})
    assert response.status_code == 200
    assert response.json["active"] is False and response.json["left_on"] == "2021-10-01"
    again = api("post", url, json={"reason": "Nghỉ việc"})
    assert again.status_code == 409
    assert again.json["error"]["message"] == "Người lao động này đã nghỉ việc. Hãy đăng ký lại để thay đổi thông tin."
    assert api("patch", f"/api/v1/workers/{world.worker_a}", json={"phone": "0912345678"}).status_code == 409
    assert api("get", "/api/v1/workers?status=left").json["total"] == 1


# -- parity with the form --------------------------------------------------------------------------------


FORM = {
    "full_name": "Lê Thị Hoa", "date_of_birth": "03/02/1995", "sex": "F", "citizen_id": "079195000111",
    "phone": "0909111222", "home_address": "12 Nguyễn Thị Thập", "home_ward": "Tân Phong", "home_district": "Quận 7",
    "job_title": "", "shift": "office", "dose1_product": "pfizer", "dose1_date": "01/08/2021",
    "dose2_product": "", "dose2_date": "", "dose3_product": "", "dose3_date": "", "recovered_on": "",
    "test_kind": "", "tested_on": "",
}


@pytest.mark.parametrize("form_changes, api_changes", [
    ({"citizen_id": "079095000111"}, {"citizen_id": "079095000111"}),
    ({"phone": "12"}, {"phone": "12"}),
    ({"date_of_birth": "03/02/2099"}, {"date_of_birth": "2099-02-03"}),
    ({"shift": "night"}, {"shift": "night"}),
    ({"dose2_product": "pfizer", "dose2_date": "01/07/2021"}, {"doses": [
        {"product": "pfizer", "given_on": "2021-08-01"}, {"product": "pfizer", "given_on": "2021-07-01"}]}),
    ({"test_kind": "pcr"}, {"test_kind": "pcr"}),
])
def test_the_api_and_the_form_give_the_same_messages(client, auth, world, api, form_changes, api_changes):
    api_messages = [f["message"] for f in api("post", "/api/v1/workers", json={**NEW, **api_changes})
                    .json["error"]["fields"]]
    auth.login(world.hr_a)
    page = client.submit("/workers/new", {**FORM, **form_changes}).get_data(as_text=True)
    form_messages = [html.unescape(m) for m in re.findall(r'<p class="error" role="alert">(.*?)</p>', page)]
    assert api_messages and sorted(api_messages) == sorted(form_messages)


# -- bulk ----------------------------------------------------------------------------------------------


def rows(count_: int, start: int = 0, **changes) -> list[dict]:
    return [{**NEW, "full_name": f"Võ Thị Mai {chr(65 + n % 26)}",
             "citizen_id": make_cccd(79, date(1995, 2, 3), "F", 900_000 + start + n), **changes}
            for n in range(count_)]


def test_bulk_creates_and_updates(api, app, world):
    batch = rows(3)
    response = api("post", "/api/v1/workers/bulk", json={"workers": batch})
    assert response.status_code == 200
    body = response.json
    assert (body["created"], body["updated"], body["unchanged"], body["rejected"], body["errors"]) == (3, 0, 0, 0, [])
    assert [(w["row"], w["citizen_id"], w["result"]) for w in body["workers"]] == [
        (n + 1, batch[n]["citizen_id"], "created") for n in range(3)]
    batch[1]["phone"] = "0912345678"
    body = api("post", "/api/v1/workers/bulk", json={"workers": batch + rows(1, 10)}).json
    assert (body["created"], body["updated"], body["unchanged"]) == (1, 1, 2)
    assert [w["result"] for w in body["workers"]] == ["unchanged", "updated", "unchanged", "created"]
    assert api("get", f"/api/v1/workers/{body['workers'][1]['id']}").json["phone"] == "0912345678"
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "workers.bulk_upsert")).all()
        assert [e.after for e in events] == [{"created": 3, "updated": 0, "unchanged": 0},
                                             {"created": 1, "updated": 1, "unchanged": 2}]


def bulk_with_problems() -> list[dict]:
    batch = rows(4)
    batch[1]["phone"] = "12"
    batch[2]["citizen_id"] = batch[0]["citizen_id"]
    batch[3].update(citizen_id="079190004321", date_of_birth="1990-05-17")  # worker B's ID
    return batch


EXPECTED_PROBLEMS = [
    {"row": 2, "field": "phone", "message": BAD_PHONE},
    {"row": 3, "field": "citizen_id", "message": "Số CCCD/CMND này đã có ở dòng 1."},
    {"row": 4, "field": "citizen_id", "message": "Số CCCD/CMND này đã được một doanh nghiệp khác đăng ký."},
]


def test_bulk_is_all_or_nothing(api, app, world):
    response = api("post", "/api/v1/workers/bulk", json={"workers": bulk_with_problems()})
    assert response.status_code == 422
    assert response.json == {"error": {"code": 422, "message": "Có 3 dòng cần sửa; chưa lưu dòng nào.",
                                       "fields": EXPECTED_PROBLEMS}}
    assert count(app, world.enterprise_a) == 1


def test_bulk_partial_saves_the_valid_rows(api, app, world):
    batch = bulk_with_problems()
    response = api("post", "/api/v1/workers/bulk?partial=true", json={"workers": batch})
    assert response.status_code == 200
    body = response.json
    assert (body["created"], body["rejected"], body["errors"]) == (1, 3, EXPECTED_PROBLEMS)
    assert [(w["row"], w["citizen_id"]) for w in body["workers"]] == [(1, batch[0]["citizen_id"])]
    assert count(app, world.enterprise_a) == 2


def test_bulk_limits_and_shape(api):
    too_many = api("post", "/api/v1/workers/bulk", json={"workers": [{}] * 5001})
    assert too_many.status_code == 422
    assert too_many.json["error"]["message"] == "Mỗi lần gọi tối đa 5000 người lao động; hãy chia nhỏ danh sách."
    for body in ({"rows": []}, [], {"workers": {}}):
        response = api("post", "/api/v1/workers/bulk", json=body)
        assert response.status_code == 400
        assert response.json["error"]["message"] == "Nội dung phải là một đối tượng có danh sách “workers”."
    empty = api("post", "/api/v1/workers/bulk", json={"workers": []})
    assert empty.status_code == 200 and empty.json["created"] == 0


def test_bulk_scoped_to_the_tokens_enterprise(api, api_b, app, world):
    batch = rows(2)
    assert api("post", "/api/v1/workers/bulk", json={"workers": batch}).status_code == 200
    refused = api_b("post", "/api/v1/workers/bulk", json={"workers": batch})
    assert refused.status_code == 422
    assert [f["message"] for f in refused.json["error"]["fields"]] == [
        "Số CCCD/CMND này đã được một doanh nghiệp khác đăng ký."] * 2
    assert count(app, world.enterprise_b) == 1
    assert api_b("get", "/api/v1/workers").json["total"] == 1
