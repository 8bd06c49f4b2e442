"""Who may use the import pages: the enterprise's own HR only; a batch belongs to its uploader."""
from __future__ import annotations

import io

import pytest

from portal.extensions import db
from portal.imports.models import ImportBatch
from portal.testing.fixtures import TEST_PASSWORD


@pytest.fixture
def batch_of_a(app, world, auth, importer, files) -> int:
    """A batch uploaded by HR of enterprise A, then signed out."""
    auth.login(world.hr_a)
    batch_id = importer.batch_id(importer.upload(files.csv(files.rows(2))))
    auth.logout()
    return batch_id


def pages(batch_id: int) -> list[tuple[str, str]]:
    return [
        ("GET", "/workers/import"),
        ("GET", "/workers/import/template.xlsx"),
        ("GET", "/workers/import/template.csv"),
        ("POST", "/workers/import"),
        ("GET", f"/workers/import/{batch_id}"),
        ("GET", f"/workers/import/{batch_id}/problems.csv"),
        ("POST", f"/workers/import/{batch_id}/commit"),
    ]


def call(client, method: str, url: str):
    if method == "GET":
        return client.get(url)
    return client.submit(url, {})


def test_anonymous_is_sent_to_sign_in(client, batch_of_a):
    for method, url in pages(batch_of_a):
        response = call(client, method, url)
        assert response.status_code == 302, url
        assert "/login" in response.headers["Location"], url


@pytest.mark.parametrize("who", ["official_x", "official_y", "admin"])
def test_officials_and_admin_are_refused(client, auth, world, batch_of_a, who):
    auth.login(getattr(world, who))
    for method, url in pages(batch_of_a):
        assert call(client, method, url).status_code == 403, url


def test_hr_of_another_enterprise_sees_nothing(app, client, auth, world, batch_of_a):
    auth.login(world.hr_b)
    for method, url in pages(batch_of_a)[4:]:
        assert call(client, method, url).status_code == 404, url
    with app.app_context():
        assert db.session.get(ImportBatch, batch_of_a).status == "ready"
    # Their own upload page works, and lists none of A's imports.
    page = client.get("/workers/import")
    assert page.status_code == 200 and "danh_sach.csv" not in page.get_data(as_text=True)


def test_another_hr_of_the_same_enterprise_cannot_use_the_batch(app, client, auth, world, batch_of_a):
    from portal.auth.models import Role
    from portal.auth.services import create_user
    from portal.enterprises.models import Enterprise

    with app.app_context():
        create_user(db.session, email="hr.a2@example.vn", password=TEST_PASSWORD, full_name="Lý Thị Mai",
                    role=Role.HR, enterprise=db.session.get(Enterprise, world.enterprise_a))
        db.session.commit()
    auth.login("hr.a2@example.vn")
    for method, url in pages(batch_of_a)[4:]:
        assert call(client, method, url).status_code == 404, url


def test_hr_of_the_enterprise_uses_every_page(client, auth, world, batch_of_a):
    auth.login(world.hr_a)
    for method, url in pages(batch_of_a):
        if method == "GET":
            assert client.get(url).status_code == 200, url
    assert client.submit(f"/workers/import/{batch_of_a}/commit", {}).status_code == 302


def test_csrf_token_is_required(app, client, auth, world, batch_of_a, files):
    auth.login(world.hr_a)
    upload = client.post("/workers/import", data={"file": (io.BytesIO(files.csv(files.rows(1))), "a.csv")},
                         content_type="multipart/form-data")
    assert upload.status_code == 400
    assert client.post(f"/workers/import/{batch_of_a}/commit", data={"valid_only": "y"}).status_code == 400
    with app.app_context():
        assert db.session.get(ImportBatch, batch_of_a).status == "ready"
        assert db.session.query(ImportBatch).count() == 1
