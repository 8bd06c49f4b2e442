"""The signed token a pass's QR code carries: compact, versioned, Ed25519-signed, base64url.

A QR code of version 10 at error correction M holds 213 bytes, and the whole URL
``https://<host>/v/<token>`` must fit, so the token is packed to the bit. Format 1::

    byte 0        format (1)
    bytes 1-2     key id (the signing key's two bytes)
    bits          version:16  valid_from:16  valid_until:16   (days since 2020-01-01, local dates,
                  window count:3                               both inclusive)
                  per window: start:11 end:11 direction:1      (minutes after local midnight;
                                                                direction 0 to work, 1 to home)
                  serial, unit, name: each length:5 + 6 bits per character of TEXT_ALPHABET
                  zero bits up to the byte boundary
    64 bytes      Ed25519 signature of everything before it

``unit`` is the unit's short code (2-4 capitals, unique among units: it already prefixes serials),
not its longer code, to save the bytes. ``name`` is the short name form of :func:`short_name`.
Nothing else about the holder is in the token: no ID number, no birth date, no health data.

Decoding is strict: an unknown format byte, an unknown key, a bad signature, a wrong length,
non-zero padding or a non-canonical base64 text is an :class:`InvalidToken`.
"""
from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time, timedelta
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from portal.plugins.types import CommuteWindow
from portal.text import fold

FORMAT_V1 = 1
KID_BYTES = 2
SIGNATURE_BYTES = 64
HEADER_BYTES = 1 + KID_BYTES
#: Day 0 of the date fields.
EPOCH = date(2020, 1, 1)
#: No token of format 1 is longer than this many base64 characters; longer input is refused unread.
MAX_TOKEN_CHARS = 240
#: The characters serials, unit short codes and short names may use (index = 6-bit code).
TEXT_ALPHABET = " 0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-./'_"
MAX_TEXT_CHARS = 31
#: Short names are cut to this length so that the worst-case URL still fits a version-10 QR code.
SHORT_NAME_CHARS = 24
MAX_WINDOWS = 7
DIRECTIONS = ("to_work", "to_home")
_TEXT_CODES = {char: code for code, char in enumerate(TEXT_ALPHABET)}


class InvalidToken(ValueError):
    """Raised for any token that is not a genuine, well-formed token of a known key."""


@dataclass(frozen=True)
class TokenPayload:
    """What a token says; ``kid`` names the key that signed it (empty before signing)."""

    serial: str
    version: int
    unit: str
    valid_from: date
    valid_until: date
    windows: tuple[CommuteWindow, ...]
    name: str
    kid: str = ""


# ---------------------------------------------------------------------------
# Short names
# ---------------------------------------------------------------------------

def short_name(full_name: str) -> str:
    """Return the printed short form: family name, initials of middle names, given name, no diacritics.

    "Nguyễn Văn An" → "NGUYEN V. AN"; "Nguyễn Thị Thanh Hương" → "NGUYEN T.T. HUONG". When that is
    longer than 24 characters the initials go, then the end is cut.
    """
    allowed = "".join(char for char in fold(full_name).upper() if char in _TEXT_CODES)
    words = allowed.split()
    if len(words) <= 2:
        text = " ".join(words)
    else:
        initials = "".join(f"{word[0]}." for word in words[1:-1])
        text = f"{words[0]} {initials} {words[-1]}"
        if len(text) > SHORT_NAME_CHARS:
            text = f"{words[0]} {words[-1]}"
    return text[:SHORT_NAME_CHARS].rstrip()


# ---------------------------------------------------------------------------
# Bits
# ---------------------------------------------------------------------------

