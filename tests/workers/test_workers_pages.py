"""HR's worker pages: who may reach them, the form, search and pagination, leaving."""
from __future__ import annotations

import html
import re
import unicodedata
from datetime import date

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.testing.fixtures import make_enterprise, make_worker
from portal.workers.identity import make_cccd
from portal.workers.models import Worker

PAGE_1_OF_3 = "Trang 1 / 3"
FORM = {
    "full_name": "Lê Thị Hoa", "date_of_birth": "03/02/1995", "sex": "F", "citizen_id": "079195000111",
    "phone": "0909111222", "home_address": "12 Nguyễn Thị Thập", "home_ward": "Tân Phong", "home_district": "Quận 7",
    "job_title": "Kế toán", "shift": "office", "dose1_product": "pfizer", "dose1_date": "01/08/2021",
    "dose2_product": "pfizer", "dose2_date": "01/09/2021", "dose3_product": "", "dose3_date": "",
    "recovered_on": "", "test_kind": "", "tested_on": "",
}


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def field_errors(response) -> dict[str, list[str]]:
    """Return the messages shown under each field, keyed by the field's input id."""
    page = response.get_data(as_text=True)
    found = {}
    for block in re.findall(r'<div class="field [^"]*has-error">(.*?)</div>', page, re.S):
        name = re.search(r'id="([^"]+)"', block).group(1)
        found[name] = [html.unescape(m) for m in re.findall(r'<p class="error" role="alert">(.*?)</p>', block)]
    return found


def input_value(response, name: str) -> str:
    page = response.get_data(as_text=True)
    match = re.search(rf'<input[^>]*id="{name}"[^>]*value="([^"]*)"', page)
    return html.unescape(match.group(1)) if match else ""


def workers_of(app, enterprise_id: int) -> list[Worker]:
    with app.app_context():
        return list(db.session.scalars(select(Worker).where(Worker.enterprise_id == enterprise_id)
                                       .order_by(Worker.id)))


# -- access ----------------------------------------------------------------------------------


def routes(world):
    a = world.worker_a
    return [
        ("get", "/workers"), ("get", "/workers/new"), ("get", f"/workers/{a}/edit"),
        ("post", f"/workers/{a}/edit"), ("post", f"/workers/{a}/deactivate"), ("post", "/workers/export.xlsx"),
        ("post", "/workers/export.csv"), ("post", "/workers/new"),
    ]


def call(client, method: str, url: str):
    if method == "get":
        return client.get(url)
    return client.submit(url, {"left_on": "01/10/2021", "reason": "Nghỉ"} if "deactivate" in url else FORM)


