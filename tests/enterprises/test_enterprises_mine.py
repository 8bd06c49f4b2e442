"""HR's own page: what the status means for them, their details, and where to go next."""
from __future__ import annotations

import pytest
from flask import url_for

from portal.enterprises.models import Enterprise


def _set(app, enterprise_id: int, **values) -> None:
    from portal.extensions import db

    with app.app_context():
        enterprise = db.session.get(Enterprise, enterprise_id)
        for name, value in values.items():
            setattr(enterprise, name, value)
        db.session.commit()


@pytest.mark.parametrize(("status", "reason", "shown", "travel_permit"), [
    ("pending", None, "Bạn có thể nhập người lao động, nhưng chưa thể cấp thẻ xanh cho đến khi đơn vị duyệt", False),
    ("approved", None, "Doanh nghiệp của bạn đã được Quận 7 duyệt", False),
    ("rejected", "Không thuộc ngành thiết yếu", "Quận 7 không duyệt doanh nghiệp của bạn.", True),
    ("suspended", "Phát hiện ca F0", "Quận 7 đã tạm ngưng doanh nghiệp của bạn", True),
])
def test_status_is_explained(app, client, auth, world, status, reason, shown, travel_permit):
    _set(app, world.enterprise_a, status=status, status_reason=reason)
    auth.login(world.hr_a)
    page = client.get("/enterprise").get_data(as_text=True)
    assert shown in page
    assert (f"Lý do: {reason}" in page) == bool(reason)
    assert ('href="/travel-permit">Về giấy đi đường' in page) == travel_permit


def test_details_and_active_workers(app, client, auth, world):
    auth.login(world.hr_a)
    page = client.get("/enterprise").get_data(as_text=True)
    assert "Công ty TNHH Ánh Dương" in page and "0301234562" in page
    assert "Sản xuất hàng hóa thiết yếu" in page and "Chế biến lương thực, thực phẩm" in page
    assert '<span class="figure-number">1</span> người lao động đang làm việc đã đăng ký' in page


def test_links_only_to_pages_the_portal_has(app, client, auth, world):
    auth.login(world.hr_a)
    page = client.get("/enterprise").get_data(as_text=True)
    with app.test_request_context():
        for endpoint in ("workers.index", "imports.upload", "passes.index"):
            if endpoint in app.view_functions:
                assert f'href="{url_for(endpoint)}"' in page, endpoint
    assert 'href="/enterprise/edit"' in page and f'href="/enterprises/{world.enterprise_a}"' in page


def test_hr_lands_on_their_enterprise_after_signing_in(client, auth, world):
    response = auth.login(world.hr_b, follow_redirects=True)
    assert response.request.path == "/enterprise"
    assert "Hợp tác xã Bình Minh" in response.get_data(as_text=True)


def test_official_lands_on_the_queue(client, auth, world):
    assert auth.login(world.official_y, follow_redirects=True).request.path == "/officials/enterprises"
