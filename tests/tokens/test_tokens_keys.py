"""Signing keys: created on first use, private files private, rotation and retirement, published JSON."""
from __future__ import annotations

import json
import stat
from datetime import date

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from portal.tokens.codec import InvalidToken, TokenPayload, decode_token, sign_payload
from portal.tokens.keys import KeyRing, KeyRingError, public_keys_from_document

PAYLOAD = TokenPayload(serial="Q7-ABC", version=1, unit="Q7", valid_from=date(2021, 9, 20),
                       valid_until=date(2022, 3, 19), windows=(), name="LE AN")


def sign(ring: KeyRing) -> str:
    kid, private_key = ring.signing_key()
    return sign_payload(PAYLOAD, kid, private_key)


def test_first_use_creates_one_private_key_file_readable_by_its_owner_only(tmp_path):
    ring = KeyRing(tmp_path / "keys")
    assert ring.entries() == []
    kid, _key = ring.signing_key()
    assert ring.signing_key()[0] == kid  # not a second key
    private = tmp_path / "keys" / f"{kid}.key"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) & 0o077 == 0
    assert b"PRIVATE KEY" in private.read_bytes()
    assert [info.kid for info in ring.entries()] == [kid]


def test_a_loosened_private_key_is_made_private_again_when_loaded(tmp_path):
    kid, _key = KeyRing(tmp_path).signing_key()
    (tmp_path / f"{kid}.key").chmod(0o644)
    KeyRing(tmp_path).signing_key()
    assert stat.S_IMODE((tmp_path / f"{kid}.key").stat().st_mode) == 0o600


def test_rotation_signs_with_the_new_key_and_old_tokens_still_verify(tmp_path):
    ring = KeyRing(tmp_path)
    old_token = sign(ring)
    old_kid = ring.active().kid
    # Another process (the CLI) rotates; this ring notices the changed file.
    new = KeyRing(tmp_path).rotate()
    assert new.kid != old_kid
    assert ring.active().kid == new.kid
    new_token = sign(ring)
    assert decode_token(new_token, ring).kid == new.kid
    assert decode_token(old_token, ring).kid == old_kid
    assert {info.kid: info.status for info in ring.entries()} == {old_kid: "verify", new.kid: "active"}


def test_a_retired_key_no_longer_verifies_and_loses_its_private_file(tmp_path):
    ring = KeyRing(tmp_path)
    old_token = sign(ring)
    old_kid = ring.active().kid
    with pytest.raises(KeyRingError, match="active"):
        ring.retire(old_kid)
    ring.rotate()
    KeyRing(tmp_path).retire(old_kid)
    with pytest.raises(InvalidToken):
        decode_token(old_token, ring)
    assert not (tmp_path / f"{old_kid}.key").exists()
    assert {info.kid: info.status for info in ring.entries()}[old_kid] == "retired"
    with pytest.raises(KeyRingError, match="no key"):
        ring.retire("0000")


def test_the_published_document_has_public_keys_only(tmp_path):
    ring = KeyRing(tmp_path)
    token = sign(ring)
    ring.rotate()
    text = json.dumps(ring.public_document())
    assert "PRIVATE" not in text and "private" not in text
    private_pem = next(tmp_path.glob("*.key")).read_bytes().decode()
    assert private_pem.splitlines()[1][:20] not in text
    document = json.loads(text)
    assert [sorted(item) for item in document["keys"]] == [
        ["alg", "created_at", "kid", "public_key", "retired_at", "status"]] * 2
    assert decode_token(token, public_keys_from_document(document)).serial == "Q7-ABC"


def test_two_rings_racing_on_first_use_share_one_key(tmp_path):
    first, second = KeyRing(tmp_path), KeyRing(tmp_path)
    assert first.signing_key()[0] == second.signing_key()[0]
    assert len(first.entries()) == 1


def test_a_key_of_another_installation_is_unknown(tmp_path):
    foreign = sign_payload(PAYLOAD, "abcd", Ed25519PrivateKey.generate())
    ring = KeyRing(tmp_path)
    sign(ring)
    with pytest.raises(InvalidToken):
        decode_token(foreign, ring)
