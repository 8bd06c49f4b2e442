"""Accounts: create, authenticate."""
from __future__ import annotations

from functools import cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from portal.auth.models import Role, User, password_hash_method
from portal.clock import utcnow
from portal.messages import Refusal

MIN_PASSWORD_LENGTH = 10
EMAIL_TAKEN = _l("An account with this email already exists: sign in instead, or use another email.")


@cache
def _dummy_hash(method: str) -> str:
    """A real hash, so that an unknown email costs the same time as a wrong password."""
    return generate_password_hash("no such account", method=method)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(session: Session, *, email: str, password: str, full_name: str, role: Role | str,
                enterprise=None, unit=None, phone: str | None = None) -> User:
    """Add a user to ``session`` (not committed); raise Refusal on a taken email or a weak password."""
    role = Role(role)
    email = normalise_email(email)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Refusal(_l("The password needs at least %(min)s characters.", min=MIN_PASSWORD_LENGTH),
                      field="password")
    if session.scalar(select(func.count()).select_from(User).where(User.email == email)):
        raise Refusal(EMAIL_TAKEN, field="email")
    if role is Role.HR and enterprise is None:
        raise Refusal(_l("An HR account needs an enterprise."), field="enterprise")
    if role is Role.OFFICIAL and unit is None:
        raise Refusal(_l("An official's account needs a unit."), field="unit")
    user = User(email=email, full_name=full_name.strip(), role=role.value, phone=phone,
                enterprise=enterprise if role is Role.HR else None,
                unit=unit if role is Role.OFFICIAL else None)
    user.set_password(password)
    session.add(user)
    session.flush()
    return user


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
    """Resolve Flask-Login's stored id ("<id>:<session_version>")."""
    try:
        raw_id, raw_version = user_id.split(":", 1)
        uid, version = int(raw_id), int(raw_version)
    except (ValueError, AttributeError):
        return None
    user = session.get(User, uid)
    if user is None or user.session_version != version:
        return None
    return user
