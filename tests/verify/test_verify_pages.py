"""The public checkpoint pages: languages, JSON, keys, revocations, rate limit, access by role."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.clock import utcnow
from portal.extensions import db
from portal.passes.models import Pass
from portal.tokens.codec import MAX_TOKEN_CHARS, sign_pass_token
from portal.verify.models import VerificationRecord
from portal.verify.testing import ALL_DAY, make_pass
from portal.workers.models import Worker


@pytest.fixture
def token(app, world):
    """The token of a pass of worker A valid every second of today."""
    with app.app_context():
        pass_ = make_pass(db.session, db.session.get(Worker, world.worker_a), windows=ALL_DAY)
        db.session.commit()
        return sign_pass_token(pass_)


def verdict(response) -> str:
    return re.search(r'data-outcome="(\w+)"', response.get_data(as_text=True)).group(1)


def test_the_page_is_vietnamese_by_default_with_status_word_icon_and_local_time(client, token):
    response = client.get(f"/v/{token}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert verdict(response) == "valid"
    assert "HỢP LỆ" in page and "✓" in page
    assert "Nguyễn Văn An" in page and "1990" in page and "••••••••1234" in page
    assert "079090001234" not in page
    assert "Công ty TNHH Ánh Dương" in page and "Quận 7" in page
    assert re.search(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}</time> \(giờ TP\.HCM\)", page)
    assert "Khung giờ được đi lại" in page and "00:00–23:59" in page
    assert response.headers["Cache-Control"] == "no-store"
    assert 'href="/static/css/verify.css"' in page and "style=" not in page and "<script" not in page


def test_the_english_switch(client, token):
    client.get("/lang/en")
    page = client.get(f"/v/{token}").get_data(as_text=True)
    assert "VALID" in page and "HỢP LỆ" not in page
    assert "Travel hours" in page and "District 7" in page
    assert "(HCMC time)" in page


@pytest.mark.parametrize("language, word", [("vi", "ĐÃ THU HỒI"), ("en", "REVOKED")])
def test_a_revoked_pass_says_so_in_either_language(app, client, token, language, word):
    with app.app_context():
        pass_ = db.session.scalars(select(Pass)).one()
        pass_.status, pass_.revoked_at = "revoked", utcnow()
        db.session.commit()
    client.get(f"/lang/{language}")
    response = client.get(f"/v/{token}")
    assert verdict(response) == "revoked" and word in response.get_data(as_text=True)


@pytest.mark.parametrize("bad", [
    "", "x", "%C3%A9t%C3%A9", "A" * (MAX_TOKEN_CHARS + 10), "a/b/c", "..%2F..%2Fetc%2Fpasswd", "%00%ff",
    "AQID", "AAAA" * 40, "Ａ" * 30, "' OR 1=1 --", "<script>alert(1)</script>",
])
def test_malformed_tokens_get_the_invalid_answer_never_a_500(client, bad):
    response = client.get(f"/v/{bad}")
    assert response.status_code == 200
    assert verdict(response) == "invalid"
    assert "KHÔNG HỢP LỆ" in response.get_data(as_text=True)
    answer = client.get(f"/api/v1/verify/{bad}")
    assert answer.status_code == 200 and answer.get_json()["outcome"] == "invalid"
    assert "pass" not in answer.get_json()


def test_tampered_and_truncated_tokens_are_invalid(client, token):
    for bad in (token[:-1], token + "A", token[:20], token[:50] + ("B" if token[50] != "B" else "C") + token[51:]):
        assert client.get(f"/api/v1/verify/{bad}").get_json()["outcome"] == "invalid"
    assert client.get(f"/api/v1/verify/{token}").get_json()["outcome"] == "valid"


def test_after_rotation_old_tokens_verify_until_their_key_is_retired(app, client, token):
    from portal.tokens.keys import current_keyring

    with app.app_context():
        ring = current_keyring()
        old_kid = ring.active().kid
        ring.rotate()
        pass_ = db.session.scalars(select(Pass)).one()
        new_token = sign_pass_token(pass_)
    assert new_token[:4] != token[:4]  # the key id sits in bytes 1-2
    assert client.get(f"/api/v1/verify/{token}").get_json()["outcome"] == "valid"
    assert client.get(f"/api/v1/verify/{new_token}").get_json()["outcome"] == "valid"
    with app.app_context():
        current_keyring().retire(old_kid)
    assert client.get(f"/api/v1/verify/{token}").get_json()["outcome"] == "invalid"
    assert client.get(f"/api/v1/verify/{new_token}").get_json()["outcome"] == "valid"
    statuses = {key["kid"]: key["status"] for key in client.get("/.well-known/greencard-keys.json").get_json()["keys"]}
    assert statuses[old_kid] == "retired"


def test_the_json_answer_for_checkpoint_apps(app, client, token):
    answer = client.get(f"/api/v1/verify/{token}").get_json()
    assert answer["outcome"] == "valid"
    assert answer["checked_at"].endswith("+00:00") and answer["checked_at_local"].endswith("+07:00")
    assert answer["pass"]["holder_name"] == "Nguyễn Văn An"
    assert answer["pass"]["masked_id"] == "••••••••1234"
    with app.app_context():
        outcomes = db.session.scalars(select(VerificationRecord.outcome)).all()
    assert outcomes == ["valid"]


def test_the_keys_json_is_public_cacheable_and_holds_no_private_material(app, client, token):
    response = client.get("/.well-known/greencard-keys.json")
    assert response.status_code == 200
    assert response.cache_control.public and response.cache_control.max_age == 3600
    assert response.headers["ETag"]
    document = response.get_json()
    assert [item["status"] for item in document["keys"]] == ["active"]
    assert set(document["keys"][0]) == {"kid", "alg", "public_key", "status", "created_at", "retired_at"}
    assert document["keys"][0]["alg"] == "Ed25519"
    assert "PRIVATE" not in response.get_data(as_text=True)
    again = client.get("/.well-known/greencard-keys.json", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_the_revocation_list_supports_conditional_requests(app, client, token):
    first = client.get("/api/v1/revocations")
    assert first.status_code == 200 and first.get_json()["revoked"] == []
    assert first.cache_control.public
    assert client.get("/api/v1/revocations", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    with app.app_context():
        pass_ = db.session.scalars(select(Pass)).one()
        pass_.status, pass_.revoked_at = "revoked", utcnow().replace(microsecond=0)
        db.session.commit()
        serial = pass_.serial
    changed = client.get("/api/v1/revocations", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200
    assert [item["serial"] for item in changed.get_json()["revoked"]] == [serial]
    assert changed.headers["Last-Modified"]
    since = client.get("/api/v1/revocations", headers={"If-Modified-Since": changed.headers["Last-Modified"]})
    assert since.status_code == 304


@pytest.mark.parametrize("who", ["anonymous", "hr_a", "hr_b", "official_x", "official_y", "admin"])
def test_every_role_and_nobody_sees_the_same_public_answers(client, auth, world, token, who):
    if who != "anonymous":
        assert auth.login(getattr(world, who)).status_code == 302
    assert verdict(client.get(f"/v/{token}")) == "valid"
    assert client.get(f"/api/v1/verify/{token}").get_json()["outcome"] == "valid"
    assert client.get("/.well-known/greencard-keys.json").status_code == 200
    assert client.get("/api/v1/revocations").status_code == 200
    assert client.get("/api/v1/ping").get_json() == {"ok": True}


def test_every_route_of_the_blueprint_is_marked_public(app):
    views = [name for name in app.view_functions if name.startswith("verify.")]
    assert sorted(views) == ["verify.json", "verify.keys", "verify.page", "verify.ping", "verify.revocations"]
    assert all(getattr(app.view_functions[name], "public", False) for name in views)
