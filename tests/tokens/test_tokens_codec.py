"""The token codec: round trips, strictness, and the size of the worst-case QR code."""
from __future__ import annotations

import base64
from datetime import date, time, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.plugins.types import CommuteWindow
from portal.printing.qr import qr_matrix, qr_version
from portal.tokens.codec import (
    EPOCH,
    FORMAT_V1,
    MAX_TOKEN_CHARS,
    SHORT_NAME_CHARS,
    TEXT_ALPHABET,
    InvalidToken,
    TokenPayload,
    decode_token,
    encode_payload,
    short_name,
    sign_payload,
)

KEY = Ed25519PrivateKey.generate()
KID = "ab12"
KEYS = {KID: KEY.public_key()}


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def raw(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def payload(**changes) -> TokenPayload:
    values = {"serial": "Q7-7K2M9XQ4TB", "version": 1, "unit": "Q7", "valid_from": date(2021, 9, 20),
                  "valid_until": date(2022, 3, 19), "name": "NGUYEN V. AN",
                  "windows": (CommuteWindow(time(6, 30), time(8, 0), "to_work"),
                           CommuteWindow(time(16, 30), time(18, 0), "to_home"))}
    values.update(changes)
    return TokenPayload(**values)


TOKEN = sign_payload(payload(), KID, KEY)

text = st.text(alphabet=TEXT_ALPHABET, max_size=31)
minutes = st.integers(0, 24 * 60 - 1).map(lambda m: time(m // 60, m % 60))
windows = st.builds(CommuteWindow, minutes, minutes, st.sampled_from(["to_work", "to_home"]))
days = st.integers(0, 2**16 - 1).map(lambda n: EPOCH + timedelta(days=n))
payloads = st.builds(
    TokenPayload, serial=text.filter(bool), version=st.integers(1, 2**16 - 1), unit=text, valid_from=days,
    valid_until=days, windows=st.lists(windows, max_size=7).map(tuple), name=text,
)


#: The machine is shared with other test runs: no deadline, no complaint about slow generation.
RELAXED = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}


@settings(max_examples=200, **RELAXED)
@given(payloads)
def test_round_trip_of_any_payload(original):
    token = sign_payload(original, KID, KEY)
    decoded = decode_token(token, KEYS)
    assert decoded == TokenPayload(**{**original.__dict__, "kid": KID})


@settings(max_examples=60, **RELAXED)
@given(payloads, st.data())
def test_every_single_byte_change_is_rejected(original, data):
    token_bytes = raw(sign_payload(original, KID, KEY))
    for index in range(len(token_bytes)):
        flip = data.draw(st.integers(1, 255), label=f"xor at {index}")
        mutated = bytearray(token_bytes)
        mutated[index] ^= flip
        with pytest.raises(InvalidToken):
            decode_token(b64(bytes(mutated)), KEYS)


@settings(max_examples=40, **RELAXED)
@given(payloads, st.binary(min_size=1, max_size=8))
def test_every_truncation_and_extension_is_rejected(original, extra):
    token_bytes = raw(sign_payload(original, KID, KEY))
    for length in range(len(token_bytes)):
        with pytest.raises(InvalidToken):
            decode_token(b64(token_bytes[:length]), KEYS)
    with pytest.raises(InvalidToken):
        decode_token(b64(token_bytes + extra), KEYS)
    with pytest.raises(InvalidToken):
        decode_token(b64(extra + token_bytes), KEYS)


def test_a_token_of_another_key_or_an_unknown_kid_is_rejected():
    other = Ed25519PrivateKey.generate()
    with pytest.raises(InvalidToken, match="signature"):
        decode_token(sign_payload(payload(), KID, other), KEYS)  # same kid, wrong key
    with pytest.raises(InvalidToken, match="unknown"):
        decode_token(sign_payload(payload(), "ffff", other), KEYS)
    with pytest.raises(InvalidToken, match="unknown"):
        decode_token(TOKEN, {})


def test_a_swapped_kid_breaks_the_signature():
    second = Ed25519PrivateKey.generate()
    keys = {**KEYS, "cd34": second.public_key()}
    token_bytes = bytearray(raw(TOKEN))
    token_bytes[1:3] = bytes.fromhex("cd34")
    with pytest.raises(InvalidToken):
        decode_token(b64(bytes(token_bytes)), keys)


@pytest.mark.parametrize("bad", [
    "", " ", "a", "!!!!", "====", TOKEN + "=", TOKEN + "A", TOKEN[:-1], "A" * (MAX_TOKEN_CHARS + 1),
    TOKEN[:40] + "é" + TOKEN[41:], TOKEN[:40] + "\u0000" + TOKEN[41:], TOKEN[:5] + "+" + TOKEN[6:],
    TOKEN[:5] + "/" + TOKEN[6:], TOKEN[:5] + "=" + TOKEN[6:],
    TOKEN[:10] + " " + TOKEN[11:], "Ａ" * 20, TOKEN + "\n", "%00", "../../etc/passwd",
])
def test_malformed_text_is_an_invalid_token(bad):
    with pytest.raises(InvalidToken):
        decode_token(bad, KEYS)


def test_a_non_canonical_base64_spelling_is_rejected():
    # The last character carries spare bits the decoder ignores: another spelling, same bytes.
    token = next(t for t in (sign_payload(payload(name="A" * n), KID, KEY) for n in range(3)) if len(t) % 4)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    twin = token[:-1] + alphabet[alphabet.index(token[-1]) ^ 1]
    assert raw(twin) == raw(token) and decode_token(token, KEYS)
    with pytest.raises(InvalidToken):
        decode_token(twin, KEYS)


def test_another_format_byte_is_rejected_even_with_a_valid_signature():
    message = bytearray(encode_payload(payload(), KID))
    assert message[0] == FORMAT_V1
    message[0] = 2
    forged = bytes(message) + KEY.sign(bytes(message))
    with pytest.raises(InvalidToken, match="format"):
        decode_token(b64(forged), KEYS)


def test_signed_garbage_after_the_payload_is_rejected():
    message = encode_payload(payload(), KID) + b"\x00"
    with pytest.raises(InvalidToken):
        decode_token(b64(message + KEY.sign(message)), KEYS)


def test_the_token_carries_no_id_number_and_no_birth_date():
    decoded = decode_token(TOKEN, KEYS)
    assert set(decoded.__dataclass_fields__) == {
        "serial", "version", "unit", "valid_from", "valid_until", "windows", "name", "kid"}


@pytest.mark.parametrize("full, short", [
    ("Nguyễn Văn An", "NGUYEN V. AN"),
    ("Nguyễn Thị Thanh Hương", "NGUYEN T.T. HUONG"),
    ("Đỗ Thị Bích", "DO T. BICH"),
    ("Lê An", "LE AN"),
    ("  trần   văn   bình ", "TRAN V. BINH"),
    ("Tôn Nữ Thị Khánh Ngọc Phương Thảo Nguyên", "TON N.T.K.N.P.T. NGUYEN"),
    ("Công Tằng Tôn Nữ Phương Thảo Nguyễn Hoàng Trường", "CONG TRUONG"),
])
def test_short_name(full, short):
    assert short_name(full) == short
    assert len(short) <= SHORT_NAME_CHARS


def test_worst_case_url_fits_a_version_10_qr_code_at_level_m():
    # The longest serial the column holds, the longest short name, the most windows a unit declares.
    worst = payload(serial="KCN-" + "W" * 20, version=65535, unit="KCN", name="X" * SHORT_NAME_CHARS,
                    windows=tuple(CommuteWindow(time(22, 30), time(6, 0), "to_home") for _ in range(4)))
    url = "https://thexanh.hochiminhcity.gov.vn/v/" + sign_payload(worst, KID, KEY)
    assert decode_token(url.rsplit("/", 1)[1], KEYS).serial == worst.serial
    assert qr_version(url) <= 10
    assert len(qr_matrix(url)) == 17 + 4 * qr_version(url) + 8  # four modules of quiet zone each side
    assert symbol_error_correction(qr_matrix(url)) == "M"


def symbol_error_correction(matrix) -> str:
    """Read the error correction level from the format information printed in the symbol itself."""
    from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_L, ERROR_CORRECT_M, ERROR_CORRECT_Q
    from qrcode.util import BCH_type_info

    modules = [row[4:-4] for row in matrix[4:-4]]  # without the quiet zone
    count = len(modules)
    bits = 0
    for i in range(15):  # column 8, where qrcode (and ISO/IEC 18004) place the format bits
        row = i if i < 6 else i + 1 if i < 8 else count - 15 + i
        bits |= int(modules[row][8]) << i
    levels = {"L": ERROR_CORRECT_L, "M": ERROR_CORRECT_M, "Q": ERROR_CORRECT_Q, "H": ERROR_CORRECT_H}
    found = [name for name, level in levels.items() for mask in range(8) if BCH_type_info(level << 3 | mask) == bits]
    assert len(found) == 1, bits
    return found[0]
