"""The key ring in the database: first key, rotation, retirement, sealing, caching, the published JSON."""
from __future__ import annotations

import base64
import json
import os
import stat
from datetime import date

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine, event, select, text

from portal.extensions import db
from portal.tokens.codec import InvalidToken, TokenPayload, decode_token, sign_payload
from portal.tokens.keys import (
    KEK_FILE_NAME,
    KeyEncryptionKeyError,
    KeyRing,
    KeyRingError,
    NoSigningKey,
    WrongKeyEncryptionKey,
    current_keyring,
    parse_key_encryption_key,
    public_keys_from_document,
)
from portal.tokens.models import SigningKey

PAYLOAD = TokenPayload(serial="Q7-ABC", version=1, unit="Q7", valid_from=date(2021, 9, 20),
                       valid_until=date(2022, 3, 19), windows=(), name="LE AN")
KEK = base64.b64encode(bytes(range(32))).decode()


def sign(ring) -> str:
    kid, private_key = ring.signing_key()
    return sign_payload(PAYLOAD, kid, private_key)


def raw_private(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())


def rows(app) -> list[SigningKey]:
    with app.app_context():
        found = db.session.scalars(select(SigningKey).order_by(SigningKey.created_at)).all()
        db.session.expunge_all()
        return found


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PORTAL_KEY_ENCRYPTION_KEY": KEK}


def test_the_first_signature_makes_one_key_in_the_database_in_development(app):
    with app.app_context():
        ring = current_keyring()
        assert ring.entries() == [] and ring.active() is None
        kid, _key = ring.signing_key()
        assert ring.signing_key()[0] == kid  # not a second key
        assert [info.kid for info in ring.entries()] == [kid]
    [row] = rows(app)
    assert (row.kid, row.status, row.retired_at) == (kid, "active", None)
    assert len(row.public_key) == 32 and row.sealed_private_key


def test_a_private_key_is_stored_sealed_and_opens_only_with_its_kek_and_its_kid(app):
    with app.app_context():
        kid, private = current_keyring().signing_key()
    [row] = rows(app)
    sealed = bytes(row.sealed_private_key)
    secret = raw_private(private)
    assert secret not in sealed and b"PRIVATE KEY" not in sealed
    kek = parse_key_encryption_key(KEK, "test")
    assert raw_private(kek.unseal(kid, sealed, row.kek_id)) == secret
    wrong = parse_key_encryption_key(base64.b64encode(os.urandom(32)).decode(), "another")
    with pytest.raises(WrongKeyEncryptionKey) as refused:
        wrong.unseal(kid, sealed, row.kek_id)
    assert kek.id in refused.value.detail and wrong.id in refused.value.detail
    with pytest.raises(WrongKeyEncryptionKey) as refused:
        wrong.unseal(kid, sealed)  # no fingerprint to compare: the cipher itself refuses
    assert "does not open" in refused.value.detail
    other_kid = "ffff" if kid != "ffff" else "eeee"
    with pytest.raises(WrongKeyEncryptionKey):
        kek.unseal(other_kid, sealed)  # the kid is bound to the ciphertext: no moving it to another row
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(WrongKeyEncryptionKey):
        kek.unseal(kid, tampered)


def test_a_wrong_kek_is_a_clear_error_and_the_page_says_so_not_a_500(app, app_config, world, monkeypatch, tmp_path):
    from portal import create_app
    from portal.testing.fixtures import TEST_PASSWORD
    from portal.verify.testing import make_pass
    from portal.workers.models import Worker

    with app.app_context():
        pass_id = make_pass(db.session, db.session.get(Worker, world.worker_a)).id
        db.session.commit()
        current_keyring().signing_key()
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path / "other-node"))
    other = create_app({**app_config, "PORTAL_KEY_ENCRYPTION_KEY": base64.b64encode(os.urandom(32)).decode()})
    with other.app_context():
        with pytest.raises(WrongKeyEncryptionKey) as refused:
            current_keyring().signing_key()
        assert "PORTAL_KEY_ENCRYPTION_KEY" in refused.value.detail
        assert current_keyring().verifying_keys()  # verifying needs the public keys only
    client = other.test_client()
    login = client.get("/login").get_data(as_text=True)
    csrf = login.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    client.post("/login", data={"email": world.hr_a, "password": TEST_PASSWORD, "csrf_token": csrf})
    response = client.get(f"/passes/{pass_id}.pdf")
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "Chưa thể ký thẻ xanh lúc này" in page
    assert KEK not in page and "PORTAL_KEY_ENCRYPTION_KEY" not in page  # no operator detail for users


