"""Ed25519 signing keys of the pass tokens: one key ring in the database for every node and worker.

Each key is a row of ``signing_keys`` (:class:`portal.tokens.models.SigningKey`): its id (two
bytes, four hex digits, carried in every QR code), its status, its times, its public key, and,
while it signs, its private key sealed with the key-encryption key (KEK). The KEK never reaches
the database: it comes from ``PORTAL_KEY_ENCRYPTION_KEY`` (32 random bytes in base64) or the file
named by ``PORTAL_KEY_ENCRYPTION_KEY_FILE``. Sealing is AES-256-GCM with the key id as associated
data, so a sealed key copied onto another row does not open.

A key is ``active`` (the one that signs new tokens; one at most), ``verify`` (an earlier key whose
tokens still verify; its private key is destroyed when it stops signing) or ``retired`` (its
tokens are refused).

Every process keeps the ring in memory and reads it again at most every ``KEYRING_REFRESH_SECONDS``
(5 s by default): a scan costs a clock read, never a database round trip, and a rotation or a
retirement made anywhere reaches every process within that interval. A change made through a
process's own ring is seen by that process at once.

In production keys are provisioned (``portal keys create``) and never made on demand: signing
without an active key raises :class:`NoSigningKey`. The embedded default (development) makes the
first key on first use, sealed with a KEK created once in the instance folder.

:class:`FileKeyRing` reads (and, for tests and benches, writes) the folder layout of earlier
versions, so that ``portal keys import-dir`` can bring those keys into the database.
"""
from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import json
import logging
import os
import secrets
import stat
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum
from pathlib import Path
from types import MappingProxyType

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from portal.clock import utcnow
from portal.messages import Refusal

log = logging.getLogger(__name__)
#: The clock of the refresh interval (a module name, so that tests can move it on).
monotonic = time.monotonic

ALGORITHM = "Ed25519"
KID_BYTES = 2
#: How often (seconds) a process reads the ring again; ``KEYRING_REFRESH_SECONDS`` overrides it.
DEFAULT_REFRESH_SECONDS = 5.0
#: The development KEK, created once in the instance folder when none is configured.
KEK_FILE_NAME = "key-encryption-key"
KEK_BYTES = 32
#: Mode bits a private file may have: read and write by its owner only.
PRIVATE_FILE_MODE = 0o600
_SEAL_FORMAT = 1
_NONCE_BYTES = 12
_AAD_PREFIX = b"greencard-signing-key/v1/"
_EXTENSION = "portal.keyring"
#: How to make a KEK, said wherever one is missing or malformed.
KEK_HINT = ("generate one with: openssl rand -base64 32  (or: python3 -c \"import base64, os; "
            "print(base64.b64encode(os.urandom(32)).decode())\")")

# The legacy folder layout (FileKeyRing).
MANIFEST_NAME = "keyring.json"
PRIVATE_KEY_MODE = PRIVATE_FILE_MODE


class KeyStatus(str, Enum):
    ACTIVE = "active"
    VERIFY = "verify"
    RETIRED = "retired"


class KeyRingError(LookupError):
    """Raised for an unknown key id or a change of the ring that cannot be made as asked."""


class KeyConfigError(ValueError):
    """Raised for a setting of the key ring the portal cannot work with (checked at start-up)."""


class KeyEncryptionKeyError(KeyConfigError):
    """Raised when the key-encryption key is missing, unreadable or not 32 random bytes."""


class SigningKeyUnavailable(Refusal, KeyRingError):
    """No token can be signed now. Callers catch this (or :class:`Refusal`) and show ``str(error)``.

    ``str(error)`` is the message for the person on the page, in their language; ``detail`` is
    what the operator needs (in English, for the log and the command line). No secret is in either.
    """

    MESSAGE = _l("Green cards cannot be signed at the moment: the portal cannot open its signing key. "
                 "The administrator must check the key-encryption key (see the server log).")

    def __init__(self, detail: str):
        super().__init__(self.MESSAGE)
        self.detail = detail


