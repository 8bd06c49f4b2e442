"""``portal keys import-dir``: an earlier installation's key folder into the database, cards kept valid."""
from __future__ import annotations

import json
from datetime import date

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from portal.extensions import db
from portal.tokens.codec import InvalidToken, TokenPayload, decode_token, sign_payload
from portal.tokens.keys import FileKeyRing, b64url, current_keyring, public_bytes
from portal.tokens.models import SigningKey

PAYLOAD = TokenPayload(serial="CG-OLD1", version=1, unit="CG", valid_from=date(2021, 9, 20),
                       valid_until=date(2022, 3, 19), windows=(), name="DO T. BICH")


def raw(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())


@pytest.fixture
def folder(app):
    """What an earlier version left in SIGNING_KEY_DIR: a retired, a verify-only and an active key."""
    ring = FileKeyRing(app.config["SIGNING_KEY_DIR"])
    tokens = {}
    for _ in range(3):
        if ring.active():
            ring.rotate()
        kid, key = ring.signing_key()
        tokens[kid] = sign_payload(PAYLOAD, kid, key)
    oldest = ring.entries()[0].kid
    ring.retire(oldest)
    return ring, tokens


def stored(app) -> dict[str, SigningKey]:
    with app.app_context():
        rows = db.session.scalars(select(SigningKey)).all()
        db.session.expunge_all()
        return {row.kid: row for row in rows}


def test_import_dir_keeps_every_card_verifying_and_the_active_key_signing(runner, app, folder):
    ring, tokens = folder
    retired, verify, active = (info.kid for info in ring.entries())
    published_before = ring.public_document()
    result = runner.invoke(args=["keys", "import-dir"])  # SIGNING_KEY_DIR by default
    assert result.exit_code == 0, result.output
    assert "3 key(s) imported" in result.output
    assert f"{active}  active    imported, private key sealed with KEK" in result.output
    with app.app_context():
        keys = current_keyring()
        assert keys.public_document() == published_before  # same keys, statuses and times
        assert decode_token(tokens[active], keys).kid == active
        assert decode_token(tokens[verify], keys).kid == verify
        with pytest.raises(InvalidToken):
            decode_token(tokens[retired], keys)
        kid, private = keys.signing_key()
    assert kid == active and raw(private) == raw(ring.private_key(active))
    rows = stored(app)
    assert rows[active].sealed_private_key and raw(private) not in bytes(rows[active].sealed_private_key)
    assert rows[verify].sealed_private_key is None and rows[retired].sealed_private_key is None
    assert rows[retired].retired_at is not None

    again = runner.invoke(args=["keys", "import-dir", str(ring.directory)])
    assert again.exit_code == 0 and "0 key(s) imported" in again.output
    assert again.output.count("already in the database") == 3
    assert stored(app).keys() == rows.keys()


def test_import_into_a_ring_that_already_signs_keeps_its_active_key(runner, app, folder):
    ring, tokens = folder
    assert runner.invoke(args=["keys", "create"]).exit_code == 0
    with app.app_context():
        own = current_keyring().active().kid
    result = runner.invoke(args=["keys", "import-dir", str(ring.directory)])
    assert result.exit_code == 0, result.output
    imported_active = ring.active().kid
    assert "no longer signs" in result.output
    rows = stored(app)
    assert rows[own].status == "active" and rows[imported_active].status == "verify"
    assert rows[imported_active].sealed_private_key is None
    with app.app_context():
        assert current_keyring().signing_key()[0] == own
        assert decode_token(tokens[imported_active], current_keyring()).kid == imported_active


def test_a_folder_whose_key_id_names_another_key_imports_nothing(runner, app, folder, tmp_path):
    ring, _tokens = folder
    assert runner.invoke(args=["keys", "import-dir", str(ring.directory)]).exit_code == 0
    active = ring.active().kid
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    impostor = Ed25519PrivateKey.generate().public_key()
    keys = [{"kid": "beef" if active != "beef" else "feed", "alg": "Ed25519", "status": "verify",
             "public_key": b64url(public_bytes(Ed25519PrivateKey.generate().public_key())),
             "created_at": "2021-09-01T00:00:00+00:00", "retired_at": None},
            {"kid": active, "alg": "Ed25519", "status": "verify", "public_key": b64url(public_bytes(impostor)),
             "created_at": "2021-09-02T00:00:00+00:00", "retired_at": None}]
    (foreign / "keyring.json").write_text(json.dumps({"alg": "Ed25519", "keys": keys}))
    before = stored(app).keys()
    result = runner.invoke(args=["keys", "import-dir", str(foreign)])
    assert result.exit_code == 1 and "nothing was imported" in result.output
    assert stored(app).keys() == before


def test_a_folder_without_a_key_ring_is_refused(runner, tmp_path):
    (tmp_path / "empty").mkdir()
    result = runner.invoke(args=["keys", "import-dir", str(tmp_path / "empty")])
    assert result.exit_code == 1 and "keyring.json" in result.output


def test_an_active_key_without_its_private_file_is_refused(runner, app, folder):
    ring, _tokens = folder
    (ring.directory / f"{ring.active().kid}.key").unlink()
    result = runner.invoke(args=["keys", "import-dir", str(ring.directory)])
    assert result.exit_code == 1 and "cannot be read" in result.output
    assert stored(app) == {}