def test_anonymous_is_sent_to_login(client, world):
    for method, url in routes(world):
        response = call(client, method, url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login"), url


@pytest.mark.parametrize("who", ["official_x", "official_y", "admin"])
def test_officials_and_admin_may_not_use_hr_pages(client, auth, world, who):
    auth.login(getattr(world, who))
    for method, url in routes(world):
        assert call(client, method, url).status_code == 403, url
    assert len(workers_of(client.application, world.enterprise_a)) == 1


def test_hr_of_another_enterprise_gets_404_on_a_workers(client, auth, world, app):
    auth.login(world.hr_b)
    a = world.worker_a
    assert client.get(f"/workers/{a}/edit").status_code == 404
    assert client.submit(f"/workers/{a}/edit", FORM).status_code == 404
    assert client.submit(f"/workers/{a}/deactivate", {"left_on": "01/10/2021", "reason": "x"}).status_code == 404
    assert client.get("/workers/999999/edit").status_code == 404
    [worker] = workers_of(app, world.enterprise_a)
    assert worker.active and worker.full_name == "Nguyễn Văn An"
    page = text(client.get("/workers"))
    assert "Đỗ Thị Bích" in page and "Nguyễn Văn An" not in page


def test_hr_sees_own_list(client, auth, world):
    auth.login(world.hr_a)
    response = client.get("/workers")
    assert response.status_code == 200
    page = text(response)
    assert "Nguyễn Văn An" in page and "079090001234" in page and "Đỗ Thị Bích" not in page
    assert "1 người lao động." in page


def test_post_without_csrf_token_is_refused(client, auth, world, app):
    auth.login(world.hr_a)
    response = client.post("/workers/new", data=FORM)
    assert response.status_code == 400
    assert len(workers_of(app, world.enterprise_a)) == 1


# -- the form ----------------------------------------------------------------------------------


def test_add_a_worker(client, auth, world, app):
    auth.login(world.hr_a)
    response = client.submit("/workers/new", FORM)
    assert response.status_code == 302
    follow = client.get(response.headers["Location"])
    assert "Đã thêm Lê Thị Hoa." in text(follow)
    added = workers_of(app, world.enterprise_a)[-1]
    assert (added.full_name, added.citizen_id, added.sex, added.phone) == ("Lê Thị Hoa", "079195000111", "F",
                                                                          "0909111222")
    with app.app_context():
        added = db.session.merge(added)
        assert [(d.number, d.product, d.given_on) for d in added.doses] == [
            (1, "pfizer", date(2021, 8, 1)), (2, "pfizer", date(2021, 9, 1))]


def test_save_and_add_another(client, auth, world):
    auth.login(world.hr_a)
    response = client.submit("/workers/new", {**FORM, "then": "new"})
    assert response.headers["Location"] == "/workers/new"


def test_errors_show_under_each_field_and_keep_what_was_typed(client, auth, world, app):
    auth.login(world.hr_a)
    response = client.submit("/workers/new", {**FORM, "full_name": "  Lê  Thị Hoa ", "citizen_id": "079095000111",
                                              "phone": "12345", "dose2_date": "01/07/2021", "dose3_product": "pfizer"})
    assert response.status_code == 200
    assert field_errors(response) == {
        "citizen_id": ["Chữ số thứ tư của CCCD không khớp với ngày sinh và giới tính."],
        "phone": ["Vui lòng nhập số di động hoặc số cố định Việt Nam, ví dụ 0909 123 456 hoặc 028 3775 0000."],
        "dose3_date": ["Nhập ngày tiêm mũi 3."],
        "dose2_date": ["Ngày tiêm mũi 2 phải sau mũi 1 (01/08/2021)."],
    }
    assert "Một số thông tin cần sửa: xem thông báo dưới từng ô." in text(response)
    assert input_value(response, "full_name") == "  Lê  Thị Hoa "
    assert input_value(response, "citizen_id") == "079095000111"
    assert input_value(response, "dose2_date") == "01/07/2021"
    assert 'id="dose3_product" name="dose3_product"><option value="">— chọn —</option><option value="astrazeneca">' \
           'AstraZeneca</option><option selected value="pfizer">' in response.get_data(as_text=True)
    assert len(workers_of(app, world.enterprise_a)) == 1


def test_id_registered_by_another_enterprise(client, auth, world, app):
    auth.login(world.hr_a)
    response = client.submit("/workers/new", {**FORM, "citizen_id": "079190004321",  # worker B's
                                              "date_of_birth": "17/05/1990"})
    assert field_errors(response) == {"citizen_id": ["Số CCCD/CMND này đã được một doanh nghiệp khác đăng ký."]}
    page = text(response)
    assert "Hợp tác xã Bình Minh" not in page and "Đỗ Thị Bích" not in page and "0312345673" not in page
    assert len(workers_of(app, world.enterprise_a)) == 1


def test_form_in_english(client, auth, world):
    auth.login(world.hr_a)
    client.set_cookie("lang", "en")
    response = client.submit("/workers/new", {**FORM, "full_name": ""})
    assert field_errors(response) == {"full_name": ["Full name is required."]}


def test_pending_enterprise_may_add_workers(client, auth, app):
    from portal.auth.models import Role
    from portal.auth.services import create_user
    from portal.testing.fixtures import TEST_PASSWORD

    with app.app_context():
        registry = app.extensions["portal.plugins"].registry
        pending = make_enterprise(db.session, registry, "district7", "Công ty Mới", "0301111110", status="pending")
        create_user(db.session, email="hr.new@example.vn", password=TEST_PASSWORD, full_name="Hà", role=Role.HR,
                    enterprise=pending)
        db.session.commit()
        pending_id = pending.id
    auth.login("hr.new@example.vn")
    assert client.submit("/workers/new", FORM).status_code == 302
    assert [w.full_name for w in workers_of(app, pending_id)] == ["Lê Thị Hoa"]


def test_edit_a_worker(client, auth, world, app):
    auth.login(world.hr_a)
    page = client.get(f"/workers/{world.worker_a}/edit")
    assert input_value(page, "full_name") == "Nguyễn Văn An"
    assert input_value(page, "date_of_birth") == "17/05/1990"
    data = {**FORM, "full_name": "Nguyễn Văn Ân", "date_of_birth": "17/05/1990", "sex": "M",
            "citizen_id": "079090001234", "dose3_product": "moderna", "dose3_date": "15/09/2021"}
    response = client.submit(f"/workers/{world.worker_a}/edit", data)
    assert response.status_code == 302
    assert "Đã lưu thông tin của Nguyễn Văn Ân." in text(client.get(response.headers["Location"]))
    with app.app_context():
        worker = db.session.get(Worker, world.worker_a)
        assert worker.full_name == "Nguyễn Văn Ân" and worker.name_key == "nguyen van an"
        assert [d.product for d in worker.doses] == ["pfizer", "pfizer", "moderna"]


def test_worker_leaves_and_the_id_is_free_again(client, auth, world, app):
    auth.login(world.hr_a)
    bad = client.submit(f"/workers/{world.worker_a}/deactivate", {"left_on": "31/12/2999", "reason": ""})
    assert bad.status_code == 200
    assert field_errors(bad) == {"left_on": ["Ngày nghỉ việc không thể là ngày trong tương lai."],
                                 "reason": ["Nhập lý do, ví dụ xin nghỉ việc hoặc hết hạn hợp đồng."]}
    response = client.submit(f"/workers/{world.worker_a}/deactivate", {"left_on": "01/10/2021",
                                                                       "reason": "Hết hạn hợp đồng"})
    assert response.status_code == 302
    assert "Đã ghi nhận Nguyễn Văn An nghỉ việc." in text(client.get(response.headers["Location"]))
    [worker] = workers_of(app, world.enterprise_a)
    assert (worker.active, worker.left_on) == (False, date(2021, 10, 1))

    assert "Nguyễn Văn An" not in text(client.get("/workers"))
    assert "Nguyễn Văn An" in text(client.get("/workers?status=left"))
    locked = client.get(f"/workers/{world.worker_a}/edit")
    assert "Người lao động này đã nghỉ việc ngày 01/10/2021." in text(locked)
    assert 'disabled id="full_name"' in locked.get_data(as_text=True)
    client.submit(f"/workers/{world.worker_a}/edit", {**FORM, "full_name": "Đổi tên"})
    assert workers_of(app, world.enterprise_a)[0].full_name == "Nguyễn Văn An"

    auth.logout()
    auth.login(world.hr_b)
    again = {**FORM, "full_name": "Nguyễn Văn An", "date_of_birth": "17/05/1990", "sex": "M",
             "citizen_id": "079090001234"}
    assert client.submit("/workers/new", again).status_code == 302
    assert "079090001234" in [w.citizen_id for w in workers_of(app, world.enterprise_b)]


# -- list: search and pages -------------------------------------------------------------------------


@pytest.fixture
def many(app, world):
    """120 more workers in A: 'Trần Văn Số 000' … 'Trần Văn Số 119', plus a name entered decomposed (NFD)."""
    from portal.enterprises.models import Enterprise

    with app.app_context():
        a = db.session.get(Enterprise, world.enterprise_a)
        for n in range(120):
            make_worker(db.session, a, citizen_id=make_cccd(79, date(1990, 5, 17), "M", 700_000 + n),
                        name=f"Trần Văn Số {n:03d}")
        db.session.commit()
    return unicodedata.normalize("NFD", "Nguyễn Thị Hồng Đào")


def rows(response) -> list[str]:
    return re.findall(r'<td><a href="/workers/\d+/edit">([^<]+)</a></td>', text(response))


def test_pagination_fifty_a_page(client, auth, many, world):
    auth.login(world.hr_a)
    first = client.get("/workers")
    assert len(rows(first)) == 50 and rows(first)[0] == "Nguyễn Văn An"
    assert PAGE_1_OF_3 in text(first)
    last = client.get("/workers?page=3")
    assert len(rows(last)) == 21
    assert rows(last)[-1] == "Trần Văn Số 119"
    assert rows(client.get("/workers?page=9")) == []
    assert client.get("/workers?page=abc").status_code == 200


def test_search_without_diacritics_and_by_id_digits(client, auth, many, world):
    auth.login(world.hr_a)
    client.submit("/workers/new", {**FORM, "full_name": many, "citizen_id": "079195000222"})
    assert rows(client.get("/workers?q=hong dao")) == ["Nguyễn Thị Hồng Đào"]
    assert rows(client.get("/workers?q=NGUYỄN")) == ["Nguyễn Thị Hồng Đào", "Nguyễn Văn An"]
    assert rows(client.get("/workers?q=nguyen")) == ["Nguyễn Thị Hồng Đào", "Nguyễn Văn An"]
    assert rows(client.get("/workers?q=so 11")) == [f"Trần Văn Số {n}" for n in range(110, 120)]
    assert rows(client.get("/workers?q=0001234")) == ["Nguyễn Văn An"]
    assert rows(client.get("/workers?q=079 0900 01234")) == ["Nguyễn Văn An"]
    assert rows(client.get("/workers?q=%25")) == []  # a LIKE wildcard is a plain character
    assert rows(client.get("/workers?q=4321")) == []  # B's worker
    empty = client.get("/workers?q=zzz")
    assert rows(empty) == [] and "0 người lao động khớp với “zzz”." in text(empty)


def test_list_queries_do_not_grow_with_the_rows_shown(client, auth, world, app):
    """No N+1: the page runs the same statements for 1 worker as for 50 (doses come in one extra query)."""
    from sqlalchemy import event

    from portal.enterprises.models import Enterprise

    auth.login(world.hr_a)
    client.get("/workers")

    def statements(url: str) -> int:
        seen = []
        with app.app_context():
            engine = db.engine
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    one = statements("/workers")
    with app.app_context():
        a = db.session.get(Enterprise, world.enterprise_a)
        for n in range(60):
            make_worker(db.session, a, citizen_id=make_cccd(79, date(1990, 5, 17), "M", 600_000 + n),
                        name=f"Lý Văn {chr(65 + n % 26)}", doses=[("pfizer", date(2021, 8, 1))])
        db.session.commit()
    assert statements("/workers") == one
    assert statements("/workers?q=ly van") == one