class NoSigningKey(SigningKeyUnavailable):
    """The ring has no active key and this process may not make one (production)."""

    MESSAGE = _l("Green cards cannot be signed yet: the portal has no active signing key. "
                 "The administrator must run 'portal keys create'.")


class WrongKeyEncryptionKey(SigningKeyUnavailable):
    """A sealed private key does not open with the configured key-encryption key."""


# ---------------------------------------------------------------------------
# What is known of a key
# ---------------------------------------------------------------------------

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


def _info(row) -> KeyInfo:
    return KeyInfo(kid=row.kid, status=row.status, created_at=row.created_at,
                   public_key=Ed25519PublicKey.from_public_bytes(bytes(row.public_key)), retired_at=row.retired_at)


def _sort_key(info: KeyInfo) -> tuple:
    # The same order on every node, so that the published document (and its ETag) is the same.
    return info.created_at, info.kid


# ---------------------------------------------------------------------------
# The key-encryption key
# ---------------------------------------------------------------------------

@dataclass(frozen=True, repr=False)
class KeyEncryptionKey:
    """32 secret bytes that seal the private keys in the database; ``source`` says where they came from."""

    secret: bytes = field(repr=False)
    source: str

    def __post_init__(self):
        if len(self.secret) != KEK_BYTES:
            raise KeyEncryptionKeyError(f"{self.source}: a key-encryption key is {KEK_BYTES} bytes")

    @property
    def id(self) -> str:
        """Return a fingerprint that names this KEK (it reveals nothing of it)."""
        return hashlib.sha256(b"greencard-kek-id/v1/" + self.secret).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"<KeyEncryptionKey {self.id} from {self.source}>"

    def seal(self, kid: str, private_key: Ed25519PrivateKey) -> bytes:
        """Return ``private_key`` encrypted and authenticated for the key id ``kid``."""
        raw = private_key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                        serialization.NoEncryption())
        nonce = os.urandom(_NONCE_BYTES)
        return bytes([_SEAL_FORMAT]) + nonce + AESGCM(self.secret).encrypt(nonce, raw, _AAD_PREFIX + kid.encode())

    def unseal(self, kid: str, sealed: bytes, kek_id: str | None = None) -> Ed25519PrivateKey:
        """Return the private key of ``kid`` from ``sealed``; :class:`WrongKeyEncryptionKey` if it does not open."""
        if kek_id and kek_id != self.id:
            raise WrongKeyEncryptionKey(
                f"the private key of signing key {kid} was sealed with key-encryption key {kek_id}; "
                f"the configured one ({self.source}) is {self.id}. Give every process the same "
                "PORTAL_KEY_ENCRYPTION_KEY (or PORTAL_KEY_ENCRYPTION_KEY_FILE).")
        sealed = bytes(sealed)
        if len(sealed) < 1 + _NONCE_BYTES + 16 or sealed[0] != _SEAL_FORMAT:
            raise WrongKeyEncryptionKey(f"the sealed private key of signing key {kid} is not in a known format")
        nonce, ciphertext = sealed[1:1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES:]
        try:
            raw = AESGCM(self.secret).decrypt(nonce, ciphertext, _AAD_PREFIX + kid.encode())
        except InvalidTag:
            raise WrongKeyEncryptionKey(
                f"the private key of signing key {kid} does not open with the configured key-encryption key "
                f"{self.id} ({self.source}): wrong key, or the row was altered") from None
        return Ed25519PrivateKey.from_private_bytes(raw)


def parse_key_encryption_key(value: str | bytes, source: str) -> KeyEncryptionKey:
    """Read a KEK written in base64 (standard or URL-safe, padding optional)."""
    text = value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)
    text = text.strip().replace("-", "+").replace("_", "/")
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise KeyEncryptionKeyError(f"{source} is not base64; {KEK_HINT}") from None
    if len(raw) != KEK_BYTES:
        raise KeyEncryptionKeyError(f"{source} holds {len(raw)} bytes, not {KEK_BYTES}; {KEK_HINT}")
    if len(set(raw)) < 8:
        raise KeyEncryptionKeyError(f"{source} does not look random; {KEK_HINT}")
    return KeyEncryptionKey(raw, source)