class _BitWriter:
    def __init__(self) -> None:
        self.value = 0
        self.length = 0

    def write(self, number: int, bits: int) -> None:
        if not 0 <= number < (1 << bits):
            raise ValueError(f"{number} does not fit in {bits} bits")
        self.value = (self.value << bits) | number
        self.length += bits

    def to_bytes(self) -> bytes:
        padding = -self.length % 8
        return (self.value << padding).to_bytes((self.length + padding) // 8, "big")


class _BitReader:
    def __init__(self, data: bytes) -> None:
        self.value = int.from_bytes(data, "big")
        self.remaining = len(data) * 8

    def read(self, bits: int) -> int:
        if bits > self.remaining:
            raise InvalidToken("token too short")
        self.remaining -= bits
        return (self.value >> self.remaining) & ((1 << bits) - 1)

    def finish(self) -> None:
        # Only the zero padding of the last byte may be left: anything more is not our encoding.
        if self.remaining >= 8 or self.value & ((1 << self.remaining) - 1):
            raise InvalidToken("unexpected data after the payload")


def _write_text(writer: _BitWriter, text: str, what: str) -> None:
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(f"{what} {text!r} is longer than {MAX_TEXT_CHARS} characters")
    writer.write(len(text), 5)
    for char in text:
        if char not in _TEXT_CODES:
            raise ValueError(f"{what} {text!r}: {char!r} cannot be put in a token (use {TEXT_ALPHABET!r})")
        writer.write(_TEXT_CODES[char], 6)


def _read_text(reader: _BitReader) -> str:
    chars = []
    for _ in range(reader.read(5)):
        code = reader.read(6)
        if code >= len(TEXT_ALPHABET):
            raise InvalidToken("bad character")
        chars.append(TEXT_ALPHABET[code])
    return "".join(chars)


def _minutes(moment: time) -> int:
    if moment.second or moment.microsecond:
        raise ValueError(f"window bound {moment} is not on a whole minute")
    return moment.hour * 60 + moment.minute


# ---------------------------------------------------------------------------
# Encoding and decoding
# ---------------------------------------------------------------------------

def encode_payload(payload: TokenPayload, kid: str) -> bytes:
    """Return the signed part of a token: format byte, key id and packed payload."""
    if len(payload.windows) > MAX_WINDOWS:
        raise ValueError(f"at most {MAX_WINDOWS} windows fit in a token")
    writer = _BitWriter()
    writer.write(payload.version, 16)
    writer.write((payload.valid_from - EPOCH).days, 16)
    writer.write((payload.valid_until - EPOCH).days, 16)
    writer.write(len(payload.windows), 3)
    for window in payload.windows:
        writer.write(_minutes(window.start), 11)
        writer.write(_minutes(window.end), 11)
        writer.write(DIRECTIONS.index(window.direction), 1)
    _write_text(writer, payload.serial, "serial")
    _write_text(writer, payload.unit, "unit")
    _write_text(writer, payload.name, "name")
    return bytes([FORMAT_V1]) + bytes.fromhex(kid) + writer.to_bytes()


def sign_payload(payload: TokenPayload, kid: str, private_key: Ed25519PrivateKey) -> str:
    """Return the token text for ``payload`` signed by ``private_key`` (key id ``kid``)."""
    if len(bytes.fromhex(kid)) != KID_BYTES:
        raise ValueError(f"a key id has {KID_BYTES} bytes")
    message = encode_payload(payload, kid)
    return base64.urlsafe_b64encode(message + private_key.sign(message)).rstrip(b"=").decode("ascii")


def token_bytes(token: str) -> bytes:
    """Return the bytes of a token's base64url text; refuse anything that is not its canonical form."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS or not token.isascii():
        raise InvalidToken("not a token")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise InvalidToken("not base64url") from None
    # The decoder skips characters outside the alphabet and ignores spare bits: insist on one spelling.
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != token:
        raise InvalidToken("not canonical base64url")
    return raw


def decode_token(token: str, public_keys) -> TokenPayload:
    """Check ``token``'s signature against ``public_keys`` (kid → key, or a KeyRing) and return its payload."""
    raw = token_bytes(token)
    if len(raw) < HEADER_BYTES + SIGNATURE_BYTES:
        raise InvalidToken("token too short")
    if raw[0] != FORMAT_V1:
        raise InvalidToken("unknown token format")
    kid = raw[1:HEADER_BYTES].hex()
    keys = public_keys.verifying_keys() if hasattr(public_keys, "verifying_keys") else public_keys
    key = keys.get(kid) if isinstance(keys, Mapping) else None
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidToken("unknown or retired key")
    if not _signature_holds(_raw_public(key), raw):
        raise InvalidToken("bad signature")
    return _parse(raw[HEADER_BYTES:-SIGNATURE_BYTES], kid)


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@lru_cache(maxsize=20_000)
def _signature_holds(public_key: bytes, raw: bytes) -> bool:
    """Check the Ed25519 signature at the end of ``raw``; remember the answer.

    The same card is scanned again and again (each checkpoint, each day); a signature's validity
    depends only on the key and the bytes, both in the cache key, so a retired key (refused before
    this is asked) or another key can never reuse an answer. About 0.15 ms saved a scan.
    """
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(raw[-SIGNATURE_BYTES:], raw[:-SIGNATURE_BYTES])
    except InvalidSignature:
        return False
    return True


def _parse(body: bytes, kid: str) -> TokenPayload:
    reader = _BitReader(body)
    version = reader.read(16)
    valid_from = EPOCH + timedelta(days=reader.read(16))
    valid_until = EPOCH + timedelta(days=reader.read(16))
    windows = []
    for _ in range(reader.read(3)):
        start, end, direction = reader.read(11), reader.read(11), reader.read(1)
        if start >= 24 * 60 or end >= 24 * 60:
            raise InvalidToken("bad window")
        windows.append(CommuteWindow(time(start // 60, start % 60), time(end // 60, end % 60), DIRECTIONS[direction]))
    serial, unit, name = _read_text(reader), _read_text(reader), _read_text(reader)
    reader.finish()
    if version < 1 or not serial:
        raise InvalidToken("bad payload")
    return TokenPayload(serial=serial, version=version, unit=unit, valid_from=valid_from, valid_until=valid_until,
                        windows=tuple(windows), name=name, kid=kid)


# ---------------------------------------------------------------------------
# Passes
# ---------------------------------------------------------------------------

def payload_for_pass(pass_) -> TokenPayload:
    """Return what the token of ``pass_`` (a Pass row) says."""
    from portal.tokens.pass_data import pass_windows, valid_days

    valid_from, valid_until = valid_days(pass_)
    return TokenPayload(
        serial=pass_.serial, version=pass_.version, unit=pass_.unit.short_code, valid_from=valid_from,
        valid_until=valid_until, windows=pass_windows(pass_), name=short_name(pass_.worker.full_name),
    )


def sign_pass_token(pass_, *, keys=None) -> str:
    """Return the signed token of ``pass_`` with the active key (of the running app unless ``keys`` given)."""
    from portal.tokens.keys import current_keyring

    kid, private_key = (keys or current_keyring()).signing_key()
    return sign_payload(payload_for_pass(pass_), kid, private_key)
