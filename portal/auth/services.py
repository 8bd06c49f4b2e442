"""Accounts: create, authenticate, confirm an address, change or reset a password, end sessions.

Links mailed to people carry signed tokens (itsdangerous, keyed by SECRET_KEY) whose state lives in
the database, so every node agrees and each link works once:

* a confirmation link names the user and the address it was sent to: it stops working once that
  address is confirmed or the user changes it;
* a reset link carries a fingerprint of the password hash: it stops working once the password
  changes (by this link, another one, or the password page).
"""
from __future__ import annotations

import hashlib
import logging
from functools import cache

from flask import current_app, has_request_context
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from portal import events
from portal.auth.models import MAIL_LANGUAGES, Role, User, password_hash_method
from portal.clock import utcnow
from portal.messages import Refusal
from portal.navigation import external_url

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200

CONFIRM_SALT = "portal.auth.confirm-email"
RESET_SALT = "portal.auth.reset-password"

#: Defaults of the settings an operator may override in the app config.
DEFAULTS = {
    "EMAIL_CONFIRM_MAX_AGE": 3 * 24 * 3600,  # seconds a confirmation link works
    "PASSWORD_RESET_MAX_AGE": 3600,  # seconds a password reset link works
}


def setting(key: str):
    value = current_app.config.get(key)
    return DEFAULTS[key] if value is None else value


@cache
def _dummy_hash(method: str) -> str:
    """A real hash, so that an unknown email costs the same time as a wrong password."""
    return generate_password_hash("no such account", method=method)


class AccountError(Refusal):
    """An account change the portal refuses (kept as a name for callers; it is a Refusal)."""


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def check_new_password(password: str, *, field: str = "password") -> None:
    """Refuse a password too short or too long to be kept."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(_l("The password must have at least %(count)s characters.", count=MIN_PASSWORD_LENGTH),
                           field=field)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(_l("The password may have at most %(count)s characters.", count=MAX_PASSWORD_LENGTH),
                           field=field)


def email_taken(session: Session, email: str) -> bool:
    return bool(session.scalar(select(func.count()).select_from(User).where(User.email == normalise_email(email))))


def create_user(session: Session, *, email: str, password: str, full_name: str, role: Role | str,
                enterprise=None, unit=None, phone: str | None = None, email_confirmed: bool = True,
                locale: str | None = None) -> User:
    """Add a user to ``session`` (not committed); raise AccountError on a taken email or a weak password.

    A self-registered account passes ``email_confirmed=False``: it is mailed a confirmation link and
    may do nothing else until it follows it. Accounts made by the admin are confirmed. Mails to the
    user are in ``locale``, by default the language of the current request (else Vietnamese).
    """
    role = Role(role)
    email = normalise_email(email)
    check_new_password(password)
    if email_taken(session, email):
        raise AccountError(_l("An account with this email already exists."), field="email")
    if role is Role.HR and enterprise is None:
        raise AccountError(_l("An HR account needs an enterprise."))
    if role is Role.OFFICIAL and unit is None:
        raise AccountError(_l("An official needs a unit."))
    user = User(email=email, full_name=full_name.strip(), role=role.value, phone=phone,
                enterprise=enterprise if role is Role.HR else None,
                unit=unit if role is Role.OFFICIAL else None,
                locale=_language(locale),
                email_confirmed_at=utcnow() if email_confirmed else None)
    user.set_password(password)
    session.add(user)
    session.flush()
    if not email_confirmed:
        send_confirmation(session, user)
    return user


def _language(wanted: str | None) -> str:
    if wanted is None and has_request_context():
        from portal.i18n import current_language

        wanted = current_language()
    return wanted if wanted in MAIL_LANGUAGES else "vi"


def authenticate(session: Session, email: str, password: str) -> User | None:
    """Return the enabled user with these credentials, else None (in the same time either way)."""
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        check_password_hash(_dummy_hash(password_hash_method()), password)
        return None
    if not user.check_password(password) or not user.is_active:
        return None
    user.last_login_at = utcnow()
    return user


def load_user(session: Session, user_id: str) -> User | None:
    """Resolve Flask-Login's stored id ("<id>:<session_version>"): a stale version is no user."""
    try:
        raw_id, raw_version = user_id.split(":", 1)
        uid, version = int(raw_id), int(raw_version)
    except (ValueError, AttributeError):
        return None
    if not (0 < uid < 2**31):
        return None
    user = session.get(User, uid)
    if user is None or user.session_version != version or not user.is_active:
        return None
    return user


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalise_email(email)))


# ---------------------------------------------------------------------------
# Signed links
# ---------------------------------------------------------------------------

def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _password_fingerprint(user: User) -> str:
    # Not the hash itself: the token is signed, not encrypted.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:20]


def _read_token(salt: str, token: str, max_age: int) -> dict:
    try:
        data = _serializer(salt).loads(token or "", max_age=max_age)
    except SignatureExpired:
        raise Refusal(_l("This link has expired. Ask for a new one.")) from None
    except BadSignature:
        raise Refusal(_l("This link is not valid. Check that you opened the whole link from the mail, "
                         "or ask for a new one.")) from None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        raise Refusal(_l("This link is not valid. Check that you opened the whole link from the mail, "
                         "or ask for a new one."))
    return data