def key_encryption_key(config: Mapping, instance_path: str | os.PathLike | None, *,
                       create: bool) -> KeyEncryptionKey:
    """Return the configured KEK; without one, the instance folder's (made once when ``create``)."""
    value = config.get("PORTAL_KEY_ENCRYPTION_KEY")
    path = config.get("PORTAL_KEY_ENCRYPTION_KEY_FILE")
    if value and path:
        raise KeyEncryptionKeyError(
            "both PORTAL_KEY_ENCRYPTION_KEY and PORTAL_KEY_ENCRYPTION_KEY_FILE are set: give one")
    if value:
        return parse_key_encryption_key(value, "PORTAL_KEY_ENCRYPTION_KEY")
    if path:
        return _kek_from_file(Path(path), f"PORTAL_KEY_ENCRYPTION_KEY_FILE ({path})")
    if not create or instance_path is None:
        raise KeyEncryptionKeyError(
            "no key-encryption key: set PORTAL_KEY_ENCRYPTION_KEY (32 random bytes in base64) or "
            f"PORTAL_KEY_ENCRYPTION_KEY_FILE; {KEK_HINT}")
    return _instance_kek(Path(instance_path) / KEK_FILE_NAME)


def _kek_from_file(path: Path, source: str) -> KeyEncryptionKey:
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except OSError as error:
        raise KeyEncryptionKeyError(f"{source} cannot be read: {error.strerror}") from None
    if mode & 0o077:
        log.warning("%s may be read by other users (mode %o): make it readable by the portal's user only",
                    source, stat.S_IMODE(mode))
    return parse_key_encryption_key(data, source)


def _instance_kek(path: Path) -> KeyEncryptionKey:
    """Return this installation's own KEK (development), created on first use, owner-only."""
    source = f"the instance folder's {path}"
    if path.exists():
        return _kek_from_file(path, source)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:  # another process made it first: use theirs
        return _kek_from_file(path, source)
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.b64encode(secrets.token_bytes(KEK_BYTES)).decode("ascii") + "\n")
    log.warning("created a key-encryption key in %s (development); production takes it from the environment",
                path)
    return _kek_from_file(path, source)


def refresh_seconds(config: Mapping) -> float:
    """Return ``KEYRING_REFRESH_SECONDS`` as a number of seconds (0: read the ring at every use)."""
    value = config.get("KEYRING_REFRESH_SECONDS", DEFAULT_REFRESH_SECONDS)
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise KeyConfigError(f"KEYRING_REFRESH_SECONDS must be a number of seconds, not {value!r}") from None
    if not 0 <= seconds <= 3600:
        raise KeyConfigError(f"KEYRING_REFRESH_SECONDS must be between 0 and 3600, not {value!r}")
    return seconds


def check_config(config: Mapping, *, production: bool) -> None:
    """Refuse at start-up what would fail later: in production a missing or malformed KEK."""
    refresh_seconds(config)
    if production:
        key_encryption_key(config, None, create=False)


# ---------------------------------------------------------------------------
# Changes of the ring (take a session; the caller commits)
# ---------------------------------------------------------------------------