def test_rotation_signs_with_the_new_key_and_old_tokens_still_verify(app):
    with app.app_context():
        ring = current_keyring()
        old_token = sign(ring)
        old_kid = ring.active().kid
        new = ring.rotate()
        assert new.kid != old_kid and ring.active().kid == new.kid
        new_token = sign(ring)
        assert decode_token(new_token, ring).kid == new.kid
        assert decode_token(old_token, ring).kid == old_kid
        assert {info.kid: info.status for info in ring.entries()} == {old_kid: "verify", new.kid: "active"}
    old_row, new_row = rows(app)
    assert old_row.sealed_private_key is None and old_row.kek_id is None  # it signs no more: its secret is gone
    assert new_row.sealed_private_key is not None


def test_a_retired_key_no_longer_verifies(app):
    with app.app_context():
        ring = current_keyring()
        old_token = sign(ring)
        old_kid = ring.active().kid
        with pytest.raises(KeyRingError, match="active"):
            ring.retire(old_kid)
        ring.rotate()
        ring.retire(old_kid)
        with pytest.raises(InvalidToken, match="unknown or retired"):
            decode_token(old_token, ring)
        assert {info.kid: info.status for info in ring.entries()}[old_kid] == "retired"
        assert ring.entries()[0].retired_at is not None
        with pytest.raises(KeyRingError, match="no key"):
            ring.retire("0000")


def test_the_published_document_has_public_keys_only_in_a_stable_order(app):
    with app.app_context():
        ring = current_keyring()
        token = sign(ring)
        _kid, private = ring.signing_key()
        ring.rotate()
        ring.rotate()
        document = ring.public_document()
    text_ = json.dumps(document)
    assert "private" not in text_.lower() and "sealed" not in text_
    assert base64.urlsafe_b64encode(raw_private(private)).rstrip(b"=").decode() not in text_
    assert [sorted(item) for item in document["keys"]] == [
        ["alg", "created_at", "kid", "public_key", "retired_at", "status"]] * 3
    assert [item["kid"] for item in document["keys"]] == [row.kid for row in rows(app)]  # oldest first
    assert decode_token(token, public_keys_from_document(document)).serial == "Q7-ABC"


def test_a_scan_costs_no_database_round_trip_between_refreshes(app):
    statements = []
    with app.app_context():
        ring = current_keyring()
        ring.refresh_seconds = 3600
        token = sign(ring)
        event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        for _ in range(500):
            decode_token(token, ring)
            ring.verifying_keys()
    assert statements == []


def test_first_use_inside_an_open_transaction_does_not_wait_for_itself_and_the_key_is_kept(app, world):
    """On SQLite this thread's transaction holds the write lock a second connection would wait for."""
    from portal.verify.testing import make_pass
    from portal.workers.models import Worker

    with app.app_context():
        make_pass(db.session, db.session.get(Worker, world.worker_a))  # a write: on SQLite the lock is held
        kid, private = current_keyring().signing_key()
        token = sign_payload(PAYLOAD, kid, private)
        db.session.rollback()  # the caller's work is undone; the key must not be
    assert [row.kid for row in rows(app)] == [kid]
    with app.app_context():
        fresh = KeyRing(db.engine, lambda: parse_key_encryption_key(KEK, "test"))
        assert decode_token(token, fresh).kid == kid
        assert raw_private(fresh.signing_key()[1]) == raw_private(private)


def test_two_rings_making_the_first_key_at_once_share_it(app):
    with app.app_context():
        kek = lambda: parse_key_encryption_key(KEK, "test")  # noqa: E731
        first = KeyRing(db.engine, kek, may_create=True)
        second = KeyRing(db.engine, kek, may_create=True)
        assert first.active() is None and second.active() is None  # both saw an empty ring
        assert first.signing_key()[0] == second.signing_key()[0]
        assert len(first.entries()) == 1


def test_a_ring_that_may_not_create_refuses_to_sign_with_a_clear_message(app):
    with app.app_context():
        ring = KeyRing(db.engine, lambda: parse_key_encryption_key(KEK, "test"), may_create=False)
        with pytest.raises(NoSigningKey) as refused:
            ring.signing_key()
        assert "portal keys create" in refused.value.detail
        assert "portal keys create" in str(refused.value)
    assert rows(app) == []