def confirmation_token(user: User) -> str:
    return _serializer(CONFIRM_SALT).dumps({"u": user.id, "e": user.email})


def reset_token(user: User) -> str:
    return _serializer(RESET_SALT).dumps({"u": user.id, "p": _password_fingerprint(user)})


# ---------------------------------------------------------------------------
# Confirming an address
# ---------------------------------------------------------------------------

def send_confirmation(session: Session, user: User) -> None:
    """Mail ``user`` a link that confirms their address (queued in ``session`` by the mail feature)."""
    link = external_url("auth.confirm_link", token=confirmation_token(user))
    hours = int(setting("EMAIL_CONFIRM_MAX_AGE")) // 3600
    events.account_mail_due.send(user, session=session, template="auth/mail/confirm", kind="auth.confirm",
                                 secret=True, context={"link": link, "hours": hours})


def user_for_confirmation(session: Session, token: str) -> User:
    """Return the user whose address a confirmation link confirms; refuse a used, stale or forged link."""
    data = _read_token(CONFIRM_SALT, token, int(setting("EMAIL_CONFIRM_MAX_AGE")))
    user = session.get(User, data["u"]) if 0 < data["u"] < 2**31 else None
    if user is None or user.email != data.get("e"):
        raise Refusal(_l("This link is no longer valid: the account's email has changed since it was sent."))
    if user.email_confirmed:
        raise Refusal(_l("This email is already confirmed. You can sign in."))
    return user


def confirm_email(session: Session, token: str) -> User:
    """Confirm the address a confirmation link was sent to; refuse a used, stale or forged link."""
    user = user_for_confirmation(session, token)
    user.email_confirmed_at = utcnow()
    return user


def change_unconfirmed_email(session: Session, user: User, *, password: str, new_email: str) -> None:
    """Correct a mistyped address before it is confirmed, and mail a link to the new one."""
    if user.email_confirmed:
        raise Refusal(_l("This email is already confirmed."))
    if not user.check_password(password or ""):
        raise Refusal(_l("The password is incorrect."), field="password")
    new_email = normalise_email(new_email)
    if new_email == user.email:
        raise Refusal(_l("This is already your email."), field="email")
    if email_taken(session, new_email):
        raise Refusal(_l("An account with this email already exists."), field="email")
    user.email = new_email
    session.flush()
    send_confirmation(session, user)


# ---------------------------------------------------------------------------
# Passwords
# ---------------------------------------------------------------------------

def request_password_reset(session: Session, email: str) -> None:
    """Mail a reset link when an enabled account uses ``email``; say nothing either way."""
    user = user_by_email(session, email)
    if user is None or not user.is_active:
        return
    link = external_url("auth.reset_link", token=reset_token(user))
    minutes = int(setting("PASSWORD_RESET_MAX_AGE")) // 60
    events.account_mail_due.send(user, session=session, template="auth/mail/reset", kind="auth.reset",
                                 secret=True, context={"link": link, "minutes": minutes})


def user_for_reset(session: Session, token: str) -> User:
    """Return the user a reset link is for; refuse a used, stale or forged link."""
    data = _read_token(RESET_SALT, token, int(setting("PASSWORD_RESET_MAX_AGE")))
    user = session.get(User, data["u"]) if 0 < data["u"] < 2**31 else None
    if user is None or not user.is_active or data.get("p") != _password_fingerprint(user):
        raise Refusal(_l("This link has already been used, or the password was changed since it was sent. "
                         "Ask for a new one if you need it."))
    return user


def reset_password(session: Session, token: str, new_password: str) -> User:
    """Set a new password through a reset link; every session of the user ends, the link is used up."""
    user = user_for_reset(session, token)
    check_new_password(new_password)
    user.set_password(new_password)
    if not user.email_confirmed:  # the link reached the address: it is the user's
        user.email_confirmed_at = utcnow()
    log.info("password of user %s reset by mail", user.id)
    return user


def change_password(session: Session, user: User, *, current: str, new: str) -> None:
    """Change ``user``'s password after checking the current one; every session of the user ends."""
    if not user.check_password(current or ""):
        raise Refusal(_l("Your current password is incorrect."), field="current_password")
    check_new_password(new)
    if user.check_password(new):
        raise Refusal(_l("The new password is the same as the current one."), field="password")
    user.set_password(new)
    log.info("password of user %s changed", user.id)


def end_all_sessions(session: Session, user: User) -> None:
    """End every session and remember-me cookie of ``user``, on every node."""
    user.end_sessions()


def set_locale(session: Session, user: User, locale: str) -> None:
    """Set the language ``user``'s mails are written in."""
    if locale not in MAIL_LANGUAGES:
        raise Refusal(_l("Choose Vietnamese or English."), field="locale")
    user.locale = locale