def _lock_ring(session: Session) -> None:
    """Serialise changes of the ring between processes (plain reads are not blocked)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE signing_keys IN EXCLUSIVE MODE"))
    # SQLite: every portal transaction begins IMMEDIATE, which already holds the database's write lock.


def _rows(session: Session):
    from portal.tokens.models import SigningKey

    return session.scalars(select(SigningKey).order_by(SigningKey.created_at, SigningKey.kid)).all()


def _new_key(session: Session, kek: KeyEncryptionKey, taken, status: str = KeyStatus.ACTIVE.value):
    from portal.tokens.models import SigningKey

    private = Ed25519PrivateKey.generate()
    kid = secrets.token_hex(KID_BYTES)
    while kid in taken:
        kid = secrets.token_hex(KID_BYTES)
    row = SigningKey(kid=kid, status=status, created_at=utcnow(), public_key=public_bytes(private.public_key()),
                     sealed_private_key=kek.seal(kid, private), kek_id=kek.id)
    session.add(row)
    session.flush()
    return _info(row), private


def create_first_key(session: Session, kek: KeyEncryptionKey) -> tuple[KeyInfo, Ed25519PrivateKey]:
    """Make the ring's first key, active; refuse when the ring already has a key."""
    _lock_ring(session)
    rows = _rows(session)
    if rows:
        listed = ", ".join(f"{row.kid} ({row.status})" for row in rows)
        raise KeyRingError(f"the key ring already has {len(rows)} key(s): {listed}. "
                           "Nothing was created; 'portal keys rotate' makes a new active key.")
    return _new_key(session, kek, set())


def rotate_key(session: Session, kek: KeyEncryptionKey) -> tuple[KeyInfo, Ed25519PrivateKey]:
    """Make a new active key; the previous one keeps verifying its tokens and loses its private key."""
    _lock_ring(session)
    rows = _rows(session)
    if not rows:
        raise KeyRingError("the key ring is empty: make its first key with 'portal keys create'")
    for row in rows:
        if row.status == KeyStatus.ACTIVE.value:
            row.status = KeyStatus.VERIFY.value
            row.sealed_private_key = row.kek_id = None
    session.flush()  # the old key stops being active before the new one is (one active key)
    return _new_key(session, kek, {row.kid for row in rows})


def retire_key(session: Session, kid: str) -> KeyInfo:
    """Refuse from now on every token signed by ``kid`` (not the active key)."""
    from portal.tokens.models import SigningKey

    _lock_ring(session)
    row = session.get(SigningKey, kid.strip().lower())
    if row is None:
        raise KeyRingError(f"no key {kid!r}")
    if row.status == KeyStatus.ACTIVE.value:
        raise KeyRingError(f"key {kid!r} is the active key: rotate first, then retire it")
    if row.status != KeyStatus.RETIRED.value:
        row.status, row.retired_at = KeyStatus.RETIRED.value, utcnow()
    row.sealed_private_key = row.kek_id = None
    session.flush()
    return _info(row)


def ensure_active_key(session: Session, kek: KeyEncryptionKey):
    """Return the active key, making one when there is none (development's first use).

    Returns ``(info, private key)``; the private key is None when the key already existed.
    """
    _lock_ring(session)
    rows = _rows(session)
    active = next((row for row in rows if row.status == KeyStatus.ACTIVE.value), None)
    if active is not None:
        return _info(active), None
    return _new_key(session, kek, {row.kid for row in rows})


@dataclass(frozen=True)
class ImportedKey:
    info: KeyInfo
    #: What became of it: "imported", "imported, no longer signs" or "already in the database".
    outcome: str
    sealed: bool = False


