from __future__ import annotations

from datetime import datetime
from enum import Enum

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from portal.clock import utcnow
from portal.db import UTCDateTime
from portal.extensions import db


def password_hash_method() -> str:
    """Return the configured hashing method (scrypt unless the test suite asks for a cheaper one)."""
    return current_app.config["PASSWORD_HASH_METHOD"] if has_app_context() else "scrypt"


class Role(str, Enum):
    HR = "hr"  # enterprise HR staff, bound to one enterprise
    OFFICIAL = "official"  # a unit's official, bound to one unit
    ADMIN = "admin"  # the city's administrator, sees every unit
    HEALTH = "health"  # a health-data officer (cán bộ y tế), city-wide: registry extracts and their matches


#: Roles that must sign in with a second factor where two-factor sign-in is enforced (production).
#: A new role that sees personal data across enterprises joins with one line here.
TWO_FACTOR_ROLES = frozenset({
    Role.OFFICIAL,
    Role.ADMIN,
    Role.HEALTH,
})

#: Languages a user may receive mail in (the UI's languages).
MAIL_LANGUAGES = ("vi", "en")


class User(UserMixin, db.Model):
    """A person who logs in: enterprise HR, a unit official, a city admin or a health-data officer."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "(role = 'hr' AND enterprise_id IS NOT NULL AND unit_id IS NULL)"
            " OR (role = 'official' AND unit_id IS NOT NULL AND enterprise_id IS NULL)"
            " OR (role IN ('admin', 'health') AND enterprise_id IS NULL AND unit_id IS NULL)",
            name="role_binding",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(16))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("pilot_units.id"), index=True)
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Part of every session and remember-me cookie: bumping it (logout, password change or reset,
    # "sign out of all devices") ends them all, on every node, at their next request.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # None until the address is confirmed through the link mailed to it (self-registered HR).
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The language mails to this user are written in ("vi" or "en").
    locale: Mapped[str] = mapped_column(String(8), default="vi", server_default="vi")
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Two-factor sign-in: the TOTP secret, encrypted with a key derived from SECRET_KEY.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last time step whose code was accepted: a code is good once (RFC 6238, section 5.2).
    totp_last_step: Mapped[int | None] = mapped_column(Integer)

    enterprise = relationship("Enterprise", foreign_keys=[enterprise_id])
    unit = relationship("PilotUnit")
    recovery_codes = relationship("RecoveryCode", back_populates="user", cascade="all, delete-orphan",
                                  passive_deletes=True)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=password_hash_method())
        self.password_changed_at = utcnow()
        self.end_sessions()

    def end_sessions(self) -> None:
        """End every session and remember-me cookie of this user (they carry the old version)."""
        self.session_version = (self.session_version or 0) + 1

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return bool(self.is_enabled)

    @property
    def is_hr(self) -> bool:
        return self.role == Role.HR.value

    @property
    def is_official(self) -> bool:
        return self.role == Role.OFFICIAL.value

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN.value

    @property
    def is_health(self) -> bool:
        return self.role == Role.HEALTH.value

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    @property
    def has_two_factor(self) -> bool:
        return self.totp_enabled_at is not None and self.totp_secret is not None

    @property
    def two_factor_role(self) -> bool:
        """Say whether this user's role signs in with a second factor where that is enforced."""
        return self.role in {role.value for role in TWO_FACTOR_ROLES}

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class RecoveryCode(db.Model):
    """A one-time code that stands in for the authenticator app; only its keyed hash is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User", back_populates="recovery_codes")
