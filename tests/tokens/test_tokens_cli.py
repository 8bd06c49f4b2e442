"""``portal keys`` and ``portal verify``: offline checks with public keys only."""
from __future__ import annotations

import json
from datetime import date, time

import pytest

from portal.plugins.types import CommuteWindow
from portal.tokens.codec import TokenPayload, sign_payload
from portal.tokens.keys import current_keyring

PAYLOAD = TokenPayload(serial="Q7-7K2M9XQ4TB", version=2, unit="Q7", valid_from=date(2021, 9, 20),
                       valid_until=date(2022, 3, 19), name="NGUYEN V. AN",
                       windows=(CommuteWindow(time(6, 30), time(8, 0), "to_work"),))
IN_WINDOW = "2021-10-01T07:00:00+07:00"


@pytest.fixture
def ring(app):
    with app.app_context():
        yield current_keyring()


@pytest.fixture
def token(ring):
    kid, key = ring.signing_key()
    return sign_payload(PAYLOAD, kid, key)


@pytest.fixture
def keys_file(ring, token, tmp_path):
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(ring.public_document()))
    return path


def test_verify_with_the_published_keys_prints_the_payload_and_exits_0(runner, token, keys_file):
    result = runner.invoke(args=["verify", token, "--keys", str(keys_file), "--at", IN_WINDOW])
    assert result.exit_code == 0, result.output
    assert "signature: valid" in result.output
    assert "serial: Q7-7K2M9XQ4TB  version: 2  unit: Q7" in result.output
    assert "name: NGUYEN V. AN" in result.output
    assert "valid: 20/09/2021 – 19/03/2022" in result.output
    assert "outcome: valid" in result.output


def test_verify_accepts_the_whole_url_and_uses_the_database_keys_by_default(runner, token):
    result = runner.invoke(args=["verify", f"https://thexanh.example.vn/v/{token}", "--at", IN_WINDOW])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("at, outcome", [
    ("2021-10-01T08:00:00+07:00", "valid"),
    ("2021-10-01T08:00:01+07:00", "outside_window"),
    ("2022-03-19T07:00:00+07:00", "valid"),
    ("2022-03-20T07:00:00+07:00", "expired"),
    ("2021-09-19T07:00:00+07:00", "not_yet_valid"),
    ("2021-10-01T07:00:00", "valid"),  # no zone given: HCMC time
])
def test_verify_judges_dates_and_windows_in_hcmc_time(runner, token, keys_file, at, outcome):
    result = runner.invoke(args=["verify", token, "--keys", str(keys_file), "--at", at])
    assert f"outcome: {outcome}" in result.output
    assert result.exit_code == (0 if outcome == "valid" else 1)


def test_a_forged_token_exits_1(runner, token, keys_file):
    forged = token[:30] + ("A" if token[30] != "A" else "B") + token[31:]
    result = runner.invoke(args=["verify", forged, "--keys", str(keys_file), "--at", IN_WINDOW])
    assert result.exit_code == 1
    assert "signature: INVALID" in result.output and "outcome: invalid" in result.output


def test_the_revocation_list_makes_a_token_revoked_or_superseded(runner, token, keys_file, tmp_path):
    revoked = tmp_path / "revoked.json"
    revoked.write_text(json.dumps({"revoked": [{"serial": "Q7-7K2M9XQ4TB", "version": 2}], "superseded": []}))
    result = runner.invoke(args=["verify", token, "--keys", str(keys_file), "--revocations", str(revoked),
                                 "--at", IN_WINDOW])
    assert (result.exit_code, "outcome: revoked" in result.output) == (1, True)
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps({"revoked": [], "superseded": [{"serial": "Q7-7K2M9XQ4TB", "current_version": 3}]}))
    result = runner.invoke(args=["verify", token, "--keys", str(keys_file), "--revocations", str(newer),
                                 "--at", IN_WINDOW])
    assert (result.exit_code, "outcome: superseded" in result.output) == (1, True)


def test_keys_rotate_list_retire(runner, ring, token, keys_file):
    first = ring.active().kid
    assert first in runner.invoke(args=["keys", "list"]).output
    result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 0 and "New active key" in result.output
    listing = runner.invoke(args=["keys", "list"]).output
    assert f"{first}  verify" in listing and "active" in listing
    assert runner.invoke(args=["verify", token, "--at", IN_WINDOW]).exit_code == 0  # old key still verifies
    assert runner.invoke(args=["keys", "retire", first]).exit_code == 0
    assert runner.invoke(args=["verify", token, "--at", IN_WINDOW]).exit_code == 1
    exported = json.loads(runner.invoke(args=["keys", "export"]).output)
    assert {item["kid"]: item["status"] for item in exported["keys"]}[first] == "retired"
    assert runner.invoke(args=["keys", "retire", "zzzz"]).exit_code != 0


def test_keys_create_makes_the_first_key_once_and_then_refuses(runner, app):
    assert "No key yet" in runner.invoke(args=["keys", "list"]).output
    first = runner.invoke(args=["keys", "create"])
    assert first.exit_code == 0, first.output
    assert "Created signing key" in first.output and "(active)" in first.output
    with app.app_context():
        kid = current_keyring().active().kid
    again = runner.invoke(args=["keys", "create"])
    assert again.exit_code == 1
    assert "already has 1 key(s)" in again.output and kid in again.output and "keys rotate" in again.output
    listing = runner.invoke(args=["keys", "list"]).output
    assert len(listing.splitlines()) == 1 and f"{kid}  active" in listing and "sealed with KEK" in listing


def test_keys_rotate_on_an_empty_ring_says_to_create(runner):
    result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 1 and "portal keys create" in result.output


def test_the_commands_never_print_a_private_key(runner, app):
    from cryptography.hazmat.primitives import serialization

    outputs = [runner.invoke(args=["keys", "create"]).output, runner.invoke(args=["keys", "rotate"]).output]
    with app.app_context():
        _kid, private = current_keyring().signing_key()
    outputs += [runner.invoke(args=["keys", command]).output for command in ("list", "export")]
    raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
    import base64

    for text in outputs:
        for spelling in (raw.hex(), base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()[:40]):
            assert spelling not in text