def import_key_folder(session: Session, kek: KeyEncryptionKey, directory: str | os.PathLike) -> list[ImportedKey]:
    """Copy the keys of an earlier version's key folder into the ring, all or nothing.

    Statuses and times are kept, so every card those keys signed keeps verifying. The folder's
    active key stays active (its private key sealed) unless the ring already has an active key;
    then it only verifies. Keys already in the ring are skipped; a key id that names another key
    stops the import.
    """
    from portal.tokens.models import SigningKey

    folder = FileKeyRing(directory)
    if not folder.manifest.is_file():
        raise KeyRingError(f"{folder.directory}: no {MANIFEST_NAME} there, so not a key folder of the portal")
    try:
        entries = folder.entries()
    except (ValueError, KeyError, TypeError) as error:
        raise KeyRingError(f"{folder.manifest} cannot be read: {error}") from None
    _lock_ring(session)
    existing = {row.kid: row for row in _rows(session)}
    has_active = any(row.status == KeyStatus.ACTIVE.value for row in existing.values())
    done = []
    for info in entries:
        if info.status not in {status.value for status in KeyStatus}:
            raise KeyRingError(f"key {info.kid}: unknown status {info.status!r}; nothing was imported")
        row = existing.get(info.kid)
        if row is not None:
            if bytes(row.public_key) != public_bytes(info.public_key):
                raise KeyRingError(f"key {info.kid} of {folder.directory} is not the key {info.kid} of the database; "
                                   "nothing was imported")
            done.append(ImportedKey(_info(row), "already in the database"))
            continue
        status, sealed, outcome = info.status, None, "imported"
        if status == KeyStatus.ACTIVE.value and has_active:
            status, outcome = KeyStatus.VERIFY.value, "imported, no longer signs (the database has an active key)"
        if status == KeyStatus.ACTIVE.value:
            private = folder.private_key(info.kid)
            if public_bytes(private.public_key()) != public_bytes(info.public_key):
                raise KeyRingError(f"{folder.directory / (info.kid + '.key')} is not the private key of {info.kid}; "
                                   "nothing was imported")
            sealed, has_active = kek.seal(info.kid, private), True
        row = SigningKey(kid=info.kid, status=status, created_at=info.created_at,
                         retired_at=info.retired_at if status == KeyStatus.RETIRED.value else None,
                         public_key=public_bytes(info.public_key), sealed_private_key=sealed,
                         kek_id=kek.id if sealed else None)
        session.add(row)
        session.flush()
        done.append(ImportedKey(_info(row), outcome, sealed is not None))
    return done


# ---------------------------------------------------------------------------
# The ring every process reads
# ---------------------------------------------------------------------------