def test_a_ring_keeps_what_it_read_when_the_database_is_away(tmp_path, caplog):
    from sqlalchemy.orm import Session

    from portal.tokens.keys import create_first_key

    path = tmp_path / "ring.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    try:
        SigningKey.__table__.create(engine)
        kek = parse_key_encryption_key(KEK, "test")
        with Session(engine) as session, session.begin():
            create_first_key(session, kek)
        ring = KeyRing(engine, lambda: kek, refresh_seconds=0)
        token = sign(ring)
        engine.dispose()
        path.rename(tmp_path / "moved.sqlite3")  # the next read finds no table
        assert decode_token(token, ring).serial == "Q7-ABC"
        assert "could not read the signing keys" in caplog.text
        with engine.connect() as connection:
            with pytest.raises(Exception, match="no such table"):
                connection.execute(text("SELECT kid FROM signing_keys"))
    finally:
        engine.dispose()


def test_a_key_of_another_installation_is_unknown(app):
    foreign = sign_payload(PAYLOAD, "abcd", Ed25519PrivateKey.generate())
    with app.app_context():
        ring = current_keyring()
        sign(ring)
        with pytest.raises(InvalidToken):
            decode_token(foreign, ring)


def test_development_makes_its_kek_once_in_the_instance_folder_readable_by_its_owner_only(
        app_config, monkeypatch, tmp_path):
    from portal import create_app

    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path / "instance"))
    config = {key: value for key, value in app_config.items() if key != "PORTAL_KEY_ENCRYPTION_KEY"}
    app = create_app(config)
    with app.app_context():
        db.session.execute(text("DELETE FROM signing_keys"))
        db.session.commit()
        kid, private = current_keyring().signing_key()
    path = tmp_path / "instance" / KEK_FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = path.read_text()
    again = create_app(config)  # another process of the same installation: same KEK, opens the same key
    with again.app_context():
        assert raw_private(current_keyring().signing_key()[1]) == raw_private(private)
        db.session.execute(text("DELETE FROM signing_keys"))
        db.session.commit()
    assert path.read_text() == first


@pytest.mark.parametrize("value, problem", [
    ("not base64!", "not base64"),
    (base64.b64encode(os.urandom(16)).decode(), "16 bytes"),
    (base64.b64encode(b"\0" * 32).decode(), "does not look random"),
])
def test_a_malformed_kek_is_refused(value, problem):
    with pytest.raises(KeyEncryptionKeyError, match=problem):
        parse_key_encryption_key(value, "PORTAL_KEY_ENCRYPTION_KEY")


def test_a_kek_is_accepted_in_standard_or_url_safe_base64_with_or_without_padding():
    secret = bytes(range(200, 232))
    spellings = [base64.b64encode(secret).decode(), base64.urlsafe_b64encode(secret).decode(),
                 base64.urlsafe_b64encode(secret).decode().rstrip("="), base64.b64encode(secret).decode() + "\n"]
    assert {parse_key_encryption_key(text_, "x").id for text_ in spellings} == {
        parse_key_encryption_key(spellings[0], "x").id}
    assert "200" not in repr(parse_key_encryption_key(spellings[0], "x"))  # the secret never shows in a repr


def test_the_first_key_made_while_a_page_is_served_is_in_the_database_afterwards(app, client, auth, world):
    """A page's session holds SQLite's write lock while it signs; the key is written when the page ends."""
    from portal.verify.testing import make_pass
    from portal.workers.models import Worker

    with app.app_context():
        pass_id = make_pass(db.session, db.session.get(Worker, world.worker_a)).id
        db.session.commit()
    auth.login(world.hr_a)
    response = client.get(f"/passes/{pass_id}.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    [row] = rows(app)
    assert row.status == "active" and row.sealed_private_key
    with app.app_context():
        fresh = KeyRing(db.engine, lambda: parse_key_encryption_key(KEK, "test"))
        assert fresh.signing_key()[0] == row.kid


def test_after_losing_the_kek_a_rotation_under_a_new_one_signs_again_and_printed_cards_still_verify(
        app, app_config, monkeypatch, tmp_path):
    from portal import create_app

    with app.app_context():
        printed = sign(current_keyring())
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path / "rebuilt"))
    rebuilt = create_app({**app_config, "PORTAL_KEY_ENCRYPTION_KEY": base64.b64encode(os.urandom(32)).decode()})
    with rebuilt.app_context():
        with pytest.raises(WrongKeyEncryptionKey):
            current_keyring().signing_key()
    assert rebuilt.test_cli_runner().invoke(args=["keys", "rotate"]).exit_code == 0
    with rebuilt.app_context():
        ring = current_keyring()
        assert decode_token(sign(ring), ring).kid == ring.active().kid
        assert decode_token(printed, ring).serial == "Q7-ABC"
