"""HR's API tokens: created with the secret shown once, stored as a hash, revoked at once; who may manage them."""
from __future__ import annotations

import hashlib
import html
import re

import pytest
from sqlalchemy import select, text

from portal.api.models import ApiToken
from portal.audit.models import AuditEvent
from portal.extensions import db

SECRET = re.compile(r'value="(gct_[A-Za-z0-9_-]+)"')


def create_token(client, name: str = "Phần mềm nhân sự") -> tuple[str, str]:
    response = client.submit("/enterprise/api-tokens", {"name": name})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    return SECRET.search(page).group(1), page


def tokens(app) -> list[ApiToken]:
    with app.app_context():
        return list(db.session.scalars(select(ApiToken).order_by(ApiToken.id)))


def test_token_is_shown_once_and_stored_as_a_hash(client, auth, world, app):
    auth.login(world.hr_a)
    secret, page = create_token(client)
    assert "Hãy sao chép ngay: khóa chỉ hiển thị một lần này." in html.unescape(page)
    [token] = tokens(app)
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.prefix == secret[:12] and token.enterprise_id == world.enterprise_a
    assert token.name == "Phần mềm nhân sự" and token.last_used_at is None and token.revoked_at is None
    with app.app_context():
        stored = db.session.execute(text("SELECT * FROM api_tokens")).one()
        assert secret not in [str(value) for value in stored]
        [created] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "api_token.created")).all()
        assert secret not in str(created.after)
    again = client.get("/enterprise/api-tokens")
    assert again.headers["Cache-Control"] == "no-store"
    listing = again.get_data(as_text=True)
    assert secret not in listing
    assert f"{token.prefix}…" in html.unescape(listing)


def test_token_works_then_revoked_gives_401(client, auth, world, app):
    auth.login(world.hr_a)
    secret, _page = create_token(client)
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/workers", headers=headers).status_code == 200
    [token] = tokens(app)
    assert token.last_used_at is not None
    response = client.submit(f"/enterprise/api-tokens/{token.id}/revoke")
    assert response.status_code == 302
    listing = html.unescape(client.get("/enterprise/api-tokens").get_data(as_text=True))
    assert "Đã thu hồi khóa “Phần mềm nhân sự”" in listing
    refused = client.get("/api/v1/workers", headers=headers)
    assert refused.status_code == 401
    assert refused.json["error"]["code"] == 401
    assert refused.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    [token] = tokens(app)
    assert token.revoked_at is not None


def test_name_is_required(client, auth, world, app):
    auth.login(world.hr_a)
    response = client.submit("/enterprise/api-tokens", {"name": "  "})
    page = html.unescape(response.get_data(as_text=True))
    assert "Đặt tên cho khóa, ví dụ tên phần mềm nhân sự sẽ dùng khóa." in page
    assert SECRET.search(response.get_data(as_text=True)) is None
    assert tokens(app) == []


def test_tokens_of_another_enterprise_are_out_of_reach(client, auth, world, app):
    auth.login(world.hr_a)
    create_token(client, "ERP A")
    [token_a] = tokens(app)
    auth.logout()
    auth.login(world.hr_b)
    assert "ERP A" not in client.get("/enterprise/api-tokens").get_data(as_text=True)
    assert client.submit(f"/enterprise/api-tokens/{token_a.id}/revoke").status_code == 404
    assert tokens(app)[0].revoked_at is None


def test_revoke_needs_csrf(client, auth, world, app):
    auth.login(world.hr_a)
    create_token(client)
    [token] = tokens(app)
    assert client.post(f"/enterprise/api-tokens/{token.id}/revoke").status_code == 400
    assert tokens(app)[0].revoked_at is None


def test_anonymous_is_sent_to_login(client, world):
    for response in (client.get("/enterprise/api-tokens"), client.submit("/enterprise/api-tokens", {"name": "x"}),
                     client.submit("/enterprise/api-tokens/1/revoke")):
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("who", ["official_x", "official_y", "admin"])
def test_officials_and_admin_have_no_token_pages(client, auth, world, app, who):
    auth.login(world.hr_a)
    create_token(client)
    [token] = tokens(app)
    auth.logout()
    auth.login(getattr(world, who))
    assert client.get("/enterprise/api-tokens").status_code == 403
    assert client.submit("/enterprise/api-tokens", {"name": "x"}).status_code == 403
    assert client.submit(f"/enterprise/api-tokens/{token.id}/revoke").status_code == 403
    assert len(tokens(app)) == 1 and tokens(app)[0].revoked_at is None


def test_a_session_cookie_is_not_an_api_credential(client, auth, world):
    auth.login(world.hr_a)
    response = client.get("/api/v1/workers")
    assert response.status_code == 401
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer ", "Basic Zm9vOmJhcg==", "Bearer gct_not-a-real-token",
                                    "Bearer not-even-the-prefix", "Token gct_x"])
def test_bad_credentials(client, world, header):
    response = client.get("/api/v1/workers", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.json == {"error": {"code": 401, "message": (
        "Hãy gửi khóa API hợp lệ trong tiêu đề Authorization: Bearer <khóa>. "
        "Nhân sự doanh nghiệp tạo khóa tại trang API của cổng thông tin.")}}


def test_token_stops_when_its_creator_is_disabled(client, auth, world, app):
    from portal.auth.models import User

    auth.login(world.hr_a)
    secret, _page = create_token(client)
    auth.logout()
    with app.app_context():
        db.session.scalar(select(User).where(User.email == world.hr_a)).is_enabled = False
        db.session.commit()
    assert client.get("/api/v1/workers", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