class KeyRing:
    """The database's key ring as this process sees it, read again at most every ``refresh_seconds``.

    ``key_encryption_key`` is called the first time a private key must be sealed or opened (a
    process that only verifies never needs it). ``may_create`` lets the first signature make the
    first key (development); without it, signing on an empty ring raises :class:`NoSigningKey`.
    """

    def __init__(self, engine: Engine, key_encryption_key: Callable[[], KeyEncryptionKey], *,
                 refresh_seconds: float = DEFAULT_REFRESH_SECONDS, may_create: bool = False):
        self.engine = engine
        self.refresh_seconds = float(refresh_seconds)
        self.may_create = may_create
        self._kek_source = key_encryption_key
        self._kek: KeyEncryptionKey | None = None
        self._lock = threading.RLock()
        self._loaded = False
        self._next_check = float("-inf")
        self._snapshot: tuple = ()
        self._entries: tuple[KeyInfo, ...] = ()
        self._verifying: Mapping[str, Ed25519PublicKey] = MappingProxyType({})
        self._active: KeyInfo | None = None
        self._private: dict[str, Ed25519PrivateKey] = {}
        # Development only: first keys made while this thread held SQLite's write lock, written when it ends.
        self._pending: dict[str, KeyInfo] = {}

    # -- reading (the hot path) ---------------------------------------------------

    def verifying_keys(self) -> Mapping[str, Ed25519PublicKey]:
        """Return the public keys whose tokens verify (active and verify-only), by kid.

        The mapping is read-only and stays the same object until the ring changes, so a cache of
        verification answers may be keyed on it (a retirement then empties such a cache).
        """
        if monotonic() >= self._next_check:
            self._refresh()
        return self._verifying

    def entries(self) -> list[KeyInfo]:
        """Return every key, oldest first."""
        self._refresh_if_due()
        return list(self._entries)

    def active(self) -> KeyInfo | None:
        self._refresh_if_due()
        return self._active

    def public_document(self) -> dict:
        """Return the JSON published at ``/.well-known/greencard-keys.json`` (public keys only)."""
        self._refresh_if_due()
        return {"alg": ALGORITHM, "keys": [info.public_json() for info in self._entries]}

    def signing_key(self) -> tuple[str, Ed25519PrivateKey]:
        """Return the active key id and private key; :class:`SigningKeyUnavailable` when there is none to use."""
        self._refresh_if_due()
        for _attempt in range(2):
            info = self._active or self._first_key()
            private = self._private.get(info.kid)
            if private is None:
                private = self._open(info.kid)
            if private is not None:
                return info.kid, private
            self._refresh(force=True)  # rotated or retired since this process last looked
        raise NoSigningKey(f"the active signing key {info.kid} has no private key in the database")

    # -- changing (each in its own transaction, seen by this process at once) ------

    def create(self) -> KeyInfo:
        """Make the first key (refused when the ring has one)."""
        return self._change(lambda session: create_first_key(session, self._key_encryption_key()))

    def rotate(self) -> KeyInfo:
        """Make a new active key; tokens of the previous one keep verifying until it is retired."""
        return self._change(lambda session: rotate_key(session, self._key_encryption_key()))

    def retire(self, kid: str) -> KeyInfo:
        """Refuse from now on every token signed by ``kid``."""
        return self._change(lambda session: (retire_key(session, kid), None))

    def invalidate(self) -> None:
        """Read the ring again at the next use (after a change made through another session)."""
        self._next_check = float("-inf")

    # -- internals ----------------------------------------------------------------

    def _change(self, change) -> KeyInfo:
        with Session(self.engine) as session, session.begin():
            info, private = change(session)
        if private is not None:
            self._private = {info.kid: private}
        self._refresh(force=True)
        return info

    def _key_encryption_key(self) -> KeyEncryptionKey:
        if self._kek is None:
            try:
                self._kek = self._kek_source()
            except KeyEncryptionKeyError as error:
                raise SigningKeyUnavailable(str(error)) from None
        return self._kek

    def _refresh_if_due(self) -> None:
        if monotonic() >= self._next_check:
            self._refresh()

    def _refresh(self, *, force: bool = False) -> None:
        # Only one thread reads at a time; the others go on with the ring they have (at most one
        # interval old), unless there is none yet.
        if not self._lock.acquire(blocking=force or not self._loaded):
            return
        try:
            if force or not self._loaded or monotonic() >= self._next_check:
                self._read()
        finally:
            self._lock.release()

    def _read(self) -> None:
        from portal.tokens.models import SigningKey

        if self._pending and not self._holds_sqlite_write_lock():
            self._write_pending()
        table = SigningKey.__table__
        try:
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                rows = connection.execute(
                    select(table.c.kid, table.c.status, table.c.created_at, table.c.retired_at, table.c.public_key)
                    .order_by(table.c.created_at, table.c.kid)).all()
        except SQLAlchemyError:
            if not self._loaded:
                raise
            # Degrade, don't fail: the ring read a moment ago still verifies; try again later.
            log.warning("could not read the signing keys; keeping the ring read earlier", exc_info=True)
            self._next_check = monotonic() + max(self.refresh_seconds, 1.0)
            return
        snapshot = tuple(tuple(row) for row in rows) + tuple(sorted(self._pending))
        if snapshot != self._snapshot or not self._loaded:
            self._apply([_info(row) for row in rows])
            self._snapshot = snapshot
        self._loaded = True
        self._next_check = monotonic() + self.refresh_seconds

    def _apply(self, infos: list[KeyInfo]) -> None:
        known = {info.kid for info in infos}
        has_active = any(info.status == KeyStatus.ACTIVE.value for info in infos)
        for kid, info in list(self._pending.items()):
            if kid in known:
                del self._pending[kid]
            else:
                infos.append(info if not has_active else replace(info, status=KeyStatus.VERIFY.value))
        infos.sort(key=_sort_key)
        active = next((info for info in infos if info.status == KeyStatus.ACTIVE.value), None)
        # Publish the new state by swapping whole objects: readers on other threads see old or new.
        self._entries = tuple(infos)
        self._verifying = MappingProxyType({info.kid: info.public_key for info in infos if info.verifies})
        self._active = active
        self._private = {kid: key for kid, key in self._private.items() if active and kid == active.kid}

    def _open(self, kid: str) -> Ed25519PrivateKey | None:
        """Unseal the private key of ``kid`` from the database (once per process and key)."""
        from portal.tokens.models import SigningKey

        table = SigningKey.__table__
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            row = connection.execute(select(table.c.status, table.c.sealed_private_key, table.c.kek_id)
                                     .where(table.c.kid == kid)).first()
        if row is None or row.status != KeyStatus.ACTIVE.value or row.sealed_private_key is None:
            return None
        private = self._key_encryption_key().unseal(kid, row.sealed_private_key, row.kek_id)
        self._private = {kid: private}
        return private

    def _first_key(self) -> KeyInfo:
        if not self.may_create:
            raise NoSigningKey("there is no active signing key in the database and production never makes one "
                               "on its own: run 'portal keys create' (or 'portal keys import-dir PATH')")
        with self._lock:
            self._refresh(force=True)  # another process may have made it since this one last looked
            if self._active is not None:
                return self._active
            kek = self._key_encryption_key()
            if self._holds_sqlite_write_lock():
                return self._pending_first_key(kek)
            try:
                with Session(self.engine) as session, session.begin():
                    info, private = ensure_active_key(session, kek)
            except IntegrityError:  # another process made it at the same moment: use theirs
                self._refresh(force=True)
                if self._active is None:
                    raise
                return self._active
            if private is not None:
                log.warning("made the first signing key %s on first use (development); production provisions "
                            "keys with 'portal keys create'", info.kid)
                self._private = {info.kid: private}
            self._refresh(force=True)
            return self._active or info

    # SQLite has one write lock per database and every portal transaction takes it (BEGIN IMMEDIATE).
    # When this thread's session holds it, a second connection would wait for it forever; so the
    # first key is made in memory, signs at once, and is written as soon as that transaction ends.

    def _holds_sqlite_write_lock(self) -> bool:
        if self.engine.dialect.name != "sqlite":
            return False
        from flask import has_app_context

        if not has_app_context():
            return False
        from portal.extensions import db

        if not db.session.registry.has():
            return False
        session = db.session()
        return session.in_transaction() and session.get_bind().url == self.engine.url

    def _pending_first_key(self, kek: KeyEncryptionKey) -> KeyInfo:
        from portal.extensions import db

        private = Ed25519PrivateKey.generate()
        taken = {info.kid for info in self._entries}
        kid = secrets.token_hex(KID_BYTES)
        while kid in taken:
            kid = secrets.token_hex(KID_BYTES)
        info = KeyInfo(kid=kid, status=KeyStatus.ACTIVE.value, created_at=utcnow(), public_key=private.public_key())
        self._pending[kid] = info
        self._private = {kid: private}
        self._apply(list(self._entries))
        self._snapshot = ()
        session = db.session()
        if not session.info.get(_EXTENSION):
            event.listen(session, "after_transaction_end", self._after_transaction_end)
            session.info[_EXTENSION] = True
        return info

    def _after_transaction_end(self, _session, transaction) -> None:
        if transaction.parent is None and self._pending:
            try:
                self._write_pending()
            except Exception:  # the caller's transaction is over; the next use of the ring tries again
                log.exception("could not write the first signing key yet; trying again at the next use")

    def _write_pending(self) -> None:
        from portal.tokens.models import SigningKey

        with self._lock:
            pending = [(info, self._private.get(info.kid)) for info in self._pending.values()]
            if not pending:
                return
            kek = self._key_encryption_key()
            with Session(self.engine) as session, session.begin():
                _lock_ring(session)
                rows = {row.kid: row for row in _rows(session)}
                has_active = any(row.status == KeyStatus.ACTIVE.value for row in rows.values())
                for info, private in pending:
                    if info.kid in rows:
                        continue
                    # Another process made an active key meanwhile: this one's tokens still verify.
                    signs = not has_active and private is not None
                    session.add(SigningKey(
                        kid=info.kid, status=KeyStatus.ACTIVE.value if signs else KeyStatus.VERIFY.value,
                        created_at=info.created_at, public_key=public_bytes(info.public_key),
                        sealed_private_key=kek.seal(info.kid, private) if signs else None,
                        kek_id=kek.id if signs else None))
                    has_active = has_active or signs
                    log.warning("made the first signing key %s on first use (development); production "
                                "provisions keys with 'portal keys create'", info.kid)
            self._pending.clear()
            self._snapshot = ()
            self.invalidate()


