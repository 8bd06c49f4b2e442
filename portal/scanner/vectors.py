"""Write tests/scanner/vectors.json: tokens with the verdict every verifier must reach (docs/token-format.md).

Run ``.venv/bin/python -m portal.scanner.vectors`` after changing the format or the outcomes; the
file is committed and read by the Python and the browser verifier alike. Keys come from fixed seeds
(Ed25519 signatures are deterministic), so the same code always writes the same file.

Every vector states the outcome it was built to have; writing the file fails unless Python's own
verifier (``decode_token`` + ``offline_outcome``, what ``portal verify`` runs) reaches it too.
"""
from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from portal import PROJECT_ROOT
from portal.plugins.types import CommuteWindow
from portal.tokens.codec import EPOCH, TEXT_ALPHABET, InvalidToken, TokenPayload, decode_token, sign_payload

OUTPUT = PROJECT_ROOT / "tests" / "scanner" / "vectors.json"
#: Ed25519 group order: S + L is the same signature spelt non-canonically (malleability).
GROUP_ORDER = 2**252 + 27742317777372353535851937790883648493


def _key(label: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"greencard test vector key {label}".encode()).digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _public(key: Ed25519PrivateKey) -> str:
    return _b64(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


ACTIVE, VERIFY_ONLY, RETIRED, UNLISTED, IMPOSTOR = "a11a", "b22b", "c33c", "d44d", "a11a"
KEYS = {"active": _key("active"), "verify": _key("verify"), "retired": _key("retired"),
        "unlisted": _key("unlisted"), "impostor": _key("impostor")}
KEYS_DOCUMENT = {"alg": "Ed25519", "keys": [
    {"kid": ACTIVE, "alg": "Ed25519", "public_key": _public(KEYS["active"]), "status": "active",
     "created_at": "2021-09-01T00:00:00+00:00", "retired_at": None},
    {"kid": VERIFY_ONLY, "alg": "Ed25519", "public_key": _public(KEYS["verify"]), "status": "verify",
     "created_at": "2021-08-01T00:00:00+00:00", "retired_at": None},
    {"kid": RETIRED, "alg": "Ed25519", "public_key": _public(KEYS["retired"]), "status": "retired",
     "created_at": "2021-07-01T00:00:00+00:00", "retired_at": "2021-09-01T00:00:00+00:00"},
]}

REVOKED_SERIAL, SUPERSEDED_SERIAL, CURRENT_SERIAL = "Q7-0000009999", "Q7-0000005555", "Q7-0000007777"
#: The list in both forms: /api/v1/revocations (for ``portal verify --revocations``) and the phones' compact one.
REVOCATIONS = {
    "revoked": [{"serial": REVOKED_SERIAL, "version": 1, "revoked_at": "2021-09-12T03:00:00+00:00", "reason": None}],
    "superseded": [{"serial": SUPERSEDED_SERIAL, "current_version": 3, "changed_at": "2021-09-12T03:00:00+00:00"},
                   {"serial": CURRENT_SERIAL, "current_version": 2, "changed_at": "2021-09-12T03:00:00+00:00"}],
    "last_modified": "2021-09-12T03:00:00+00:00",
}
COMPACT_LIST = {"format": 1, "version": 1631415600000, "full": True, "since": None, "revoked": [REVOKED_SERIAL],
                "superseded": [[SUPERSEDED_SERIAL, 3], [CURRENT_SERIAL, 2]]}

COMMUTE = (CommuteWindow(time(6, 30), time(8, 0), "to_work"), CommuteWindow(time(16, 30), time(18, 0), "to_home"))
ALL_DAY = (CommuteWindow(time(0, 0), time(23, 59), "to_work"), CommuteWindow(time(23, 59), time(0, 0), "to_home"))
NIGHT = (CommuteWindow(time(22, 0), time(5, 0), "to_work"),)
BASE = TokenPayload(serial="Q7-0000001234", version=2, unit="Q7", valid_from=date(2021, 9, 10),
                    valid_until=date(2022, 3, 9), windows=COMMUTE, name="NGUYEN V. AN")
MORNING = "2021-09-15T07:15:00+07:00"


def _replace(**changes) -> TokenPayload:
    return TokenPayload(**{**BASE.__dict__, **changes})


def _sign(payload: TokenPayload = BASE, key: str = "active", kid: str = ACTIVE) -> str:
    return sign_payload(payload, kid, KEYS[key])


# -- raw bodies: an encoder of our own, so malformed payloads can be signed ---------------------------

@dataclass
class _Bits:
    value: int = 0
    length: int = 0
    fields: dict = field(default_factory=dict)

    def put(self, name: str, number: int, bits: int) -> None:
        self.fields.setdefault(name, (self.length, bits))
        self.value = (self.value << bits) | number
        self.length += bits

    def text(self, name: str, text: str, codes: list[int] | None = None) -> None:
        codes = codes if codes is not None else [TEXT_ALPHABET.index(char) for char in text]
        self.put(f"{name}.length", len(codes), 5)
        for code in codes:
            self.put(f"{name}.char", code, 6)

    def body(self, padding: int = 0) -> bytes:
        spare = -self.length % 8
        return ((self.value << spare) | padding).to_bytes((self.length + spare) // 8, "big")


def _bits(payload: TokenPayload = BASE, *, windows=None, serial_codes=None) -> _Bits:
    bits = _Bits()
    bits.put("version", payload.version, 16)
    bits.put("valid_from", (payload.valid_from - EPOCH).days, 16)
    bits.put("valid_until", (payload.valid_until - EPOCH).days, 16)
    windows = windows if windows is not None else [
        (w.start.hour * 60 + w.start.minute, w.end.hour * 60 + w.end.minute, int(w.direction == "to_home"))
        for w in payload.windows]
    bits.put("window_count", len(windows), 3)
    for start, end, direction in windows:
        bits.put("window.start", start, 11)
        bits.put("window.end", end, 11)
        bits.put("window.direction", direction, 1)
    bits.text("serial", payload.serial, serial_codes)
    bits.text("unit", payload.unit)
    bits.text("name", payload.name)
    return bits


def _signed_raw(body: bytes, *, fmt: int = 1, kid: str = ACTIVE, key: str = "active") -> str:
    message = bytes([fmt]) + bytes.fromhex(kid) + body
    return _b64(message + KEYS[key].sign(message))


def _flip(token: str, bit: int) -> str:
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[bit // 8] ^= 0x80 >> (bit % 8)
    return _b64(bytes(raw))


def _raw(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def _vectors() -> list[dict]:
    from portal.scanner.services import known_outcomes

    NOT_YET_VALID = "not_yet_valid" if "not_yet_valid" in known_outcomes() else "expired"  # noqa: N806
    token = _sign()
    vectors: list[dict] = []

    def add(name: str, text: str, outcome: str, at: str = MORNING, note: str = "") -> None:
        vectors.append({"name": name, "text": text, "at": at, "outcome": outcome, "note": note})

    # -- genuine tokens: every outcome, the window and day edges, HCMC time --------------------------
    add("valid in the morning window", token, "valid")
    add("valid: the window's start, to the second", token, "valid", "2021-09-15T06:30:00+07:00")
    add("outside: a second before the window", token, "outside_window", "2021-09-15T06:29:59+07:00")
    add("valid: the window's end is inclusive", token, "valid", "2021-09-15T08:00:00+07:00")
    add("outside: a second after the window", token, "outside_window", "2021-09-15T08:00:01+07:00")
    add("outside: midday", token, "outside_window", "2021-09-15T12:00:00+07:00")
    add("valid: the evening window", token, "valid", "2021-09-15T17:59:59+07:00")
    add("valid: UTC instant 23:30 is 06:30 next day in HCMC", token, "valid", "2021-09-14T23:30:00+00:00")
    add("outside: UTC 07:15 is 14:15 in HCMC", token, "outside_window", "2021-09-15T07:15:00+00:00")
    all_day = _sign(_replace(windows=ALL_DAY))
    add("valid: first second of the first day", all_day, "valid", "2021-09-10T00:00:00+07:00")
    add("not yet valid: last second before the first day", all_day, NOT_YET_VALID, "2021-09-09T23:59:59+07:00",
        "expired (reason 'not yet valid') where the portal has no outcome not_yet_valid")
    add("valid: last second of the last day", all_day, "valid", "2022-03-09T23:59:59+07:00")
    add("expired: first second after the last day", all_day, "expired", "2022-03-10T00:00:00+07:00")
    add("expired: a month later", token, "expired", "2022-04-09T07:15:00+07:00")
    night = _sign(_replace(windows=NIGHT))
    add("valid: window across midnight, before midnight", night, "valid", "2021-09-15T23:30:00+07:00")
    add("valid: window across midnight, after midnight", night, "valid", "2021-09-16T03:00:00+07:00")
    add("outside: window across midnight, at noon", night, "outside_window", "2021-09-15T12:00:00+07:00")
    add("outside: a card without windows", _sign(_replace(windows=())), "outside_window")
    add("revoked serial", _sign(_replace(serial=REVOKED_SERIAL)), "revoked")
    add("revoked serial, outside its window too", _sign(_replace(serial=REVOKED_SERIAL)), "revoked",
        "2021-09-15T12:00:00+07:00")
    add("superseded: version 2, list says 3", _sign(_replace(serial=SUPERSEDED_SERIAL)), "superseded")
    add("current: version 2, list says 2", _sign(_replace(serial=CURRENT_SERIAL)), "valid")
    add("newer than the list: version 4, list says 3", _sign(_replace(serial=SUPERSEDED_SERIAL, version=4)), "valid",
        note="offline, a version the list has not seen yet is judged by its own dates")
    add("signed by the verify-only key", _sign(key="verify", kid=VERIFY_ONLY), "valid")
    add("the QR's whole URL", f"https://thexanh.example.gov.vn/v/{token}", "valid")
    add("the URL with spaces and a new line around it", f"  https://thexanh.example.gov.vn/v/{token}\n", "valid")
    add("longest texts (31-character serial and name)",
        _sign(_replace(serial="Q7-" + "9" * 28, name="N" * 31, windows=COMMUTE + NIGHT)), "valid")

    # -- keys -----------------------------------------------------------------------------------------
    add("unknown key id", _sign(key="unlisted", kid=UNLISTED), "invalid")
    add("retired key id", _sign(key="retired", kid=RETIRED), "invalid")
    add("signed by another key under the active key's id", _sign(key="impostor", kid=IMPOSTOR), "invalid")
    add("wrong format byte (2), signed", _signed_raw(_bits().body(), fmt=2), "invalid")
    add("wrong format byte (0), signed", _signed_raw(_bits().body(), fmt=0), "invalid")

    # -- one bit flipped in each field (not signed again) ---------------------------------------------
    layout = _bits().fields
    body_start = 24
    for name, offset in (("format", 7), ("kid", 8 + 15)):
        add(f"bit flip in the {name}", _flip(token, offset), "invalid")
    for name, (position, width) in layout.items():
        add(f"bit flip in {name}", _flip(token, body_start + position + width - 1), "invalid")
    raw = _raw(token)
    body_bits = (len(raw) - 3 - 64) * 8
    if body_bits > _bits().length:
        add("bit flip in the padding", _flip(token, body_start + body_bits - 1), "invalid")
    add("bit flip in the signature's R", _flip(token, (len(raw) - 64) * 8 + 3), "invalid")
    add("bit flip in the signature's S", _flip(token, (len(raw) - 1) * 8 + 1), "invalid")
    add("one byte changed in the name", _b64(raw[:10] + bytes([raw[10] ^ 0x55]) + raw[11:]), "invalid")

    # -- malformed payloads, properly signed: only the parser can refuse them --------------------------
    add("window start 24:00 (1440 minutes), signed", _signed_raw(_bits(windows=[(1440, 480, 0)]).body()), "invalid")
    add("window end 2047 minutes, signed", _signed_raw(_bits(windows=[(390, 2047, 0)]).body()), "invalid")
    add("character code 42 (outside the alphabet), signed",
        _signed_raw(_bits(serial_codes=[TEXT_ALPHABET.index(c) for c in "Q7-1"] + [42]).body()), "invalid")
    add("version 0, signed", _signed_raw(_bits(_replace(version=0)).body()), "invalid")
    add("empty serial, signed", _signed_raw(_bits(_replace(serial="")).body()), "invalid")
    bits = _bits()
    if -bits.length % 8:
        add("non-zero padding bits, signed", _signed_raw(bits.body(padding=1)), "invalid")
    add("one extra byte after the payload, signed", _signed_raw(_bits().body() + b"\x00"), "invalid")
    add("payload cut short by a byte, signed", _signed_raw(_bits().body()[:-1]), "invalid")
    add("no payload at all, signed", _signed_raw(b""), "invalid")

    # -- truncation and extension of the text or the bytes ---------------------------------------------
    add("last character removed", token[:-1], "invalid")
    add("last byte removed", _b64(raw[:-1]), "invalid")
    add("only 66 bytes", _b64(raw[:66]), "invalid")
    add("empty text", "", "invalid")
    add("one byte appended (unsigned)", _b64(raw + b"\x00"), "invalid")
    add("one character appended", token + "A", "invalid")
    add("241 characters", (token * 3)[:241], "invalid")

    # -- base64url spellings -------------------------------------------------------------------------
    odd = next(text for text in (_sign(_replace(name="NGUYEN V. AN" + "B" * n)) for n in range(1, 4))
               if len(text) % 4)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    add("a token whose last character has spare bits", odd, "valid")
    add("non-zero spare bits in the last character", odd[:-1] + alphabet[alphabet.index(odd[-1]) | 1], "invalid")
    add("with '=' padding", token + "=" * (-len(token) % 4 or 4), "invalid")
    standard = base64.b64encode(raw).rstrip(b"=").decode("ascii")
    if standard != token:
        add("standard base64 alphabet (+ and /)", standard, "invalid")
    add("a space inside", token[:20] + " " + token[20:], "invalid")
    add("a non-ASCII letter inside", token[:20] + "é" + token[21:], "invalid")
    s = int.from_bytes(raw[-32:], "little") + GROUP_ORDER
    add("signature S + L (the same signature, non-canonical)", _b64(raw[:-32] + s.to_bytes(32, "little")), "invalid")
    return vectors


def python_outcome(text: str, at: str) -> str:
    """Return what ``portal verify`` decides: the functions the command runs, with the vectors' keys and list."""
    from portal.tokens.cli import _token_from, offline_outcome
    from portal.tokens.keys import public_keys_from_document

    try:
        payload = decode_token(_token_from(text), public_keys_from_document(KEYS_DOCUMENT))
    except InvalidToken:
        return "invalid"
    return offline_outcome(payload, REVOCATIONS, datetime.fromisoformat(at).astimezone(UTC))


def build() -> dict:
    vectors = _vectors()
    for vector in vectors:
        found = python_outcome(vector["text"], vector["at"])
        if found != vector["outcome"]:
            raise SystemExit(f"{vector['name']}: built to be {vector['outcome']}, Python says {found}")
    names = [vector["name"] for vector in vectors]
    assert len(names) == len(set(names)), "vector names must be unique"
    return {
        "about": "Shared test vectors of the green-card token (docs/token-format.md); "
                 "made by portal/scanner/vectors.py, do not edit by hand.",
        "keys": KEYS_DOCUMENT,
        "revocations": REVOCATIONS,
        "compact_revocations": COMPACT_LIST,
        "vectors": vectors,
    }


def render() -> str:
    return json.dumps(build(), ensure_ascii=False, indent=1) + "\n"


if __name__ == "__main__":
    OUTPUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUTPUT} ({len(build()['vectors'])} vectors)")

