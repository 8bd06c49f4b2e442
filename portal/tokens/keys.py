"""Ed25519 signing keys for pass tokens: kept in the instance folder, rotated, published as JSON.

Layout of ``SIGNING_KEY_DIR`` (outside the code and the database)::

    keyring.json   public metadata of every key: kid, status, created_at, public key (no secrets)
    <kid>.key      the private key of a key that may still sign (PKCS#8 PEM, mode 0600)
    .lock          serialises creation and rotation between processes

A key is ``active`` (the one that signs new tokens), ``verify`` (an earlier key whose tokens still
verify) or ``retired`` (its tokens are refused; its private key file is deleted). The first call to
sign creates the first key. A key id is two bytes (four hex digits) because it is carried in every
QR code; ids are checked for collisions when a key is made.
"""
from __future__ import annotations

import base64
import fcntl
import json
import os
import secrets
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from portal.clock import utcnow

ALGORITHM = "Ed25519"
MANIFEST_NAME = "keyring.json"
KID_BYTES = 2
#: Mode bits a private key file may have: read and write by its owner only.
PRIVATE_KEY_MODE = 0o600


class KeyStatus(str, Enum):
    ACTIVE = "active"
    VERIFY = "verify"
    RETIRED = "retired"


class KeyRingError(LookupError):
    """Raised for an unknown key id or a key that cannot be used as asked."""


@dataclass(frozen=True)
class KeyInfo:
    """The public facts of one key, as listed and published."""

    kid: str
    status: str
    created_at: datetime
    public_key: Ed25519PublicKey
    retired_at: datetime | None = None

    @property
    def verifies(self) -> bool:
        return self.status in (KeyStatus.ACTIVE.value, KeyStatus.VERIFY.value)

    def public_json(self) -> dict:
        """Return the key as published: no private material."""
        return {
            "kid": self.kid,
            "alg": ALGORITHM,
            "public_key": b64url(public_bytes(self.public_key)),
            "status": self.status,
            "created_at": self.created_at.isoformat(),
            "retired_at": self.retired_at.isoformat() if self.retired_at else None,
        }


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