def current_keyring() -> KeyRing:
    """Return the running app's key ring (one per app and process; cheap to call on every scan)."""
    from flask import current_app

    ring = current_app.extensions.get(_EXTENSION)
    if ring is None:
        ring = current_app.extensions[_EXTENSION] = keyring_for(current_app)
    return ring


def keyring_for(app) -> KeyRing:
    """Build ``app``'s key ring (in its app context): its database, its KEK, its refresh interval.

    Production never makes a key; development makes the first one, with a KEK in the instance folder.
    """
    from portal.extensions import db

    config = app.config
    production = config.get("PORTAL_ENV") == "production"
    return KeyRing(db.engine, lambda: key_encryption_key(config, app.instance_path, create=not production),
                   refresh_seconds=refresh_seconds(config), may_create=not production)


def public_keys_from_document(document: dict) -> dict[str, Ed25519PublicKey]:
    """Return the verifying keys of a published keys JSON (retired keys left out)."""
    infos = (_info_from_json(item) for item in document.get("keys", ()))
    return {info.kid: info.public_key for info in infos if info.verifies}


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


# ---------------------------------------------------------------------------
# The folder layout of earlier versions
# ---------------------------------------------------------------------------

class FileKeyRing:
    """The key folder of earlier versions (``SIGNING_KEY_DIR``), one per process; read by ``keys import-dir``.

    Layout::

        keyring.json   public metadata of every key: kid, status, created_at, public key (no secrets)
        <kid>.key      the private key of a key that may still sign (PKCS#8 PEM, mode 0600)
        .lock          serialises creation and rotation between processes

    The portal no longer signs from such a folder; the class still writes one so that tests and
    ``bench/keyring.py`` can build what an earlier installation left behind.
    """

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)
        self._stamp: tuple[int, int, int] | None = None
        self._entries: dict[str, KeyInfo] = {}
        self._private: dict[str, Ed25519PrivateKey] = {}

    @property
    def manifest(self) -> Path:
        return self.directory / MANIFEST_NAME

    def entries(self) -> list[KeyInfo]:
        """Return every key, oldest first."""
        self._refresh()
        return sorted(self._entries.values(), key=_sort_key)

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
            self._private[info.kid] = self.private_key(info.kid)
        return info.kid, self._private[info.kid]

    def private_key(self, kid: str) -> Ed25519PrivateKey:
        """Read the private key file of ``kid`` (changing nothing)."""
        path = self.directory / f"{kid}.key"
        try:
            data = path.read_bytes()
        except OSError as error:
            raise KeyRingError(f"{path} cannot be read: {error.strerror}") from None
        key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyRingError(f"{path} is not an Ed25519 private key")
        return key

    def public_document(self) -> dict:
        return {"alg": ALGORITHM, "keys": [info.public_json() for info in self.entries()]}

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

    def _refresh(self) -> None:
        try:
            stat_result = self.manifest.stat()
        except FileNotFoundError:
            self._stamp, self._entries = None, {}
            return
        # A rewrite replaces the file, so its inode changes even when size and mtime look the same.
        stamp = (stat_result.st_ino, stat_result.st_mtime_ns, stat_result.st_size)
        if stamp == self._stamp:
            return
        document = json.loads(self.manifest.read_text(encoding="utf-8"))
        self._entries = {item["kid"]: _info_from_json(item) for item in document["keys"]}
        self._stamp = stamp

    def _add_key(self) -> KeyInfo:
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
        os.replace(temporary, self.manifest)
        self._stamp = None

    @contextmanager
    def _locked(self):
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(self.directory / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
