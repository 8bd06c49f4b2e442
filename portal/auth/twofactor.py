"""Two-factor sign-in: TOTP codes (RFC 6238) from an authenticator app, and one-time recovery codes.

Which roles must use it is :data:`portal.auth.models.TWO_FACTOR_ROLES`; where it is enforced is
:func:`enforced` (production, or ``TWO_FACTOR_REQUIRED``). The TOTP secret is kept encrypted with a
key derived from SECRET_KEY; recovery codes are kept as keyed hashes and shown once. A new
SECRET_KEY therefore makes everyone enrol again (``portal users reset-2fa`` does it for one user).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.auth.models import RecoveryCode, User
from portal.clock import utcnow
from portal.messages import Refusal

#: Recovery codes made at once, and their alphabet (no 0/o, 1/l/i).
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_CODE_LENGTH = 10
#: Time steps either side of now whose code is still accepted (clock drift of a phone).
VALID_WINDOW = 1


def enforced(app=None) -> bool:
    """Say whether users of the two-factor roles must enrol (production, unless configured)."""
    app = app or current_app
    wanted = app.config.get("TWO_FACTOR_REQUIRED")
    return app.config.get("PORTAL_ENV") == "production" if wanted is None else bool(wanted)


def must_enrol(user) -> bool:
    """Say whether ``user`` has to set up two-factor sign-in before anything else."""
    return bool(user.is_authenticated and user.two_factor_role and not user.has_two_factor and enforced())


def _derived_key(purpose: bytes) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"portal.auth.twofactor", info=purpose)
    return hkdf.derive(current_app.config["SECRET_KEY"].encode())


def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derived_key(b"totp-secret")))


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    issuer = current_app.config.get("TWO_FACTOR_ISSUER") or "HCMC green card"
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def qr_image(uri: str) -> str | None:
    """Return the enrolment QR code as a ``data:`` URI (None when too long for a QR code: type the key)."""
    from portal.printing.qr import QRTooLarge, qr_data_uri

    try:
        return qr_data_uri(uri)
    except QRTooLarge:
        return None


def _secret_of(user: User) -> str | None:
    if not user.totp_secret:
        return None
    try:
        return _fernet().decrypt(user.totp_secret.encode()).decode()
    except InvalidToken:  # SECRET_KEY changed: the user must enrol again
        return None


def normalise_code(code: str) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isascii() and ch.isalnum())[:32]


def _matching_step(secret: str, code: str, *, after: int | None) -> int | None:
    """Return the time step whose TOTP is ``code`` (within the window, later than ``after``), else None."""
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = int(time.time()) // totp.interval
    for step in range(now - VALID_WINDOW, now + VALID_WINDOW + 1):
        if after is not None and step <= after:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _recovery_hash(code: str) -> str:
    return hmac.new(_derived_key(b"recovery-codes"), normalise_code(code).encode(), hashlib.sha256).hexdigest()


def _new_recovery_codes(session: Session, user: User) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
             for _ in range(RECOVERY_CODE_COUNT)]
    session.add_all(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(code)) for code in codes)
    session.flush()
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def enable(session: Session, user: User, secret: str, code: str) -> list[str]:
    """Turn two-factor sign-in on once ``code`` proves the app holds ``secret``; return new recovery codes.

    Every other session of the user ends (a remember-me cookie made before would skip the second factor).
    """
    if user.has_two_factor:
        raise Refusal(_l("Two-factor sign-in is already on."))
    step = _matching_step(secret, normalise_code(code), after=None)
    if step is None:
        raise Refusal(_l("This code is not right. Check the time on your phone and type the code the app "
                         "shows now."), field="code")
    user.totp_secret = _fernet().encrypt(secret.encode()).decode()
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    user.end_sessions()
    return _new_recovery_codes(session, user)


def verify(session: Session, user: User, code: str) -> bool:
    """Accept a current TOTP code (each once) or an unused recovery code (used up now)."""
    code = normalise_code(code)
    if not code or not user.has_two_factor:
        return False
    secret = _secret_of(user)
    if secret is not None and code.isdigit():
        step = _matching_step(secret, code, after=user.totp_last_step)
        if step is None:
            return False
        user.totp_last_step = step
        return True
    if len(code) != RECOVERY_CODE_LENGTH:
        return False
    wanted = _recovery_hash(code)
    unused = session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                                        RecoveryCode.used_at.is_(None))).all()
    match = next((row for row in unused if hmac.compare_digest(row.code_hash, wanted)), None)
    if match is None:
        return False
    match.used_at = utcnow()
    return True


def unused_recovery_codes(session: Session, user: User) -> int:
    return len(session.scalars(select(RecoveryCode.id).where(RecoveryCode.user_id == user.id,
                                                             RecoveryCode.used_at.is_(None))).all())


def regenerate_recovery_codes(session: Session, user: User, *, password: str) -> list[str]:
    """Replace ``user``'s recovery codes (the old ones stop working); return the new ones."""
    if not user.has_two_factor:
        raise Refusal(_l("Two-factor sign-in is off."))
    if not user.check_password(password or ""):
        raise Refusal(_l("The password is incorrect."), field="password")
    return _new_recovery_codes(session, user)


def disable(session: Session, user: User, *, password: str) -> None:
    """Turn two-factor sign-in off for a user whose role does not require it."""
    if user.two_factor_role and enforced():
        raise Refusal(_l("Your role must sign in with two factors: it cannot be turned off. If you lost your "
                         "phone and your recovery codes, ask the city's administrator."))
    if not user.check_password(password or ""):
        raise Refusal(_l("The password is incorrect."), field="password")
    reset(session, user)


def reset(session: Session, user: User) -> None:
    """Forget ``user``'s second factor and recovery codes (the admin's reset after a lost phone)."""
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    user.end_sessions()