class KeyRing:
    """The signing keys in one folder; reloads itself when another process rotates them."""

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)
        self._stamp: tuple[int, int, int] | None = None
        self._entries: dict[str, KeyInfo] = {}
        self._private: dict[str, Ed25519PrivateKey] = {}

    # -- reading ----------------------------------------------------------------

    @property
    def manifest(self) -> Path:
        return self.directory / MANIFEST_NAME

    def entries(self) -> list[KeyInfo]:
        """Return every key, oldest first."""
        self._refresh()
        return sorted(self._entries.values(), key=lambda info: info.created_at)

    def verifying_keys(self) -> dict[str, Ed25519PublicKey]:
        """Return the public keys whose tokens verify (active and verify-only), by kid."""
        self._refresh()
        return {kid: info.public_key for kid, info in self._entries.items() if info.verifies}

    def active(self) -> KeyInfo | None:
        self._refresh()
        return next((info for info in self._entries.values() if info.status == KeyStatus.ACTIVE.value), None)

    def signing_key(self) -> tuple[str, Ed25519PrivateKey]:
        """Return the active key id and private key, creating the first key on first use."""
        info = self.active()
        if info is None:
            with self._locked():
                self._stamp = None
                info = self.active() or self._add_key()
        if info.kid not in self._private:
            self._private[info.kid] = self._load_private(info.kid)
        return info.kid, self._private[info.kid]

    def public_document(self) -> dict:
        """Return the JSON published at ``/.well-known/greencard-keys.json``."""
        return {"alg": ALGORITHM, "keys": [info.public_json() for info in self.entries()]}

    # -- changing ---------------------------------------------------------------

    def rotate(self) -> KeyInfo:
        """Make a new active key; the previous active key keeps verifying its tokens."""
        with self._locked():
            self._stamp = None
            self._refresh()
            for kid, info in list(self._entries.items()):
                if info.status == KeyStatus.ACTIVE.value:
                    self._entries[kid] = replace(info, status=KeyStatus.VERIFY.value)
            return self._add_key()

    def retire(self, kid: str) -> KeyInfo:
        """Stop accepting tokens signed by ``kid`` and delete its private key (not the active key)."""
        with self._locked():
            self._stamp = None
            self._refresh()
            info = self._entries.get(kid)
            if info is None:
                raise KeyRingError(f"no key {kid!r}")
            if info.status == KeyStatus.ACTIVE.value:
                raise KeyRingError(f"key {kid!r} is the active key: rotate first, then retire it")
            info = replace(info, status=KeyStatus.RETIRED.value, retired_at=info.retired_at or utcnow())
            self._entries[kid] = info
            self._write_manifest()
            (self.directory / f"{kid}.key").unlink(missing_ok=True)
            self._private.pop(kid, None)
            return info

    # -- internals --------------------------------------------------------------

    def _refresh(self) -> None:
        try:
            stat = self.manifest.stat()
        except FileNotFoundError:
            self._stamp, self._entries = None, {}
            return
        # A rewrite replaces the file, so its inode changes even when size and mtime look the same.
        stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if stamp == self._stamp:
            return
        document = json.loads(self.manifest.read_text(encoding="utf-8"))
        self._entries = {item["kid"]: _info_from_json(item) for item in document["keys"]}
        self._stamp = stamp

    def _add_key(self) -> KeyInfo:
        """Create a key, store it and make it active (the caller holds the lock)."""
        private = Ed25519PrivateKey.generate()
        kid = secrets.token_hex(KID_BYTES)
        while kid in self._entries:
            kid = secrets.token_hex(KID_BYTES)
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        fd = os.open(self.directory / f"{kid}.key", os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_KEY_MODE)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        info = KeyInfo(kid=kid, status=KeyStatus.ACTIVE.value, created_at=utcnow(), public_key=private.public_key())
        self._entries[kid] = info
        self._write_manifest()
        self._private[kid] = private
        return info

    def _write_manifest(self) -> None:
        document = {"alg": ALGORITHM, "keys": [info.public_json() for info in self._entries.values()]}
        temporary = self.directory / f".{MANIFEST_NAME}.{os.getpid()}.tmp"
        temporary.write_text(json.dumps(document, indent=2), encoding="utf-8")
        os.replace(temporary, self.manifest)  # readers see the old or the new file, never half of one
        self._stamp = None

    def _load_private(self, kid: str) -> Ed25519PrivateKey:
        path = self.directory / f"{kid}.key"
        if path.stat().st_mode & 0o077:
            os.chmod(path, PRIVATE_KEY_MODE)  # someone loosened it: a signing key is its owner's alone
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyRingError(f"{path} is not an Ed25519 private key")
        return key

    @contextmanager
    def _locked(self):
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(self.directory / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def _info_from_json(item: dict) -> KeyInfo:
    if item.get("alg", ALGORITHM) != ALGORITHM:
        raise ValueError(f"key {item.get('kid')!r}: unsupported algorithm {item.get('alg')!r}")
    raw = b64url_decode(item["public_key"])
    retired = item.get("retired_at")
    return KeyInfo(
        kid=str(item["kid"]), status=str(item["status"]), created_at=datetime.fromisoformat(item["created_at"]),
        public_key=Ed25519PublicKey.from_public_bytes(raw),
        retired_at=datetime.fromisoformat(retired) if retired else None,
    )


def public_keys_from_document(document: dict) -> dict[str, Ed25519PublicKey]:
    """Return the verifying keys of a published keys JSON (retired keys left out)."""
    infos = (_info_from_json(item) for item in document.get("keys", ()))
    return {info.kid: info.public_key for info in infos if info.verifies}


def current_keyring() -> KeyRing:
    """Return the running app's key ring (one per app, for its ``SIGNING_KEY_DIR``)."""
    from flask import current_app

    ring = current_app.extensions.get("portal.keyring")
    directory = Path(current_app.config["SIGNING_KEY_DIR"])
    if ring is None or ring.directory != directory:
        ring = current_app.extensions["portal.keyring"] = KeyRing(directory)
    return ring
